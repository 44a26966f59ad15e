r"""The ``markdown`` ingest plugin: Markdown -> :class:`~reelgraph.models.Document`.

Parses with markdown-it-py's token stream (CommonMark, plus the GFM table and
strikethrough rules). Headings split the document into sections; blocks keep
their text with the markup removed: a link keeps its text and loses its URL
(URLs go to ``Document.links``), inline code keeps its text. An image keeps
its alt text only when it is content (at least three words of alt, not
linked, not a badge or logo: :mod:`reelgraph.plugins.ingest._images`);
badges and logos vanish. Inline HTML tags are dropped (the text between them
stays; an inline ``<a href>`` adds its link to ``Document.links``). A
paragraph made only of linked or badge images, or only of links and
separators (a README's badge row or link bar), is dropped too: it says
nothing a listener could use. A YAML front matter block is skipped; its
``title:`` is used when the document has no level-1 heading.

Raw HTML blocks (``<p align="center">``, ``<picture>``, ``<details>``, sponsor
``<table>``\ s, ``<h1 align="center">``) are parsed by the HTML plugin's reader
(:class:`~reelgraph.plugins.ingest.html.HtmlReader`, the standard library's
HTML parser): headings stay headings, paragraphs and ``<summary>`` keep their
text, images follow the content rule above, a table row of badges or logos
vanishes, links go to ``Document.links``, comments vanish.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

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
from reelgraph.plugins.ingest._images import is_badge_source, is_content_image
from reelgraph.plugins.ingest.html import HtmlReader

if TYPE_CHECKING:
    from markdown_it.token import Token

    from reelgraph.run.context import NodeContext

__all__ = ["ingest_document", "parse_markdown"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_BADGE_SRC = re.compile(r"\.svg(?:[?#]|$)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s|\u00b7\u2022\-\u2013\u2014/,]+")
_ALERT = re.compile(r"^\[!\w+\]\s*")


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a Markdown file (``format="markdown"``, or a ``.md``/``.markdown``/``.mdown`` file).

    Returns ``None`` for any other format or suffix.

    Raises:
        InvalidInputError: the file is missing, not UTF-8 text, or empty.
    """
    if not handles(source, format, FORMAT_NAMES["markdown"]):
        return None
    return ingested(parse_markdown(read_source(source), source), source, ctx)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    for rule in ("table", "strikethrough"):
        with contextlib.suppress(KeyError, ValueError):  # rule missing from this version
            md.enable(rule)
    return md


def parse_markdown(text: str, source: Path | str) -> Document:
    """Parse Markdown ``text`` read from ``source`` (used for the fallback title)."""
    fallback = prettify_stem(source)
    front = _FRONT_MATTER.match(text)
    if front:
        found = re.search(r"^title:\s*(.+?)\s*$", front.group(1), re.MULTILINE)
        if found:
            fallback = found.group(1).strip("'\"") or fallback
        text = text[front.end() :]
    builder = SectionBuilder()
    links: list[Link] = []
    _walk(_parser().parse(text), builder, links)
    title, sections = builder.build(fallback)
    return Document(
        title=title, sections=sections, links=links, source=str(source), format="markdown"
    )


def _walk(tokens: list[Token], builder: SectionBuilder, links: list[Link]) -> None:
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tok.type
        if kind == "heading_open":
            builder.heading(_inline_text(tokens[i + 1], links), int(tok.tag[1]))
        elif kind == "paragraph_open":
            inline = tokens[i + 1]
            text = _inline_text(inline, links)
            if not _is_decoration(inline) and re.search(r"[^\W_]", text):
                builder.add(Block(kind="paragraph", text=text))
        elif kind in ("fence", "code_block"):
            builder.add(_code_block(tok))
        elif kind == "html_block":
            reader = HtmlReader(builder, links)
            reader.feed(tok.content)
            reader.close()
        elif kind in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            items, codes = _list_items(tokens[i + 1 : end], links)
            builder.add(Block(kind="list", items=items, ordered=kind == "ordered_list_open"))
            for code in codes:
                builder.add(code)
            i = end
        elif kind == "blockquote_open":
            end = _closing(tokens, i)
            builder.add(_quote(tokens[i + 1 : end], links))
            i = end
        elif kind == "table_open":
            end = _closing(tokens, i)
            builder.add(_table(tokens[i + 1 : end], links))
            i = end
        i += 1


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the token closing the one opened at ``start``."""
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _inline_text(inline: Token, links: list[Link]) -> str:
    """Plain text of an inline token; links found are appended to ``links``."""
    parts: list[str] = []
    open_links: list[tuple[str, int, bool]] = []  # (href, len(parts) at open, autolink)
    for child in inline.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            if not (open_links and open_links[-1][2]):  # an autolink's text is its URL
                parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            src = str(child.attrs.get("src", ""))
            if is_content_image(src, child.content, linked=bool(open_links)):
                parts.append(child.content)
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            open_links.append((href, len(parts), child.markup == "autolink"))
        elif kind == "link_close" and open_links:
            href, at, auto = open_links.pop()
            label = href if auto else normalize_space("".join(parts[at:]))
            links.append(Link(text=label, url=href))
        elif kind == "html_inline":  # <a href="...">text</a> written as HTML
            tag, attrs = _html_tag(child.content)
            if tag == "a" and not child.content.startswith("</"):
                open_links.append((attrs.get("href") or "", len(parts), False))
            elif tag == "a" and open_links:
                href, at, _ = open_links.pop()
                label = normalize_space("".join(parts[at:]))
                if href and label:
                    links.append(Link(text=label, url=href))
    # an autolink or inline HTML dropped before punctuation leaves "source ."
    return re.sub(r"\s+([,.;:!?])", r"\1", normalize_space("".join(parts)))


def _html_tag(markup: str) -> tuple[str, dict[str, str | None]]:
    """``(tag name, attributes)`` of one inline HTML tag, by the standard library's parser."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class _One(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

        def handle_endtag(self, tag: str) -> None:
            found.append((tag, {}))

    parser = _One()
    parser.feed(markup)
    parser.close()
    return found[0] if found else ("", {})


def _is_decoration(inline: Token) -> bool:
    """True for a README's badge row or link bar: nothing but images and links.

    Images count when linked or badge-like (shields.io, ``.svg``); a bar needs
    at least two links. Text outside links may only be separators (``|`` ``·``).
    """
    images, links, badge, depth = 0, 0, False, 0
    for child in inline.children or []:
        if child.type == "image":
            images += 1
            src = str(child.attrs.get("src", ""))
            badge = badge or depth > 0 or is_badge_source(src) or bool(_BADGE_SRC.search(src))
        elif child.type == "link_open":
            depth += 1
            links += 1
        elif child.type == "link_close":
            depth -= 1
        elif (
            child.type == "code_inline"
            and depth == 0
            or child.type == "text"
            and depth == 0
            and _SEPARATORS.sub("", child.content)
        ):
            return False
    return (images > 0 and badge) or (images == 0 and links >= 2)


def _code_block(tok: Token) -> Block:
    info = (tok.info or "").strip().split()
    language = info[0].strip("{}.").lower() if info else None
    return Block(kind="code", text=tok.content.rstrip("\n"), language=language or None)


def _list_items(tokens: list[Token], links: list[Link]) -> tuple[list[str], list[Block]]:
    """Items of a list in order, nested items flattened; code blocks found inside."""
    items: list[list[str]] = []
    stack: list[int] = []
    codes: list[Block] = []
    for tok in tokens:
        if tok.type == "list_item_open":
            items.append([])
            stack.append(len(items) - 1)
        elif tok.type == "list_item_close" and stack:
            stack.pop()
        elif tok.type == "inline" and stack:
            items[stack[-1]].append(_inline_text(tok, links))
        elif tok.type in ("fence", "code_block"):
            codes.append(_code_block(tok))
    flat = [normalize_space(" ".join(parts)) for parts in items]
    return [item for item in flat if item], codes


def _quote(tokens: list[Token], links: list[Link]) -> Block:
    paragraphs = [_inline_text(tok, links) for tok in tokens if tok.type == "inline"]
    text = "\n".join(p for p in paragraphs if p)
    return Block(kind="quote", text=_ALERT.sub("", text))  # GitHub's "> [!NOTE]"


def _table(tokens: list[Token], links: list[Link]) -> Block:
    rows: list[str] = []
    cells: list[str] = []
    for tok in tokens:
        if tok.type == "tr_open":
            cells = []
        elif tok.type == "inline":
            cells.append(_inline_text(tok, links))
        elif tok.type == "tr_close":
            row = ", ".join(cell for cell in cells if cell)
            if row:
                rows.append(row)
    return Block(kind="table", text="\n".join(rows))
