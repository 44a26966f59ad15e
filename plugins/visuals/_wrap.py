"""Line breaking for the ``slides`` plugin: greedy wrapping measured in pixels.

Lines break at spaces and, in Chinese and Japanese text, between phrases:
BudouX (Google's phrase segmenter, Apache-2.0, a few kilobytes of model in
the wheel) finds where a phrase ends ("多数の|パッケージを|指す"), so a line
does not end in the middle of a word; a phrase wider than a line breaks
between characters. Korean (which has spaces) breaks at spaces, other wide
characters between any two. Nowhere does a line break where the kinsoku
rules of JIS X 4051 / W3C "Requirements for Japanese Text Layout" (JLREQ)
forbid it. Widths come from the font that will draw the text (anything with
Pillow's ``getlength``).
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from reelgraph.plugins._language import phrase_starts

__all__ = ["ELLIPSIS", "NO_LINE_END", "NO_LINE_START", "Measure", "truncate_to_width", "wrap_text"]

ELLIPSIS = "\u2026"


class Measure(Protocol):
    """What wrapping needs of a font: the advance width of a string in pixels."""

    def getlength(self, text: str) -> float: ...


def _longest_prefix(text: str, font: Measure, max_width: float, suffix: str = "") -> int:
    """Length of the longest prefix of ``text`` that fits with ``suffix`` (binary search)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(text[:mid] + suffix) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _break_word(word: str, font: Measure, max_width: float) -> list[str]:
    """Split a word wider than ``max_width`` into pieces that fit (at least one char each).

    A break is moved earlier (JLREQ "pushing out") so that no piece starts
    with a character of :data:`NO_LINE_START` or ends with one of
    :data:`NO_LINE_END`, unless that would leave an empty piece.
    """
    pieces = []
    while word:
        n = max(1, _longest_prefix(word, font, max_width))
        while 1 < n < len(word) and (word[n] in NO_LINE_START or word[n - 1] in NO_LINE_END):
            n -= 1
        pieces.append(word[:n])
        word = word[n:]
    return pieces


#: Characters that never start a line (JIS X 4051 / W3C "Requirements for
#: Japanese Text Layout" (JLREQ) §3.1.7 line-start prohibition): closing
#: brackets, CJK and Latin closing punctuation, small kana, the prolonged
#: sound mark and iteration marks.
NO_LINE_START = frozenset(
    ")]}〉》」』】〕〗〙〟’”）］｝｠»"
    "、。，．・：；！？‼⁇⁈⁉,.!?:;"
    "…‥ーヽヾゝゞ々〻"
    "ぁぃぅぇぉっゃゅょゎゕゖ"
    "ァィゥェォッャュョヮヵヶ"
)
#: Characters that never end a line (JLREQ line-end prohibition): opening brackets and quotes.
NO_LINE_END = frozenset("([{〈《「『【〔〖〘〝‘“（［｛｟«")


def _breaks_anywhere(ch: str) -> bool:
    """Wide and full-width characters (UAX #11 ``W``/``F``: Han, kana, Hangul, CJK punctuation).

    CJK text has no spaces between words, so a line may break between any two
    of these (UAX #14 class ID), subject to the kinsoku rules above.
    """
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[tuple[str, bool]]:
    """``(token, space_before)`` pairs: the units a line may break between.

    A token is a run of non-wide characters (a Latin word, never split unless
    longer than a line), a Chinese or Japanese phrase (``_language.phrase_starts``),
    or one other wide character. Kinsoku: a character of
    :data:`NO_LINE_START` joins the token before it, one of
    :data:`NO_LINE_END` the token after it.
    """
    tokens: list[tuple[str, bool]] = []
    for word in text.split():
        pieces: list[str] = []
        phrases = phrase_starts(word)
        for i, ch in enumerate(word):
            glue_back = pieces and (
                ch in NO_LINE_START
                or pieces[-1][-1] in NO_LINE_END
                or not (_breaks_anywhere(ch) or _breaks_anywhere(pieces[-1][-1]))
                or (phrases is not None and i not in phrases)
            )
            if glue_back:
                pieces[-1] += ch
            else:
                pieces.append(ch)
        tokens.extend((piece, i == 0) for i, piece in enumerate(pieces))
    if tokens:
        tokens[0] = (tokens[0][0], False)
    return tokens


def wrap_text(
    text: str, font: Measure, max_width: float, max_lines: int | None = None
) -> list[str]:
    """Greedy wrap measured in pixels: at spaces, and between CJK phrases.

    Whitespace (including newlines) is collapsed. Latin words are broken only
    when wider than a line; Chinese and Japanese text breaks between phrases
    (between characters in a phrase wider than a line), never before closing
    punctuation or after opening brackets (see :func:`_tokens`).
    Every returned line measures at most ``max_width`` pixels with ``font``,
    except a single character wider than the whole line, which cannot be
    helped. With ``max_lines``, wrapping stops once there are more lines than
    that (at most ``max_lines + 1`` are returned), which saves time when the
    text is only checked for fit.
    """
    lines: list[str] = []
    current = ""
    for token, space_before in _tokens(text):
        if max_lines is not None and len(lines) > max_lines:
            return lines[: max_lines + 1]
        trial = f"{current} {token}" if current and space_before else current + token
        if font.getlength(trial) <= max_width:
            current = trial
            continue
        if current:
            lines.append(current)
            current = ""
        if font.getlength(token) <= max_width:
            current = token
        else:
            *full, current = _break_word(token, font, max_width)
            lines.extend(full)
    if current:
        lines.append(current)
    return lines


def truncate_to_width(text: str, font: Measure, max_width: float) -> str:
    """``text`` cut so that it plus an ellipsis fits in ``max_width`` pixels."""
    if font.getlength(text + ELLIPSIS) <= max_width:
        return text + ELLIPSIS
    n = _longest_prefix(text, font, max_width, ELLIPSIS)
    return text[:n].rstrip() + ELLIPSIS
