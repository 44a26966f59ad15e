"""Sentence segmentation per language, with a bound on sentence length.

- English (and unknown languages written in Latin script) keeps the rules of
  :func:`reelgraph.plugins._text.split_sentences`: no break after
  abbreviations (``Dr.``, ``vs.``), initials (``J. R.``) or inside versions
  (``3.11``).
- The other languages pysbd knows (22, among them de, fr, es, it, nl, pl,
  ru, zh, ja: its ``LANGUAGE_CODES``) are segmented by pysbd with their own
  abbreviation lists and terminal marks (``。！？`` in Chinese and Japanese);
  a break pysbd makes after an abbreviation that never ends a sentence
  (Russian "см.", German "vgl.") or before a lower-case letter after a
  short abbreviation is undone, and one it misses after an abbreviation that
  often ends a sentence ("и т. д.", "usw.", "etc.") before a capital is made.
- Any other language: a break after ``.!?`` and a space before a capital or
  an uncased letter (Korean, Thai...), or after ``。！？``.

No sentence comes out longer than :func:`max_sentence_chars`: 250
characters where words are separated by spaces, 100 in Chinese and Japanese.
Why these bounds: a sentence is one speech-synthesis call and one caption
timing unit; 250 characters is about 40 English words, 17 s of speech at 140
words per minute, above nearly every sentence of edited prose (English prose
averages 15-25 words a sentence) yet small enough that a document of one
40,000-word line (FIELD.md) becomes ~1,000 bounded sentences instead of one
call that ran past 5 minutes. 100 Chinese or Japanese characters is a
similar 15-20 s at the 5-7 characters per second of natural speech.
A longer sentence is cut at the clause mark nearest its middle (``,;:`` or a
dash; ``，、；：`` in Chinese and Japanese), else at the space nearest its
middle, else between characters (never inside a Latin word, never before
closing punctuation). A sentence without Chinese or Japanese characters in a
Chinese or Japanese text (English quoted in it) has the 250-character bound.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from reelgraph.plugins._language import primary_subtag, writes_without_spaces
from reelgraph.plugins._text import as_sentence, normalize_space
from reelgraph.plugins._text import split_sentences as _split_english

__all__ = [
    "MAX_SENTENCE_CHARS",
    "MAX_SENTENCE_CHARS_NO_SPACES",
    "CLOSING_PUNCTUATION",
    "OPENING_PUNCTUATION",
    "end_sentence",
    "ends_open",
    "max_sentence_chars",
    "split_long",
    "split_sentences",
]

#: Longest sentence, in characters, where words are separated by spaces (see module doc).
MAX_SENTENCE_CHARS = 250
#: Longest sentence, in characters, in Chinese and Japanese (see module doc).
MAX_SENTENCE_CHARS_NO_SPACES = 100
#: Text handed to pysbd at once: its regexes slow down on very long input
#: (2 s for 40,000 words), so longer text is cut at a sentence mark first.
_PYSBD_CHUNK = 10_000

# pysbd's LANGUAGE_CODES (pysbd 0.3.4), less English, which keeps the rules above.
_PYSBD = frozenset({
    "am", "ar", "bg", "da", "de", "el", "es", "fa", "fr", "hi", "hy", "it", "ja", "kk",
    "mr", "my", "nl", "pl", "ru", "sk", "ur", "zh",
})  # fmt: skip

#: Characters that never start a line or a piece (JIS X 4051 / W3C "Requirements
#: for Japanese Text Layout" 3.1.7 kinsoku: closing brackets, full stops,
#: commas, middle dots, small kana, iteration marks, the long-vowel mark).
CLOSING_PUNCTUATION = frozenset(
    "、。，．・：；？！）」』】〕〉》〙〗〟’”｝］〞ゝゞヽヾー々ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
    ",.:;?!)]}%…‥"
)
#: Characters that never end a line or a piece (opening brackets and quotes).
OPENING_PUNCTUATION = frozenset("（「『【〔〈《〘〖〝‘“｛［([{")

_WIDE_SPACE = re.compile(
    r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])"
)
_WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
_WIDE_END = re.compile(r"(?<=[。！？])[」』）】〕”’\"']*")
_GENERIC_BOUNDARY = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=\S)")
_INITIAL = re.compile(r"(?:^|\s)\w\.$")
_CLAUSE_SPACED = re.compile(r"[,;:]\s|\s[\u2013\u2014-]\s")
_CLAUSE_WIDE = re.compile(r"[，、；：,;:](?=.)")


def max_sentence_chars(language: str | None) -> int:
    """The bound on a sentence's length in characters for ``language`` (see module doc)."""
    if writes_without_spaces(language):
        return MAX_SENTENCE_CHARS_NO_SPACES
    return MAX_SENTENCE_CHARS


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split plain text into sentences by the rules of ``language`` (BCP 47; ``None`` = English rules).

    Whitespace is collapsed (and dropped between two Chinese or Japanese
    characters, where it is a line break, not a word space); no sentence is longer than
    :func:`max_sentence_chars` (longer ones are split by :func:`split_long`).
    Returns ``[]`` for blank text.
    """
    text = normalize_space(text)
    if not text:
        return []
    if writes_without_spaces(language):
        # a line break inside Chinese or Japanese text is not a word space
        text = _WIDE_SPACE.sub("", text)
    primary = primary_subtag(language)
    if primary in _PYSBD:
        raw = _rejoin_abbreviations(_pysbd_split(text, primary), primary)
        raw = _split_after_final_abbreviations(raw, primary)
    elif primary in ("", "en"):
        raw = _split_english(text)
    else:
        raw = _generic_split(text)
    raw = _rejoin_closers(raw)
    limit = max_sentence_chars(language) if language else _guess_limit(text)
    no_spaces = limit == MAX_SENTENCE_CHARS_NO_SPACES
    out: list[str] = []
    for sentence in raw:
        # pysbd already ends Chinese and Japanese sentences at 。！？ (and knows
        # 「…！」と continues the sentence); other paths may meet them in mixed text
        parts = [sentence] if primary in _PYSBD else _split_wide_marks(sentence)
        for part in parts:
            if no_spaces and not _WIDE.search(part):  # English quoted in Japanese
                out.extend(split_long(part, MAX_SENTENCE_CHARS))
            else:
                out.extend(split_long(part, limit, no_spaces=no_spaces))
    return [s for s in out if s]


def _rejoin_closers(sentences: list[str]) -> list[str]:
    """A piece that starts with closing punctuation goes back onto the sentence before:
    pysbd ends a Japanese sentence at the "!" of "(その回答も!) を集めています。"."""
    out: list[str] = []
    for sentence in sentences:
        if out and sentence[:1] in _CLOSERS:
            out[-1] = f"{out[-1]}{sentence}"
        else:
            out.append(sentence)
    return out


_CLOSERS = frozenset(")]}）」』】〕〉》”’")

#: Abbreviations that never end a sentence (they point at what follows), per
#: language; pysbd ends a Russian sentence at "см." ("see") before a capital:
#: "(см. Критерии Debian ...)". Those that may end one ("и т. д.", "и др.",
#: "usw.", "etc.") are not listed. Sources: the abbreviation tables of
#: Rosenthal's "Справочник по правописанию и стилистике" (ru) and Duden (de).
_NEVER_FINAL = {
    "ru": frozenset({
        "см.", "ср.", "напр.", "т.е.", "т.к.", "т.н.", "рис.", "табл.", "стр.", "гл.",
        "разд.", "ок.", "им.", "проф.", "акад.", "ул.", "св.", "прим.", "зам.",
    }),
    "de": frozenset({"vgl.", "bzw.", "ca.", "nr.", "z.b.", "d.h.", "sog.", "bspw."}),
    "fr": frozenset({"cf.", "p.ex.", "env.", "nº."}),
    "es": frozenset({"cf.", "p.ej.", "pág.", "núm.", "sr.", "sra.", "dr.", "dra."}),
    "it": frozenset({"cfr.", "pag.", "sig.", "sig.ra", "dott."}),
}  # fmt: skip
# an abbreviation's shape: a few lower-case letters (and inner full stops) and a full stop
_ABBREVIATION = re.compile(r"^(?:[^\W\d_]{1,4}\.){1,3}$")


_ANY_NEVER_FINAL = frozenset().union(*_NEVER_FINAL.values())


def ends_open(text: str) -> bool:
    """True when ``text`` ends with an abbreviation that never ends a sentence in any
    language of :data:`_NEVER_FINAL` ("... см.", "... vgl."): what follows belongs to it.

    The PDF reader uses it to carry a paragraph over into the next text box
    (a cross-reference set as a link, "см." | "Раздел 16.2.").
    """
    words = text.split()
    if not words:
        return False
    return words[-1].lower() in _ANY_NEVER_FINAL or "".join(words[-2:]).lower() in _ANY_NEVER_FINAL


def _rejoin_abbreviations(sentences: list[str], language: str) -> list[str]:
    """A piece after an abbreviation that never ends a sentence goes back onto it, and so
    does one starting with a lower-case letter after a short abbreviation ("т.е." +
    "пример"): a sentence starts with a capital in these languages."""
    never = _NEVER_FINAL.get(language, frozenset())
    out: list[str] = []
    for sentence in sentences:
        if out:
            words = out[-1].split()
            last = words[-1].lower() if words else ""
            # "т. е." is two tokens: look at the last two without their space
            pair = "".join(words[-2:]).lower() if len(words) > 1 else last
            lower_next = sentence[:1].islower() and bool(_ABBREVIATION.match(last))
            if last in never or pair in never or lower_next:
                out[-1] = f"{out[-1]} {sentence}"
                continue
        out.append(sentence)
    return out


#: Abbreviations that end a list and so often end a sentence ("etc."), per
#: language; pysbd runs on after them when a capital follows: "…des
#: Betriebssystems usw. Es beinhaltet auch…" (the German Debian FAQ), "…arm и
#: т. д. Список…". Sources: Rosenthal's "Справочник по правописанию и
#: стилистике" (ru: "и т. д.", "и т. п.", "и др.", "и пр."), Duden (de:
#: "usw.", "usf."), the Accademia della Crusca's abbreviation list (it: "ecc.").
_OFTEN_FINAL = {
    "ru": ("и т. д.", "и т. п.", "и др.", "и пр."),
    "de": ("usw.", "usf.", "etc."),
    "fr": ("etc.",),
    "es": ("etc.",),
    "it": ("ecc.", "etc."),
    "nl": ("enz.", "etc."),
    "pl": ("itd.", "itp.", "etc."),
}


@lru_cache(maxsize=16)
def _final_abbreviation(language: str) -> re.Pattern[str] | None:
    """A pattern for one of ``language``'s :data:`_OFTEN_FINAL` abbreviations (inner
    spaces optional: "и т.д." and "и т. д.") followed by spaces, or ``None``."""
    found = _OFTEN_FINAL.get(language)
    if not found:
        return None
    forms = [r"\s?".join(re.escape(part) for part in a.split()) for a in found]
    return re.compile(rf"(?<![^\W\d_])(?:{'|'.join(forms)})\s+", re.IGNORECASE)


def _split_after_final_abbreviations(sentences: list[str], language: str) -> list[str]:
    """Break after an abbreviation of :data:`_OFTEN_FINAL` where what follows starts a
    plausible sentence: a capital then a lower-case letter ("Es", "Список"; not an
    acronym), two words or more, and no parenthesis left open before the break."""
    pattern = _final_abbreviation(language)
    if pattern is None:
        return sentences
    out: list[str] = []
    for sentence in sentences:
        start = 0
        for match in pattern.finditer(sentence):
            rest = sentence[match.end() :]
            head = sentence[start : match.end()]
            plausible = rest[:1].isupper() and rest[1:2].islower() and len(rest.split()) > 1
            if plausible and head.count("(") <= head.count(")"):
                out.append(head.strip())
                start = match.end()
        out.append(sentence[start:].strip())
    return [s for s in out if s]


def _guess_limit(text: str) -> int:
    """Without a language: the no-spaces bound when most letters are CJK ideographs or kana."""
    letters = [ch for ch in text[:2000] if ch.isalpha()]
    wide = sum(1 for ch in letters if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    return (
        MAX_SENTENCE_CHARS_NO_SPACES if letters and wide * 2 > len(letters) else MAX_SENTENCE_CHARS
    )


@lru_cache(maxsize=8)
def _segmenter(language: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def _pysbd_split(text: str, language: str) -> list[str]:
    segmenter = _segmenter(language)
    out: list[str] = []
    for chunk in _chunks(text, _PYSBD_CHUNK):
        out.extend(s.strip() for s in segmenter.segment(chunk))
    return [s for s in out if s]


def _chunks(text: str, size: int) -> list[str]:
    """Cut text longer than ``size`` after its last sentence mark (else space) before ``size``."""
    chunks: list[str] = []
    while len(text) > size:
        window = text[:size]
        cut = max(window.rfind(mark) for mark in (". ", "! ", "? ", "。", "！", "？"))
        if cut <= 0:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else size
        chunks.append(text[:cut])
        text = text[cut:]
    chunks.append(text)
    return chunks


def _generic_split(text: str) -> list[str]:
    """Break after ``.!?…`` and a space, unless the word before is a single initial."""
    pieces: list[str] = []
    start = 0
    for match in _GENERIC_BOUNDARY.finditer(text):
        head = text[start : match.start()]
        following = text[match.end()]
        if _INITIAL.search(head) or following.islower():
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _split_wide_marks(sentence: str) -> list[str]:
    """Split after full-width ``。！？`` (and the closing quotes after them) wherever they are."""
    parts: list[str] = []
    start = 0
    for match in _WIDE_END.finditer(sentence):
        if match.end() < len(sentence):
            parts.append(sentence[start : match.end()].strip())
            start = match.end()
    parts.append(sentence[start:].strip())
    return [p for p in parts if p]


def split_long(text: str, limit: int, *, no_spaces: bool = False) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at clauses, then words.

    Each cut is made at the clause mark nearest the middle (within its middle
    half), else at the space nearest the middle, else between characters,
    moved past closing punctuation so no piece starts with it. Pieces keep
    their punctuation; none is empty.
    """
    out: list[str] = []
    stack = [text.strip()]
    while stack:
        piece = stack.pop()
        if len(piece) <= limit:
            if piece:
                out.append(piece)
            continue
        cut = _cut(piece, no_spaces)
        head, tail = piece[:cut].strip(), piece[cut:].strip()
        if not head or not tail:  # cannot happen with 0 < cut < len; stay safe
            head, tail = piece[:limit], piece[limit:]
        stack.extend((tail, head))
    return out


def _cut(text: str, no_spaces: bool) -> int:
    n = len(text)
    middle = n / 2
    low, high = n // 4, n - n // 4
    clause = _CLAUSE_WIDE if no_spaces else _CLAUSE_SPACED
    best: int | None = None
    for match in clause.finditer(text, low, high):
        at = match.start() + 1  # after the mark
        if best is None or abs(at - middle) < abs(best - middle):
            best = at
    if best is None and not no_spaces:
        left, right = text.rfind(" ", 0, int(middle) + 1), text.find(" ", int(middle))
        spaces = [at for at in (left, right) if 0 < at < n - 1]
        if spaces:
            best = min(spaces, key=lambda at: abs(at - middle))
    if best is None:
        best = _outside_latin_word(text, max(1, int(middle)))
    while best < n - 1 and text[best] in CLOSING_PUNCTUATION:
        best += 1
    while best > 1 and text[best - 1] in OPENING_PUNCTUATION:
        best -= 1
    return best


_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.-]*[A-Za-z0-9]|[A-Za-z0-9]")


def _outside_latin_word(text: str, at: int) -> int:
    """``at``, or the nearer end of the Latin word (or number) it falls inside: an English
    sentence quoted in Japanese is never cut mid-word ("sof" + "tware")."""
    for match in _LATIN_WORD.finditer(text):
        if match.start() < at < match.end():
            ends = [end for end in (match.start(), match.end()) if 0 < end < len(text)]
            return min(ends, key=lambda end: abs(end - at)) if ends else at
    return at


def end_sentence(text: str, language: str | None = None) -> str:
    """End ``text`` with terminal punctuation: ``。`` in Chinese and Japanese, else ``.``.

    Text that already ends with ``.!?…`` or ``。！？`` is unchanged; a
    trailing ``:;,`` is replaced (as :func:`~reelgraph.plugins._text.as_sentence`).
    """
    text = text.rstrip()
    if not text or text[-1] in "。！？":
        return text
    if writes_without_spaces(language) or (language is None and "\u3040" <= text[-1] <= "\u9fff"):
        if text[-1] in "、，：；:;,":
            text = text[:-1]
        return text if text and text[-1] in ".!?\u2026" else text + "。"
    return as_sentence(text)
