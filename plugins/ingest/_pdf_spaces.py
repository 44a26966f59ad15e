"""Word spaces in a PDF's text layer: the ones pdfminer.six guesses wrong are joined again.

A PDF positions glyphs; it need not contain space characters. pdfminer.six
inserts a space (an ``LTAnno``) wherever the gap between two characters is
wider than ``word_margin`` times the character size. PDFs made by groff
(``groff -Tpdf``, every Debian manual page printed to PDF) put the
justification slack and kerning of a line as gaps *inside* words, so
pdfminer reads "interf ace", "b ut", "v ersion", "P akete" (measured on
apt(8) in English and German: about 60 such splits in 1,100 words).

Those PDFs also show what a real word space is: they contain space
characters, all one width at a given font size (2.5 pt at 10 pt Times), and
where they leave a word space out (at a change of font) the gap is exactly
that width. So a guessed space between two letters of the same font whose
gap differs from the document's space width by more than
``_TOLERANCE`` is suspect (:func:`line_text` marks it with :data:`MARK`),
and :func:`resolve` decides each mark by the document's own vocabulary: the
two pieces are joined unless both are words the document uses elsewhere,
each more often than the joined word ("remo ve" -> "remove", "v ersion" ->
"version" although "-v" is an option; "so wie", where justification slack
fell on a real space, stays). PDFs without space characters (LaTeX, dblatex) are left as
pdfminer reads them.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MARK", "line_text", "resolve", "space_widths"]

#: Stands for a suspect word space until :func:`resolve` decides it (private use).
MARK = "\ue001"
#: A guessed space whose gap is within this share of the space width is a space.
_TOLERANCE = 0.12
_WORD = re.compile(r"[^\W\d_]+")


def space_widths(lines: Iterable[Sequence[Any]]) -> dict[float, float]:
    """``{font size: width}`` of the space characters the PDF holds (median per size, points)."""
    from pdfminer.layout import LTChar

    seen: dict[float, list[float]] = {}
    for items in lines:
        for item in items:
            if isinstance(item, LTChar) and item.get_text() == " " and item.width > 0:
                seen.setdefault(round(item.size, 1), []).append(item.width)
    return {size: statistics.median(widths) for size, widths in seen.items()}


def line_text(items: Sequence[Any], widths: dict[float, float]) -> str:
    """The text of one pdfminer line, a suspect guessed space written as :data:`MARK`."""
    from pdfminer.layout import LTAnno, LTChar

    out: list[str] = []
    for i, item in enumerate(items):
        text = item.get_text()
        if isinstance(item, LTAnno) and text == " " and 0 < i < len(items) - 1:
            before, after = items[i - 1], items[i + 1]
            if _suspect(before, after, widths, LTChar):
                text = MARK
        out.append(text)
    return "".join(out)


def _suspect(before: Any, after: Any, widths: dict[float, float], char: type) -> bool:
    if not (isinstance(before, char) and isinstance(after, char)):
        return False
    if not (before.get_text().isalpha() and after.get_text().isalpha()):
        return False
    if before.fontname != after.fontname:
        return False  # groff leaves out the space character where the font changes
    space = widths.get(round(before.size, 1))
    if not space:
        return False
    return abs((after.x0 - before.x1) - space) > _TOLERANCE * space


def resolve(texts: list[str]) -> list[str]:
    """``texts`` with every :data:`MARK` replaced by nothing (a split word) or a space.

    The pieces on each side are joined unless both are words (letters only,
    case ignored) that the texts use elsewhere, away from any mark, each more
    often than the joined word.
    """
    if not any(MARK in text for text in texts):
        return texts
    vocabulary: Counter[str] = Counter()
    for text in texts:
        for token in text.split():
            if MARK not in token:
                vocabulary.update(word.lower() for word in _WORD.findall(token))

    def decide(match: re.Match[str]) -> str:
        left, right = match.group(1).lower(), match.group(2).lower()
        apart = min(vocabulary[left], vocabulary[right])
        return f"{match.group(1)} " if apart > vocabulary[left + right] else match.group(1)

    # the right piece is a lookahead: "b<MARK>u<MARK>t" is decided mark by mark in one pass
    pattern = re.compile(rf"([^\W\d_]+){MARK}(?=([^\W\d_]+))")
    return [pattern.sub(decide, text).replace(MARK, " ") for text in texts]
