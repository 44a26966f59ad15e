"""Caption cues from timed sentences, and SubRip / WebVTT writers.

Line limits follow common broadcast and streaming subtitle guidelines (Netflix
timed text style guide, BBC subtitle guidelines): at most 2 lines of at most
42 characters per cue, lines broken at natural linguistic points (after
punctuation, before a conjunction or preposition), and a cue on screen for at
least about 1 second.

A sentence too long for one cue is split at word boundaries, preferring clause
boundaries. The pieces are timed from the engine's word timings when present,
else in proportion to their characters.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from reelgraph.models import Caption, WordTiming

__all__ = [
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "MAX_CPS",
    "MIN_CUE_S",
    "TimedSentence",
    "build_cues",
    "iso639_2",
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
#: Pieces further apart than this (a scene change) are never merged into one cue.
MERGE_GAP_S = 0.25

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
_CLAUSE_END = (".", "!", "?", "…")
_PHRASE_END = (",", ";", ":", "—", "–", ")", '"', "”")


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


def _tokens(text: str, max_line_chars: int) -> list[str]:
    """Whitespace tokens; a token longer than a line is cut into line-sized chunks."""
    out: list[str] = []
    for word in text.split():
        while len(word) > max_line_chars:
            out.append(word[:max_line_chars])
            word = word[max_line_chars:]
        if word:
            out.append(word)
    return out


def _break_cost(left: str, right: str) -> float:
    """How bad it is to break between the words ``left`` and ``right`` (0 = ideal)."""
    if left.endswith(_CLAUSE_END):
        return 0.0
    if left.endswith(_PHRASE_END) or left in ("-", "—", "–"):
        return 1.0
    if left.lower() in _NO_BREAK_AFTER:
        return 8.0
    if right.lower().strip("\"'“(") in _BREAK_BEFORE:
        return 3.0
    return 6.0


def _greedy_lines(tokens: Sequence[str], max_line_chars: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current} {token}" if current else token
        if len(candidate) <= max_line_chars or not current:
            current = candidate
        else:
            lines.append(current)
            current = token
    if current:
        lines.append(current)
    return lines


def _wrap_tokens(tokens: Sequence[str], max_line_chars: int) -> list[str]:
    text = " ".join(tokens)
    if len(text) <= max_line_chars:
        return [text] if text else []
    best: tuple[float, list[str]] | None = None
    for k in range(1, len(tokens)):
        top, bottom = " ".join(tokens[:k]), " ".join(tokens[k:])
        if len(top) > max_line_chars or len(bottom) > max_line_chars:
            continue
        # Natural break first, then balance; a slightly longer bottom line is
        # preferred (Netflix: "bottom-heavy pyramid").
        imbalance = abs(len(top) - len(bottom)) + (2 if len(top) > len(bottom) else 0)
        cost = 3.0 * _break_cost(tokens[k - 1], tokens[k]) + (imbalance / 8.0) ** 2
        if best is None or cost < best[0]:
            best = (cost, [top, bottom])
    return best[1] if best else _greedy_lines(tokens, max_line_chars)


def wrap_text(text: str, max_line_chars: int = MAX_LINE_CHARS) -> list[str]:
    """Break ``text`` into lines of at most ``max_line_chars`` characters.

    Text that fits two lines gets the best two-line break (natural break, then
    balance); longer text is wrapped greedily into as many lines as it needs.
    """
    return _wrap_tokens(_tokens(text, max_line_chars), max_line_chars)


def _split_tokens(tokens: list[str], max_line_chars: int, max_lines: int) -> list[int]:
    """Token indices where pieces start, minimising pieces and bad breaks (DP)."""
    n = len(tokens)
    limit = max_lines * (max_line_chars + 1)
    full = max_lines * max_line_chars
    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("inf"), -1)] * n
    for j in range(1, n + 1):
        length = -1
        for i in range(j - 1, -1, -1):
            length += len(tokens[i]) + 1
            if length > limit:
                break
            if best[i][0] == float("inf"):
                continue
            if len(_wrap_tokens(tokens[i:j], max_line_chars)) > max_lines:
                continue
            cost = best[i][0] + 5.0 + 3.0 * ((full - min(length, full)) / full) ** 2
            if j < n:
                cost += _break_cost(tokens[j - 1], tokens[j])
            if cost < best[j][0]:
                best[j] = (cost, i)
    starts: list[int] = []
    j = n
    while j > 0:
        i = best[j][1]
        starts.append(i)
        j = i
    return starts[::-1]


def split_text(
    text: str, max_line_chars: int = MAX_LINE_CHARS, max_lines: int = MAX_LINES
) -> list[str]:
    """Split text into pieces that each fit ``max_lines`` lines of ``max_line_chars``.

    Breaks only at word boundaries, preferring the ends of clauses and phrases;
    returns ``[]`` for blank text.
    """
    tokens = _tokens(text, max_line_chars)
    if not tokens:
        return []
    starts = _split_tokens(tokens, max_line_chars, max_lines) + [len(tokens)]
    return [" ".join(tokens[a:b]) for a, b in zip(starts, starts[1:], strict=False)]


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


def _sentence_pieces(
    sentence: TimedSentence, max_line_chars: int, max_lines: int
) -> list[tuple[float, float, str]]:
    """``(start_s, end_s, text)`` for each piece of one sentence, on the video timeline."""
    pieces = split_text(sentence.text, max_line_chars, max_lines)
    if not pieces:
        return []
    joined = " ".join(pieces)
    duration = max(0.0, sentence.end_s - sentence.start_s)
    anchors = _anchors(joined, duration, sentence.words)
    offsets, at = [], 0
    for piece in pieces:
        offsets.append(at)
        at += len(piece) + 1
    starts = [sentence.start_s + _time_at(o, anchors) for o in offsets]
    ends = starts[1:] + [sentence.end_s]
    return list(zip(starts, ends, pieces, strict=True))


def _merge_short(
    raw: list[tuple[float, float, str]],
    max_line_chars: int,
    max_lines: int,
    min_cue_s: float,
    max_cps: float,
) -> list[tuple[float, float, str]]:
    """Join a too-short or too-fast piece with the next when the pair fits one cue.

    Short sentences ("Tiny Talk.") make cues that flash by; a cue that holds
    two of them reads better, as subtitle guidelines advise.
    """
    merged: list[tuple[float, float, str]] = []
    for start, end, text in raw:
        if merged:
            p_start, p_end, p_text = merged[-1]
            joined = f"{p_text} {text}"
            hurried = (p_end - p_start) < min_cue_s or len(p_text) / max(
                p_end - p_start, 1e-6
            ) > max_cps
            fits = len(wrap_text(joined, max_line_chars)) <= max_lines
            if hurried and fits and start - p_end <= MERGE_GAP_S:
                merged[-1] = (p_start, end, joined)
                continue
        merged.append((start, end, text))
    return merged


def _borrow_time(
    raw: list[tuple[float, float, str]], min_cue_s: float, max_cps: float
) -> list[tuple[float, float, str]]:
    """Let a cue too short to read, with no pause after it, start its successor a little late.

    The next cue starts at most ``MAX_DELAY_S`` after its speech, and only
    when it stays at least ``min_cue_s`` long and within ``max_cps``.
    """
    out = list(raw)
    for k in range(len(out) - 1):
        start, end, text = out[k]
        n_start, n_end, n_text = out[k + 1]
        deficit = start + min_cue_s - n_start
        if deficit <= 0:
            continue
        room = (n_end - n_start) - max(min_cue_s, len(n_text) / max_cps)
        shift = min(deficit, MAX_DELAY_S, max(room, 0.0))
        if shift > 0:
            out[k + 1] = (n_start + shift, n_end, n_text)
            out[k] = (start, max(end, n_start + shift), text)
    return out


def build_cues(
    sentences: Iterable[TimedSentence],
    video_duration_s: float,
    *,
    max_line_chars: int = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    min_cue_s: float = MIN_CUE_S,
    max_cps: float = MAX_CPS,
) -> list[Caption]:
    """Caption cues for timed sentences: ordered, non-overlapping, inside the video.

    Args:
        sentences: in timeline order, not overlapping.
        video_duration_s: no cue ends after this, in seconds.
        max_line_chars, max_lines: the size of a cue (42 x 2 by default).
        min_cue_s: a cue shorter than this is first merged with the next
            one when both fit one cue and follow each other without a pause,
            else extended into the following silence, never past the next
            cue's start or the video's end.
        max_cps: reading speed in characters per second; a faster cue is
            held into the silence after it when there is some.

    Returns:
        Cues numbered from 1, times rounded to milliseconds, text wrapped into
        lines joined with ``"\\n"``.
    """
    raw: list[tuple[float, float, str]] = []
    for sentence in sentences:
        raw.extend(_sentence_pieces(sentence, max_line_chars, max_lines))
    raw.sort(key=lambda cue: cue[0])
    raw = _merge_short(raw, max_line_chars, max_lines, min_cue_s, max_cps)
    raw = _borrow_time(raw, min_cue_s, max_cps)
    cues: list[Caption] = []
    for k, (start, end, text) in enumerate(raw):
        limit = raw[k + 1][0] if k + 1 < len(raw) else video_duration_s
        limit = min(limit, video_duration_s)
        if end - start < min_cue_s:
            end = max(end, min(start + min_cue_s, limit))
        chars = len(text)
        if chars / max(end - start, 1e-6) > max_cps:
            # hold a fast cue into the silence after it, up to the next cue
            end = max(end, min(start + chars / max_cps, limit))
        start_ms, end_ms = round(max(0.0, start), 3), round(min(end, limit), 3)
        if end_ms <= start_ms:
            continue
        lines = wrap_text(text, max_line_chars)
        cues.append(
            Caption(index=len(cues) + 1, start_s=start_ms, end_s=end_ms, text="\n".join(lines))
        )
    return cues


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
