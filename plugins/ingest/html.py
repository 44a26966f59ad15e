"""The ``html`` ingest plugin: an HTML page -> :class:`~reelgraph.models.Document`.

Main content first: trafilatura (Apache-2.0) cuts the page down to its main
text, without navigation, headers, footers, sidebars, cookie banners and
comment threads. Chosen over readability-lxml because published comparisons
put it at or near the top of open-source extractors (Barbaresi 2021, ACL
demo paper "Trafilatura: A Web Scraping Library and Command-Line Tool for
Text Discovery and Extraction"; the ScrapingHub article-extraction
benchmark), and because, tried here on Debian's HTML manuals
(``/usr/share/doc/libffi8/html``), it kept the text readability-lxml dropped
and dropped the navigation bar readability kept. Its HTML output keeps
``h1``-``h6``, paragraphs, lists, ``pre``, quotes and tables. Known losses:
trafilatura drops nested list items and code languages, and the headings of
DocBook pages (each wrapped in ``<div class="titlepage">``): a heading of the
page missing from the main content is put back before the block that
follows it on the page, when that block is in the main content (the Debian
FAQ's French chapter came out as one section). trafilatura also turns a term
list (``dl``) into a list of terms and definitions one after the other: each
term is joined to its definition first (:mod:`._terms`). A page too short for
trafilatura (it returns nothing) is read whole instead.

The main content is then read by :class:`HtmlReader`, built on the standard
library's tolerant :class:`html.parser.HTMLParser` (unclosed ``<p>`` and
``<li>`` are fine). ``h1``-``h6`` start sections; ``p`` (and text directly
inside ``div``-like containers, ``summary``) become paragraphs,
``ul``/``ol``/``li`` lists (nested lists flattened), ``pre`` code blocks
(language from a ``language-*`` or ``lang-*`` class), ``blockquote`` quotes,
``table`` rows of comma-joined cells (a row whose data cells hold only
images, such as a badge table, is dropped). ``a`` keeps its text and adds a
:class:`Link`. ``img`` keeps its alt text only when the image is content (see
:mod:`reelgraph.plugins.ingest._images`); badges and logos vanish.
``script``, ``style``, ``nav``, ``head`` (except its ``<title>``, the
fallback title), ``noscript``, ``template`` and ``svg`` are skipped. Text
with no letter or digit (``— 🦋 —``) is dropped, and so are permalink
pilcrows (``¶``) after headings and definitions and navigation bars (a
paragraph of two or more links with only separators and words such as
``Next:``, ``Up:``, ``Index`` outside them). The page's language is the
``lang`` attribute of ``<html>`` (or a Content-Language ``<meta>``), as
written.

The same reader turns raw HTML blocks inside Markdown into blocks (see
:mod:`reelgraph.plugins.ingest.markdown`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph import hookimpl
from reelgraph.models import Block, Document, Link
from reelgraph.plugins._text import (
    FORMAT_NAMES,
    SectionBuilder,
    handles,
    ingested,
    normalize_space,
    prettify_stem,
    read_source,
)
from reelgraph.plugins.ingest._images import is_content_image
from reelgraph.plugins.ingest._mediawiki import drop_citation_marks, mediawiki_article
from reelgraph.plugins.ingest._terms import join_terms

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["HtmlReader", "ingest_document", "parse_html"]

_SKIP = frozenset({"script", "style", "nav", "head", "noscript", "template", "svg"})
_INLINE_PARENTS = frozenset({"p", "li", "td", "th", "a", "em", "strong", "b", "i", "span", "dd"})
# a permalink anchor after a heading: Sphinx's pilcrow, "#", a link symbol
_PERMALINK = re.compile(r"\s*[\u00b6#\U0001f517]+\s*$")
_NAV_REST = re.compile(
    r"(?:[\s|\u00b7\u2022,:;/\[\]()<>\u00ab\u00bb\u2190\u2192\-\u2013\u2014]"
    r"|next|previous|prev|up|top|home|contents|index|back)*"
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")  # BCP 47 shape
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HEADING_TAGS = tuple(_HEADINGS)
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
        InvalidInputError: the file is missing, not text, or has no text.
    """
    if not handles(source, format, FORMAT_NAMES["html"]):
        return None
    return ingested(parse_html(read_source(source), source), source, ctx)


def parse_html(text: str, source: Path | str) -> Document:
    """Parse HTML ``text`` read from ``source`` (used for the fallback title).

    A MediaWiki page's article is read (its ``#mw-content-text``, cleaned:
    see :mod:`reelgraph.plugins.ingest._mediawiki`), under its
    ``#firstHeading``. Any other page: the main content found by trafilatura
    is read; the whole page when trafilatura finds none. The page's first
    ``<h1>`` opens the document when trafilatura left it out of the main
    content (it often moves it to its metadata).
    """
    page_title, page_h1, language = _page_facts(text)
    reader = HtmlReader()
    wiki = _wiki_article(text)
    if wiki is not None:
        wiki_title, main = wiki
        if wiki_title or page_h1:
            reader.builder.heading(wiki_title or page_h1, 1)
    else:
        text = join_terms(text)  # <dt>/<dd> pairs: one sentence each (see _terms)
        text = drop_citation_marks(text)  # "[12]" after a sentence (see _mediawiki)
        main = _main_content(text)
        if main:
            main = _restore_headings(text, main)
        if main and page_h1 and _squash(page_h1) not in _squash(_headings(main)):
            reader.builder.heading(page_h1, 1)
    reader.feed(main or text)
    reader.close()
    fallback = normalize_space(page_title or reader.page_title) or prettify_stem(source)
    title, sections = reader.builder.build(fallback)
    return Document(
        title=title,
        sections=sections,
        links=reader.links,
        source=str(source),
        format="html",
        language=language,
    )


def _wiki_article(text: str) -> tuple[str, str] | None:
    """``(title, article HTML)`` when ``text`` is a MediaWiki page, else ``None``
    (see :mod:`reelgraph.plugins.ingest._mediawiki`)."""
    if "mw-content-text" not in text:
        return None
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return None
    return mediawiki_article(root)


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _headings(html: str) -> str:
    return " | ".join(re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", html, re.DOTALL))


def _main_content(text: str) -> str | None:
    """The page's main content as simple HTML (trafilatura), or ``None``.

    trafilatura writes inline code as ``<pre>`` inside a paragraph; such a
    one-line ``pre`` is turned back into inline ``<code>``.
    """
    import logging

    import trafilatura
    from lxml import etree

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # "discarding data" chatter
    try:
        main = trafilatura.extract(
            text,
            output_format="html",
            include_links=True,
            include_tables=True,
            include_images=True,
            include_comments=False,
            favor_recall=True,
        )
    except Exception:  # noqa: BLE001 - a page trafilatura chokes on is read whole
        return None
    if not main:
        return None
    # trafilatura serialises an XML tree: an XML parser keeps <pre> inside <p>
    # (an HTML parser would close the paragraph first)
    try:
        root = etree.fromstring(main.encode("utf-8"), etree.XMLParser(recover=True))
    except (etree.XMLSyntaxError, ValueError):
        return main
    if root is None:
        return main
    for pre in list(root.iter("pre")):
        parent = pre.getparent()
        inline = parent is not None and parent.tag in _INLINE_PARENTS
        if inline and "\n" not in "".join(pre.itertext()).strip():
            pre.tag = "code"
    return etree.tostring(root, encoding="unicode", method="html")


_BLOCKS = ("p", "li", "pre", "dd", "dt", "td", "blockquote")
_LIST_LIKE = frozenset({"ul", "ol", "li", "dl", "dd", "dt", "table", "tbody", "thead", "tr", "td"})
_ANCHOR_CHARS = 40  # letters and digits of the following block that place a heading
# DocBook title-page headings that name people, not parts of the text
_CREDITS = frozenset({"author", "corpauthor", "editor", "othercredit", "collab"})


def _restore_headings(page: str, main: str) -> str:
    """``main`` with the page's headings that trafilatura dropped put back.

    Every heading but the page's first ``h1`` (the title, which
    :func:`parse_html` places) and DocBook's credits (``class="author"``,
    ...) is placed by the first text block after it on
    the page (its first :data:`_ANCHOR_CHARS` letters and digits): in
    ``main`` it goes before the block that starts with them, or before the
    list or table holding that block; in page order, never before a heading
    already placed. A heading whose block is not in the main content (a
    sidebar's) stays out, and so does one ``main`` already has.
    """
    import lxml.html
    from lxml import etree

    try:
        page_root = lxml.html.document_fromstring(page.encode("utf-8"))
        main_root = etree.fromstring(main.encode("utf-8"), etree.XMLParser(recover=True))
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return main
    if main_root is None:
        return main
    kept = {_squash(h.xpath("string()")) for h in main_root.iter(*_HEADING_TAGS)}
    first_h1 = next(page_root.iter("h1"), None)  # the title: parse_html places it
    wanted: list[tuple[str, int, str]] = []  # (heading text, level, anchor)
    pending: list[tuple[str, int]] = []
    for element in page_root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        credit = _CREDITS.intersection((element.get("class") or "").lower().split())
        if tag in _HEADING_TAGS and element is not first_h1 and not credit:
            heading = _PERMALINK.sub("", normalize_space(element.text_content()))
            if heading and _squash(heading) not in kept:
                pending.append((heading, _HEADINGS[tag]))
        elif pending and tag in _BLOCKS:
            anchor = _squash(element.text_content())[:_ANCHOR_CHARS]
            if anchor:
                wanted += [(heading, level, anchor) for heading, level in pending]
                pending = []
    if not wanted:
        return main
    blocks = [el for el in main_root.iter(*_BLOCKS)]
    at, changed = 0, False
    for heading, level, anchor in wanted:
        for index in range(at, len(blocks)):
            if _squash(blocks[index].xpath("string()")).startswith(anchor):
                target = blocks[index]
                while target.getparent() is not None and target.getparent().tag in _LIST_LIKE:
                    target = target.getparent()
                if target.getparent() is None:
                    break
                element = etree.Element(f"h{level}")
                element.text = heading
                target.addprevious(element)
                at, changed = index, True
                break
    return etree.tostring(main_root, encoding="unicode", method="html") if changed else main


def _page_facts(text: str) -> tuple[str, str, str | None]:
    """``(<title> text, first <h1> text, language)`` of a page; language from
    ``<html lang>`` or ``<meta http-equiv="content-language">``, ``None`` when
    absent or malformed."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return "", "", None
    title = root.findtext(".//title") or ""
    first = next(root.iter("h1"), None)
    h1 = _PERMALINK.sub("", normalize_space(first.text_content())) if first is not None else ""
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if not lang:
        for meta in root.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language":
                lang = (meta.get("content") or "").split(",")[0]
                break
    lang = lang.strip()
    return title, h1.strip(), lang if _LANG.match(lang) else None


def _is_link_bar(text: str, labels: list[str]) -> bool:
    """True for a navigation bar: two or more links and, outside them, only
    separators and navigation words ("Next: A, Up: B [Index]")."""
    if len(labels) < 2:
        return False
    rest = text
    for label in labels:
        rest = rest.replace(label, " ", 1)
    return bool(_NAV_REST.fullmatch(rest.lower()))


def _class_language(attrs: _Attrs) -> str | None:
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.split():
                for prefix in ("language-", "lang-"):
                    if cls.startswith(prefix) and len(cls) > len(prefix):
                        return cls[len(prefix) :].lower()
    return None


class HtmlReader(HTMLParser):
    """Reads HTML into a :class:`SectionBuilder` and a list of links.

    Args:
        builder: where headings and blocks go (a new one by default).
        links: where links go (a new list by default).
    """

    def __init__(
        self, builder: SectionBuilder | None = None, links: list[Link] | None = None
    ) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder if builder is not None else SectionBuilder()
        self.links: list[Link] = links if links is not None else []
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
        self._header_cell = False
        self._labels: list[str] = []  # link texts of the running paragraph
        self._row_images = 0
        self._row_data = False  # a data cell (td) of the row has text

    # -- text routing -------------------------------------------------------

    def _take(self) -> str:
        text = normalize_space("".join(self._buf))
        self._buf = []
        return text

    def _flush(self) -> None:
        """Send the running text to the innermost open block."""
        text = self._take()
        labels, self._labels = self._labels, []
        if not text or not re.search(r"[^\W_]", text):  # nothing a reader would read
            return
        if self._in_cell:
            self._cells.append(text)
        elif self._list_depth and self._open_items:
            index = self._open_items[-1][1]
            self._items[index] = normalize_space(f"{self._items[index]} {text}")
        elif self._quote_depth:
            self._quote.append(text)
        elif not _is_link_bar(text, labels):
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
            self._cells, self._row_images, self._row_data = [], 0, False
        elif tag in ("td", "th"):
            self._flush()
            self._in_cell, self._header_cell = True, tag == "th"
        elif tag == "br":
            self._buf.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._anchors.append((href, len(self._buf)))
        elif tag == "img":
            found = dict(attrs)
            alt, src = found.get("alt") or "", found.get("src") or ""
            if self._table_depth:
                self._row_images += 1
            if is_content_image(src, alt, linked=bool(self._anchors)):
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
            self.builder.heading(_PERMALINK.sub("", self._take()), self._heading)
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
            cell = self._take()
            self._cells.append(cell)
            self._row_data = self._row_data or (bool(cell) and not self._header_cell)
            self._in_cell = False
        elif tag == "tr":
            row = ", ".join(cell for cell in self._cells if cell)
            # a row of badges or logos: its data cells hold images and no text
            if row and not (self._row_images and not self._row_data):
                self._rows.append(row)
            self._cells, self._row_images = [], 0
        elif tag == "table" and self._table_depth:
            self._table_depth -= 1
            if self._table_depth == 0:
                self.builder.add(Block(kind="table", text="\n".join(self._rows)))
                self._rows = []
        elif tag == "a" and self._anchors:
            href, at = self._anchors.pop()
            label = normalize_space("".join(self._buf[at:]))
            self._labels.append(label)
            if href and not _PERMALINK.fullmatch(label):
                self.links.append(Link(text=label or href, url=href))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        if self._skip:
            return
        if not self._pre_depth:
            data = data.replace("\u00b6", "")  # Sphinx's and texinfo's permalink pilcrow
        if self._pre_depth:
            self._pre.append(data)
        else:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        if self._table_depth and self._rows:  # unclosed table
            self.builder.add(Block(kind="table", text="\n".join(self._rows)))
            self._rows = []
        if self._list_depth:  # unclosed list at end of file
            self.builder.add(Block(kind="list", items=[i for i in self._items if i]))
