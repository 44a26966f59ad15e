"""The article of a saved MediaWiki page (Wikipedia, Wiktionary, wikis on MediaWiki).

A MediaWiki page says where its article is: the skin wraps the parsed
wikitext in ``<div id="mw-content-text">`` and puts the page title in
``<h1 id="firstHeading">`` (every skin since MediaWiki 1.16; see
https://www.mediawiki.org/wiki/Manual:Skin.php and the generated page of any
wiki). That element is taken as the main content instead of asking a generic
extractor to guess (trafilatura kept 1,029 of the ~4,000 words of the saved
"Mozilla" article and narrated the infobox of "New Zealand").

Inside it, the parts a reader of the article does not read aloud are removed,
by the CSS classes MediaWiki and Wikipedia's templates give them
(https://en.wikipedia.org/wiki/Wikipedia:Catalogue_of_CSS_classes,
https://en.wikipedia.org/wiki/Help:Cite_messages): citation markers
(``sup.reference``: "[12]"), "[edit]" links, inline maintenance tags
("[citation needed]", "[update]": ``noprint``), the table of contents,
infoboxes, navigation boxes, hatnotes ("For other uses, see..."), message
boxes, images with their captions and galleries, coordinates, IPA
pronunciations (``span.IPA``, with the "pronounced" before them), and
reference lists. Then the standard appendices that close an article
(https://en.wikipedia.org/wiki/Wikipedia:Manual_of_Style/Layout#Standard_appendices_and_footers:
"See also", "Notes", "References", "Further reading", "External links" and
their usual variants) are dropped whole, and so is any top-level section that
the removals left without text (a reference list under a heading in another
language, such as "Einzelnachweise").

:func:`drop_citation_marks` serves every other page: it cuts footnote markers
held in a ``<sup>`` ("[12]", "[citation needed]") out of the page's markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["APPENDICES", "drop_citation_marks", "mediawiki_article"]

#: Classes whose elements are not article text (see the module docstring).
_DROP_CLASSES = (
    "reference",  # citation marker <sup class="reference">[12]</sup>
    "mw-ref",  # the same, in Parsoid HTML
    "mw-editsection",  # [edit] links beside headings
    "noprint",  # [citation needed], [update], navigation templates
    "metadata",
    "toc",
    "infobox",
    "navbox",
    "vertical-navbox",
    "navbox-styles",
    "sidebar",
    "hatnote",
    "ambox",
    "mbox-small",
    "ombox",
    "tmbox",
    "sistersitebox",
    "portal",
    "thumb",  # an image and its caption
    "gallery",
    "reflist",
    "references",
    "refbegin",
    "mw-references-wrap",
    "IPA",
    "geo",
    "mw-empty-elt",
    "shortdescription",
    "mw-jump-link",
    "mwe-math-fallback-image-display",
)
_DROP_IDS = ("toc", "coordinates", "catlinks")
_DROP_TAGS = ("style", "link", "script", "figure", "noscript")

#: English names of the appendix sections (lower case), from the Manual of
#: Style's layout guideline and the variants articles use.
APPENDICES = frozenset(
    {
        "see also", "notes", "footnotes", "citations", "references", "sources",
        "bibliography", "works cited", "further reading", "external links",
        "notes and references", "references and notes", "explanatory notes",
        "general references", "general and cited references", "cited sources",
        "related pages",
    }
)  # fmt: skip
_HEADING = re.compile(r"^h[1-6]$")
_TEX_WRAPPER = re.compile(r"^\{\\displaystyle\s*(.*)\}$", re.DOTALL)
_MATH_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,2}|[0-9]{1,6}")
# a footnote or maintenance marker in a <sup>: [12], [a], [note 3], [citation needed]
_SUP_MARK = re.compile(
    r"<sup\b[^>]*>\s*(?:<a\b[^>]*>\s*)?\[\s*(?:\d{1,4}|[a-z]{1,2}|(?:note|nb|n)\.?\s*\d{1,3}"
    r"|citation needed|update|clarification needed)\s*\](?:\s*</a>)?\s*</sup>",
    re.IGNORECASE,
)
_PRONOUNCED = re.compile(r"\s*\bpronounced\s*$", re.IGNORECASE)


def mediawiki_article(page: HtmlElement) -> tuple[str, str] | None:
    """``(title, article HTML)`` of a parsed MediaWiki page, else ``None``.

    ``page`` is the page's root from :func:`lxml.html.document_fromstring`;
    it is changed in place (the removed parts are gone from it). The title is
    the text of ``h1#firstHeading`` ("" when absent); the article is the
    cleaned ``#mw-content-text`` serialised as HTML. ``None`` when the page
    has no ``#mw-content-text`` (not a MediaWiki page).
    """
    from lxml import etree

    content = next(iter(page.xpath('//*[@id="mw-content-text"]')), None)
    if content is None:
        return None
    heading = next(iter(page.xpath('//h1[@id="firstHeading"]')), None)
    title = " ".join(heading.text_content().split()) if heading is not None else ""
    for math in content.xpath('.//*[contains(concat(" ", @class, " "), " mwe-math-element ")]'):
        _replace_math(math)
    for element in content.xpath(_drop_xpath()):
        _remove(element)
    for element in content.xpath('.//*[contains(translate(@style, " ", ""), "display:none")]'):
        _remove(element)
    for comment in list(content.iter(etree.Comment)):
        comment.drop_tree()  # keeps its tail
    _drop_appendices(content)
    return title, etree.tostring(content, encoding="unicode", method="html")


def drop_citation_marks(page: str) -> str:
    """``page`` without the footnote markers a ``<sup>`` holds ("[12]", "[a]",
    "[note 3]", "[citation needed]", maybe inside a link), for pages that are
    not MediaWiki's own (a mirror of an article, a blog quoting one). Only the
    markers' own markup is cut from the text; the rest of the page is left
    byte for byte (a re-serialised DocBook page lost headings in trafilatura).
    """
    if "<sup" not in page and "<SUP" not in page:
        return page
    return _SUP_MARK.sub("", page)


def _replace_math(math: HtmlElement) -> None:
    """Put a formula's plain text in its place when it is a short name ("A",
    "n", "x2"); remove it otherwise (TeX is not read aloud). The TeX comes
    from MathML's ``alttext`` or the fallback image's ``alt``, as
    ``{\\displaystyle A}``."""
    sources = math.xpath(".//@alttext") + math.xpath(".//img/@alt")
    tex = str(sources[0]) if sources else ""
    name = _TEX_WRAPPER.sub(r"\1", tex.strip()).strip()
    if _MATH_NAME.fullmatch(name):
        for child in list(math):
            math.remove(child)
        math.text = name
        math.set("class", "math-name")
    else:
        _remove(math)


def _drop_xpath() -> str:
    classes = " or ".join(
        f'contains(concat(" ", normalize-space(@class), " "), " {name} ")' for name in _DROP_CLASSES
    )
    ids = " or ".join(f'@id="{name}"' for name in _DROP_IDS)
    tags = " | ".join(f".//{tag}" for tag in _DROP_TAGS)
    return f".//*[{classes} or {ids}] | {tags}"


def _remove(element: HtmlElement) -> None:
    """Remove ``element`` (or the wrapper that holds only it), keeping the text after it.

    An IPA pronunciation takes the word "pronounced" before it along; the
    text on either side is rejoined without a space before ``)`` ``,`` ``.``
    ``;`` ``:`` and without a ``;`` straight after ``(``.
    """
    parent = element.getparent()
    ipa = "IPA" in (element.get("class") or "").split()
    mine = element.text_content().strip()
    while (
        parent is not None
        and parent.getparent() is not None
        and not parent.get("id")
        and not (parent.text or "").strip()
        and len(parent) == 1
        and parent.text_content().strip() == mine
    ):
        element, parent = parent, parent.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    before = (previous.tail if previous is not None else parent.text) or ""
    after = element.tail or ""
    if ipa:
        before = _PRONOUNCED.sub("", before)
    if after.lstrip()[:1] in tuple("),.;:"):
        before, after = before.rstrip(), after.lstrip()
        if before.endswith("(") and after.startswith(";"):
            after = after[1:].lstrip()
    if previous is not None:
        previous.tail = before + after
    else:
        parent.text = before + after
    parent.remove(element)


def _level(element: HtmlElement) -> int | None:
    """The heading level of a heading or of MediaWiki 1.43's ``div.mw-heading``."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if _HEADING.match(tag):
        return int(tag[1])
    if "mw-heading" in (element.get("class") or "").split():
        inner = next((child for child in element if _HEADING.match(str(child.tag))), None)
        return int(inner.tag[1]) if inner is not None else None
    return None


def _drop_appendices(content: HtmlElement) -> None:
    """Drop the appendix sections and the top-level sections left empty.

    A section is a heading and the siblings after it up to the next heading
    of its level or higher, in the element that holds the headings (the
    ``div.mw-parser-output`` of current pages, ``#mw-content-text`` itself
    in older ones).
    """
    holders = {heading.getparent() for heading in content.iter("h2", "h3", "h4")}
    for holder in holders:
        if holder is not None and "mw-heading" in (holder.get("class") or "").split():
            holder = holder.getparent()  # headings wrapped in div.mw-heading
        if holder is None:
            continue
        children = list(holder)
        starts = [(i, level) for i, child in enumerate(children) if (level := _level(child))]
        for at, (index, level) in enumerate(starts):
            end = next((i for i, lv in starts[at + 1 :] if lv <= level), len(children))
            body = children[index + 1 : end]
            name = " ".join(children[index].text_content().split()).lower()
            text = "".join(el.text_content() for el in body).strip()
            if name in APPENDICES or (level == 2 and not text):
                for element in [children[index], *body]:
                    if element.getparent() is holder:
                        _remove(element)
