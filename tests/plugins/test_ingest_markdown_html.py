"""Raw HTML in real READMEs: only what a reader of the rendered page reads is kept.

The READMEs are the long descriptions of installed distributions the project
depends on (attrs, Pillow, ruff, httpx, typer, rich), read through
importlib.metadata at test time.
"""

from __future__ import annotations

import pytest

from reelgraph.models import Document
from reelgraph.plugins.ingest._images import is_content_image
from reelgraph.plugins.ingest.markdown import parse_markdown
from tests.package_text import package_description


def _readme(name: str) -> Document:
    return parse_markdown(package_description(name), f"{name}.md")


def _texts(document: Document) -> list[str]:
    out: list[str] = []
    for section in document.sections:
        out.append(section.heading)
        for block in section.blocks:
            if block.kind != "code":
                out.append(block.text)
                out.extend(block.items)
    return [text for text in out if text]


@pytest.mark.parametrize("name", ["attrs", "pillow", "ruff", "httpx", "typer", "rich"])
def test_no_html_reaches_the_text(name: str) -> None:
    for text in _texts(_readme(name)):
        assert "<" not in text and ">" not in text.replace("->", ""), text
        assert "shields.io" not in text and "![" not in text, text


def test_attrs_logo_and_sponsor_logos_vanish_centred_text_stays() -> None:
    doc = _readme("attrs")
    texts = _texts(doc)
    joined = " ".join(texts)
    # <p align="center"><a><img alt="attrs" src=".../attrs_logo.svg"></a></p>
    assert doc.sections[0].blocks[0].text.startswith("attrs is the Python package")
    assert "Variomedia" not in joined and "Tidelift" not in joined.split("Project Information")[0]
    assert "cog" not in joined  # an HTML comment
    assert (
        "Please consider joining them to help make attrs’s maintenance more sustainable!" in texts
    )
    assert any(link.url == "https://github.com/sponsors/hynek" for link in doc.links)


def test_pillow_badge_table_and_logo_vanish() -> None:
    doc = _readme("pillow")
    blocks = [b for s in doc.sections for b in s.blocks]
    assert not [b for b in blocks if b.kind == "table"]  # every row held only badges
    assert "Pillow logo" not in " ".join(_texts(doc))
    assert doc.title == "Pillow"


def test_ruff_content_image_keeps_its_alt_linked_logo_does_not() -> None:
    texts = _texts(_readme("ruff"))
    assert "Shows a bar chart with benchmark results." in texts  # <img> that is content
    assert "Linting the CPython codebase from scratch." in texts  # <p align=center><i>
    assert "Made by Astral" not in " ".join(texts)  # a linked logo


def test_httpx_centred_tagline_stays_badges_and_screenshots_vanish() -> None:
    texts = _texts(_readme("httpx"))
    assert texts[1] == "HTTPX - A next-generation HTTP client for Python."
    joined = " ".join(texts)
    assert "Test Suite" not in joined and "Package version" not in joined
    assert "httpx --help" not in joined  # a two-word alt names a screenshot, not content


def test_typer_code_inside_html_div_stays_code() -> None:
    doc = _readme("typer")
    codes = [b.text for s in doc.sections for b in s.blocks if b.kind == "code"]
    assert any(code.startswith("$ uv add typer") for code in codes)


def test_rich_details_summary_keeps_its_text() -> None:
    doc = _readme("rich")
    section = next(s for s in doc.sections if s.heading == "Rich Library" and s.level == 1)
    texts = [b.text for b in section.blocks]
    assert "Log" in texts  # <summary>Log</summary>
    assert any(t.startswith("The Console object has a log() method") for t in texts)


def test_picture_element_vanishes() -> None:
    # GitHub's documented dark/light logo pattern (docs.github.com, "Specifying
    # the theme an image is shown to")
    doc = parse_markdown(
        "<picture>\n"
        '  <source media="(prefers-color-scheme: dark)" srcset="logo-dark.png">\n'
        '  <img alt="Shows an illustrated sun in light mode" src="logo-light.png">\n'
        "</picture>\n\n# Project\n\nIt works.\n",
        "README.md",
    )
    assert _texts(doc) == ["Project", "It works."]


@pytest.mark.parametrize(
    ("src", "alt", "linked", "content"),
    [
        ("graph.png", "Diagram of the task graph", False, True),
        ("graph.png", "Diagram of the task graph", True, False),  # linked: a button
        ("https://img.shields.io/pypi/v/x.svg", "PyPI version of x", False, False),
        ("assets/logo.svg", "The project name in letters", False, False),
        ("screenshot.png", "httpx --help", False, False),  # two words: a label
        ("chart.svg", "Shows a bar chart with benchmark results.", False, True),
    ],
)
def test_content_image_rule(src: str, alt: str, linked: bool, content: bool) -> None:
    assert is_content_image(src, alt, linked) is content


def test_inline_html_link_keeps_text_and_url() -> None:
    doc = parse_markdown(
        'Read <a href="https://example.org/doc">the <b>docs</b></a> first. '
        'Logo: <img src="logo.png" alt="Project logo"> done.\n',
        "README.md",
    )
    assert doc.sections[0].blocks[0].text == "Read the docs first. Logo: done."
    assert [(link.text, link.url) for link in doc.links] == [
        ("the docs", "https://example.org/doc")
    ]
