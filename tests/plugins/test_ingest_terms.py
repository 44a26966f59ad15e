"""Term lists (``<dl>``: DocBook's variablelist, dt/dd) read as one sentence per term:
"…ou bullseye, c'est la version stable…", not "…ou bullseye." and then a sentence
starting in lower case (issue 11, Debian FAQ in French, Japanese)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.models import Document
from reelgraph.plugins._text import read_source
from reelgraph.plugins.ingest._terms import join_terms
from reelgraph.plugins.ingest.html import parse_html
from reelgraph.plugins.writers import extractive
from reelgraph.run.context import NodeContext

HTML = Path(__file__).resolve().parents[1] / "corpus" / "html"


def _items(document: Document) -> list[str]:
    return [
        item for s in document.sections for b in s.blocks if b.kind == "list" for item in b.items
    ]


def _snippet(name: str, start: str, end: str) -> str:
    """The part of a corpus page from ``start`` to the end of ``end`` (both verbatim)."""
    page = read_source(HTML / name)
    at = page.index(start)
    return page[at : page.index(end, at) + len(end)]


def test_a_french_docbook_variablelist_snippet_reads_term_and_definition_as_one() -> None:
    snippet = _snippet(
        "debian-faq-getting-debian.fr.html", '<div class="variablelist">', "</dl></div>"
    )
    page = f'<html lang="fr"><head><meta charset="utf-8"></head><body>{snippet}</body></html>'
    items = _items(parse_html(page, "snippet.html"))
    assert items[0].startswith(
        "La version 11, c'est-à-dire la distribution « stable » ou bullseye, "
        "c'est la version stable et bien testée"
    )
    assert items[1].startswith(
        "La distribution « testing », actuellement appelée bookworm, c'est dans cette"
    )
    # an untranslated English definition after a term ending in a comma: a colon
    assert items[2].startswith("La distribution « unstable »: This is the version")
    assert len(items) == 3
    assert not any(item[:1].islower() for item in items)


def test_the_whole_french_page_keeps_its_sections_and_joins_its_terms() -> None:
    document = parse_html(read_source(HTML / "debian-faq-getting-debian.fr.html"), "fr.html")
    headings = [s.heading for s in document.sections]
    assert len(headings) == 8 and headings[1] == "2.1. Quelle est la dernière version de Debian ?"
    items = _items(document)
    assert any(
        i.startswith("La version 11, c'est-à-dire") and "c'est la version" in i for i in items
    )
    assert not any(i.startswith("c'est ") for i in items)


def test_japanese_terms_ending_in_a_colon_lead_into_their_definition() -> None:
    document = parse_html(read_source(HTML / "debian-faq-basic-defs.ja.html"), "ja.html")
    items = _items(document)
    assert any(i.startswith("自由: Debian 社会契約で述べられているように") for i in items)
    # a term without a colon of its own gets one
    assert any(i.startswith("バグ追跡システム: Debian 開発者が") for i in items)
    assert "自由:" not in items
    assert [s.heading for s in document.sections][1] == "1.1. この FAQ は何?"  # not mojibake


def test_a_bare_english_term_gets_a_colon() -> None:
    items = _items(parse_html(read_source(HTML / "users-and-groups.html"), "ug.html"))
    assert "root: Root is (typically) the superuser." in items
    assert "root" not in items and "Root is (typically) the superuser." not in items


def test_terms_holding_code_and_tables_of_contents_are_left_alone() -> None:
    page = read_source(HTML / "libffi-the-basics.html")
    items = _items(parse_html(page, "libffi.html"))
    signature = next(i for i in items if i.startswith("Function: ffi_status ffi_prep_cif ("))
    assert "This initializes" not in signature
    assert any(i.startswith("This initializes cif according") for i in items)
    toc = '<html><body><dl class="toc"><dt>1. One</dt><dt>2. Two</dt></dl></body></html>'
    assert join_terms(toc) == toc
    assert join_terms("<html><body><p>No terms.</p></body></html>").count("No terms") == 1


@pytest.mark.parametrize("name", ["debian-faq-getting-debian.fr.html", "users-and-groups.html"])
def test_the_writer_reads_no_term_alone_and_no_definition_without_its_term(name, tmp_path):
    document = parse_html(read_source(HTML / name), name)
    ctx = NodeContext.for_testing(tmp_path, node_id="script")
    script = extractive.write_script(
        document=document,
        duration_s=None,
        key_messages=[],
        feedback=[],
        options={"full": True},
        ctx=ctx,
    )
    said = [s for scene in script.scenes for s in scene.narration]
    if name.startswith("debian"):
        assert any("ou bullseye, c'est la version stable" in s for s in said)
        assert not [s for s in said if s.startswith(("c'est la version", "c'est dans cette"))]
        assert not [s for s in said if s.endswith(("ou bullseye.", "appelée bookworm."))]
    else:
        assert "root: Root is (typically) the superuser." in said
        assert not {"root.", "daemon.", "Root is (typically) the superuser."} & set(said)
