"""Term lists (``<dl>``: ``<dt>`` term, ``<dd>`` definition) read as one sentence each.

DocBook renders a ``variablelist`` as ``dl``/``dt``/``dd``, and so do other
generators (the Debian FAQ in every language, Sphinx glossaries, hand-written
pages). trafilatura turns a ``dl`` into a bulleted list whose items alternate
term and definition, so the writer read the Debian FAQ's French chapter as
"La version 11, c'est-à-dire la distribution « stable » ou bullseye." and then
a sentence starting in lower case, "c'est la version stable et bien
testée...". Before the page is cut down, each term is joined to the start of
its definition:

- a term ending in a comma, semicolon, colon or dash (the French FAQ's
  "... ou bullseye,", the Japanese FAQ's "自由:") or in a sentence end is
  followed by a space: "…ou bullseye, c'est la version stable…";
- any other term gets a colon: "root: Root is (typically) the superuser.",
  and so does a term ending in a comma before a definition that starts with
  a capital (the French FAQ's untranslated "La distribution « unstable »,"
  then "This is the version currently under development").

Left as they are: a ``dt`` not directly followed by its ``dd`` (a DocBook
table of contents is a ``dl`` of ``dt`` only), a term holding code (texinfo's
function definitions, ``<dt>Function: ffi_status ffi_prep_cif (...)``: joined,
the code would take the definition's sentence with it when the writer leaves
code out), and a definition that does not open with text (a list, a code block).
"""

from __future__ import annotations

import re

__all__ = ["join_terms"]

# a term that already leads into its definition, or already ends a sentence
_LEADS_IN = re.compile(r"[,;:\u2013\u2014\-\u3001\uff0c\uff1a\uff1b.!?\u3002\uff01\uff1f]$")
_CODE_TAGS = ("code", "var", "kbd", "samp", "tt", "pre")
_PERMALINK = re.compile(r"\s*[\u00b6#\U0001f517]+\s*$")


def join_terms(page: str) -> str:
    """``page`` with each ``<dt>`` term moved into the start of the ``<dd>`` after it.

    Returns ``page`` unchanged when it has no term to join (or does not parse).
    """
    if "<dt" not in page.lower():
        return page
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(
            page.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8")
        )
    except (etree.ParserError, ValueError):
        return page
    joined = 0
    for term in list(root.iter("dt")):
        definition = term.getnext()
        if definition is None or definition.tag != "dd" or _holds_code(term):
            continue
        text = _PERMALINK.sub("", " ".join(term.text_content().split()))
        if not text:
            continue
        if (definition.text or "").strip():
            holder = definition
        elif len(definition) and definition[0].tag == "p":
            holder = definition[0]
        else:
            continue
        holder.text = _lead(text, holder.text_content()) + (holder.text or "").lstrip()
        term.drop_tree()
        joined += 1
    if not joined:
        return page
    # libxml2 leaves the page's charset <meta> out of a string: declare UTF-8 again, or
    # the next parser of these bytes (trafilatura, the heading restorer) reads Latin-1
    head = root.find("head")
    if head is None:
        head = etree.Element("head")
        root.insert(0, head)
    head.insert(0, etree.Element("meta", charset="utf-8"))
    return lxml.html.tostring(root, encoding="unicode")


def _holds_code(term: object) -> bool:
    # an lxml element without children is falsy: compare with None
    return next(term.iter(*_CODE_TAGS), None) is not None  # type: ignore[attr-defined]


def _lead(term: str, definition: str) -> str:
    """The term as the start of its definition's sentence (see the module docstring)."""
    starts_upper = definition.lstrip()[:1].isupper()
    if term.endswith(",") and starts_upper:
        return f"{term[:-1].rstrip()}: "  # "« unstable », This is..." -> "« unstable »: This is..."
    return f"{term} " if _LEADS_IN.search(term) else f"{term}: "
