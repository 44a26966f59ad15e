"""Language detection, per-language sentence segmentation, and the script's language.

Real text: the Vim tutor in seven languages (``/usr/share/vim/vim90/tutor``,
Debian's vim-runtime, written by the Vim translators) and systemd's message
catalogs (``/usr/lib/systemd/catalog``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Section
from reelgraph.plugins._language import (
    detect_language,
    document_language,
    normalize_tag,
    script_language,
)
from reelgraph.plugins._sentences import (
    CLOSING_PUNCTUATION,
    MAX_SENTENCE_CHARS,
    MAX_SENTENCE_CHARS_NO_SPACES,
    end_sentence,
    split_sentences,
)
from reelgraph.plugins.ingest import text as ingest_text
from reelgraph.plugins.writers import extractive
from reelgraph.run.context import NodeContext

TUTOR = Path("/usr/share/vim/vim90/tutor")
TUTORS = {
    "en": "tutor",
    "de": "tutor.de.utf-8",
    "fr": "tutor.fr.utf-8",
    "es": "tutor.es.utf-8",
    "ru": "tutor.ru.utf-8",
    "ja": "tutor.ja.utf-8",
    "zh": "tutor.zh_cn.utf-8",
}
CATALOGS = Path("/usr/lib/systemd/catalog")


def _prose(language: str) -> str:
    """The tutor's opening paragraphs: indented prose lines before the first lesson."""
    path = TUTOR / TUTORS[language]
    if not path.is_file():
        pytest.skip(f"{path} is not installed (Debian package vim-runtime)")
    text = path.read_text(encoding="utf-8")
    head = text.split("~~~~~~~~~~", 1)[0]
    lines = [line.strip() for line in head.splitlines()[3:]]
    return " ".join(line for line in lines if line and not line.startswith("="))


@pytest.mark.parametrize("language", sorted(TUTORS))
def test_detects_the_language_of_real_prose(language):
    assert detect_language(_prose(language)) == language


@pytest.mark.parametrize("language", ["de", "fr", "ru", "zh_CN"])
def test_detects_the_language_of_systemd_catalog_messages(language):
    path = CATALOGS / f"systemd.{language}.catalog"
    if not path.is_file():
        pytest.skip(f"{path} is not installed")
    body = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "--")) and ":" not in line[:20]
    ]
    assert detect_language(" ".join(body)[:3000]) == language.split("_")[0]


def test_too_little_text_is_no_answer():
    assert detect_language("") is None
    assert detect_language("pip install x") is None  # under MIN_LETTERS


def _document(paragraphs: list[str], *, language: str | None = None, code: str = "") -> Document:
    blocks = [Block(kind="paragraph", text=p) for p in paragraphs]
    if code:
        blocks.insert(0, Block(kind="code", text=code, language="python"))
    return Document(
        title="Guide",
        sections=[Section(heading="Guide", level=1, blocks=blocks)],
        language=language,
    )


def test_a_declared_language_is_kept_unless_the_prose_is_surely_another_and_code_is_not_read():
    french = _prose("fr")
    assert document_language(_document([french])) == "fr"
    # the declaration agrees with the prose: its region is kept
    assert document_language(_document([french], language="fr-ca")) == "fr-CA"
    # a Word template's en-US (or any wrong declaration) loses to prose surely French
    assert document_language(_document([french], language="de-de")) == "fr"
    assert document_language(_document([french], language="en-US")) == "fr"
    # too little prose to be sure: the declaration stands
    assert document_language(_document(["Oui."], language="fr-be")) == "fr-BE"
    # a long English code block does not outvote the French prose
    code = "def install(package):\n    return run(['pip', 'install', package])\n" * 40
    assert document_language(_document([french], code=code)) == "fr"


def test_language_tags_are_normalised_or_refused():
    assert normalize_tag("EN_us") == "en-US"
    assert normalize_tag("zh-hans-cn") == "zh-Hans-CN"
    with pytest.raises(InvalidInputError, match="not a BCP 47"):
        normalize_tag("French language")
    assert script_language("カーソルを移動") == "ja"
    assert script_language("移动光标") == "zh"
    assert script_language("Move the cursor") is None


# -- segmentation ------------------------------------------------------------------


def test_english_keeps_abbreviations_versions_and_initials():
    text = "Install Python 3.11 first, e.g. with pyenv. Dr. J. R. Smith wrote it. Done!"
    assert split_sentences(text, "en") == [
        "Install Python 3.11 first, e.g. with pyenv.",
        "Dr. J. R. Smith wrote it.",
        "Done!",
    ]


def test_chinese_and_japanese_end_sentences_at_full_width_marks():
    zh = _prose("zh")
    sentences = split_sentences(zh, "zh")
    assert len(sentences) >= 3
    assert all(s[-1] in "。！？」" or s is sentences[-1] for s in sentences)
    assert "".join(sentences).replace(" ", "") == zh.replace(" ", "")
    ja = "今日は晴れです。明日は雨でしょうか？「そうですね！」と彼は言った。"
    assert split_sentences(ja, "ja") == [
        "今日は晴れです。",
        "明日は雨でしょうか？",
        "「そうですね！」と彼は言った。",
    ]
    # without a language, full-width marks still end sentences
    assert split_sentences("你好。再见！", None) == ["你好。", "再见！"]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "de",
            "Das ist z. B. ein Test. Er kam am 3. Mai. Dr. Müller sagt Nein.",
            ["Das ist z. B. ein Test.", "Er kam am 3. Mai.", "Dr. Müller sagt Nein."],
        ),
        (
            "fr",
            "M. Dupont est arrivé. Il a installé la version 3.11 hier ! Tout va bien.",
            ["M. Dupont est arrivé.", "Il a installé la version 3.11 hier !", "Tout va bien."],
        ),
        (
            "es",
            "¿Dónde está el cursor? Pulse la tecla j. La versión 3.11 funciona bien.",
            ["¿Dónde está el cursor?", "Pulse la tecla j.", "La versión 3.11 funciona bien."],
        ),
        (
            "ru",
            "Это тест. Версия 3.11 вышла! Всё хорошо?",
            ["Это тест.", "Версия 3.11 вышла!", "Всё хорошо?"],
        ),
        (
            "ko",
            "이것은 테스트입니다. 다음 문장입니다!",
            ["이것은 테스트입니다.", "다음 문장입니다!"],
        ),
    ],
)
def test_sentences_split_by_each_languages_rules(language, text, expected):
    assert split_sentences(text, language) == expected


@pytest.mark.parametrize("language", ["de", "fr", "es", "ru", "ja"])
def test_real_tutor_prose_splits_into_bounded_sentences_keeping_every_word(language):
    prose = _prose(language)
    sentences = split_sentences(prose, language)
    assert len(sentences) >= 2
    assert " ".join(sentences).split() == prose.split() or "".join(sentences).replace(
        " ", ""
    ) == prose.replace(" ", "")


def test_a_40000_word_line_without_a_sentence_mark_is_bounded_and_fast():
    words = _prose("en").replace(".", "").split()
    text = " ".join(words[k % len(words)] for k in range(40_000))
    started = time.perf_counter()
    sentences = split_sentences(text, "en")
    assert time.perf_counter() - started < 5
    assert max(map(len, sentences)) <= MAX_SENTENCE_CHARS
    assert " ".join(sentences).split() == text.split()


def test_long_clauses_are_cut_at_a_clause_mark_before_words():
    clause = "the cursor moves down one line when you press the key"
    text = f"{clause} {clause} {clause}, {clause} {clause} {clause}."
    assert len(text) > MAX_SENTENCE_CHARS
    assert split_sentences(text, "en")[0].endswith(f"{clause},")


def test_long_chinese_text_is_cut_between_characters_never_before_closing_marks():
    zh = _prose("zh").replace("。", "，")  # one endless sentence
    text = zh * 8
    sentences = split_sentences(text, "zh")
    assert max(map(len, sentences)) <= MAX_SENTENCE_CHARS_NO_SPACES
    assert not any(s[0] in CLOSING_PUNCTUATION for s in sentences)
    assert "".join(sentences).replace(" ", "") == text.replace(" ", "")


def test_english_quoted_in_japanese_is_never_cut_mid_word():
    # The Japanese Debian FAQ leaves some paragraphs in English: the 100-character
    # bound for Japanese cut "software" into "sof" and "tware".
    english = (
        "The Debian archives also carry approximately 1000 software packages (in the "
        "non-free and contrib sections), which are distributable under specific terms "
        "included with each package."
    )
    assert split_sentences(english, "ja") == [english]
    mixed = (
        "正式に Debian GNU/Linux の一部であるパッケージは全て、" * 3 + "Debianarchivessoftware" * 4
    )
    for sentence in split_sentences(mixed + "。", "ja"):
        assert len(sentence) <= MAX_SENTENCE_CHARS_NO_SPACES
    pieces = split_sentences("あ" * 90 + " approximately 1000 software packages", "ja")
    assert all(
        not re.search(r"[a-z]$", a) or not re.match(r"[a-z]", b)
        for a, b in zip(pieces, pieces[1:], strict=False)
    )


def test_a_closing_bracket_stays_with_its_sentence():
    # pysbd ended the Japanese FAQ's sentence at the "!" inside "(その回答も!)"
    text = "よく聞かれる疑問 (その回答も!) を集めています。他の文書も参照してください。"
    assert split_sentences(text, "ja") == [
        "よく聞かれる疑問 (その回答も!) を集めています。",
        "他の文書も参照してください。",
    ]


def test_sentences_end_with_their_languages_full_stop():
    assert end_sentence("请随意移动光标", "zh") == "请随意移动光标。"
    assert end_sentence("カーソルを移動しましょう、", "ja") == "カーソルを移動しましょう。"
    assert end_sentence("Install it:", "en") == "Install it."
    assert end_sentence("Bonjour !", "fr") == "Bonjour !"


# -- the writer ------------------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _script(path: Path, ctx: NodeContext, **options):
    document = ingest_text.ingest_document(source=path, format="text", ctx=ctx)
    return extractive.write_script(
        document=document, duration_s=None, key_messages=[], feedback=[], options=options, ctx=ctx
    )


@pytest.mark.parametrize("language", ["fr", "de", "ja", "zh"])
def test_the_script_records_the_detected_language(language, tmp_path, ctx):
    source = tmp_path / "tutor.txt"
    source.write_text(_prose(language), encoding="utf-8")
    script = _script(source, ctx)
    assert script.language == language
    spoken = [s for scene in script.scenes for s in scene.narration]
    if language in ("ja", "zh"):
        body = [s for s in spoken if re.search(r"[\u3040-\u9fff]", s)]
        assert len(body) >= 2
        assert all(s.endswith(("。", "！", "？", "」", "!", "?")) for s in body)
        assert not any(re.search(r"[\u3040-\u9fff] [\u3040-\u9fff]", s) for s in body)
        assert all(len(s) <= MAX_SENTENCE_CHARS_NO_SPACES + 1 for s in body)


def test_an_explicit_language_overrides_detection_and_bad_tags_are_refused(tmp_path, ctx):
    source = tmp_path / "tutor.txt"
    source.write_text(_prose("fr"), encoding="utf-8")
    assert _script(source, ctx, language="fr-CA").language == "fr-CA"
    with pytest.raises(InvalidInputError, match="BCP 47"):
        _script(source, ctx, language="français")
