"""The ``text`` ingest plugin: a plain-text file -> :class:`~reelgraph.models.Document`.

Paragraphs are split on blank lines and their lines joined; one with no
letter or digit (a rule, a stray mark) is dropped. A paragraph whose
lines all start with a list marker (``-``, ``*``, ``+``, ``•``, ``1.``,
``1)``) is a list. Headings are recognised the way people type them in plain
text:

- the first paragraph is the title when it is a single short line (at most
  80 characters) without terminal punctuation, or such a line underlined,
  and more text follows;
- a line underlined with ``===`` or ``---`` is a level-1 or level-2 heading
  (either line may be indented: centred titles);
- a later single short line (at most 60 characters) with no terminal
  punctuation, followed by a paragraph, is a level-2 heading; so is a
  numbered line ("1.2. What is Debian GNU/Linux?", at most 120 characters);
- a list item may go on over lines indented more than its bullet; a line
  ending in a hyphen or slash after a letter goes on without a space
  ("Linux-" + "Distribution").

This plugin is the catch-all for ``format=None``: it takes every file
:func:`~reelgraph.plugins._text.sniff_format` does not find to be another
format (``.txt``, no suffix, unknown suffixes), so a binary file gets a clear
"not text" error. The encoding is detected by
:func:`~reelgraph.plugins._text.read_source` (UTF-8, UTF-16 with a BOM,
cp1252, GB18030, Shift_JIS...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph import hookimpl
from reelgraph.models import Block, Document
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

__all__ = ["ingest_document", "parse_text"]

_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6]|\d{1,3}[.)])\s+")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_TITLE_MAX = 80  # characters; longer first lines read as prose, not a title
_HEADING_MAX = 60
# A numbered heading ("1.2. What is Debian GNU/Linux?"): two or more numbers, or
# one and a full stop, then a capital or any letter of a caseless script.
_NUMBERED = re.compile(r"^(?:\d{1,3}\.){1,4}\d{0,3}\.?\s+(?=[^\W\d_a-z])")
_NUMBERED_MAX = 120


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a plain-text file (``format="text"``; with ``format=None`` any file
    not sniffed as another format).

    Returns ``None`` for any other format.

    Raises:
        InvalidInputError: the file is missing, not text (binary), or empty.
    """
    if not handles(source, format, FORMAT_NAMES["text"]):
        return None
    return ingested(parse_text(read_source(source), source), source, ctx)


def _is_heading_line(lines: list[str], limit: int) -> bool:
    if len(lines) != 1:
        return False
    line = lines[0].strip()
    if _NUMBERED.match(line) and len(line) <= _NUMBERED_MAX:
        return True  # "1.2. Was ist Debian GNU/Linux?": an FAQ's numbered question
    return (
        0 < len(line) <= limit
        and line[-1] not in ".!?:;,\u3002\uff01\uff1f\uff1a\uff1b\uff0c\u3001"
        and not _BULLET.match(line)
        and any(ch.isalpha() for ch in line)
    )


def _join_lines(lines: list[str]) -> str:
    """A paragraph's lines as one: a line ending in a hyphen or slash after a letter
    goes on without a space ("Linux-" + "Distribution", "GNU/" + "Linux": a wrap, not
    a word break, so the hyphen stays)."""
    text = ""
    for line in (line.strip() for line in lines):
        if text and re.search(r"[^\W\d_][-/]$", text) and line[:1].isalnum():
            text += line
        else:
            text = f"{text} {line}" if text else line
    return normalize_space(text)


def _list_items(lines: list[str]) -> list[str] | None:
    """The items of a list whose items may go on over indented lines, or ``None``."""
    if not _BULLET.match(lines[0]):
        return None
    indent = len(lines[0]) - len(lines[0].lstrip())
    items: list[list[str]] = []
    for line in lines:
        if _BULLET.match(line):
            items.append([_BULLET.sub("", line)])
        elif len(line) - len(line.lstrip()) > indent:
            items[-1].append(line)
        else:
            return None
    return [_join_lines(item) for item in items]


def _is_underlined(lines: list[str]) -> bool:
    """A heading line and its underline of ``=`` or ``-`` (either may be indented:
    a centred title, as in GnuPG's READMEs)."""
    return len(lines) == 2 and bool(_UNDERLINE.match(lines[1])) and _is_heading_line(lines[:1], 80)


def parse_text(text: str, source: Path | str) -> Document:
    """Parse plain ``text`` read from ``source`` (used for the fallback title)."""
    paragraphs = [
        [line.rstrip() for line in chunk.split("\n") if line.strip()]
        for chunk in re.split(r"\n[ \t]*\n", text)
    ]
    # a paragraph without a letter or digit (a rule of dashes, a stray ">") says
    # nothing and must not stand between the title and the text: the Debian FAQ's
    # Japanese text opens with ">", and its title came from the file name
    paragraphs = [p for p in paragraphs if any(ch.isalnum() for line in p for ch in line)]
    builder = SectionBuilder()
    fallback = prettify_stem(source)
    if len(paragraphs) > 1 and (
        _is_heading_line(paragraphs[0], _TITLE_MAX) or _is_underlined(paragraphs[0])
    ):
        fallback = normalize_space(paragraphs.pop(0)[0])
    for i, lines in enumerate(paragraphs):
        if _is_underlined(lines):
            builder.heading(lines[0], 1 if lines[1].lstrip().startswith("=") else 2)
        elif (
            i + 1 < len(paragraphs)
            and _is_heading_line(lines, _HEADING_MAX)
            and not _is_heading_line(paragraphs[i + 1], _HEADING_MAX)
        ):
            builder.heading(lines[0], 2)
        elif (items := _list_items(lines)) is not None:
            ordered = lines[0].lstrip()[0].isdigit()
            builder.add(Block(kind="list", items=items, ordered=ordered))
        else:
            builder.add(Block(kind="paragraph", text=_join_lines(lines)))
    title, sections = builder.build(fallback)
    return Document(title=title, sections=sections, source=str(source), format="text")
