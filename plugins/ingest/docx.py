"""The ``docx`` ingest plugin: a Word document -> :class:`~reelgraph.models.Document`.

Reads the body with python-docx (MIT), in document order, paragraphs and
tables alike (ECMA-376 Part 1, ``w:body`` children ``w:p`` and ``w:tbl``):

- **Headings** by paragraph style: ``Title`` is level 1, ``Heading N`` is
  level N (1-6; Word's built-in names, also when localised documents keep the
  built-in style id ``HeadingN``); ``Subtitle`` is a paragraph.
- **Lists**: a paragraph with numbering (``w:numPr``, directly or through its
  style) or a ``List ...`` style is a list item; consecutive items make one
  list, nested levels flattened. The list is ordered when the numbering
  format of the item's level is not ``bullet`` (or the style says
  ``Number``).
- **Tables** are kept as ``table`` blocks, one row per line, cells joined with
  ``", "`` (a cell merged across columns counted once), the same shape the
  Markdown and HTML plugins give: the writer decides whether to read them.
- **Quotes**: ``Quote`` and ``Intense Quote`` styles. **Code**: paragraphs in
  a code style (``Code``, ``HTML Preformatted``, ``Plain Text``, ``Macro
  Text``, ``Source``) or set entirely in a monospaced font; consecutive lines
  make one block.
- Hyperlinks keep their text; their addresses go to ``Document.links``.
  Headers, footers, footnotes, comments and tracked deletions are not body
  text and are not read.

The title is the core properties' title, else the first ``Title``/level-1
paragraph, else the file name. The language is the core properties'
``language``, else the default run language of the document's styles
(``w:docDefaults``), which is what Word proofs the text in.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Link
from reelgraph.plugins._text import (
    FORMAT_NAMES,
    SectionBuilder,
    handles,
    ingested,
    normalize_space,
    prettify_stem,
    read_bytes,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["ingest_document", "parse_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_CODE_STYLE = re.compile(r"code|preformatted|plain text|macro text|source", re.IGNORECASE)
_MONO = re.compile(r"courier|mono|consolas|menlo|code", re.IGNORECASE)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a Word document (``format="docx"``, a ``.docx`` file, or a ZIP holding
    ``word/document.xml``).

    Returns ``None`` for any other format.

    Raises:
        InvalidInputError: the file is missing, not a readable ``.docx``, or has no text.
    """
    if not handles(source, format, FORMAT_NAMES["docx"]):
        return None
    return ingested(parse_docx(read_bytes(source), source), source, ctx)


def parse_docx(data: bytes, source: Path | str) -> Document:
    """Parse the ``.docx`` bytes ``data`` read from ``source``.

    Raises:
        InvalidInputError: not a Word ``.docx`` package.
    """
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        word = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise InvalidInputError(
            f"cannot read {source}: not a Word .docx document ({err}); "
            "save it as .docx (Word 2007 or later), or pass another format"
        ) from None
    reader = _Reader(word)
    reader.read()
    core = word.core_properties
    fallback = normalize_space(core.title or "") or reader.title or prettify_stem(source)
    title, sections = reader.builder.build(fallback)
    if core.title and normalize_space(core.title):
        title = normalize_space(core.title)
    return Document(
        title=title,
        sections=sections,
        links=reader.links,
        source=str(source),
        format="docx",
        language=_language(word),
    )


def _language(word: Any) -> str | None:
    lang = (word.core_properties.language or "").strip()
    if not lang:
        styles = word.styles.element
        found = styles.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr/{_W}lang")
        lang = (found.get(f"{_W}val") or "").strip() if found is not None else ""
    return lang if _LANG.match(lang) else None


class _Reader:
    def __init__(self, word: Any) -> None:
        self.word = word
        self.builder = SectionBuilder()
        self.links: list[Link] = []
        self.title = ""
        self.items: list[str] = []
        self.ordered = False
        self.code: list[str] = []
        self._formats = _numbering_formats(word)

    def read(self) -> None:
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        for child in self.word.element.body.iterchildren():
            if child.tag == f"{_W}p":
                self.paragraph(Paragraph(child, self.word))
            elif child.tag == f"{_W}tbl":
                self.flush()
                self.table(Table(child, self.word))
        self.flush()

    def flush_list(self) -> None:
        if self.items:
            self.builder.add(Block(kind="list", items=self.items, ordered=self.ordered))
            self.items = []

    def flush_code(self) -> None:
        if self.code:
            self.builder.add(Block(kind="code", text="\n".join(self.code).strip("\n")))
            self.code = []

    def flush(self) -> None:
        self.flush_list()
        self.flush_code()

    def paragraph(self, para: Any) -> None:
        style = para.style.name if para.style is not None else ""
        style_id = para.style.style_id if para.style is not None else ""
        if _CODE_STYLE.search(style) or _is_mono(para):
            self.flush_list()
            self.code.append(para.text)
            return
        self.flush_code()
        text = normalize_space(para.text)
        for link in getattr(para, "hyperlinks", []):
            label, url = normalize_space(link.text), link.address
            if label and url:
                self.links.append(Link(text=label, url=url))
        if not text:
            return
        heading = _HEADING.match(style) or _HEADING.match(style_id)
        if style == "Title" or style_id == "Title":
            self.flush()
            self.title = self.title or text
            self.builder.heading(text, 1)
        elif heading:
            self.flush()
            self.builder.heading(text, int(heading.group(1)))
        elif self.numbering(para) is not None or style.lower().startswith("list"):
            fmt = self.numbering(para)
            if not self.items:
                self.ordered = "number" in style.lower() or (fmt is not None and fmt != "bullet")
            self.items.append(text)
        elif style in ("Quote", "Intense Quote"):
            self.flush()
            self.builder.add(Block(kind="quote", text=text))
        else:
            self.flush()
            self.builder.add(Block(kind="paragraph", text=text))

    def numbering(self, para: Any) -> str | None:
        """The numbering format (``bullet``, ``decimal``...) of a numbered paragraph,
        ``""`` when numbered with an unknown format, ``None`` when not numbered."""
        num_pr = None
        ppr = para._p.pPr
        if ppr is not None:
            num_pr = ppr.find(f"{_W}numPr")
        style = para.style
        while num_pr is None and style is not None:
            sppr = style.element.find(f"{_W}pPr")
            num_pr = sppr.find(f"{_W}numPr") if sppr is not None else None
            style = style.base_style
        if num_pr is None:
            return None
        num = num_pr.find(f"{_W}numId")
        lvl = num_pr.find(f"{_W}ilvl")
        num_id = num.get(f"{_W}val") if num is not None else None
        if num_id in (None, "0"):  # numId 0 switches numbering off (17.9.18)
            return None
        level = lvl.get(f"{_W}val") if lvl is not None else "0"
        return self._formats.get((num_id, level or "0"), "")

    def table(self, table: Any) -> None:
        rows: list[str] = []
        for row in table.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell repeats in row.cells
                    continue
                seen.add(id(cell._tc))
                text = normalize_space(cell.text)
                if text:
                    cells.append(text)
            if cells:
                rows.append(", ".join(cells))
        if rows:
            self.builder.add(Block(kind="table", text="\n".join(rows)))


def _is_mono(para: Any) -> bool:
    runs = [run for run in para.runs if run.text.strip()]
    return bool(runs) and all(run.font.name and _MONO.search(run.font.name) for run in runs)


def _numbering_formats(word: Any) -> dict[tuple[str, str], str]:
    """``{(numId, ilvl): numFmt}`` from the numbering part (ECMA-376 17.9)."""
    try:
        numbering = word.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract: dict[str, dict[str, str]] = {}
    for node in numbering.findall(f"{_W}abstractNum"):
        levels = {}
        for lvl in node.findall(f"{_W}lvl"):
            fmt = lvl.find(f"{_W}numFmt")
            levels[lvl.get(f"{_W}ilvl") or "0"] = (
                fmt.get(f"{_W}val") if fmt is not None else "decimal"
            ) or ""
        abstract[node.get(f"{_W}abstractNumId") or ""] = levels
    formats: dict[tuple[str, str], str] = {}
    for num in numbering.findall(f"{_W}num"):
        ref = num.find(f"{_W}abstractNumId")
        levels = abstract.get(ref.get(f"{_W}val") if ref is not None else "", {})
        for level, fmt in levels.items():
            formats[(num.get(f"{_W}numId") or "", level)] = fmt
    return formats
