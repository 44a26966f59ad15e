"""The ``rst`` ingest plugin: reStructuredText -> :class:`~reelgraph.models.Document`.

Parses with docutils (the reference reStructuredText implementation, the
parser PyPI's readme_renderer uses) into a doctree and walks its nodes, so a
reader hears what the rendered page says:

- section titles become headings (the document title that docutils promotes
  from a lone top section is level 1, the sections under it level 2, ...);
- paragraphs, line blocks and rubrics become paragraphs; bullet and enumerated
  lists, definition lists (``term: definition``), option lists and field lists
  outside the document's front matter (``name: value``) become lists; tables
  become rows of comma-joined cells; block quotes become quotes;
- admonitions (``.. note::``, ``.. warning::``, ``.. admonition:: Title``) keep
  their text, the first paragraph led by the admonition's name ("Note: ...");
- literal blocks, ``::`` blocks, ``.. code::``/``.. code-block::`` and doctest
  blocks become ``code`` blocks (language from the directive);
- images, figures' pictures (a figure keeps its caption), substitution
  definitions (badges), comments, link targets, footnotes, citations, raw
  blocks, the ``.. contents::`` table, the bibliographic field list at the top
  (``:Author:``, ``:Version:``) and docutils' own error messages vanish;
- roles keep their text: ``:class:`Foo``` reads ``Foo``, ``:func:`~pkg.run``` reads ``run``,
  ``:ref:`Install <install>``` reads ``Install``; Sphinx-only roles and
  directives that docutils does not know are read the same way (a role) or
  dropped (a directive), never read out as markup;
- a link keeps its text; its URL goes to ``Document.links``.

docutils' reports are silenced (``report_level`` and ``halt_level`` 5, no
warning stream), and file inclusion and raw HTML are disabled, so a sloppy or
hostile file neither prints nor fails nor reads other files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["ingest_document", "parse_rst"]

# docutils.utils.Reporter levels run 0 (debug) to 4 (severe); 5 is above all.
_SETTINGS = {
    "report_level": 5,
    "halt_level": 5,
    "warning_stream": False,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "input_encoding": "unicode",
    "syntax_highlight": "none",
    "traceback": True,
}
# ":role:`text`", ":py:func:`~a.b`", ":ref:`Title <target>`" as docutils keeps them
# (a ``problematic`` node) when it does not know the role.
_ROLE = re.compile(r":[\w.+-]+(?::[\w.+-]+)*:`([^`]*)`")
_SKIP = frozenset(
    {
        "comment", "target", "substitution_definition", "system_message", "raw",
        "pending", "footnote", "citation", "image", "transition", "docinfo",
        "meta", "decoration", "title", "subtitle",
    }
)  # fmt: skip
_ADMONITIONS = frozenset(
    {
        "attention", "caution", "danger", "error", "hint", "important", "note",
        "tip", "warning", "seealso",
    }
)  # fmt: skip
_INLINE_DROP = frozenset(
    {"image", "footnote_reference", "citation_reference", "raw", "system_message"}
)


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a reStructuredText file (``format="rst"``, a ``.rst``/``.rest`` file,
    or a file without a known suffix that holds rst explicit markup).

    Returns ``None`` for any other format.

    Raises:
        InvalidInputError: the file is missing, not text, or has no text.
    """
    if not handles(source, format, FORMAT_NAMES["rst"]):
        return None
    return ingested(parse_rst(read_source(source), source), source, ctx)


def parse_rst(text: str, source: Path | str) -> Document:
    """Parse reStructuredText ``text`` read from ``source`` (used for the fallback title)."""
    from docutils.core import publish_doctree

    try:
        tree = publish_doctree(text, source_path=str(source), settings_overrides=dict(_SETTINGS))
    except Exception:  # noqa: BLE001 - halt_level 5 keeps docutils going; be sure anyway
        from reelgraph.plugins.ingest.text import parse_text

        document = parse_text(text, source)
        return document.model_copy(update={"format": "rst"})
    walker = _Walker()
    walker.walk_document(tree)
    title, sections = walker.builder.build(prettify_stem(source))
    return Document(
        title=title, sections=sections, links=walker.links, source=str(source), format="rst"
    )


def _name(node: Any) -> str:
    return type(node).__name__


class _Walker:
    def __init__(self) -> None:
        self.builder = SectionBuilder()
        self.links: list[Link] = []

    # -- inline -------------------------------------------------------------

    def inline(self, node: Any) -> str:
        """The text a reader sees of ``node``'s inline content."""
        from docutils import nodes

        if isinstance(node, nodes.Text):
            return str(node)
        name = _name(node)
        if name in _INLINE_DROP:
            return ""
        if name == "problematic":  # an unknown role or a broken reference
            return _ROLE.sub(lambda m: _role_text(m.group(1)), node.astext())
        if name == "target" and not node.children:
            return ""
        text = "".join(self.inline(child) for child in node.children)
        if name == "reference":
            url = node.get("refuri")
            label = normalize_space(text)
            if url and label:
                self.links.append(Link(text=label, url=url))
        return text

    def text_of(self, node: Any) -> str:
        return re.sub(r"\s+([,.;:!?])", r"\1", normalize_space(self.inline(node)))

    # -- blocks -------------------------------------------------------------

    def walk_document(self, tree: Any) -> None:
        has_title = any(_name(child) == "title" for child in tree.children)
        for child in tree.children:
            if _name(child) == "title":
                self.builder.heading(self.text_of(child), 1)
            elif _name(child) == "subtitle":
                self.builder.add(Block(kind="paragraph", text=self.text_of(child)))
        self.blocks(tree.children, 1 if has_title else 0)

    def blocks(self, children: Any, depth: int) -> None:
        for child in children:
            self.block(child, depth)

    def block(self, node: Any, depth: int) -> None:  # noqa: C901 - one branch per node type
        name = _name(node)
        classes = node.get("classes", []) if hasattr(node, "get") else []
        if name in _SKIP or (name == "topic" and "contents" in classes):
            return
        if name == "section":
            title = next((c for c in node.children if _name(c) == "title"), None)
            if title is not None:
                self.builder.heading(self.text_of(title), min(depth + 1, 6))
            self.blocks(node.children, depth + 1)
        elif name in ("paragraph", "rubric", "attribution", "caption"):
            self.add_paragraph(self.text_of(node))
        elif name == "line_block":
            lines = [self.text_of(line) for line in node.findall(_line_class())]
            self.add_paragraph(" ".join(line for line in lines if line))
        elif name in ("bullet_list", "enumerated_list"):
            items: list[str] = []
            codes: list[Any] = []
            for item in node.children:
                items.extend(self.list_item(item, codes))
            self.builder.add(Block(kind="list", items=items, ordered=name == "enumerated_list"))
            for code in codes:
                self.block(code, depth)
        elif name in ("definition_list", "field_list", "option_list"):
            self.builder.add(Block(kind="list", items=self.pairs(node)))
        elif name in ("literal_block", "doctest_block"):
            language = next((c for c in classes if c != "code"), None)
            if name == "doctest_block":
                language = "pycon"
            text = node.astext().rstrip("\n")
            if text.strip():
                self.builder.add(Block(kind="code", text=text, language=language))
        elif name == "block_quote":
            self.quote(node)
        elif name in _ADMONITIONS or name == "admonition":
            self.admonition(node, name, depth)
        elif name == "table":
            self.table(node)
        elif name == "figure":
            self.blocks([c for c in node.children if _name(c) != "image"], depth)
        elif name == "topic" or name == "sidebar":
            title = next((c for c in node.children if _name(c) == "title"), None)
            if title is not None:
                self.add_paragraph(self.text_of(title))
            self.blocks(node.children, depth)
        elif hasattr(node, "children"):  # compound, container, legend, ...
            self.blocks(node.children, depth)

    def add_paragraph(self, text: str) -> None:
        if text:
            self.builder.add(Block(kind="paragraph", text=text))

    def list_item(self, item: Any, codes: list[Any]) -> list[str]:
        """The item's own text, then its nested items (flattened); code blocks go to ``codes``."""
        own: list[str] = []
        nested: list[str] = []
        for child in item.children:
            name = _name(child)
            if name in ("bullet_list", "enumerated_list"):
                for sub in child.children:
                    nested.extend(self.list_item(sub, codes))
            elif name in ("literal_block", "doctest_block"):
                codes.append(child)
            elif name not in _SKIP:
                own.append(self.text_of(child))
        text = normalize_space(" ".join(part for part in own if part))
        return ([text] if text else []) + nested

    def pairs(self, node: Any) -> list[str]:
        """``term: definition`` items of a definition, field or option list."""
        items: list[str] = []
        for entry in node.children:
            parts = [self.text_of(part) for part in entry.children if _name(part) not in _SKIP]
            if _name(entry) == "definition_list_item":
                parts = [
                    self.text_of(part)
                    for part in entry.children
                    if _name(part) in ("term", "definition")
                ]
            parts = [part for part in parts if part]
            if parts:
                items.append(parts[0] + (": " + " ".join(parts[1:]) if len(parts) > 1 else ""))
        return items

    def quote(self, node: Any) -> None:
        paragraphs: list[str] = []
        for child in node.children:
            name = _name(child)
            if name in ("bullet_list", "enumerated_list", "literal_block", "table"):
                self.block(child, 0)
            elif name not in _SKIP:
                text = self.text_of(child)
                if text:
                    paragraphs.append(("\u2014 " + text) if name == "attribution" else text)
        if paragraphs:
            self.builder.add(Block(kind="quote", text="\n".join(paragraphs)))

    def admonition(self, node: Any, name: str, depth: int) -> None:
        label = name.capitalize() if name != "seealso" else "See also"
        title = next((c for c in node.children if _name(c) == "title"), None)
        if title is not None:
            label = self.text_of(title)
        first = True
        for child in node.children:
            if _name(child) == "paragraph" and first:
                text = self.text_of(child)
                self.add_paragraph(f"{label}: {text}" if label else text)
                first = False
            elif _name(child) != "title":
                self.block(child, depth)
        if first and label:
            self.add_paragraph(label)

    def table(self, node: Any) -> None:
        from docutils import nodes

        rows: list[str] = []
        for row in node.findall(nodes.row):
            cells = [self.text_of(entry) for entry in row.children]
            line = ", ".join(cell for cell in cells if cell)
            if line:
                rows.append(line)
        if rows:
            self.builder.add(Block(kind="table", text="\n".join(rows)))


def _line_class() -> Any:
    from docutils import nodes

    return nodes.line


def _role_text(content: str) -> str:
    """What a role shows: ``Title <target>`` -> ``Title``, ``~a.b.c`` -> ``c``, ``!x`` -> ``x``."""
    content = content.strip()
    titled = re.match(r"(.+?)\s*<[^<>]+>$", content)
    if titled:
        return titled.group(1)
    content = content.lstrip("!")
    if content.startswith("~"):
        return content[1:].rsplit(".", 1)[-1]
    return content
