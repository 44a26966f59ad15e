"""What read badly in the corpus renders, each on the corpus document it was found on."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from reelgraph.plugins._language import passage_languages
from reelgraph.plugins._sentences import ends_open, split_sentences
from reelgraph.plugins._text import read_source
from reelgraph.plugins.ingest.html import parse_html
from reelgraph.plugins.ingest.pdf import parse_pdf
from reelgraph.plugins.ingest.text import parse_text
from reelgraph.plugins.speech.espeak import _passages, synthesize_speech, synthesize_to_wav
from reelgraph.run.context import NodeContext

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


# -- English passages in a non-English document ------------------------------------------

FAQ_FR = [
    "2.6. Puis-je installer directement depuis un site Internet distant ?",
    "Yes.",
    "You can boot the Debian installation system from a set of files you can download.",
    "NB: not all methods are supported.",
    "Une fois l'installateur démarré, le reste du système peut être téléchargé.",
]


def test_passage_languages_finds_the_untranslated_english_sentences():
    # the Debian FAQ's French chapter 2 answers question 2.6 in English, "Yes." first
    assert passage_languages(FAQ_FR, "fr") == [None, "en", "en", "en", None]
    assert passage_languages(FAQ_FR, "en") == [None] * 5  # English documents: nothing to find
    assert passage_languages(FAQ_FR, None) == [None] * 5


def test_corpus_sentences_detected_as_english_in_other_documents_are_english():
    # the threshold's evidence: the German FAQ's English paragraph, and no German one
    path = CORPUS / "text" / "debian-faq.de.utf16.txt"
    document = parse_text(read_source(path), path)
    sentences = [
        s for sec in document.sections for b in sec.blocks for s in split_sentences(b.text, "de")
    ]
    found = [s for s, tag in zip(sentences, passage_languages(sentences, "de"), strict=True) if tag]
    assert len(found) >= 3
    assert all(" the " in f" {s} " or s.startswith("The ") for s in found), found


def test_the_french_faqs_english_answers_are_found_with_their_yes_and_nothing_french():
    # chapter 2 answers questions 2.6 and 2.7 in English, each starting "Yes."
    document = _html("debian-faq-getting-debian.fr.html")
    found = []
    for section in document.sections:
        for block in section.blocks:
            sentences = split_sentences(block.text, "fr") if block.text else []
            tags = passage_languages(sentences, "fr")
            found += [s for s, tag in zip(sentences, tags, strict=True) if tag == "en"]
    assert found.count("Yes.") == 2
    assert "See the Debian GNU/Linux Installation Guide for more information." in found
    french = re.compile(r"[éèêàçù]|\b(?:le|la|les|des|une|est|pour|vous)\b", re.IGNORECASE)
    assert not [s for s in found if french.search(s)], found


def _likeness(a, b) -> float:
    """Best normalised cross-correlation of 1 s of ``a`` (from 0.5 s) with ``b``, within
    +-500 samples: espeak's output varies by a few samples from run to run (measured:
    0.73-0.79 for the same voice and text, 0.02-0.03 for en-us against fr)."""

    def samples(path):
        with wave.open(str(path), "rb") as wav:
            return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(float)

    x, y = samples(a), samples(b)
    window = x[11_025:33_075]
    best = 0.0
    for lag in range(-500, 501):
        other = y[11_025 + lag : 33_075 + lag]
        norm = np.sqrt(np.dot(window, window) * np.dot(other, other))
        best = max(best, float(np.dot(window, other) / norm) if norm else 0.0)
    return best


def test_english_passages_are_read_by_the_english_voice(tmp_path):
    narration = synthesize_speech(FAQ_FR, None, 140, {}, NodeContext.for_testing(tmp_path), "fr")
    assert narration.voice == "espeak:fr"
    english = synthesize_to_wav(FAQ_FR[2], tmp_path / "en.wav", "en-us", 140, "en")
    french = synthesize_to_wav(FAQ_FR[2], tmp_path / "fr.wav", "fr", 140, "fr")
    assert _likeness(narration.segments[2].path, english.path) > 0.4
    assert _likeness(narration.segments[2].path, french.path) < 0.15
    question = synthesize_to_wav(FAQ_FR[4], tmp_path / "q.wav", "fr", 140, "fr")
    assert _likeness(narration.segments[4].path, question.path) > 0.4  # French stays French


def test_a_voice_the_user_named_reads_everything(tmp_path):
    narration = synthesize_speech(FAQ_FR, "fr", 140, {}, NodeContext.for_testing(tmp_path), "fr")
    french = synthesize_to_wav(FAQ_FR[2], tmp_path / "fr.wav", "fr", 140, "fr")
    assert _likeness(narration.segments[2].path, french.path) > 0.4


def test_a_short_sentence_follows_the_passage_beside_it_not_a_lone_one():
    # "Yes." alone is Kabyle to the detector; of French and English alone, English
    # (0.86): it joins the English answer it starts, and stays French alone
    lone = ["Puis-je installer Debian depuis un site distant ?", "Yes.", FAQ_FR[4]]
    assert passage_languages(lone, "fr") == [None, None, None]
    # the French FAQ's "See the ... Installation Guide" (English at 0.56 over all
    # languages) follows the English answer; French sentences beside it do not
    after = [
        "Once the installer has booted, the rest of the system can be downloaded.",
        "See the Debian GNU/Linux Installation Guide for more information.",
        "La distribution « unstable ».",
        "Oui.",
    ]
    assert passage_languages(after, "fr") == ["en", "en", None, None]
    # a run of short ones joins one by one; German "Siehe unten." does not
    run = ["Yes.", "See below.", FAQ_FR[2], "Siehe unten."]
    assert passage_languages(run, "de") == ["en", "en", "en", None]


JA_FAQ = [
    "正式に Debian GNU/Linux の一部であるパッケージは全て自由に再配布できます。",
    "The Debian archives also carry approximately 1000 software packages (in the "
    "non-free and contrib sections), which are distributable under specific terms "
    "included with each package.",
    "The archives are updated twice every day.",
    "Debian GNU/Linux は:",
    "Debian GNU/Linux FAQ。",
]


def test_english_in_chinese_japanese_and_korean_documents_switches_voice():
    # the Japanese FAQ's untranslated sentences; a Japanese sentence with Latin names
    # ("Debian GNU/Linux は:") stays Japanese, and so does a lone short Latin title
    assert _passages(JA_FAQ, [None] * 5, "ja") == [None, "en-us", "en-us", None, None]
    assert _passages(JA_FAQ[1:3], [None] * 2, "zh") == ["en-us", "en-us"]
    assert _passages(JA_FAQ[1:3], [None] * 2, "ko") == ["en-us", "en-us"]


def test_an_english_sentence_in_a_japanese_scene_is_spoken_at_english_pace(tmp_path):
    # the Japanese voice spelled it out (41.9 s) and was slowed to 4 characters a
    # second for its captions (51.8 s in the corpus render); English captions read at 17
    narration = synthesize_speech(
        JA_FAQ[1:3], None, 165, {}, NodeContext.for_testing(tmp_path), "ja"
    )
    assert narration.voice == "espeak:ja"
    english = synthesize_to_wav(JA_FAQ[1], tmp_path / "en.wav", "en-us", 165, "en")
    assert abs(narration.segments[0].duration_s - english.duration_s) < 0.5
    assert narration.segments[0].duration_s < 13
    assert _likeness(narration.segments[0].path, english.path) > 0.4


def test_documents_in_other_scripts_keep_their_voice_for_english():
    # espeak's Russian voice already reads Latin words by English rules
    english = FAQ_FR[2]
    assert _passages([english, FAQ_FR[4]], [None, None], "fr") == ["en-us", None]
    assert _passages([english, "Это предложение написано по-русски."], [None, None], "ru") == [
        None,
        None,
    ]
    # a sentence with prepared speech is spoken as prepared
    assert _passages([english], ["<speak>prepared</speak>"], "fr") == [None]
