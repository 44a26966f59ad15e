"""Plain-text headings on snippets cut from real documents (each case names its source).

Sources, as installed on the project's Debian 12 machine:

* the Debian FAQ's English text edition, package debian-faq 11.1,
  usr/share/doc/debian/FAQ/debian-faq.en.txt.gz (its permission notice allows
  modified copies); lines are copied with their indentation;
* valgrind 1:3.19.0-1, /usr/share/doc/valgrind/FAQ.txt.gz (GPL-2.0-or-later);
* xz-utils 5.4.1-1, /usr/share/doc/xz-utils/faq.txt.gz (public domain);
* zlib's README, tests/corpus/text/zlib-README.txt (Zlib licence);
* cpp-12 12.2.0, /usr/share/doc/cpp-12/NEWS.gz (GCC 12's release notes, GFDL).
"""

from __future__ import annotations

from reelgraph.models import Document
from reelgraph.plugins.ingest.text import parse_text


def _headings(document: Document) -> list[tuple[int, str]]:
    return [(s.level, s.heading) for s in document.sections if s.level > 0]


def _blocks(document: Document, heading: str) -> list[tuple[str, str]]:
    section = next(s for s in document.sections if s.heading == heading)
    return [(b.kind, b.text or " | ".join(b.items)) for b in section.blocks]


# debian-faq.en.txt lines 1-2, 255-272 (the end of the table of contents and the
# start of chapter 1), 415-425 (a question wrapped over three lines)
DEBIAN_FAQ_TOC_AND_CHAPTER = """\

                      The Debian GNU/Linux FAQ

Table of Contents

1. Definitions and overview
    1.1. What is this FAQ?
    1.2. What is Debian GNU/Linux?
15. Changes expected in the next major release of Debian
    15.1. Hardening the system
    15.2. Extended support for non-English users
16. General information about the FAQ
    16.1. Authors
    16.2. Feedback

Chapter 1. Definitions and overview

1.1. What is this FAQ?

    This document gives frequently asked questions (with their
    answers!) about the Debian distribution (Debian GNU/Linux and
    others) and about the Debian project.

1.5. What is the difference between Debian GNU/Linux and other Linux
distributions? Why should I choose Debian over some other
distribution?

    These key features distinguish Debian from other Linux
    distributions:

    Freedom:

        Debian is committed to free software.
"""


def test_debian_faq_chapter_heading_before_a_question_and_a_wrapped_question() -> None:
    document = parse_text(DEBIAN_FAQ_TOC_AND_CHAPTER, "debian-faq.en.txt")
    assert document.title == "The Debian GNU/Linux FAQ"
    assert _headings(document) == [
        (2, "Chapter 1. Definitions and overview"),
        (3, "1.1. What is this FAQ?"),
        (
            3,
            "1.5. What is the difference between Debian GNU/Linux and other Linux "
            "distributions? Why should I choose Debian over some other distribution?",
        ),
    ]
    # the table of contents is navigation: neither it nor its heading is read
    text = " ".join(b.text + " ".join(b.items) for s in document.sections for b in s.blocks)
    assert "Hardening the system" not in text and "Table of Contents" not in text
    # "Freedom:" (a definition term, indented like the body) is text, not a heading
    assert ("paragraph", "Freedom:") in _blocks(document, _headings(document)[2][1])


# debian-faq.en.txt lines 1469-1472: a question that opens with a bracket (a no-break
# space after its number, as the FAQ has)
DEBIAN_FAQ_JAVA = """\
                      The Debian GNU/Linux FAQ

5.7.\u00a0(How) Does Debian support Java?

    Several free implementations of Java technology are available as
    Debian packages.
"""


def test_a_numbered_question_may_open_with_a_bracket() -> None:
    document = parse_text(DEBIAN_FAQ_JAVA, "debian-faq.en.txt")
    assert _headings(document) == [(3, "5.7. (How) Does Debian support Java?")]


# debian-faq.en.txt line 2, lines 3173-3186 and 1322-1335 (commands shown after a
# colon, at the body's indent)
DEBIAN_FAQ_COMMANDS = """\
                      The Debian GNU/Linux FAQ

10.2. What tools does Debian provide to build custom kernels?

    Users who wish to (or must) build a custom kernel are encouraged
    to use the Debian package target included with recent versions of
    the kernel build system. After configuring the kernel, simply run
    the following command:

    make deb-pkg

    The new kernel package will be created in the directory one level
    above the kernel source tree, and it may be installed using dpkg
    -i.

4.6. How should I install a non-Debian program?

    the appropriate symbolic links from the required location to its
    location in /usr/local/, e.g., you could make the link

    ln -s /usr/local/bin/foo /usr/bin/foo

    In any case, if you obtain a package whose copyright allows
    redistribution, you should consider making a Debian package of
    it, and uploading it for the Debian system.
"""


def test_debian_faq_command_lines_are_code_not_headings() -> None:
    document = parse_text(DEBIAN_FAQ_COMMANDS, "debian-faq.en.txt")
    assert [h for _, h in _headings(document)] == [
        "10.2. What tools does Debian provide to build custom kernels?",
        "4.6. How should I install a non-Debian program?",
    ]
    kernels = _blocks(document, "10.2. What tools does Debian provide to build custom kernels?")
    assert kernels[1] == ("code", "make deb-pkg")
    assert kernels[2][0] == "paragraph"
    program = _blocks(document, "4.6. How should I install a non-Debian program?")
    # after "you could make the link" (no colon) the line is kept as text, never a heading
    assert program[1][1] == "ln -s /usr/local/bin/foo /usr/bin/foo"


# valgrind FAQ.txt lines 1-4, 15-30 and 68-76: a title underlined with tildes,
# headings boxed by rules, questions with the answer straight under them, a
# question wrapped over its whole paragraph
VALGRIND_FAQ = """\


Valgrind FAQ
Release 3.19.0 11 Apr 2022
~~~~~~~~~~~~~~~~~~~~~~~~~~

------------------------------------------------------------------------
1. Background
------------------------------------------------------------------------

1.1. How do you pronounce "Valgrind"? 
The "Val" as in the word "value". The "grind" is pronounced with a short 
'i' -- ie. "grinned" (rhymes with "tinned") rather than "grined" (rhymes 
with "find"). 

Don't feel bad: almost everyone gets it wrong at first. 
------------------------------------------------------------------------

------------------------------------------------------------------------
3. Valgrind aborts unexpectedly
------------------------------------------------------------------------

3.1. Programs run OK on Valgrind, but at exit produce a bunch of errors 
involving __libc_freeres and then die with a segmentation fault. 

When the program exits, Valgrind runs the procedure __libc_freeres in 
glibc. This is a hook for memory debuggers, so they can ask glibc to 
free up any memory it has used. 
"""  # noqa: W291 - the FAQ's lines end in a space


def test_valgrind_faq_boxed_headings_and_questions_over_their_answers() -> None:
    document = parse_text(VALGRIND_FAQ, "FAQ.txt")
    assert _headings(document) == [
        (2, "1. Background"),
        (3, '1.1. How do you pronounce "Valgrind"?'),
        (2, "3. Valgrind aborts unexpectedly"),
        (
            3,
            "3.1. Programs run OK on Valgrind, but at exit produce a bunch of errors "
            "involving __libc_freeres and then die with a segmentation fault.",
        ),
    ]
    answer = _blocks(document, '1.1. How do you pronounce "Valgrind"?')
    assert answer[0][1].startswith('The "Val" as in the word "value".')
    # the closing rule is not read as part of the last paragraph
    assert answer[1] == ("paragraph", "Don't feel bad: almost everyone gets it wrong at first.")


# xz-utils faq.txt lines 1-12: Q: and A: paragraphs
XZ_FAQ = """\

XZ Utils FAQ
============

Q:  What do the letters XZ mean?

A:  Nothing. They are just two letters, which come from the file format
    suffix .xz. The .xz suffix was selected, because it seemed to be
    pretty much unused. It has no deeper meaning.


Q:  What are LZMA and LZMA2?

A:  LZMA stands for Lempel-Ziv-Markov chain-Algorithm. It is the name
    of the compression algorithm designed by Igor Pavlov for 7-Zip.
"""


def test_xz_faq_questions_are_headings_and_answers_lose_their_marker() -> None:
    document = parse_text(XZ_FAQ, "faq.txt")
    assert document.title == "XZ Utils FAQ"
    assert _headings(document) == [
        (2, "What do the letters XZ mean?"),
        (2, "What are LZMA and LZMA2?"),
    ]
    ((kind, text),) = _blocks(document, "What do the letters XZ mean?")
    assert kind == "paragraph" and text.startswith("Nothing. They are just two letters")


# zlib-README.txt lines 105-113: a heading-like line ending in ":" introduces
# what follows; the copyright line, set one space in, heads the licence
ZLIB_README = """\
ZLIB DATA COMPRESSION LIBRARY

zlib 1.2.13 is a general purpose data compression library.  All the code is
thread safe.

Copyright notice:

 (C) 1995-2022 Jean-loup Gailly and Mark Adler

  This software is provided 'as-is', without any express or implied
  warranty.  In no event will the authors be held liable for any damages
  arising from the use of this software.
"""


def test_zlib_readme_colon_line_is_text_and_the_copyright_line_a_heading() -> None:
    document = parse_text(ZLIB_README, "README")
    assert document.title == "ZLIB DATA COMPRESSION LIBRARY"
    assert _headings(document) == [(2, "(C) 1995-2022 Jean-loup Gailly and Mark Adler")]
    assert ("paragraph", "Copyright notice:") in _blocks(document, document.title)


# debian-faq.ja.txt (debian-faq-ja 11.1), the chapter line and a question
# wrapped inside a word: Japanese wraps without a space
DEBIAN_FAQ_JA = """\
第1章定義と概要

1.6. Debian プロジェクトは Free Software Foundation の GNU プロジェク
トにとってどういう存在?

    Debian システムは Free Software Foundation (https://www.gnu.org/)
    と特に Richard Stallman (https://www.stallman.org/) により初めて
"""


def test_a_japanese_chapter_line_and_a_question_wrapped_mid_word() -> None:
    document = parse_text("Debian GNU/Linux FAQ\n\n" + DEBIAN_FAQ_JA, "faq.ja.txt")
    assert _headings(document) == [
        (2, "第1章定義と概要"),
        (
            3,
            "1.6. Debian プロジェクトは Free Software Foundation の GNU プロジェクトにとってどういう存在?",
        ),
    ]


# cpp-12 NEWS.gz lines 326-336: one-word headings in lower case (component names)
GCC_NEWS = """\
GCC 12 Release Series

Caveats

    * An ABI incompatibility between C and C++ when passing or returning by
      value certain aggregates containing zero width bit-fields has been
      discovered on various targets.

libgccjit

    * The libgccjit API gained 30 new entry points:
          o 17 new "reflection" entrypoints for querying functions and types
"""


def test_gcc_news_one_word_lower_case_headings_stay_headings() -> None:
    document = parse_text(GCC_NEWS, "NEWS")
    assert [h for _, h in _headings(document)] == ["Caveats", "libgccjit"]
