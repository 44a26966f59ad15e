"""What read badly in the corpus renders, each on the corpus document it was found on."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.plugins._sentences import ends_open, split_sentences
from reelgraph.plugins._text import read_source
from reelgraph.plugins.ingest.html import parse_html
from reelgraph.plugins.ingest.pdf import parse_pdf
from reelgraph.plugins.ingest.text import parse_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _html(name: str):
    path = CORPUS / "html" / name
    return parse_html(path.read_text(encoding="utf-8"), path)


# -- DocBook headings trafilatura dropped --------------------------------------------


def test_a_docbook_chapter_keeps_its_question_headings_in_order():
    # the Debian FAQ's French chapter 2 came out as one section: its h2 headings sit
    # in <div class="titlepage"> wrappers that trafilatura drops with the wrappers
    document = _html("debian-faq-getting-debian.fr.html")
    headings = [s.heading for s in document.sections]
    assert headings[0] == "Chapitre 2. Obtenir et installer Debian GNU/Linux"
    assert [h.split(" ", 1)[0] for h in headings[1:]] == [f"2.{n}." for n in range(1, 8)]
    assert all(s.level == 2 for s in document.sections[1:])
    # each question is followed by its own answer, not the next one's
    first = {s.heading.split(" ", 1)[0]: s.blocks[0].text for s in document.sections[1:]}
    assert first["2.1."].startswith("Actuellement il existe trois versions")
    assert first["2.4."].startswith("Installer Debian depuis un CD est tout simple")
    # nothing is read twice or lost: the paragraphs are those of the page, once each
    texts = [b.text for s in document.sections for b in s.blocks if b.text]
    assert len(texts) == len(set(texts))


def test_nested_docbook_headings_keep_their_levels():
    document = _html("debian-faq-support.de.html")
    levels = {s.heading.split(" ", 1)[0]: s.level for s in document.sections}
    assert levels["12.2."] == 2 and levels["12.2.1."] == 3 and levels["12.2.1.1."] == 4


def test_title_page_credits_are_not_headings():
    # DocBook's <h3 class="author"> names people: not sections of the text
    document = _html("users-and-groups.html")
    headings = [s.heading for s in document.sections]
    assert not {"Joey Hess", "Colin Watson", "David Mandelberg"} & set(headings)
    assert "Chapter 1. Introduction" in headings and "Chapter 2. Users and Groups" in headings


def test_a_page_trafilatura_keeps_the_headings_of_is_unchanged():
    document = _html("libffi-the-basics.html")
    assert [s.heading for s in document.sections] == ["2.1 The Basics"]


# -- a plain-text title behind a stray mark ---------------------------------------------


def test_the_shift_jis_faq_is_titled_by_its_title_line_not_its_file_name():
    # the file opens with a line holding only ">", then the centred title
    path = CORPUS / "text" / "debian-faq.ja.sjis.txt"
    document = parse_text(read_source(path), path)
    assert document.title == "Debian GNU/Linux FAQ"
    assert document.sections[0].heading == "Debian GNU/Linux FAQ"


def test_paragraphs_without_a_letter_or_digit_are_dropped():
    text = ">\n\n\n        A Centred Title\n\n-----------\n\nThe first paragraph.\n\n* * *\n\nMore."
    document = parse_text(text, "notes.txt")
    assert document.title == "A Centred Title"
    texts = [b.text for s in document.sections for b in s.blocks]
    assert texts == ["The first paragraph.", "More."]


# -- abbreviations that never end a sentence ---------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (  # pysbd ended the sentence at "см." before a capital
            "ru",
            "Термин свободное используется в значении GNU (см. Критерии Debian). Это важно.",
            ["Термин свободное используется в значении GNU (см. Критерии Debian).", "Это важно."],
        ),
        (  # and before a lower-case word after "т.е.", and at "ок."
            "ru",
            "Это т.е. пример. Мы ждём ок. 5 минут. Так, напр. Debian.",
            ["Это т.е. пример.", "Мы ждём ок. 5 минут.", "Так, напр. Debian."],
        ),
        (  # abbreviations that may end a sentence still end it
            "ru",
            "Вот пакеты, ядро и др. Ещё одна мысль.",
            ["Вот пакеты, ядро и др.", "Ещё одна мысль."],
        ),
        (
            "de",
            "Siehe dazu vgl. Abschnitt drei. Dann mehr.",
            ["Siehe dazu vgl. Abschnitt drei.", "Dann mehr."],
        ),
    ],
)
def test_no_sentence_ends_at_an_abbreviation_that_points_onwards(language, text, expected):
    assert split_sentences(text, language) == expected


def test_a_pdf_paragraph_goes_on_past_a_cross_reference_in_its_own_box():
    # "..., см." | "Раздел 16.2." were two paragraphs: the link is a text box of its own
    document = parse_pdf((CORPUS / "pdf" / "debian-faq.ru.pdf").read_bytes(), "faq.pdf")
    texts = [b.text for s in document.sections for b in s.blocks if b.text]
    assert not [t for t in texts if t.endswith(" см.")]
    assert any(t.endswith("Если даже это не помогло, см. Раздел 16.2.") for t in texts)
    assert "Раздел 16.2." not in texts
    assert ends_open("..., см.") and ends_open("siehe vgl.") and not ends_open("и т. д.")
