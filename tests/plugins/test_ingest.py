"""Tests of the markdown, html and text ingest plugins, and of format dispatch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pluggy
import pytest

import reelgraph.plugins.ingest.docx as ingest_docx
import reelgraph.plugins.ingest.html as ingest_html
import reelgraph.plugins.ingest.markdown as ingest_markdown
import reelgraph.plugins.ingest.pdf as ingest_pdf
import reelgraph.plugins.ingest.rst as ingest_rst
import reelgraph.plugins.ingest.text as ingest_text
from reelgraph import hookspecs
from reelgraph.errors import InvalidInputError
from reelgraph.models import Document
from reelgraph.run.context import NodeContext

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
FORBIDDEN = ("http://", "https://", "www.", "**", "](", "![", "<", ">", "`", "|")


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


@pytest.fixture
def hook(ctx: NodeContext):
    """The ingest hook of a plugin manager holding every ingest plugin, as the kernel
    registers them (text last, so it is tried first)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module in (
        ingest_markdown,
        ingest_html,
        ingest_rst,
        ingest_pdf,
        ingest_docx,
        ingest_text,
    ):
        pm.register(module)

    def ingest(source: Path, format: str | None = None) -> Document:
        return pm.hook.ingest_document(source=source, format=format, ctx=ctx)

    return ingest


def _block_texts(document: Document) -> list[str]:
    out: list[str] = []
    for section in document.sections:
        out.append(section.heading)
        for block in section.blocks:
            if block.kind != "code":
                out.append(block.text)
                out.extend(block.items)
    return out


# -- markdown -----------------------------------------------------------------


def test_markdown_sections_and_blocks(hook) -> None:
    doc = hook(DOCS / "guide.md")
    assert doc.format == "markdown"
    assert doc.title == "Tiny Tasks"
    assert [(s.heading, s.level) for s in doc.sections] == [
        ("Tiny Tasks", 1),
        ("Installation", 2),
        ("Features", 2),
        ("Configuration", 2),
        ("License", 2),
    ]
    kinds = {s.heading: [b.kind for b in s.blocks] for s in doc.sections}
    assert kinds["Installation"] == ["paragraph", "code", "paragraph"]
    assert kinds["Features"] == ["list", "table"]
    assert kinds["Configuration"] == ["paragraph", "paragraph", "code", "quote"]

    intro = doc.sections[0].blocks[0].text
    assert intro.startswith("Tiny Tasks is a small task runner for Python 3.11 projects.")
    assert "tasks.toml" in intro  # inline code keeps its text
    assert "See the documentation for details" in intro  # link text kept, URL dropped

    features = doc.sections[2].blocks
    assert features[0].items == [
        "Runs tasks in order and stops at the first failure",
        "Caches results between runs, see the cache guide",
        "Nested items are flattened into the list",
        "Prints a summary with timings",
        "Works offline",
    ]
    assert features[1].text.splitlines() == [
        "Command, What it does",
        "tiny run, runs every task",
        "tiny list, lists the tasks",
    ]
    install = doc.sections[1].blocks
    assert (install[1].language, install[1].text) == ("bash", "pip install tiny-tasks")
    assert install[2].text == "You can also install it from source."  # autolink dropped
    quote = doc.sections[3].blocks[-1]
    assert quote.text == "Keep tasks small. A task that does one thing is easy to cache."


def test_markdown_drops_markup_html_and_badges_but_keeps_links(hook) -> None:
    doc = hook(DOCS / "guide.md")
    texts = _block_texts(doc)
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)
    joined = " ".join(texts)
    assert "Logo" not in joined  # HTML block
    assert "comment the parser must drop" not in joined
    assert "layout" not in joined  # front matter
    assert "Build" not in joined and "PyPI" not in joined  # badge row
    assert "Changelog" not in joined  # link bar
    assert "Diagram of the task graph" in joined  # a plain image becomes its alt text
    urls = [link.url for link in doc.links]
    assert urls == [
        "https://ci.example.com/tiny",
        "https://pypi.org/project/tiny/",
        "https://docs.example.com/tiny",
        "CHANGELOG.md",
        "https://github.com/example/tiny/issues",
        "https://docs.example.com/tiny",
        "https://github.com/example/tiny",
        "https://docs.example.com/cache",
    ]
    assert [link.text for link in doc.links[2:6]] == [
        "Docs",
        "Changelog",
        "Issues",
        "documentation",
    ]


def test_markdown_preamble_and_fallback_titles(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "getting_started-guide.md"
    path.write_text("Some words before any heading.\n\n## Usage\n\nRun it.\n", encoding="utf-8")
    doc = ingest_markdown.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "Getting started guide"
    assert [(s.heading, s.level) for s in doc.sections] == [
        ("Getting started guide", 0),
        ("Usage", 2),
    ]
    path.write_text("---\ntitle: 'From front matter'\n---\nText.\n", encoding="utf-8")
    doc = ingest_markdown.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "From front matter"
    assert doc.sections[0].blocks[0].text == "Text."


def test_markdown_keeps_prose_made_of_links(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "links.md"
    path.write_text("[Read the guide](https://a.b/guide) first.\n\n[One link](x.md)\n", "utf-8")
    doc = ingest_markdown.ingest_document(source=path, format=None, ctx=ctx)
    assert [b.text for b in doc.sections[0].blocks] == ["Read the guide first.", "One link"]


def test_markdown_html_h1_is_the_title(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "README.md"
    path.write_text('<h1 align="center">Widget <em>Pro</em></h1>\n\nIt works.\n', "utf-8")
    doc = ingest_markdown.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "Widget Pro"
    assert doc.sections[0].blocks[0].text == "It works."


# -- html ---------------------------------------------------------------------


def test_html_structure(hook) -> None:
    doc = hook(DOCS / "page.html")
    assert doc.format == "html"
    assert doc.title == "Solar Ovens"  # the h1, not the <title>
    assert [(s.heading, s.level) for s in doc.sections] == [
        ("Solar Ovens", 1),
        ("How they work", 2),
        ("Building one", 2),
    ]
    intro = doc.sections[0].blocks[0]
    assert (
        intro.text
        == "A solar oven cooks food with sunlight alone. It needs no fuel & no electricity."
    )
    work = doc.sections[1].blocks
    assert work[0].text.endswith("Read the physics primer for more.")
    # trafilatura (main-content extraction) drops nested list items and the
    # code block's language; the unclosed <li> is still handled
    assert work[1].items == ["Reflectors made of foil", "An insulated box", "A dark pot"]
    build = {b.kind: b for b in doc.sections[2].blocks}
    assert build["code"].language is None
    assert build["code"].text == "1. cut flaps\n2. glue foil\n3. add glass lid"
    assert build["quote"].text == "Always wear sunglasses when you check the food."
    assert build["table"].text == "Oven, Peak temperature\nBox, 150 C"
    assert doc.sections[2].blocks[-1].text == "A box oven in the sun"  # a content image's alt
    assert doc.language == "en"  # <html lang="en">
    assert [(link.text, link.url) for link in doc.links] == [
        ("physics primer", "https://example.org/physics")
    ]  # nav links skipped
    joined = " ".join(_block_texts(doc))
    assert "console.log" not in joined and "font-family" not in joined
    assert "Home" not in joined


def test_html_without_h1_uses_page_title(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "p.htm"
    path.write_text("<html><head><title>My Page</title></head><div>Loose text.</div>", "utf-8")
    doc = ingest_html.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "My Page"
    assert doc.sections[0].heading == "My Page"
    assert doc.sections[0].blocks[0].text == "Loose text."


# -- text ---------------------------------------------------------------------


def test_text_title_headings_and_lists(hook) -> None:
    doc = hook(DOCS / "notes.txt")
    assert doc.format == "text"
    assert doc.title == "Field Notes on Beekeeping"
    assert [(s.heading, s.level) for s in doc.sections] == [
        ("Field Notes on Beekeeping", 0),
        ("Equipment", 2),
    ]
    blocks = doc.sections[1].blocks
    assert [b.kind for b in blocks] == ["paragraph", "list", "paragraph"]
    assert blocks[1].items == ["Hive body", "Ten frames", "A smoker"]


def test_text_without_title_line_uses_stem(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "meeting_minutes"
    path.write_text("We met on Monday. Everyone agreed to ship.\n", "utf-8")
    doc = ingest_text.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "Meeting minutes"
    assert doc.sections[0].blocks[0].text == "We met on Monday. Everyone agreed to ship."


#: The head of libksba's README (/usr/share/doc/libksba8/README, "unlimited
#: permission to copy and/or distribute it"): a centred title underlined with
#: dashes, and centred section headings.
KSBA_README = """\
                               LIBKSBA
                              ---------

         Copyright 2001, 2006, 2007, 2008, 2009, 2010, 2011,
                   2012, 2013, 2014, 2015  g10 Code GmbH

This file is free software; as a special exception the author gives
unlimited permission to copy and/or distribute it, with or without
modifications, as long as this notice is preserved.

This file is distributed in the hope that it will be useful, but
WITHOUT ANY WARRANTY, to the extent permitted by law; without even the
implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR
PURPOSE.

Libksba itself is distributed under the terms of the GNU General
Public License, see the file AUTHORS for details.


                            KSBA Overview
                            -------------

KSBA (pronounced Kasbah) is a library to make X.509 certificates as
well as the CMS easily accessible by other applications.  Both
specifications are building blocks of S/MIME and TLS.
"""


def test_text_centred_underlined_title_and_headings(tmp_path: Path, ctx: NodeContext) -> None:
    path = tmp_path / "README"
    path.write_text(KSBA_README, "utf-8")
    doc = ingest_text.ingest_document(source=path, format=None, ctx=ctx)
    assert doc.title == "LIBKSBA"
    assert [(s.heading, s.level) for s in doc.sections] == [("LIBKSBA", 0), ("KSBA Overview", 2)]
    assert doc.sections[0].blocks[0].text.startswith("Copyright 2001")


def test_text_faq_numbered_questions_wrapped_items_and_compounds(tmp_path, ctx) -> None:
    # As the German Debian FAQ's text edition (tests/corpus/text/debian-faq.de.utf16.txt)
    # is laid out: numbered questions, list items wrapped onto indented lines,
    # compounds and paths wrapped after their hyphen or slash.
    text = (
        "Die Debian GNU/Linux-FAQ\n\n"
        "1.2. Was ist Debian GNU/Linux?\n\n"
        "    Die meisten Linux-Benutzer verwenden eine bestimmte Linux-\n"
        "    Distribution wie etwa Debian GNU/\n    Linux.\n\n"
        "    Debian GNU/Linux ist:\n\n"
        "      * voll ausgestattet: Debian enthält zur Zeit mehr als 59100\n"
        "        Software-Pakete.\n"
        "      * frei verwendbar und verteilbar.\n"
    )
    path = tmp_path / "faq.txt"
    path.write_text(text, "utf-8")
    doc = ingest_text.ingest_document(source=path, format=None, ctx=ctx)
    section = next(s for s in doc.sections if s.heading == "1.2. Was ist Debian GNU/Linux?")
    paragraph, intro, items = section.blocks
    assert paragraph.text == (
        "Die meisten Linux-Benutzer verwenden eine bestimmte Linux-Distribution wie etwa "
        "Debian GNU/Linux."
    )
    assert intro.text == "Debian GNU/Linux ist:"
    assert items.kind == "list" and items.items == [
        "voll ausgestattet: Debian enthält zur Zeit mehr als 59100 Software-Pakete.",
        "frei verwendbar und verteilbar.",
    ]


# -- dispatch -----------------------------------------------------------------


def test_each_plugin_declines_what_it_does_not_handle(ctx: NodeContext) -> None:
    md, html, txt = DOCS / "guide.md", DOCS / "page.html", DOCS / "notes.txt"
    assert ingest_markdown.ingest_document(source=html, format=None, ctx=ctx) is None
    assert ingest_markdown.ingest_document(source=md, format="html", ctx=ctx) is None
    assert ingest_html.ingest_document(source=md, format=None, ctx=ctx) is None
    assert ingest_text.ingest_document(source=md, format=None, ctx=ctx) is None
    assert ingest_text.ingest_document(source=html, format=None, ctx=ctx) is None
    assert ingest_text.ingest_document(source=txt, format="markdown", ctx=ctx) is None


def test_explicit_format_overrides_suffix(hook, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("# Heading\n\nBody **bold**.\n", "utf-8")
    doc = hook(path, "markdown")
    assert doc.format == "markdown" and doc.title == "Heading"
    assert doc.sections[0].blocks[0].text == "Body bold."
    assert hook(path).format == "text"
    other = tmp_path / "page.log"  # unclaimed suffix: the text plugin takes it
    shutil.copy(DOCS / "notes.txt", other)
    assert hook(other).format == "text"


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.md", "blank.txt", "only_markup.md"])
def test_empty_documents_are_rejected(hook, name: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"{name} is empty"):
        hook(DOCS / name)


def test_html_with_only_scripts_is_empty(hook, tmp_path: Path) -> None:
    path = tmp_path / "s.html"
    path.write_text("<html><head><title>T</title></head><script>x()</script></html>", "utf-8")
    with pytest.raises(InvalidInputError, match="is empty"):
        hook(path)


def test_binary_files_are_rejected(hook, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read .*pixel\.png: not UTF-8 text"):
        hook(DOCS / "pixel.png")
    disguised = tmp_path / "image.md"
    shutil.copy(DOCS / "pixel.png", disguised)
    with pytest.raises(InvalidInputError, match="pass a Markdown, text, HTML, reStructuredText"):
        hook(disguised)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"text\x00with NUL")
    with pytest.raises(InvalidInputError, match="binary data"):
        hook(nul)


def test_missing_file_is_rejected(hook, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read .*nope\.md: no such file"):
        hook(tmp_path / "nope.md")
    with pytest.raises(InvalidInputError, match="it is a directory"):
        hook(tmp_path, "text")
