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
- "Chapter 3. Title" (also Appendix, Part, and the same words in German,
  French, Spanish, Italian, Russian; "第3章") is a level-2 heading, even
  with a heading straight after it;
- a numbered line ("1.2. What is Debian GNU/Linux?", "3. INTRODUCTION", at
  most 120 characters) is a heading one level deeper per number ("2." level
  2, "2.1." level 3, "2.1.3." level 4); when the body text is indented
  (DocBook's and RFCs' plain-text renderings), such a heading may wrap over
  up to three lines that stay left of the body. A numbered line followed by
  a block of numbered lines is a table of contents, not a heading;
- a later single short line (at most 60 characters) with no terminal
  punctuation that is one word or starts with a capital (or a letter of a
  caseless script), does not look like a command or code (``make deb-pkg``,
  ``ln -s /usr/local/bin/foo``: option dashes, paths, ``< > [ ] { } | = ;``)
  and is followed by a paragraph, is a level-2 heading;
- when the body text is indented, nothing as indented as the body is a
  heading (definition terms, commands and examples sit there); when it is
  flush left, nothing indented four spaces or more is;
- a single-line paragraph after one that ends in ":" that starts with a
  lower-case word or a shell sigil and has no sentence punctuation is a
  command: a code block ("simply run the following command:" / ``make
  deb-pkg``);
- a line boxed by rules (``----`` above and below) is read as underlined; a
  two-deep numbered question with its answer straight under it, or wrapped
  over its whole paragraph, is a heading; a ``Q:`` paragraph before an
  ``A:`` one is a level-2 heading (see :func:`_paragraphs`);
- a table of contents (a block of numbered entries, one at least two deep)
  and the line over it are not read;
- a list item may go on over lines indented more than its bullet; a line
  ending in a hyphen or slash after a letter goes on without a space
  ("Linux-" + "Distribution").

Tried on the Debian FAQ's English text edition (25,000 words), the sed FAQ
and valgrind's FAQ (``/usr/share/doc/sed/sedfaq.txt.gz``,
``/usr/share/doc/valgrind/FAQ.txt.gz``), zlib's README and the FAQ's
German, French and Russian chapters in tests/corpus/text.

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
# one and a full stop, then a capital or any letter of a caseless script, maybe
# after an opening bracket or quote ("5.7. (How) Does Debian support Java?").
_NUMBERED = re.compile(r"^(?:\d{1,3}\.){1,4}\d{0,3}\.?\s+(?=[(\"'\u201c\u2018\u00ab]?[^\W\d_a-z])")
_NUMBERED_MAX = 120
_DEEP = re.compile(r"^\d{1,3}\.\d{1,3}")  # "1.2", "3.1.4": a numbered subsection
_WRAPPED_MAX = 240  # a numbered heading wrapped over up to three lines
_CHAPTER = re.compile(
    r"^(?:chapter|appendix|part|kapitel|anhang|teil|chapitre|annexe|partie|cap[ií]tulo"
    r"|ap[ée]ndice|capitolo|appendice|глава|приложение|часть)\s+(?:\d{1,3}|[IVXLC]{1,6}|[A-Z])"
    r"\b[.:]?(?:\s+\S|$)|^第\s*[0-9一二三四五六七八九十百]+\s*[章部]",
    re.IGNORECASE,
)
# what a command or code line has and a heading does not: a shell prompt, an
# option ("-s", "--status"), a URL, a path (/usr/bin/), brackets, a pipe,
# redirection, an assignment, a statement end, a call "f()"
_CODE = re.compile(
    r"^\s*[$#%>]\s|[{}\[\]<>|;=\\]|(?:^|\s)--?[A-Za-z]|://|(?:^|\s)[~.]?/[\w.-]+/|\w\(\)"
)
# a command's first word: lower case, a path or a sigil
_COMMAND_START = re.compile(r"^\s*(?:[$#%]\s|[a-z][\w.+-]*(?:\s|$)|[./~])")


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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_heading_line(lines: list[str], limit: int) -> bool:
    """A single short line that reads as a heading (no code test, no indent test)."""
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


def _body_indent(paragraphs: list[list[str]]) -> int:
    """The indent (spaces) of most lines of running text: prose paragraphs of two or
    more lines, lists left out. 0 for a flush-left document."""
    counts: dict[int, int] = {}
    for lines in paragraphs:
        if len(lines) >= 2 and not _BULLET.match(lines[0]):
            for line in lines:
                counts[_indent(line)] = counts.get(_indent(line), 0) + 1
    return max(counts, key=lambda indent: (counts[indent], -indent)) if counts else 0


def _left_of_body(lines: list[str], body: int) -> bool:
    """Left of the body text; in a flush-left document, indented less than a code
    block's four spaces (zlib's README sets its copyright line one space in)."""
    return all(_indent(line) < body for line in lines) if body else _indent(lines[0]) < 4


def _is_toc(lines: list[str]) -> bool:
    """A table of contents: a block that opens with a numbered or "Chapter N"
    line, where two thirds of the lines (two at least) are such lines (the
    rest wrapped entries) and one is numbered two deep ("1.2."). A numbered
    list of one depth ("1. Install", "2. Run") is a list, not contents."""
    if len(lines) < 2:
        return False
    entries = [line.strip() for line in lines]
    marked = [e for e in entries if _NUMBERED.match(e) or _CHAPTER.match(e)]
    return (
        entries[0] in marked
        and len(marked) >= 2
        and 3 * len(marked) >= 2 * len(entries)
        and any(_DEEP.match(e) for e in marked)
    )


def _in_toc(lines: list[str], following: list[str] | None) -> bool:
    """Part of a table of contents: a block of entries (:func:`_is_toc`), or a
    single line before one (an entry cut off by a blank line, or the
    "Contents" heading). A table of contents is navigation: it is not read."""
    if _is_toc(lines):
        return True
    return len(lines) == 1 and following is not None and _is_toc(following)


def _heading_level(lines: list[str], following: list[str] | None, body: int) -> int | None:
    """The level of the heading ``lines`` make, or ``None`` when they are not one.

    ``following`` is the next paragraph (``None`` at the end); ``body`` the
    document's body indent (:func:`_body_indent`). See the module docstring.
    """
    if following is None or not _left_of_body(lines, body):
        return None
    joined = " ".join(line.strip() for line in lines)
    if _CHAPTER.match(joined) and len(lines) <= 2 and len(joined) <= _NUMBERED_MAX:
        return 2
    numbered = _NUMBERED.match(joined)
    if numbered and not _is_toc(following):
        wrapped = body > 0 and len(lines) <= 3 and len(joined) <= _WRAPPED_MAX
        if len(lines) == 1 and len(joined) <= _NUMBERED_MAX or wrapped:
            depth = numbered.group(0).strip().rstrip(".").count(".") + 1
            return min(1 + depth, 6)
        return None
    if (
        _is_heading_line(lines, _HEADING_MAX)
        and not numbered
        and not _CODE.search(joined)
        and not (_COMMAND_START.match(joined) and " " in joined)  # "arm", "libgccjit" pass
        and not _is_heading_line(following, _HEADING_MAX)
    ):
        return 2
    return None


def _is_command(lines: list[str], previous: list[str] | None) -> bool:
    """A command line shown after "...the following command:" (see the module docstring)."""
    if previous is None or len(lines) != 1 or not previous[-1].rstrip().endswith(":"):
        return False
    line = lines[0].strip()
    return bool(_COMMAND_START.match(line)) and line[-1] not in ".!?," and not _BULLET.match(line)


def _join_lines(lines: list[str]) -> str:
    """A paragraph's lines as one: a line ending in a hyphen or slash after a letter
    goes on without a space ("Linux-" + "Distribution", "GNU/" + "Linux": a wrap, not
    a word break, so the hyphen stays), and so does a wrap between two Chinese or
    Japanese characters ("プロジェク" + "ト")."""
    text = ""
    for line in (line.strip() for line in lines):
        if text and re.search(r"[^\W\d_][-/]$", text) and line[:1].isalnum():
            text += line
        elif text and _CJK.match(text[-1]) and _CJK.match(line[:1]):
            text += line  # Chinese and Japanese put no space where a line wraps
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


# Han, kana, CJK punctuation and full-width forms: scripts written without spaces
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_RULE = re.compile(r"^\s*([-=~*#_])\1{2,}\s*$")  # a rule of one repeated mark
_QUESTION = re.compile(r"^\s*Q:\s+")
_ANSWER = re.compile(r"^(\s*)A:(\s+)")


def _paragraphs(text: str) -> tuple[list[list[str]], dict[int, int]]:
    """The blank-line-separated paragraphs of ``text`` as lists of lines, and the
    headings found by their layout (``id(paragraph) -> level``).

    A paragraph with no letter or digit (a rule, a stray ">") is dropped: it
    must not stand between the title and the text (the Debian FAQ's Japanese
    text opens with ">"). Layout headings: a line boxed by rules (valgrind's
    FAQ: ``----`` / ``1. Background`` / ``----``) becomes that line
    underlined; a two-deep numbered question that opens a paragraph with its
    answer straight under it (``1.2. Where does the name come from?`` /
    ``From Nordic mythology...``) is split off as a heading; a ``Q:``
    paragraph before an ``A:`` one (XZ Utils' FAQ) is a level-2 heading and
    the ``A:`` is dropped. Other rules at a paragraph's ends go.
    """
    chunks = [
        [line.rstrip() for line in chunk.split("\n") if line.strip()]
        for chunk in re.split(r"\n[ \t]*\n", text)
    ]
    paragraphs: list[list[str]] = []
    forced: dict[int, int] = {}
    for lines in chunks:
        if not any(ch.isalnum() for line in lines for ch in line):
            continue
        if len(lines) == 3 and _RULE.match(lines[0]) and _RULE.match(lines[2]):
            lines = [lines[1], lines[2]]  # a boxed heading: read as underlined
        while len(lines) > 1 and _RULE.match(lines[-1]):
            if len(lines) == 2 and _is_heading_line(lines[:1], _TITLE_MAX):
                break  # an underlined heading
            lines = lines[:-1]
        while len(lines) > 1 and _RULE.match(lines[0]):
            lines = lines[1:]
        split = _question_lines(lines)
        if split:
            head = lines[:split]
            depth = _NUMBERED.match(head[0].strip())
            level = (
                2
                if depth is None
                else min(1 + depth.group(0).strip().rstrip(".").count(".") + 1, 6)
            )
            paragraphs.append(head)
            forced[id(head)] = level
            lines = lines[split:]
        if lines:
            paragraphs.append(lines)
    for before, after in zip(paragraphs, paragraphs[1:], strict=False):
        if _QUESTION.match(before[0]) and _ANSWER.match(after[0]) and len(before) <= 3:
            before[0] = _QUESTION.sub("", before[0])
            after[0] = _ANSWER.sub(lambda m: m.group(1) + "  " + m.group(2), after[0])
            forced[id(before)] = 2
    return paragraphs, forced


def _question_lines(lines: list[str]) -> int:
    """How many first lines of ``lines`` are a two-deep numbered heading with its
    text straight under it ("1.2. Where does the name come from?"), else 0.

    The heading ends at the first of its first three lines that ends in "?"
    or ":" (it may be the whole paragraph); else a whole paragraph of at most
    five lines (400 characters) that ends in "?", ":" or "." is one question
    (valgrind's FAQ wraps its questions); else the first line alone, without
    terminal punctuation, when the next line starts with a capital.
    """
    if len(lines) < 2 or not _DEEP.match(lines[0]) or not _NUMBERED.match(lines[0]):
        return 0
    for index, line in enumerate(lines[:3]):
        if line.rstrip().endswith(("?", ":")):
            return index + 1
    short = len(lines) <= 5 and sum(len(line.strip()) for line in lines) <= 400
    if short and lines[-1].rstrip()[-1:] in ("?", ":", "."):
        return len(lines)  # a question wrapped over its whole paragraph
    first = lines[0].rstrip()
    if first[-1] not in ".!,;" and lines[1].lstrip()[:1].isupper():
        return 1
    return 0


def parse_text(text: str, source: Path | str) -> Document:
    """Parse plain ``text`` read from ``source`` (used for the fallback title)."""
    paragraphs, forced = _paragraphs(text)
    builder = SectionBuilder()
    fallback = prettify_stem(source)
    if len(paragraphs) > 1 and (
        _is_heading_line(paragraphs[0], _TITLE_MAX) or _is_underlined(paragraphs[0])
    ):
        fallback = normalize_space(paragraphs.pop(0)[0])
    body = _body_indent(paragraphs)
    for i, lines in enumerate(paragraphs):
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        previous = paragraphs[i - 1] if i else None
        if id(lines) in forced:
            builder.heading(_join_lines(lines), forced[id(lines)])
        elif _in_toc(lines, following):
            continue
        elif _is_underlined(lines):
            builder.heading(lines[0], 1 if lines[1].lstrip().startswith("=") else 2)
        elif _is_command(lines, previous):
            builder.add(Block(kind="code", text=lines[0].strip()))
        elif (level := _heading_level(lines, following, body)) is not None:
            builder.heading(_join_lines(lines), level)
        elif (items := _list_items(lines)) is not None:
            ordered = lines[0].lstrip()[0].isdigit()
            builder.add(Block(kind="list", items=items, ordered=ordered))
        else:
            builder.add(Block(kind="paragraph", text=_join_lines(lines)))
    title, sections = builder.build(fallback)
    return Document(title=title, sections=sections, source=str(source), format="text")
