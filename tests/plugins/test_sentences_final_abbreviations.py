"""Sentence ends pysbd misses after an abbreviation that often ends a sentence ("usw.",
"и т. д.", "etc.") before a capital (issue 11), and the cases that must stay whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.plugins._sentences import split_sentences
from reelgraph.plugins._text import read_source
from reelgraph.plugins.ingest.html import parse_html
from reelgraph.plugins.writers import extractive
from reelgraph.run.context import NodeContext

GERMAN_FAQ = Path(__file__).resolve().parents[1] / "corpus" / "html" / "debian-faq-support.de.html"


def _german_policy_paragraph() -> str:
    document = parse_html(read_source(GERMAN_FAQ), GERMAN_FAQ.name)
    texts = [t for s in document.sections for b in s.blocks for t in [b.text, *b.items]]
    return next(t for t in texts if "Betriebssystems usw. Es" in t)  # a list item


def test_the_german_faq_sentence_after_usw_is_its_own() -> None:
    paragraph = _german_policy_paragraph()
    sentences = split_sentences(paragraph, "de")
    ending = next(s for s in sentences if "usw." in s)
    assert ending.endswith("bezüglich des Betriebssystems usw.")
    after = sentences[sentences.index(ending) + 1]
    assert after.startswith("Es beinhaltet auch die technischen Anforderungen")


def test_the_writer_no_longer_cuts_that_sentence_into_a_lower_case_tail(tmp_path) -> None:
    document = parse_html(read_source(GERMAN_FAQ), GERMAN_FAQ.name)
    script = extractive.write_script(
        document=document,
        duration_s=None,
        key_messages=[],
        feedback=[],
        options={"full": True},
        ctx=NodeContext.for_testing(tmp_path, node_id="script"),
    )
    said = [s for scene in script.scenes for s in scene.narration]
    assert not [s for s in said if s.startswith("die jedes Paket")]
    assert any(s.startswith("Es beinhaltet auch die technischen Anforderungen") for s in said)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "ru",
            "Debian работает на многих архитектурах: i386, amd64, arm64 и т. д. Список "
            "приведён в разделе 4.1.",
            [
                "Debian работает на многих архитектурах: i386, amd64, arm64 и т. д.",
                "Список приведён в разделе 4.1.",
            ],
        ),
        (
            "ru",
            "В архиве есть редакторы, игры и т. п. Их можно установить командой apt.",
            ["В архиве есть редакторы, игры и т. п.", "Их можно установить командой apt."],
        ),
        (
            "it",
            "Ci sono editor, giochi ecc. Sono tutti nell'archivio.",
            ["Ci sono editor, giochi ecc.", "Sono tutti nell'archivio."],
        ),
        (  # not a plausible sentence start: an acronym
            "ru",
            "Форматы PNG, JPEG и т. д. GNU поддерживает их все.",
            ["Форматы PNG, JPEG и т. д. GNU поддерживает их все."],
        ),
        (  # inside a parenthesis
            "ru",
            "Авторы (Иванов, Петров и т. д. Сидоров) работали вместе.",
            ["Авторы (Иванов, Петров и т. д. Сидоров) работали вместе."],
        ),
        (  # a lower-case word continues the sentence
            "de",
            "Man findet Editoren, Spiele usw. und viele andere Programme.",
            ["Man findet Editoren, Spiele usw. und viele andere Programme."],
        ),
        (  # "см." still never ends one
            "ru",
            "Подробнее см. Раздел 12.4 этого документа.",
            ["Подробнее см. Раздел 12.4 этого документа."],
        ),
    ],
)
def test_a_break_after_an_often_final_abbreviation_only_before_a_plausible_sentence(
    language, text, expected
) -> None:
    assert split_sentences(text, language) == expected
