"""The ``pdf`` ingest plugin: a PDF's text layer -> :class:`~reelgraph.models.Document`.

Libraries: pdfminer.six (MIT) reads the text with its layout analysis
(``LAParams`` defaults), which groups characters into lines and lines into
boxes and orders the boxes for reading (columns included); each character
keeps its font name and size. pypdf (BSD-3-Clause) reads the outline
(bookmarks, with the page each points to), the document title and ``/Lang``.
pdfplumber wraps the same pdfminer.six but hides the box order this needs and
pulls in pypdfium2; PyMuPDF is AGPL, so not used.

What a reader of the printed page reads, and nothing else:

- **Running headers and footers** vanish: a line in the top or bottom 10 %
  of a page whose text, digits ignored, comes back at the same place on at
  least three pages (every page of a one- or two-page PDF); so do bare page
  numbers there (``12``, ``- 12 -``, ``Page 3 of 9``, ``xii``).
- **The title** is the PDF's ``/Title``, else the title page's largest line,
  else a manual page's NAME line ("apt - command-line interface"), else the
  file name.
- **Headings** come from the outline when it has one: a line whose text
  (section numbers ignored) is an outline title on the page the entry points
  to is a heading at the entry's depth (the largest such line on the page:
  a chapter's own contents list repeats the titles in body size). Without a
  usable outline (under half its titles found), a line at least 1.5 pt larger
  than the body text (the most common size, weighted by characters) and at
  most 120 characters long is a heading; sizes rank the levels (largest = 1,
  at most 3). A bold line in capitals (at most 40 characters, two letters
  first) opening a box at body size is a heading two levels below those (a
  manual page's ``NAME``, ``DESCRIPTION``).
- **Word spaces** pdfminer guessed inside words ("interf ace" in PDFs made
  by groff) are joined again (``_pdf_spaces``).
- **Paragraphs** are pdfminer's text boxes, lines joined with spaces. A word
  hyphenated at a line end is joined (``docu-`` + ``ment`` -> ``document``)
  when the next line starts in lower case; a soft hyphen (U+00AD) always. A
  paragraph cut by a page break (no terminal punctuation, next page starts in
  lower case) is joined with its end. Ligatures are unfolded (NFKC: ``ﬁ`` ->
  ``fi``) and unmapped glyphs (``(cid:13)``) dropped. Table-of-contents
  lines (dot leaders ending in a page number) vanish.
- **Lists**: lines starting with a bullet (``•``, ``◦``, ``▪``, ``–``, ``-``,
  ``*``) or ``1.``/``a)`` are items; following lines of the box continue them.
- **Code**: boxes set entirely in a monospaced font (Courier, Mono, CMTT,
  Typewriter, Code, Consolas) are ``code`` blocks, lines kept; so is a
  paragraph that is a command synopsis (brackets, braces and bars).

A PDF without a text layer (a scan) or a password-protected one is refused
with a clear error.
"""

from __future__ import annotations

import io
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document
from reelgraph.plugins._sentences import ends_open
from reelgraph.plugins._text import (
    FORMAT_NAMES,
    SectionBuilder,
    ensure_has_text,
    handles,
    normalize_space,
    prettify_stem,
    read_bytes,
)
from reelgraph.plugins.ingest._pdf_spaces import line_text, resolve, space_widths

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["ingest_document", "parse_pdf"]

_BAND = 0.10  # top and bottom share of the page height where running heads live
_REPEATS = 3  # pages a running head must come back on
_HEADING_DELTA = 1.5  # points above the body size
_HEADING_MAX = 120  # characters
_CAPS_MAX = 40  # characters of a bold all-capitals heading
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-\u2013\u2014\s]*(?:\d{1,4}|[ivxlcdm]{1,7})[-\u2013\u2014\s]*"
    r"(?:(?:of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_BULLET = re.compile(
    r"^(?:[\u2022\u25e6\u25aa\u25cf\u2023\u2043\u2013*\-\u00b7]|\d{1,3}[.)]|[a-z][.)])\s+"
)
_MONO = re.compile(r"courier|mono|cmtt|typewriter|code|consolas|menlo|sfmono", re.IGNORECASE)
_BOLD = re.compile(r"bold|black|heavy|-B$|\+CMBX", re.IGNORECASE)
# a table-of-contents entry: dot leaders and a page number ("Intro . . . . 2")
_LEADERS = re.compile(r"(?:\.\s?){4,}\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*$", re.IGNORECASE)
_CID = re.compile(r"\(cid:\d+\)")
_SECTION_NUMBER = re.compile(
    r"^(?:chapter\s+|appendix\s+)?(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)\.?\s+", re.I
)


@dataclass
class _Line:
    text: str
    size: float
    mono: bool
    bold: bool
    y: float  # from the page's top, points
    page: int
    box: int  # running number of the pdfminer text box


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a PDF (``format="pdf"``, a ``.pdf`` file, or any file starting ``%PDF-``).

    Returns ``None`` for any other format.

    Raises:
        InvalidInputError: the file is missing, not a readable PDF, encrypted,
            or has no text layer.
    """
    if not handles(source, format, FORMAT_NAMES["pdf"]):
        return None
    document = parse_pdf(read_bytes(source), source)
    if not any(section.blocks for section in document.sections):
        raise InvalidInputError(
            f"{source} has no text layer (a scanned PDF?); run OCR on it first "
            "(for example ocrmypdf) or pass the document's text"
        )
    document = ensure_has_text(document, source)
    ctx.log.info("ingested pdf", source=str(source), sections=len(document.sections))
    return document


def parse_pdf(data: bytes, source: Path | str) -> Document:
    """Parse the PDF ``data`` read from ``source`` (used in errors and the fallback title).

    Raises:
        InvalidInputError: not a readable PDF, or password-protected.
    """
    title, language, outline = _facts(data, source)
    lines = _lines(data, source)
    lines = _drop_running_heads(lines)
    levels = _outline_headings(lines, outline) or _size_headings(lines)
    builder = SectionBuilder()
    _assemble(lines, levels, builder)
    doc_title, sections = builder.build(title or _manual_name(builder) or prettify_stem(source))
    return Document(
        title=doc_title, sections=sections, source=str(source), format="pdf", language=language
    )


#: A manual page's NAME section in the languages of groff's man macros' translations.
_NAME_HEADINGS = frozenset({"name", "nom", "nombre", "nome", "имя", "名前", "名称"})


def _manual_name(builder: SectionBuilder) -> str | None:
    """A manual page printed to PDF (no /Title): its NAME line, "apt - command-line
    interface", rather than the file name ("Apt 8 en")."""
    for section in builder.sections[:3]:
        if section.heading.strip().casefold() in _NAME_HEADINGS and section.blocks:
            text = normalize_space(section.blocks[0].text)
            return text if 0 < len(text) <= _HEADING_MAX else None
    return None


# -- reading ------------------------------------------------------------------


def _facts(data: bytes, source: Path | str) -> tuple[str, str | None, list[tuple[int, str, int]]]:
    """``(title, language, outline)``; outline entries are ``(depth, title, page index)``."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInputError(
                f"cannot read {source}: the PDF is password-protected; pass an unencrypted copy"
            )
        meta = reader.metadata
        title = normalize_space(str(meta.title or "")) if meta else ""
        root = reader.trailer["/Root"]
        lang = str(root.get("/Lang") or "").strip() or None
        outline: list[tuple[int, str, int]] = []
        _walk_outline(reader, reader.outline, 1, outline)
    except InvalidInputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise InvalidInputError(
            f"cannot read {source}: not a readable PDF ({err}); pass a valid PDF"
        ) from None
    if re.search(r"\.(?:dvi|tex|docx?|odt)$|^untitled|^microsoft word", title, re.I):
        title = ""  # a file name or an editor's placeholder, not a title
    return title, lang, outline


def _walk_outline(reader: Any, items: Any, depth: int, out: list[tuple[int, str, int]]) -> None:
    for item in items:
        if isinstance(item, list):
            _walk_outline(reader, item, depth + 1, out)
            continue
        try:
            page = reader.get_destination_page_number(item)
        except Exception:  # noqa: BLE001 - a broken destination: match on any page
            page = -1
        title = normalize_space(str(getattr(item, "title", "") or ""))
        if title:
            out.append((depth, title, page if page is not None else -1))


def _lines(data: bytes, source: Path | str) -> list[_Line]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    raw: list[tuple[list[Any], _Line]] = []  # each line's pdfminer items, and the line
    box_no = 0
    try:
        for page_no, page in enumerate(extract_pages(io.BytesIO(data), laparams=LAParams())):
            for box in page:
                if not isinstance(box, LTTextBox):
                    continue
                box_no += 1
                for line in box:
                    if not isinstance(line, LTTextLine):
                        continue
                    chars = [c for c in line if isinstance(c, LTChar) and c.get_text().strip()]
                    if not chars:
                        continue
                    size = statistics.median(round(c.size, 1) for c in chars)
                    mono = all(_MONO.search(c.fontname) for c in chars)
                    bold = all(_BOLD.search(c.fontname) for c in chars)
                    y = (page.height - line.y1) / page.height if page.height else 0.0
                    raw.append((list(line), _Line("", size, mono, bold, y, page_no, box_no)))
    except PDFPasswordIncorrect:
        raise InvalidInputError(
            f"cannot read {source}: the PDF is password-protected; pass an unencrypted copy"
        ) from None
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as err:
        raise InvalidInputError(
            f"cannot read {source}: not a readable PDF ({err}); pass a valid PDF"
        ) from None
    # word spaces pdfminer guessed inside words (groff's kerning) are joined again
    widths = space_widths(items for items, _ in raw)
    texts = resolve([line_text(items, widths) for items, _ in raw])
    lines: list[_Line] = []
    for text, (_, line) in zip(texts, raw, strict=True):
        line.text = _clean(text)
        if line.text and not _LEADERS.search(line.text):
            lines.append(line)
    return lines


def _clean(text: str) -> str:
    text = _CID.sub(
        "", unicodedata.normalize("NFKC", text.replace("\u00ad\n", "").replace("\u00ad", ""))
    )
    return text.strip()


# -- running heads --------------------------------------------------------------


def _drop_running_heads(lines: list[_Line]) -> list[_Line]:
    pages = len({line.page for line in lines})
    needed = _REPEATS if pages > _REPEATS else max(pages, 2)
    in_band = [line for line in lines if line.y < _BAND or line.y > 1 - _BAND]
    keys = Counter()
    for key in {(_shape(line.text), round(line.y * 100), line.page) for line in in_band}:
        keys[key[:2]] += 1
    dropped: set[int] = set()
    for line in in_band:
        key = (_shape(line.text), round(line.y * 100))
        if keys[key] >= needed or _PAGE_NUMBER.match(line.text):
            dropped.add(id(line))
    return [line for line in lines if id(line) not in dropped]


def _shape(text: str) -> str:
    """A line's text with digits and case ignored: a running head's shape."""
    return re.sub(r"\d+", "#", normalize_space(text).lower())


# -- headings -----------------------------------------------------------------


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", _SECTION_NUMBER.sub("", normalize_space(text)).lower())


def _outline_headings(
    lines: list[_Line], outline: list[tuple[int, str, int]]
) -> dict[int, int] | None:
    """``{id(line): level}`` for lines that are outline titles, or ``None`` when
    under half the outline's titles are found.

    An entry matches a line with its text (section numbers, case and
    punctuation ignored) on the page it points to; of several (a chapter's
    own contents list repeats its section titles), the largest wins.
    """
    if not outline:
        return None
    keys = [(_key(line.text) if len(line.text) <= _HEADING_MAX else "") for line in lines]
    found: dict[int, int] = {}
    for depth, title, page in outline:
        key = _key(title)
        candidates = [
            line
            for line, line_key in zip(lines, keys, strict=True)
            if key and line_key == key and page in (line.page, -1) and id(line) not in found
        ]
        if candidates:
            best = max(candidates, key=lambda line: line.size)  # the first of the largest
            found[id(best)] = min(depth, 6)
    return found if len(found) * 2 >= len(outline) else None


def _size_headings(lines: list[_Line]) -> dict[int, int]:
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    if not weights:
        return {}
    body = weights.most_common(1)[0][0]
    big = [
        line
        for line in lines
        if line.size >= body + _HEADING_DELTA
        and len(line.text) <= _HEADING_MAX
        and re.search(r"[^\W\d_]", line.text)
    ]
    ranks = sorted({round(line.size * 2) / 2 for line in big}, reverse=True)
    levels = {id(line): min(ranks.index(round(line.size * 2) / 2) + 1, 3) for line in big}
    # bold capitals opening a box at body size: a manual page's NAME, SYNOPSIS
    caps = min(len(ranks) + 2, 3)
    for previous, line in zip([None, *lines], lines, strict=False):
        if (
            line.bold
            and abs(line.size - body) < _HEADING_DELTA
            and (previous is None or previous.box != line.box)
            and len(line.text) <= _CAPS_MAX
            and re.match(r"[^\W\d_]{2}", line.text)
            and line.text == line.text.upper()
        ):
            levels[id(line)] = caps
    return levels


# -- blocks -------------------------------------------------------------------


def _join(head: str, tail: str) -> str:
    """Join two lines of a paragraph, undoing a line-end hyphenation."""
    if not head:
        return tail
    if head.endswith("-") and len(head) > 1 and head[-2].isalpha() and tail[:1].islower():
        return head[:-1] + tail
    return f"{head} {tail}"


class _Assembler:
    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder
        self.paragraph = ""
        self.items: list[str] = []
        self.ordered = False
        self.code: list[str] = []
        self.heading: tuple[str, int] | None = None

    def flush_paragraph(self) -> None:
        if self.paragraph:
            text = normalize_space(self.paragraph)
            self.paragraph = ""
            if not _is_syntax(text):
                self.builder.add(Block(kind="paragraph", text=text))
                return
            sections = self.builder.sections
            last = sections[-1].blocks[-1] if sections and sections[-1].blocks else None
            if last is not None and last.kind == "code":  # the synopsis goes on
                last.text = f"{last.text}\n{text}"
            else:
                self.builder.add(Block(kind="code", text=text))

    def flush_list(self) -> None:
        if self.items:
            items = [normalize_space(item) for item in self.items]
            self.builder.add(Block(kind="list", items=items, ordered=self.ordered))
            self.items = []

    def flush_code(self) -> None:
        if self.code:
            self.builder.add(Block(kind="code", text="\n".join(self.code)))
            self.code = []

    def flush_heading(self) -> None:
        if self.heading:
            self.builder.heading(*self.heading)
            self.heading = None

    def flush(self) -> None:
        self.flush_heading()
        self.flush_paragraph()
        self.flush_list()
        self.flush_code()


def _is_syntax(text: str) -> bool:
    """A command synopsis set in a proportional font ("apt [-h] [-o=config] {list |
    search | ...}"): brackets, braces and bars make at least 1 in 20 of its
    characters. It is shown as code, never read."""
    marks = sum(text.count(ch) for ch in "[]{}|")
    return marks >= 6 and marks * 20 >= len(text)


def _continues(text: str, line: str) -> bool:
    """True when ``line``, opening a new box (or page), goes on the sentence ``text``
    left open: no terminal punctuation before, a lower-case start after; or ``text``
    ends with an abbreviation that never ends a sentence ("см." before a
    cross-reference set in a box of its own: "см." | "Раздел 16.2.")."""
    if not text:
        return False
    if ends_open(text):
        return True
    return not re.search(r"[.!?:;\u201d\"')]$", text) and line[:1].islower()


def _cover_title(lines: list[_Line], levels: dict[int, int]) -> _Line | None:
    """The largest line of the first page when it is set larger than the body
    text and is not an outline heading: a title page's title."""
    first = [line for line in lines if line.page == lines[0].page] if lines else []
    if not first:
        return None
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    top = max(first, key=lambda line: line.size)
    if top.size < body + _HEADING_DELTA or id(top) in levels or len(top.text) > _HEADING_MAX:
        return None
    return top


def _assemble(lines: list[_Line], levels: dict[int, int], builder: SectionBuilder) -> None:
    cover = _cover_title(lines, levels)
    if cover is not None and 1 not in [
        levels.get(id(line)) for line in lines[: lines.index(cover)]
    ]:
        levels = {**levels, id(cover): 1}
    out = _Assembler(builder)
    previous: _Line | None = None
    for line in lines:
        new_box = previous is None or line.box != previous.box
        level = levels.get(id(line))
        if level is not None:
            out.flush_paragraph()
            out.flush_list()
            out.flush_code()
            # a heading set on two lines: the same level in the same box
            if out.heading and out.heading[1] == level and not new_box:
                out.heading = (f"{out.heading[0]} {line.text}", level)
            else:
                out.flush_heading()
                out.heading = (line.text, level)
        elif line.mono:
            out.flush_heading()
            out.flush_paragraph()
            out.flush_list()
            out.code.append(line.text)
        else:
            out.flush_heading()
            out.flush_code()
            bullet = _BULLET.match(line.text)
            if bullet:
                out.flush_paragraph()
                if not out.items:
                    out.ordered = line.text[:1].isalnum()
                out.items.append(line.text[bullet.end() :])
            elif out.items and (not new_box or _continues(out.items[-1], line.text)):
                out.items[-1] = _join(out.items[-1], line.text)
            else:
                carried = new_box and _continues(out.paragraph, line.text)
                if new_box and not carried:
                    out.flush_paragraph()
                    out.flush_list()
                out.paragraph = _join(out.paragraph, line.text)
        previous = line
    out.flush()
