"""HTML ingest of saved Wikipedia pages: the article only, headings as sections.

The whole-page cases read the corpus copy of the English Wikipedia article
"New Zealand" (revision 917976458, CC BY-SA 3.0; see tests/corpus/MANIFEST.yaml).
The snippets are cut from two other saved Wikipedia pages in Mozilla
Readability's test suite (github.com/mozilla/readability, commit ab4027a8,
test/test-pages/wikipedia/source.html, article "Mozilla", and
test/test-pages/wikipedia-3/source.html, "Hermitian matrix", revision
942460710; Wikipedia text under CC BY-SA 3.0, by Wikipedia's contributors).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reelgraph.models import Document
from reelgraph.plugins.ingest.html import parse_html

NEW_ZEALAND = (
    Path(__file__).resolve().parents[1] / "corpus" / "html" / "wikipedia-new-zealand.en.html"
)


def _text(document: Document) -> str:
    parts = []
    for section in document.sections:
        parts.append(section.heading)
        for block in section.blocks:
            parts.append(block.text)
            parts.extend(block.items)
    return "\n".join(parts)


def _page(body: str, title: str) -> str:
    """A page in the shape MediaWiki 1.28-1.35 skins write (Vector)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">'
        f"<title>{title} - Wikipedia</title>"
        '<meta name="generator" content="MediaWiki 1.28.0-wmf.23"></head><body>'
        '<div id="mw-navigation"><h2>Navigation menu</h2><h3>Views</h3>'
        '<ul><li><a href="/wiki/Mozilla">Read</a></li></ul></div>'
        f'<div id="content"><h1 id="firstHeading" class="firstHeading">{title}</h1>'
        '<div id="bodyContent"><div id="siteSub">From Wikipedia, the free encyclopedia</div>'
        '<a class="mw-jump-link" href="#mw-head">Jump to navigation</a>'
        f'<div id="mw-content-text" lang="en" dir="ltr">{body}</div>'
        '<div class="printfooter">Retrieved from "https://en.wikipedia.org/..."</div>'
        '<div id="catlinks" class="catlinks">Categories: Mozilla</div></div></div></body></html>'
    )


@pytest.fixture(scope="module")
def new_zealand() -> Document:
    return parse_html(NEW_ZEALAND.read_text(encoding="utf-8"), NEW_ZEALAND)


def test_the_article_title_opens_the_document_and_its_headings_become_sections(
    new_zealand: Document,
) -> None:
    assert new_zealand.title == "New Zealand"
    top = [s.heading for s in new_zealand.sections if s.level == 2]
    # every top-level section of the article, in order, and no appendix
    assert top == [
        "Etymology", "History", "Government and politics", "Environment",
        "Economy", "Demography", "Culture",
    ]  # fmt: skip
    assert "Literature" in [s.heading for s in new_zealand.sections if s.level == 3]


def test_page_furniture_is_not_read(new_zealand: Document) -> None:
    text = _text(new_zealand)
    # citation markers [12], maintenance tags [update], edit links
    assert not re.search(r"\[(?:\d+|[a-z ]+)\]", text), re.findall(r".{30}\[[^\]]*\].{10}", text)
    for furniture in (
        "Jump to navigation",  # skip links
        "This is a good article",  # indicators
        "Largest city",  # the infobox
        "Main article:",  # hatnotes
        "Enlarge",  # image captions' magnify links
        "Brown square paper with Dutch writing",  # an image's alt text
        "Detail from a 1657 map",  # its caption
        "Outline of New Zealand",  # See also
        "Retrieved",  # reference lists and the print footer
        "Categories",
        "aɔˈtɛaɾɔa",  # IPA
    ):
        assert furniture not in text, furniture


def test_sentences_around_removed_parts_read_on(new_zealand: Document) -> None:
    text = _text(new_zealand)
    assert "New Zealand (Māori: Aotearoa) is a sovereign island country" in text
    # the IPA and the word "pronounced" before it went together
    assert 'Aotearoa (often translated as "land of the long white cloud") is' in text
    assert "evidence of deforestation and mitochondrial DNA variability" in text


def test_an_article_of_several_thousand_words_stays_whole(new_zealand: Document) -> None:
    words = sum(
        len((b.text + " " + " ".join(b.items)).split())
        for s in new_zealand.sections
        for b in s.blocks
    )
    assert 7_500 < words < 9_500  # the prose; the page's 8,000 words of citations are gone


MOZILLA_HISTORY = (
    '<h2><span class="mw-headline" id="History">History</span><span class="mw-editsection">'
    '<span class="mw-editsection-bracket">[</span><a href="/w/index.php?title=Mozilla&amp;'
    'action=edit&amp;section=1" title="Edit section: History">edit</a>'
    '<span class="mw-editsection-bracket">]</span></span></h2>'
    '<p>On January 23, 1998, Netscape made two announcements: first, that <a href="/wiki/'
    'Netscape_Communicator">Netscape Communicator</a> will be free; second, that the source '
    'code will also be free.<sup id="cite_ref-3" class="reference"><a href="#cite_note-3">[3]'
    "</a></sup> One day later, Jamie Zawinski from Netscape registered mozilla.org.</p>"
    '<h2><span class="mw-headline" id="References">References</span></h2>'
    '<div class="reflist"><ol class="references"><li id="cite_note-3"><span class="mw-cite-'
    'backlink"><b><a href="#cite_ref-3">^</a></b></span> <span class="reference-text">'
    '"Netscape Announces Plans to Make Next-Generation Communicator Source Code Available Free'
    ' on the Net". Netscape. Retrieved 2012-08-21.</span></li></ol></div>'
)


def test_edit_links_and_appendices_of_an_older_page_go() -> None:
    document = parse_html(_page(MOZILLA_HISTORY, "Mozilla"), "mozilla.html")
    assert [(s.heading, s.level) for s in document.sections] == [("Mozilla", 1), ("History", 2)]
    (paragraph,) = document.sections[1].blocks
    assert paragraph.text == (
        "On January 23, 1998, Netscape made two announcements: first, that Netscape "
        "Communicator will be free; second, that the source code will also be free. One day "
        "later, Jamie Zawinski from Netscape registered mozilla.org."
    )


HERMITIAN_ADJOINT = (
    '<div class="mw-parser-output"><h3><span class="mw-headline" id="Equality_with_the_adjoint">'
    "Equality with the adjoint</span></h3><p>A square matrix "
    '<span class="mwe-math-element"><span class="mwe-math-mathml-inline mwe-math-mathml-a11y" '
    'style="display: none;"><math alttext="{\\displaystyle A}"><semantics><mi>A</mi>'
    '</semantics></math></span><img src="https://wikimedia.org/api/rest_v1/media/math/render/'
    'svg/7daff47fa58cdfd29dc333def748ff5fa4c923e3" class="mwe-math-fallback-image-inline" '
    'alt="{\\displaystyle A}"></span> is Hermitian if and only if it is equal to its '
    '<a href="/wiki/Hermitian_adjoint">adjoint</a>, that is, it satisfies</p><dl><dd>'
    '<span class="mwe-math-element"><img class="mwe-math-fallback-image-display" '
    'alt="{\\displaystyle \\langle w,Av\\rangle =\\langle Aw,v\\rangle ,}"></span></dd></dl>'
    "<p>This is also the way that the more general concept of self-adjoint operator is "
    "defined.</p></div>"
)


def test_a_formula_is_read_when_it_is_a_name_and_dropped_otherwise() -> None:
    document = parse_html(_page(HERMITIAN_ADJOINT, "Hermitian matrix"), "hermitian.html")
    text = _text(document)
    assert "A square matrix A is Hermitian if and only if it is equal to its adjoint" in text
    assert "displaystyle" not in text and "langle" not in text
    assert "self-adjoint operator is defined." in text


def test_a_page_that_is_not_mediawiki_keeps_the_generic_path() -> None:
    page = (
        "<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav><article>"
        "<h1>Notes</h1><p>Notes is a heading here, and references are content.</p>"
        "<h2>References</h2><p>A section of prose named References stays.</p></article>"
        "</body></html>"
    )
    document = parse_html(page, "notes.html")
    assert "References" in [s.heading for s in document.sections]


def test_citation_markers_go_from_a_page_that_is_not_mediawiki() -> None:
    # the Mozilla paragraph as a mirror serves it: the article's HTML without
    # MediaWiki's #mw-content-text wrapper, so the generic path reads it
    paragraph = MOZILLA_HISTORY.split("<p>", 1)[1].split("</p>", 1)[0]
    page = (
        "<html><head><title>Mozilla</title></head><body><article><h1>Mozilla</h1>"
        f"<p>{paragraph}</p><p>Energy is E = mc<sup>2</sup>, as Einstein wrote.</p>"
        "</article></body></html>"
    )
    text = _text(parse_html(page, "mirror.html"))
    assert "also be free. One day later, Jamie Zawinski" in text
    assert "[3]" not in text
    assert "E = mc2, as Einstein wrote." in text  # a superscript that is not a marker stays
