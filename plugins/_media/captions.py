"""Caption cues from timed sentences, and SubRip / WebVTT writers.

Limits per language (:func:`caption_rules`), from Netflix's timed text style
guides (partnerhelp.netflixstudios.com, "Timed Text Style Guide: General
Requirements" and the per-language guides):

============  ==========  =====  ===========  ==========================
language      per line    lines  reading      how lines break
============  ==========  =====  ===========  ==========================
default       42 chars    2      17 chars/s   at spaces (English guide)
``ja``        13 cells    2      4 chars/s    between characters
``zh``        16 cells    2      9 chars/s    between characters
``ko``        16 cells    2      12 chars/s   at spaces
============  ==========  =====  ===========  ==========================

Line lengths were checked against the guides' text (Japanese: "maximum 13
full-width characters per line ... half-width character, space, and
punctuation counts as 0.5"; Simplified Chinese and Korean: "16 characters per
line", Korean: "Latin characters, spaces, punctuation count as 0.5"): in
those languages a line is measured in cells, a full-width character (East
Asian Width W or F) one cell, any other half a cell. The reading speeds for
ja/zh/ko are the guides' adult figures as quoted in FIELD.md (about 4 and 9)
and the task brief (12 for Korean); they could not be re-read offline here.
Every cue stays at least ``MIN_CUE_S`` = 1 s (the General Requirements' 5/6 s
minimum, rounded up; the captions gate's figure).

Rules apply per cue, by the cue's script (:func:`cue_rules`): in a Chinese,
Japanese or Korean video, a sentence written in the Latin script alone (an
untranslated English paragraph of the Japanese Debian FAQ, spoken by the
English voice) is split, wrapped at spaces and timed by the default rules,
as the same guides ask of English text; a sentence with any Han, kana or
Hangul ("Debian GNU/Linux は:") keeps its language's rules. The gate and
:func:`required_seconds` use the same choice, so the narration's pace, the
reading hold and the cues agree. CJK limits are the tighter ones for Latin
text (13 cells hold 26 Latin letters, 4-12 characters a second), so a
Latin-only piece of a CJK sentence that the gate measures by the default
rules passes them.

Lines break at natural points: after punctuation, before a conjunction or
preposition, never after an article (BBC and Netflix guidelines); in Chinese
and Japanese between phrases (BudouX; between characters in a phrase longer
than a line), by kinsoku rules (JIS X 4051):
closing punctuation and small kana never start a line, opening brackets
never end one, a run of half-width letters or digits is never cut.

Timing is met by construction (:func:`build_cues`): each cue gets at least
the time its text needs (:func:`required_seconds`) by holding it into the
pause after its speech, starting it up to ``MAX_LEAD_S`` early or
``MAX_DELAY_S`` late, and moving the boundaries between the pieces of one
sentence, never overlapping a neighbour; where that is not enough, the cues
of a stretch of speech trail it by up to ``MAX_LAG_S``. Only speech too fast for its own
characters leaves a cue short; :func:`cue_problems` names it, and
:func:`required_seconds` tells a speech engine how long the sentence must last.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from reelgraph.models import Caption, WordTiming
from reelgraph.plugins._language import (
    is_latin_text,
    is_wide,
    phrase_starts,
    primary_subtag,
    script_language,
    writes_without_spaces,
)

__all__ = [
    "MAX_CPS",
    "MAX_DELAY_S",
    "MAX_LAG_S",
    "MAX_LEAD_S",
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "MIN_CUE_S",
    "CaptionRules",
    "TimedSentence",
    "build_cues",
    "caption_rules",
    "cue_problems",
    "cue_rules",
    "iso639_2",
    "line_width",
    "required_seconds",
    "split_text",
    "wrap_text",
    "write_srt",
    "write_vtt",
]

#: Characters per line and lines per cue (Netflix timed text style guide, English).
MAX_LINE_CHARS = 42
MAX_LINES = 2
#: Shortest time a cue stays on screen when the timeline allows, in seconds
#: (Netflix guide: minimum duration 5/6 s; rounded up to 1 s).
MIN_CUE_S = 1.0
#: Reading speed limit, characters per second (Netflix timed text style guide,
#: adult English content: 17 cps).
MAX_CPS = 17.0
#: How late a cue may start after its speech to give the cue before it time to be
#: read (a few frames of lag are common practice; 0.3 s keeps lips and text together).
MAX_DELAY_S = 0.3
#: How early a sentence's first cue may start before its speech, into the
#: silence before it (half the captions gate's 0.5 s first-cue tolerance, so
#: the first cue passes it even when the speech's first sound comes late).
MAX_LEAD_S = 0.25
#: Pieces further apart than this (a scene change) are never merged into one cue.
MERGE_GAP_S = 0.25
#: How late a cue may start after its speech when the speech runs faster than
#: the language's reading speed and neither the reading hold nor a slower
#: voice made up for it (espeak's Japanese is faster than 4 characters a
#: second): the cue trails the voice rather than flash by unread. A design
#: choice, not a guideline's figure: one short Japanese phrase (6 characters
#: at 4 per second). The video's first cue never lags (the captions gate
#: checks it against the first sound).
MAX_LAG_S = 1.5


@dataclass(frozen=True, slots=True)
class CaptionRules:
    """The limits of one language's captions (sources in the module docstring).

    Attributes:
        max_line_chars: longest line, in characters (``cells`` False) or in
            cells (``cells`` True: full-width characters 1, others 0.5).
        max_lines: lines per cue.
        max_cps: reading speed, characters per second (line breaks excluded).
        min_cue_s: shortest cue, seconds.
        by_character: lines may break between any two characters (Chinese,
            Japanese), else only at spaces.
        cells: measure lines in cells (Chinese, Japanese, Korean).
        max_word_chars: a word (text broken at spaces) up to this long is
            never cut, even when longer than ``max_line_chars`` (a caption
            style's narrow line; the burned line is drawn smaller); 0: words
            are cut at ``max_line_chars``.
    """

    max_line_chars: float = MAX_LINE_CHARS
    max_lines: int = MAX_LINES
    max_cps: float = MAX_CPS
    min_cue_s: float = MIN_CUE_S
    by_character: bool = False
    cells: bool = False
    max_word_chars: float = 0.0


_RULES = {
    "ja": CaptionRules(13, 2, 4.0, MIN_CUE_S, by_character=True, cells=True),
    "zh": CaptionRules(16, 2, 9.0, MIN_CUE_S, by_character=True, cells=True),
    "ko": CaptionRules(16, 2, 12.0, MIN_CUE_S, by_character=False, cells=True),
}
_LATIN = CaptionRules()


def caption_rules(language: str | None, text: str = "") -> CaptionRules:
    """The caption limits for a BCP 47 ``language``.

    With ``language`` ``None``, the writing system of ``text`` decides (kana:
    Japanese, Han: Chinese, Hangul: Korean), else the default (English) rules.
    """
    primary = primary_subtag(language) if language else (script_language(text[:2000]) or "")
    if primary in ("cmn", "yue", "wuu"):
        primary = "zh"
    if primary in _RULES:
        return _RULES[primary]
    if writes_without_spaces(primary):
        return _RULES["zh"]
    return CaptionRules()


def cue_rules(rules: CaptionRules, text: str) -> CaptionRules:
    """The rules one cue or sentence ``text`` follows in a video whose language's rules
    are ``rules``.

    In a Chinese, Japanese or Korean video (``rules.cells``), text written
    in the Latin script alone (:func:`~reelgraph.plugins._language.is_latin_text`:
    every letter Latin, punctuation and digits aside) follows the default
    rules: 42 characters a line, broken at spaces, 17 characters a second.
    Text with any Han, kana or Hangul letter keeps ``rules``, as does every
    cue of any other video.
    """
    if rules.cells and is_latin_text(text):
        return _LATIN
    return rules


def _latin_for(rules: CaptionRules, base: CaptionRules) -> CaptionRules:
    """Latin-script cue rules in a CJK video whose ``base`` rules were narrowed to
    ``rules`` (a caption style's line limit, a slower reading speed): the default
    rules narrowed in the same proportion. A word up to the default line
    (42 characters, the gate's limit for such a cue) stays whole past a narrowed
    line, as ``max_word_chars`` keeps words whole in a Latin-script video."""
    if not rules.cells:
        return rules
    line = min(
        MAX_LINE_CHARS,
        max(1.0, math.floor(MAX_LINE_CHARS * rules.max_line_chars / base.max_line_chars)),
    )
    return replace(
        _LATIN,
        max_line_chars=line,
        max_cps=min(MAX_CPS, MAX_CPS * rules.max_cps / base.max_cps),
        max_lines=rules.max_lines,
        min_cue_s=rules.min_cue_s,
        max_word_chars=MAX_LINE_CHARS if line < MAX_LINE_CHARS else 0.0,
    )


def line_width(line: str, rules: CaptionRules | None = None) -> float:
    """A line's length under ``rules``: characters, or cells (full-width 1, others 0.5)."""
    if rules is None or not rules.cells:
        return float(len(line))
    return sum(1.0 if is_wide(ch) else 0.5 for ch in line)


def _need_ms(text: str, rules: CaptionRules) -> int:
    """Milliseconds a cue showing ``text`` must last: min duration, reading speed."""
    chars = len(text.replace("\n", ""))
    return max(math.ceil(rules.min_cue_s * 1000 - 1e-6), math.ceil(chars * 1000 / rules.max_cps))


def required_seconds(text: str, language: str | None = None) -> float:
    """Seconds a sentence's speech (plus the pause after it) must last for its cues to be readable.

    The sum, over the cues ``text`` is split into, of the longer of the
    minimum cue duration and characters / the reading speed of ``text``'s
    own script (:func:`cue_rules`: a Latin-script sentence in a Japanese
    video is read at 17 characters a second). A speech engine can slow a
    sentence to this length (its ``rate_wpm``).
    """
    rules = cue_rules(caption_rules(language, text), text)
    return sum(_need_ms(p, rules) for p in _split(text, rules)) / 1000


# -- breaking text into lines and cues ---------------------------------------------

# Words a line or cue may start with when broken before them (BBC guidelines:
# break before conjunctions and prepositions rather than after them).
_BREAK_BEFORE = frozenset({
    "and", "but", "or", "nor", "so", "yet", "because", "which", "who", "whom", "whose",
    "that", "when", "while", "where", "if", "although", "though", "since", "unless",
    "until", "whereas", "to", "of", "in", "on", "for", "with", "from", "by", "as", "at",
    "into", "onto", "about", "after", "before", "between", "through", "during", "without",
})  # fmt: skip
# Words bound to the word after them: never end a line or cue with one (Netflix:
# do not separate an article from its noun; BBC: keep "so that", "of the" whole).
_NO_BREAK_AFTER = _BREAK_BEFORE | frozenset({
    "a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her",
    "its", "our", "their", "not", "very", "more", "most", "such",
})  # fmt: skip
_CLAUSE_END = (".", "!", "?", "…", "。", "！", "？")
_PHRASE_END = (",", ";", ":", "—", "–", ")", '"', "”", "、", "，", "；", "：", "」", "』", "）")

# Kinsoku (JIS X 4051; W3C "Requirements for Japanese Text Layout" 3.1.7):
# characters that never start a line, and characters that never end one.
_NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕〉》〙〗〟’”｝］〞ゝゞヽヾー々ぁぃぅぇぉっゃゅょゎゕゖ"
    "ァィゥェォッャュョヮヵヶ,.:;?!)]}%…‥"
)
_NO_LINE_END = frozenset("（「『【〔〈《〘〖〝‘“｛［([{")
# A unit of Chinese or Japanese text: a run of half-width letters, digits and
# ASCII punctuation (a word of English, a version number), or one character;
# spaces stay with the unit before them.
_UNIT = re.compile(r"[!-~]+\s*|\S\s*|\s+")


def _phrases(text: str) -> list[str]:
    """Chinese or Japanese text in units a line may break between: its phrases
    (:func:`~reelgraph.plugins._language.phrase_starts`), else characters and
    runs of half-width letters and digits (:data:`_UNIT`)."""
    units = _UNIT.findall(text)
    starts = phrase_starts(text)
    if starts is None:
        return units
    out: list[str] = []
    at = 0
    for unit in units:
        if out and at not in starts and unit.strip() and not out[-1].endswith(" "):
            out[-1] += unit
        else:
            out.append(unit)
        at += len(unit)
    return out


def _tokens(text: str, rules: CaptionRules) -> list[str]:
    """Units a line may break between; none wider than a line.

    Chinese and Japanese: phrases, closing marks glued to the unit before and
    opening ones to the unit after (kinsoku); a phrase that kinsoku makes
    wider than a line goes back to characters, and a run of closing marks
    wider than a line is cut.
    """
    if not rules.by_character:
        whole = max(rules.max_line_chars, rules.max_word_chars)
        return _fit_width(text.split(), replace(rules, max_line_chars=whole))
    glued = _kinsoku(_fit_width(_phrases(text.strip()), rules))
    if all(line_width(token.strip(), rules) <= rules.max_line_chars for token in glued):
        return glued
    out: list[str] = []
    for token in glued:
        if line_width(token.strip(), rules) <= rules.max_line_chars:
            out.append(token)
        else:
            out.extend(_kinsoku(_fit_width(_UNIT.findall(token), rules)))
    # a run of closing marks wider than a line ("ぁぁぁ…"): cut where it must (JLREQ allows it)
    return _fit_width(out, rules)


def _fit_width(raw: list[str], rules: CaptionRules) -> list[str]:
    """``raw`` with every unit wider than a line cut into pieces that fit."""
    width = rules.max_line_chars
    out: list[str] = []
    for token in raw:
        while line_width(token.strip(), rules) > width:
            cut = len(token)
            while cut > 1 and line_width(token[:cut], rules) > width:
                cut -= 1
            out.append(token[:cut])
            token = token[cut:]
        if token.strip():
            out.append(token)
        elif token and out:
            out[-1] += token
    return out


def _kinsoku(units: list[str]) -> list[str]:
    """Closing marks join the unit before, opening marks the unit after (JIS X 4051)."""
    glued: list[str] = []
    carry = ""
    for token in units:
        if glued and token.strip() and token.strip()[0] in _NO_LINE_START and not carry:
            glued[-1] += token
        elif token.strip() and token.strip()[-1] in _NO_LINE_END:
            carry += token
        else:
            glued.append(carry + token)
            carry = ""
    if carry:
        glued.append(carry)
    return glued


def _join(tokens: Sequence[str], rules: CaptionRules) -> str:
    return ("".join(tokens) if rules.by_character else " ".join(tokens)).strip()


def _break_cost(left: str, right: str, rules: CaptionRules) -> float:
    """How bad it is to break between ``left`` and ``right`` (0 = ideal)."""
    left = left.strip()
    if left.endswith(_CLAUSE_END):
        return 0.0
    if left.endswith(_PHRASE_END) or left in ("-", "—", "–"):
        return 1.0
    if rules.by_character:
        return 4.0
    if left.lower() in _NO_BREAK_AFTER:
        return 8.0
    if right.lower().strip("\"'“(") in _BREAK_BEFORE:
        return 3.0
    return 6.0


def _greedy_lines(tokens: Sequence[str], rules: CaptionRules) -> list[str]:
    lines: list[str] = []
    current: list[str] = []
    for token in tokens:
        if current and line_width(_join([*current, token], rules), rules) > rules.max_line_chars:
            lines.append(_join(current, rules))
            current = []
        current.append(token)
    if current:
        lines.append(_join(current, rules))
    return lines


def _wrap_tokens(tokens: Sequence[str], rules: CaptionRules) -> list[str]:
    text = _join(tokens, rules)
    limit = rules.max_line_chars
    if line_width(text, rules) <= limit:
        return [text] if text else []
    best: tuple[float, list[str]] | None = None
    for k in range(1, len(tokens)):
        top, bottom = _join(tokens[:k], rules), _join(tokens[k:], rules)
        w_top, w_bottom = line_width(top, rules), line_width(bottom, rules)
        if w_top > limit or w_bottom > limit:
            continue
        # Natural break first, then balance; a slightly longer bottom line is
        # preferred (Netflix: "bottom-heavy pyramid").
        imbalance = abs(w_top - w_bottom) + (2 if w_top > w_bottom else 0)
        cost = 3.0 * _break_cost(tokens[k - 1], tokens[k], rules) + (imbalance / 8.0) ** 2
        if best is None or cost < best[0]:
            best = (cost, [top, bottom])
    return best[1] if best else _greedy_lines(tokens, rules)


def wrap_text(
    text: str, max_line_chars: float = MAX_LINE_CHARS, *, language: str | None = None
) -> list[str]:
    """Break ``text`` into lines no longer than the line limit.

    ``max_line_chars`` applies to the default rules; with a ``language``
    (or CJK text) that language's rules apply (:func:`caption_rules`). Text
    that fits two lines gets the best two-line break (natural break, then
    balance); longer text is wrapped greedily into as many lines as it needs.
    """
    rules = _rules(language, text, max_line_chars=max_line_chars)
    return _wrap_tokens(_tokens(text, rules), rules)


def _rules(
    language: str | None,
    text: str,
    *,
    max_line_chars: float | None = None,
    max_lines: int | None = None,
    min_cue_s: float | None = None,
    max_cps: float | None = None,
) -> CaptionRules:
    """The language's rules; explicit limits override them only for the default rules
    (the English numbers passed as defaults must not widen a CJK line)."""
    rules = caption_rules(language, text)
    changes: dict[str, float] = {}
    for name, value, default in (
        ("max_line_chars", max_line_chars, MAX_LINE_CHARS),
        ("max_lines", max_lines, MAX_LINES),
        ("min_cue_s", min_cue_s, MIN_CUE_S),
        ("max_cps", max_cps, MAX_CPS),
    ):
        if value is not None and (value != default or not rules.cells):
            changes[name] = value
    return replace(rules, **changes) if changes else rules  # type: ignore[arg-type]


def _split_tokens(tokens: list[str], rules: CaptionRules) -> list[int]:
    """Token indices where pieces start, minimising pieces and bad breaks (DP)."""
    n = len(tokens)
    full = rules.max_lines * rules.max_line_chars
    limit = rules.max_lines * (rules.max_line_chars + 1)
    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("inf"), -1)] * n
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            length = line_width(_join(tokens[i:j], rules), rules)
            if length > limit:
                break
            if best[i][0] == float("inf"):
                continue
            if len(_wrap_tokens(tokens[i:j], rules)) > rules.max_lines:
                continue
            cost = best[i][0] + 5.0 + 3.0 * ((full - min(length, full)) / full) ** 2
            if j < n:
                cost += _break_cost(tokens[j - 1], tokens[j], rules)
            if cost < best[j][0]:
                best[j] = (cost, i)
    starts: list[int] = []
    j = n
    while j > 0:
        i = best[j][1]
        starts.append(i)
        j = i
    return starts[::-1]


def _split(text: str, rules: CaptionRules) -> list[str]:
    tokens = _tokens(text, rules)
    if not tokens:
        return []
    starts = _split_tokens(tokens, rules) + [len(tokens)]
    return [_join(tokens[a:b], rules) for a, b in zip(starts, starts[1:], strict=False)]


def split_text(
    text: str,
    max_line_chars: float = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    *,
    language: str | None = None,
) -> list[str]:
    """Split text into pieces that each fit the cue size (``max_lines`` lines).

    Breaks only at word boundaries (Chinese, Japanese: between characters, by
    kinsoku), preferring the ends of clauses and phrases; returns ``[]`` for
    blank text.
    """
    rules = _rules(language, text, max_line_chars=max_line_chars, max_lines=max_lines)
    return _split(text, rules)


# -- timing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimedSentence:
    """A spoken sentence placed on the video timeline.

    Attributes:
        text: the sentence as spoken.
        start_s: when its audio starts, seconds from the start of the video.
        end_s: when its audio ends, seconds from the start of the video.
        words: word start times in seconds from ``start_s`` (may be empty).
    """

    text: str
    start_s: float
    end_s: float
    words: Sequence[WordTiming] = field(default_factory=tuple)


@dataclass(slots=True)
class _Piece:
    """One would-be cue, times in integer milliseconds (SRT's resolution)."""

    text: str
    start: int  # its speech starts (estimated for the later pieces of a sentence)
    end: int  # its speech ends
    low: int  # the cue may start no earlier
    high: int  # and no later
    need: int  # it must last this long
    first: bool = True  # the first piece of its sentence
    rules: CaptionRules = _LATIN  # its sentence's rules (cue_rules)


def _anchors(text: str, duration_s: float, words: Sequence[WordTiming]) -> list[tuple[int, float]]:
    """Monotonic (character offset, seconds) pairs: word starts found in ``text``."""
    anchors = [(0, 0.0)]
    lowered = text.lower()
    cursor = 0
    for word in words:
        needle = word.text.strip().lower()
        if not needle:
            continue
        at = lowered.find(needle, cursor)
        # Only a match that starts a word: "a" must not match inside "cat".
        while at > 0 and lowered[at - 1].isalnum():
            at = lowered.find(needle, at + 1)
        if at < 0 or word.start_s > duration_s:
            continue
        if at >= anchors[-1][0] and word.start_s >= anchors[-1][1]:
            anchors.append((at, word.start_s))
            cursor = at + len(needle)
    anchors.append((len(text), duration_s))
    return anchors


def _time_at(offset: int, anchors: list[tuple[int, float]]) -> float:
    """Seconds at a character offset, interpolated linearly between anchors."""
    for (c0, t0), (c1, t1) in zip(anchors, anchors[1:], strict=False):
        if c0 <= offset <= c1:
            return t0 if c1 == c0 else t0 + (t1 - t0) * (offset - c0) / (c1 - c0)
    return anchors[-1][1]


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _sentence_pieces(sentence: TimedSentence, rules: CaptionRules) -> list[_Piece]:
    """The pieces of one sentence; the later ones may start anywhere inside its speech."""
    pieces = _split(sentence.text, rules)
    if not pieces:
        return []
    sep = "" if rules.by_character else " "
    joined = sep.join(pieces)
    duration = max(0.0, sentence.end_s - sentence.start_s)
    anchors = _anchors(joined, duration, sentence.words)
    offsets, at = [], 0
    for piece in pieces:
        offsets.append(at)
        at += len(piece) + len(sep)
    s0, s1 = _ms(sentence.start_s), max(_ms(sentence.end_s), _ms(sentence.start_s))
    starts = [_ms(sentence.start_s + _time_at(o, anchors)) for o in offsets]
    ends = starts[1:] + [s1]
    out = []
    for k, (start, end, text) in enumerate(zip(starts, ends, pieces, strict=True)):
        if k == 0:
            low, high = start - _ms(MAX_LEAD_S), start + _ms(MAX_DELAY_S)
        else:
            low, high = s0, max(s0, s1 - 1)
        out.append(
            _Piece(text, start, max(end, start), max(0, low), max(0, high), 0, k == 0, rules)
        )
    for piece in out:
        piece.need = _need_ms(piece.text, rules)
    return out


def _fits(text: str, rules: CaptionRules) -> bool:
    return len(_wrap_tokens(_tokens(text, rules), rules)) <= rules.max_lines


def _merge_short(pieces: list[_Piece]) -> list[_Piece]:
    """Join a too-short piece with the next when the pair fits one cue and needs no more time.

    Short sentences ("Tiny Talk.") make cues that flash by; a cue that holds
    two of them reads better, as subtitle guidelines advise. Pieces across a
    pause longer than ``MERGE_GAP_S`` (a scene change), or under different
    rules (a Latin-script sentence beside a Japanese one), stay apart.
    """
    merged: list[_Piece] = []
    for piece in pieces:
        rules = piece.rules
        sep = "" if rules.by_character else " "
        if merged and merged[-1].rules == rules:
            last = merged[-1]
            hurried = last.end - last.start < last.need or piece.end - piece.start < piece.need
            joined = f"{last.text}{sep}{piece.text}"
            need = _need_ms(joined, rules)
            close = piece.start - last.end <= _ms(MERGE_GAP_S)
            if hurried and close and need <= last.need + piece.need and _fits(joined, rules):
                merged[-1] = _Piece(
                    joined, last.start, piece.end, last.low, last.high, need, last.first, rules
                )
                continue
        merged.append(piece)
    return merged


def _starts(pieces: list[_Piece], needs: list[int], end_ms: int) -> list[int]:
    """Cue starts (ms) inside the windows, each ``needs[k]`` before the next when possible.

    Forward pass: each cue starts at its speech, or later (up to its window's
    end) when the cue before needs the time. Backward pass: a cue without
    enough time before the next one (or the video's end) starts earlier, down
    to its window's start. When starts meeting every need exist within the
    windows, these two passes find them: by induction, each start stays at or
    after the earliest feasible start and at most at the start the cue after
    it allows.
    """
    starts: list[int] = []
    for k, piece in enumerate(pieces):
        want = piece.start if k == 0 else max(piece.start, starts[-1] + needs[k - 1])
        starts.append(min(max(want, piece.low), piece.high))
    following = end_ms
    for k in range(len(pieces) - 1, -1, -1):
        if following - starts[k] < needs[k]:
            starts[k] = max(pieces[k].low, min(starts[k], following - needs[k]))
        following = starts[k]
    return starts


def _feasible(starts: list[int], needs: list[int], end_ms: int) -> bool:
    bounds = [*starts[1:], end_ms][: len(starts)]
    return all(b - a >= need for a, b, need in zip(starts, bounds, needs, strict=True))


def _groups(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Runs of pieces whose speech follows without a pause of ``2 * MERGE_GAP_S`` (scenes)."""
    groups: list[list[_Piece]] = []
    for piece in pieces:
        if groups and piece.start - groups[-1][-1].end < _ms(2 * MERGE_GAP_S):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return groups


def _shared_shortfall(group: list[_Piece], needs: list[int], bound: int) -> list[int]:
    """Starts for a group whose needs cannot all be met: every need scaled by one factor.

    The largest factor that can be met is found by bisection (feasibility
    only grows as needs shrink), so the shortfall is shared in proportion to
    each cue's need instead of falling on whichever cue comes first; no
    sentence's first cue starts before its speech.
    """
    group = [
        replace(p, low=max(p.low, min(p.start, p.high))) if p.high > p.start else p for p in group
    ]
    low, high = 0.0, 1.0
    for _ in range(16):
        middle = (low + high) / 2
        scaled = [int(need * middle) for need in needs]
        if _feasible(_starts(group, scaled, bound), scaled, bound):
            low = middle
        else:
            high = middle
    return _starts(group, [int(need * low) for need in needs], bound)


def _place(
    group: list[_Piece], floor: int, bound: int, *, share: bool = True
) -> tuple[list[tuple[int, int]], bool]:
    """``(start, end)`` in ms for consecutive cues between ``floor`` and ``bound``, and
    whether every need was met. ``share``: when they cannot be, share the shortfall
    (:func:`_shared_shortfall`) rather than keep the two passes' starts."""
    group = [replace(p, low=max(p.low, floor), high=max(p.high, floor)) for p in group]
    needs = [piece.need for piece in group]
    starts = _starts(group, needs, bound)
    met = _feasible(starts, needs, bound)
    if not met and share:
        starts = _shared_shortfall(group, needs, bound)
    for k in range(1, len(group)):  # strictly increasing whatever the windows
        starts[k] = max(starts[k], starts[k - 1] + 1)
    out = []
    for k, piece in enumerate(group):
        limit = starts[k + 1] if k + 1 < len(group) else bound
        out.append((starts[k], min(limit, max(piece.end, starts[k] + piece.need))))
    return out, met


def _short(placed: list[tuple[int, int]], group: list[_Piece]) -> tuple[int, float]:
    """How many cues get less than their need, then the worst fraction missing."""
    missing = [1 - (end - start) / p.need for (start, end), p in zip(placed, group, strict=True)]
    return sum(1 for m in missing if m > 0), max(missing)


def _schedule(pieces: list[_Piece], end_ms: int) -> list[tuple[int, int]]:
    """Start and end (ms) of each cue: in its window, each lasting its need when possible.

    Each group of pieces spoken without a pause (a scene, usually) is timed
    on its own, up to the next group's speech: when its needs can all be met
    (:func:`_starts`), they are. When they cannot (speech faster than the
    reading speed somewhere), its sentences are timed one by one, each up to
    the next one's speech, so the shortfall stays in the sentences spoken too
    fast (shared among their cues, :func:`_shared_shortfall`) and the others
    still get their time. Each cue is held as long as the next allows.
    """
    out: list[tuple[int, int]] = []
    floor = 0
    groups = _groups(pieces)
    for g, group in enumerate(groups):
        bound = min(groups[g + 1][0].start, end_ms) if g + 1 < len(groups) else end_ms
        placed, met = _place(group, floor, bound)
        if not met:
            placed, met = _lagging(group, floor, bound, end_ms, first=g == 0) or (placed, met)
        if not met:
            sentences: list[list[_Piece]] = []
            for piece in group:
                if piece.first or not sentences:
                    sentences.append([])
                sentences[-1].append(piece)
            placed, at = [], floor
            for i, sentence in enumerate(sentences):
                until = min(sentences[i + 1][0].start, bound) if i + 1 < len(sentences) else bound
                part, _ = _place(sentence, at, max(until, at + len(sentence)))
                placed += part
                at = part[-1][1]
            # the two passes alone move the shortfall onto neighbours, which
            # sometimes leaves fewer cues short: keep whichever leaves fewer
            passes, _ = _place(group, floor, bound, share=False)
            if _short(passes, group) < _short(placed, group):
                placed = passes
        out += placed
        floor = max(floor, placed[-1][1])
    return out


def _lagging(
    group: list[_Piece], floor: int, bound: int, end_ms: int, *, first: bool
) -> tuple[list[tuple[int, int]], bool] | None:
    """The group placed with every cue allowed to start up to ``MAX_LAG_S`` after its
    window (into the pause or the next group's speech, which then starts its own cues
    later), when that meets every need; else ``None``. The video's first cue keeps its
    window (``first``)."""
    lag = _ms(MAX_LAG_S)
    lagged = [p if first and k == 0 else replace(p, high=p.high + lag) for k, p in enumerate(group)]
    placed, met = _place(lagged, floor, min(bound + lag, end_ms), share=False)
    return (placed, True) if met else None


def build_cues(
    sentences: Iterable[TimedSentence],
    video_duration_s: float,
    *,
    language: str | None = None,
    max_line_chars: float | None = None,
    max_lines: int | None = None,
    min_cue_s: float | None = None,
    max_cps: float | None = None,
    max_word_chars: float | None = None,
) -> list[Caption]:
    """Caption cues for timed sentences: ordered, non-overlapping, inside the video.

    Args:
        sentences: in timeline order, not overlapping.
        video_duration_s: no cue ends after this, in seconds.
        language: BCP 47 tag choosing the limits (:func:`caption_rules`);
            ``None`` guesses from the text's writing system. Each sentence
            follows the rules of its own script (:func:`cue_rules`).
        max_line_chars, max_lines, min_cue_s, max_cps: override the
            language's limits (characters per line, lines per cue, seconds,
            characters per second). In a CJK video, Latin-script sentences
            get the default limits narrowed in the same proportion.
        max_word_chars: words up to this many characters stay whole on a
            line of their own even past ``max_line_chars`` (``CaptionRules``).

    Returns:
        Cues numbered from 1, times in whole milliseconds, text wrapped into
        lines joined with ``"\\n"``. Every cue fits the line limits. Every cue
        lasts at least ``min_cue_s`` and is read at most at ``max_cps`` when
        the time allows it: a sentence whose speech (plus the pause after it)
        lasts at least :func:`required_seconds` always gets its time;
        :func:`cue_problems` lists the cues that did not.
    """
    items = sorted(sentences, key=lambda s: s.start_s)
    sample = " ".join(s.text for s in items[:20])
    base = caption_rules(language, sample)
    rules = _rules(
        language,
        sample,
        max_line_chars=max_line_chars,
        max_lines=max_lines,
        min_cue_s=min_cue_s,
        max_cps=max_cps,
    )
    if max_word_chars:
        rules = replace(rules, max_word_chars=max_word_chars)
    latin = _latin_for(rules, base)
    pieces = [
        piece
        for sentence in items
        for piece in _sentence_pieces(
            sentence, latin if rules.cells and is_latin_text(sentence.text) else rules
        )
    ]
    pieces = _merge_short(pieces)
    end_ms = math.floor(video_duration_s * 1000 + 1e-6)
    cues: list[Caption] = []
    for piece, (start, end) in zip(pieces, _schedule(pieces, end_ms), strict=True):
        start, end = max(0, start), min(end, end_ms)
        if end <= start:
            continue  # no room at all: the video ends before this speech
        lines = _wrap_tokens(_tokens(piece.text, piece.rules), piece.rules)
        cues.append(
            Caption(
                index=len(cues) + 1, start_s=start / 1000, end_s=end / 1000, text="\n".join(lines)
            )
        )
    return cues


def cue_problems(captions: Sequence[Caption], language: str | None = None) -> list[str]:
    """What breaks the language's limits in ``captions``, one line per problem (``[]``: none).

    The same measures as the captions gate: characters per second (line
    breaks excluded), line length (:func:`line_width`), lines, duration, each
    by the rules of the cue's script (:func:`cue_rules`).
    """
    sample = " ".join(c.text for c in captions[:20])
    base = caption_rules(language, sample)
    problems = []
    for cue in captions:
        rules = cue_rules(base, cue.text)
        lines = cue.text.split("\n")
        duration = cue.end_s - cue.start_s
        chars = sum(len(line) for line in lines)
        if duration < rules.min_cue_s - 0.0005:
            problems.append(f"cue {cue.index}: {duration:.3f} s, under {rules.min_cue_s:g} s")
        if duration <= 0 or chars / duration > rules.max_cps + 1e-9:
            problems.append(
                f"cue {cue.index}: {chars} characters in {duration:.3f} s, over "
                f"{rules.max_cps:g} per second"
            )
        if len(lines) > rules.max_lines:
            problems.append(f"cue {cue.index}: {len(lines)} lines")
        widest = max(line_width(line, rules) for line in lines)
        if widest > rules.max_line_chars:
            problems.append(f"cue {cue.index}: a line of {widest:g}")
    return problems


# -- files -------------------------------------------------------------------------


# ISO 639-2/T codes for the primary subtag of common BCP 47 tags; MP4 stores a
# three-letter code (ISO/IEC 14496-12, mdhd language).
_ISO639_2 = {
    "ar": "ara", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng",
    "es": "spa", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun",
    "id": "ind", "it": "ita", "ja": "jpn", "ko": "kor", "nb": "nob", "nl": "nld",
    "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sv": "swe",
    "th": "tha", "tr": "tur", "uk": "ukr", "vi": "vie", "zh": "zho",
}  # fmt: skip


def iso639_2(language: str) -> str:
    """Three-letter ISO 639-2 code for a BCP 47 tag (``"en-GB"`` -> ``"eng"``, else ``"und"``)."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    if len(primary) == 3 and primary.isalpha():
        return primary
    return _ISO639_2.get(primary, "und")


def _write_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file in the same directory, then rename it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; captions are shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_srt(captions: Sequence[Caption], path: Path) -> Path:
    """Write cues as SubRip (``.srt``) with the ``srt`` library; returns ``path``."""
    import srt

    subtitles = [
        srt.Subtitle(
            index=cue.index,
            start=timedelta(seconds=cue.start_s),
            end=timedelta(seconds=cue.end_s),
            content=cue.text,
        )
        for cue in captions
    ]
    _write_atomic(path, srt.compose(subtitles, reindex=False))
    return path


def _vtt_timestamp(seconds: float) -> str:
    total_ms = round(seconds * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def write_vtt(captions: Sequence[Caption], path: Path) -> Path:
    """Write cues as WebVTT (``.vtt``) with ``webvtt-py``; returns ``path``."""
    import webvtt

    document = webvtt.WebVTT(
        captions=[
            webvtt.Caption(
                start=_vtt_timestamp(cue.start_s),
                end=_vtt_timestamp(cue.end_s),
                text=cue.text,
                identifier=str(cue.index),
            )
            for cue in captions
        ]
    )
    _write_atomic(path, document.content)
    return path
