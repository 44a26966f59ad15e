"""Links in the extractive writer's sentences: marked where they were, so the sentence can be mended.

A URL, an e-mail address or a reStructuredText/Markdown link target is
replaced by :data:`MARK` before a paragraph is cleaned and split, so that a
sentence a link ended ("The docs are at <url>.") can be told from one that
ends on a preposition of its own ("what it was designed for."), and a
sentence that needed the link in its middle ("located at <url> but also")
from one where it was an aside.

Real documents write links in ways a plain "URL up to the next space" rule
misreads (measured on the Debian FAQ's text and Word editions):

- a link as an aside in parentheses, "the Social Contract
  (https://www.debian.org/social_contract), Debian will ...", often with a
  space the text's line wrapping left inside it ("(https://
  www.debian.org/ports/)", "(http://www.debian. org/ports/)"): the whole
  parenthesis goes, or the reader hears "Social Contract (, Debian";
- a link followed by punctuation, "see https://x.org/faq)." : the closing
  parenthesis and the full stop are the sentence's, not the link's.
"""

from __future__ import annotations

import re

__all__ = ["MARK", "link_needed", "mark_links"]

MARK = "\ue000"  # a private-use character: no document's prose holds it

# A parenthesis that holds nothing but links (and "see", "at", commas): an
# aside, removed whole. A scheme may be followed by the space a line wrap left.
_ASIDE = re.compile(
    r"\s*\(\s*(?:(?:see|at|via|on|or)\s+)?"
    r"(?:(?:https?|ftp)://|www\.|mailto:)[^()]*(?:\([^()]*\)[^()]*)*\)",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"\s*<?(?:(?:https?|ftp)://\s?|www\.|mailto:)[^\s<>]*>?_{0,2}"
    r"|\s*<?\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?",
    re.IGNORECASE,
)
# What a link never ends with: the sentence's own punctuation after it.
_TRAILING = ".,;:!?'\"\u201d\u2019"
# A removed link that a preposition or pointing verb needed, in mid-sentence (English).
_INSIDE_ENGLISH = re.compile(
    rf"\b(?:at|via|from|see|visit|on|to)\s+{MARK}(?:\s+{MARK})*\s+[^\W\d_]", re.IGNORECASE
)
# Any removed link in mid-sentence, followed by a word.
_INSIDE = re.compile(rf"{MARK}(?:\s+{MARK})*\s+[^\W\d_]")


def mark_links(text: str) -> str:
    """``text`` with each link replaced by `` MARK`` (asides in parentheses removed whole)."""
    return _LINK.sub(_mark, _ASIDE.sub("", text))


def _mark(match: re.Match[str]) -> str:
    """`` MARK`` and whatever the link swallowed that belongs to the sentence."""
    link = match.group(0)
    kept = ""
    while link and (
        link[-1] in _TRAILING or (link[-1] == ")" and link.count("(") < link.count(")"))
    ):
        kept = link[-1] + kept
        link = link[:-1]
    return f" {MARK}{kept}"


def link_needed(marked: str, language: str | None) -> bool:
    """Whether a removed link was part of the sentence ``marked`` (its middle, after a
    pointing word in English; anywhere in its middle in other languages, whose
    pointing words are not listed): such a sentence is left out."""
    english = (language or "en").lower().startswith("en")
    return bool((_INSIDE_ENGLISH if english else _INSIDE).search(marked))
