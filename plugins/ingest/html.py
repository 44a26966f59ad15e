"""The ``html`` ingest plugin: an HTML page -> :class:`~reelgraph.models.Document`.

Uses the standard library's :class:`html.parser.HTMLParser` (tolerant of
unclosed ``<p>`` and ``<li>``). ``h1``-``h6`` start sections; ``p`` (and text
directly inside ``div``-like containers) become paragraphs, ``ul``/``ol``/``li``
lists (nested lists flattened), ``pre`` code blocks (language from a
``language-*`` or ``lang-*`` class), ``blockquote`` quotes, ``table`` rows of
comma-joined cells. ``a`` keeps its text and adds a :class:`Link`; ``img``
becomes its alt text. ``script``, ``style``, ``nav``, ``head`` (except its
``<title>``, the fallback title), ``noscript``, ``template`` and ``svg`` are
skipped.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph import hookimpl
from reelgraph.models import Block, Document, Link
from reelgraph.plugins._text import (
    HTML_SUFFIXES,
    SectionBuilder,
    ensure_has_text,
    handles,
    normalize_space,
    prettify_stem,
    read_source,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["ingest_document", "parse_html"]

_SKIP = frozenset({"script", "style", "nav", "head", "noscript", "template", "svg"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Block-level containers whose start or end ends the running paragraph.
_BREAKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "figure",
        "figcaption", "dl", "dt", "dd", "hr", "body", "details", "summary", "form",
    }
)  # fmt: skip
_Attrs = list[tuple[str, str | None]]


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse an HTML file (``format="html"``, or a ``.html``/``.htm`` file).

    Returns ``None`` for any other format or suffix.

    Raises:
        InvalidInputError: the file is missing, not UTF-8 text, or has no text.
    """
    if not handles(source, format, {"html", "htm"}, HTML_SUFFIXES):
        return None
    document = ensure_has_text(parse_html(read_source(source), source), source)
    ctx.log.info(
        "ingested html",
        source=str(source),
        sections=len(document.sections),
        links=len(document.links),
    )
    return document


def parse_html(text: str, source: Path | str) -> Document:
    """Parse HTML ``text`` read from ``source`` (used for the fallback title)."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    fallback = normalize_space(reader.page_title) or prettify_stem(source)
    title, sections = reader.builder.build(fallback)
    return Document(
        title=title, sections=sections, links=reader.links, source=str(source), format="html"
    )


def _class_language(attrs: _Attrs) -> str | None:
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.split():
                for prefix in ("language-", "lang-"):
                    if cls.startswith(prefix) and len(cls) > len(prefix):
                        return cls[len(prefix) :].lower()
    return None


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = SectionBuilder()
        self.links: list[Link] = []
        self.page_title = ""
        self._skip: list[str] = []
        self._in_title = False
        self._buf: list[str] = []
        self._heading: int | None = None
        self._anchors: list[tuple[str, int]] = []
        # lists: items of the outermost list, the open items as (depth, index)
        self._list_depth = 0
        self._ordered = False
        self._items: list[str] = []
        self._open_items: list[tuple[int, int]] = []
        self._quote_depth = 0
        self._quote: list[str] = []
        self._pre_depth = 0
        self._pre: list[str] = []
        self._language: str | None = None
        self._table_depth = 0
        self._rows: list[str] = []
        self._cells: list[str] = []
        self._in_cell = False

    # -- text routing -------------------------------------------------------

    def _take(self) -> str:
        text = normalize_space("".join(self._buf))
        self._buf = []
        return text

    def _flush(self) -> None:
        """Send the running text to the innermost open block."""
        text = self._take()
        if not text:
            return
        if self._in_cell:
            self._cells.append(text)
        elif self._list_depth and self._open_items:
            index = self._open_items[-1][1]
            self._items[index] = normalize_space(f"{self._items[index]} {text}")
        elif self._quote_depth:
            self._quote.append(text)
        else:
            self.builder.add(Block(kind="paragraph", text=text))

    # -- parser callbacks ---------------------------------------------------

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        if tag == "body" and "head" in self._skip:  # <head> left unclosed
            self._skip.remove("head")
        if tag == "title":
            self._in_title = True
        if tag in _SKIP:
            self._skip.append(tag)
        if self._skip:
            return
        if self._pre_depth:
            if tag == "pre":
                self._pre_depth += 1
            elif tag == "code":
                self._language = self._language or _class_language(attrs)
            return
        self._start(tag, attrs)

    def _start(self, tag: str, attrs: _Attrs) -> None:
        if tag in _HEADINGS:
            self._flush()
            self._heading = _HEADINGS[tag]
        elif tag in _BREAKS:
            self._flush()
        elif tag in ("ul", "ol"):
            self._flush()
            if self._list_depth == 0:
                self._items, self._ordered = [], tag == "ol"
            self._list_depth += 1
        elif tag == "li":
            self._flush()
            while self._open_items and self._open_items[-1][0] >= self._list_depth:
                self._open_items.pop()  # an unclosed <li> before this one
            self._items.append("")
            self._open_items.append((self._list_depth, len(self._items) - 1))
        elif tag == "blockquote":
            self._flush()
            self._quote_depth += 1
        elif tag == "pre":
            self._flush()
            self._pre_depth, self._pre, self._language = 1, [], _class_language(attrs)
        elif tag == "table":
            self._flush()
            self._table_depth += 1
        elif tag == "tr":
            self._cells = []
        elif tag in ("td", "th"):
            self._flush()
            self._in_cell = True
        elif tag == "br":
            self._buf.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._anchors.append((href, len(self._buf)))
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            self._buf.append(f" {alt} ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if self._pre_depth:
            if tag == "pre":
                self._end_pre()
            return
        self._end(tag)

    def _end_pre(self) -> None:
        self._pre_depth -= 1
        if self._pre_depth == 0:
            code = "".join(self._pre).strip("\n")
            if code.strip():
                self.builder.add(Block(kind="code", text=code, language=self._language))

    def _end(self, tag: str) -> None:
        if tag in _HEADINGS and self._heading is not None:
            self.builder.heading(self._take(), self._heading)
            self._heading = None
        elif tag in _BREAKS or tag == "li":
            self._flush()
        elif tag in ("ul", "ol") and self._list_depth:
            self._flush()
            self._list_depth -= 1
            while self._open_items and self._open_items[-1][0] > self._list_depth:
                self._open_items.pop()
            if self._list_depth == 0:
                items = [item for item in self._items if item]
                self.builder.add(Block(kind="list", items=items, ordered=self._ordered))
        elif tag == "blockquote" and self._quote_depth:
            self._flush()
            self._quote_depth -= 1
            if self._quote_depth == 0:
                self.builder.add(Block(kind="quote", text="\n".join(self._quote)))
                self._quote = []
        elif tag in ("td", "th") and self._in_cell:
            self._cells.append(self._take())
            self._in_cell = False
        elif tag == "tr":
            row = ", ".join(cell for cell in self._cells if cell)
            if row:
                self._rows.append(row)
            self._cells = []
        elif tag == "table" and self._table_depth:
            self._table_depth -= 1
            if self._table_depth == 0:
                self.builder.add(Block(kind="table", text="\n".join(self._rows)))
                self._rows = []
        elif tag == "a" and self._anchors:
            href, at = self._anchors.pop()
            label = normalize_space("".join(self._buf[at:]))
            if href:
                self.links.append(Link(text=label or href, url=href))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        if self._skip:
            return
        if self._pre_depth:
            self._pre.append(data)
        else:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        if self._list_depth:  # unclosed list at end of file
            self.builder.add(Block(kind="list", items=[i for i in self._items if i]))
