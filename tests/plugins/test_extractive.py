"""Tests of the extractive scriptwriter and the text helpers it uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reelgraph.plugins.gates.spoken_text as gate_spoken_text
import reelgraph.plugins.ingest.html as ingest_html
import reelgraph.plugins.ingest.markdown as ingest_markdown
import reelgraph.plugins.ingest.rst as ingest_rst
import reelgraph.plugins.ingest.text as ingest_text
import reelgraph.plugins.writers.extractive as extractive
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Script, Section
from reelgraph.plugins._text import (
    clean_for_speech,
    shorten,
    split_clause,
    split_sentences,
    words,
)
from reelgraph.run.context import NodeContext

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
UNSPEAKABLE = re.compile(r"https?://|www\.|\*\*|[#`\[\]|<>_*]|\]\(|[\U0001F300-\U0001FAFF]")
# Phrases the writer may add; everything else must come from the document.
CONNECTIVES = set(
    words("for example that is and so on here is a an python shell example we covered "
          "that concludes this overview of")
)  # fmt: skip


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _ingest(name: str, ctx: NodeContext) -> Document:
    path = DOCS / name
    for module in (ingest_markdown, ingest_html, ingest_text):
        doc = module.ingest_document(source=path, format=None, ctx=ctx)
        if doc is not None:
            return doc
    raise AssertionError(name)


def _write(doc: Document, ctx: NodeContext, **kwargs) -> Script:
    args = {"duration_s": None, "key_messages": [], "feedback": [], "options": {}}
    args.update(kwargs)
    return extractive.write_script(document=doc, ctx=ctx, **args)


def _estimate_s(script: Script) -> float:
    """The writer's documented estimate: 160 words per minute plus 1 s per scene."""
    n_words = sum(len(s.split()) for scene in script.scenes for s in scene.narration)
    return n_words / 160 * 60 + len(script.scenes) * 1.0


def _sections(script: Script) -> set[str]:
    return {scene.section for scene in script.scenes if scene.section}


@pytest.mark.parametrize("name", ["guide.md", "page.html", "notes.txt"])
def test_script_shape_and_clean_narration(name: str, ctx: NodeContext) -> None:
    doc = _ingest(name, ctx)
    script = _write(doc, ctx)
    scenes = script.scenes
    assert [s.index for s in scenes] == list(range(len(scenes)))
    assert scenes[0].kind == "title" and scenes[0].title == doc.title
    assert scenes[-1].kind == "closing"
    assert {s.kind for s in scenes[1:-1]} <= {"content", "code"}
    assert any(s.kind == "content" for s in scenes)
    source_words = set(words(Path(doc.source).read_text("utf-8")))
    for scene in scenes:
        assert scene.narration, scene
        for sentence in scene.narration:
            assert not UNSPEAKABLE.search(sentence), sentence
            assert sentence[-1] in ".!?", sentence
        if scene.kind == "content":
            assert 2 <= len(scene.bullets) <= 6, scene
            assert all(len(b) <= 70 for b in scene.bullets), scene.bullets
            assert not any(UNSPEAKABLE.search(b.replace("_", "")) for b in scene.bullets)
            for sentence in scene.narration:  # extractive: no invented words
                assert set(words(sentence)) - CONNECTIVES <= source_words, sentence
        else:
            assert scene.bullets == []


def test_title_and_code_scenes(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    script = _write(doc, ctx)
    title = script.scenes[0]
    assert title.narration[0] == "Tiny Tasks."
    assert title.narration[1] == "Tiny Tasks is a small task runner for Python 3.11 projects."
    assert "for example linting, testing and packaging" in title.narration[2]
    codes = [s for s in script.scenes if s.kind == "code"]
    assert [(c.code_language, c.narration) for c in codes] == [
        ("bash", ["Install it with pip."]),  # the sentence introducing the block
        ("python", ["Here is a Python example."]),
    ]
    assert codes[0].code == "pip install tiny-tasks"
    python = codes[1].code.splitlines()
    assert len(python) == 14 and python[-1] == "..."  # 17 lines trimmed
    assert python[0] == "import tomllib"
    spoken = " ".join(s for scene in script.scenes for s in scene.narration)
    for block in (b for sec in doc.sections for b in sec.blocks if b.kind == "code"):
        for line in block.text.splitlines():
            if len(line.strip()) > 6:
                assert line.strip() not in spoken, line


def test_sections_become_scenes_with_list_bullets(ctx: NodeContext) -> None:
    script = _write(_ingest("guide.md", ctx), ctx)
    by_title = {s.title: s for s in script.scenes}
    features = by_title["Features"]
    assert features.bullets == [
        "Runs tasks in order and stops at the first failure",
        "Caches results between runs, see the cache guide",
        "Nested items are flattened into the list",
        "Prints a summary with timings",
        "Works offline",
    ]
    assert features.narration[0] == "Runs tasks in order and stops at the first failure."
    config = [s for s in script.scenes if s.section == "Configuration" and s.kind == "content"]
    assert [s.title for s in config] == ["Configuration"] + ["Configuration (continued)"] * 2
    assert all(len(s.narration) <= 5 for s in config)
    assert sum(len(s.narration) for s in config) == 12  # 9 + image alt + 2 quote sentences
    closing = script.scenes[-1]
    assert closing.narration == [
        "We covered Installation, Features, Configuration, and License.",
        "That concludes this overview of Tiny Tasks.",
    ]


def test_duration_shrinks_the_script(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    full = _write(doc, ctx)
    assert _estimate_s(full) > 60
    for target in (60.0, 30.0):
        short = _write(doc, ctx, duration_s=target)
        assert _estimate_s(short) <= target
        assert short.scenes[0].kind == "title" and short.scenes[-1].kind == "closing"
        assert all(scene.narration for scene in short.scenes)
        assert [s.index for s in short.scenes] == list(range(len(short.scenes)))
        kept = [s for scene in short.scenes for s in scene.narration]
        everything = [s for scene in full.scenes for s in scene.narration]
        assert len(kept) < len(everything)
    # earlier sentences of a section outrank later ones
    short = _write(doc, ctx, duration_s=60.0)
    config = next(s for s in short.scenes if s.title == "Configuration")
    assert config.narration[0] == "Each task has a name, a command and optional dependencies."


def test_key_message_keeps_its_section(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    assert "License" not in _sections(_write(doc, ctx, duration_s=20.0))
    kept = _write(doc, ctx, duration_s=20.0, key_messages=["the MIT license"])
    assert "License" in _sections(kept)
    assert _estimate_s(kept) <= 20.0
    assert any("MIT license" in s for scene in kept.scenes for s in scene.narration)
    fed_back = _write(doc, ctx, duration_s=20.0, feedback=["missing key message: MIT license"])
    assert "License" in _sections(fed_back)
    # a key message in the opening paragraph keeps its sentence in the title scene
    plain = _write(doc, ctx, duration_s=20.0).scenes[0].narration
    assert not any("packaging" in s for s in plain)
    opening = _write(doc, ctx, duration_s=20.0, key_messages=["linting and packaging"])
    assert any("packaging" in s for s in opening.scenes[0].narration)


def test_feedback_too_long_shortens_by_a_fifth(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    full = _estimate_s(_write(doc, ctx))
    shorter = _write(doc, ctx, feedback=["Video is too long; shorten it.", "unrelated note"])
    assert _estimate_s(shorter) <= 0.8 * full
    assert _estimate_s(shorter) > 0.5 * full
    assert _write(doc, ctx, feedback=["looks great"]) == _write(doc, ctx)


def test_feedback_accumulated_over_revisions_keeps_shortening(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    full = _estimate_s(_write(doc, ctx))
    once = _estimate_s(_write(doc, ctx, feedback=["too long: shorten by about 5 s"]))
    twice = _estimate_s(_write(doc, ctx, feedback=["too long: shorten by about 5 s"] * 2))
    asked = _estimate_s(
        _write(doc, ctx, feedback=[f"too long: shorten by about {full * 0.5:.0f} s"])
    )
    assert twice < once <= 0.8 * full  # a second request cuts again
    assert asked <= full * 0.5 + 1  # the seconds asked for are honoured


def test_options(ctx: NodeContext) -> None:
    doc = _ingest("guide.md", ctx)
    script = _write(
        doc, ctx, options={"max_bullets": 3, "max_code_lines": 5, "max_sentences_per_scene": 2}
    )
    contents = [scene for scene in script.scenes if scene.kind == "content"]
    assert all(2 <= len(scene.bullets) <= 3 for scene in contents)
    sizes = [len(scene.narration) for scene in contents]
    assert max(sizes) <= 3 and sizes.count(3) <= 2 and sizes.count(2) >= 4, sizes
    for scene in script.scenes:
        if scene.kind == "code":
            assert len(scene.code.splitlines()) <= 5
    with pytest.raises(InvalidInputError, match="unknown extractive option 'max_bulets'"):
        _write(doc, ctx, options={"max_bulets": 3})
    with pytest.raises(InvalidInputError, match="'max_bullets' must be a number from 2 to 6"):
        _write(doc, ctx, options={"max_bullets": 9})
    with pytest.raises(InvalidInputError, match="duration_s"):
        _write(doc, ctx, duration_s=0)


def test_nothing_to_narrate_is_rejected(ctx: NodeContext) -> None:
    doc = Document(
        title="Only code",
        sections=[
            Section(heading="Only code", level=1, blocks=[Block(kind="code", text="x = 1")]),
            Section(
                heading="Links", level=2, blocks=[Block(kind="paragraph", text="https://a.b/c")]
            ),
        ],
    )
    with pytest.raises(InvalidInputError, match="no sentence to narrate"):
        _write(doc, ctx)


def test_single_sentence_section_still_gets_two_bullets(ctx: NodeContext) -> None:
    doc = Document(
        title="T",
        sections=[
            Section(heading="A", level=2, blocks=[Block(kind="list", items=["One", "Two"])]),
            Section(heading="B", level=2, blocks=[Block(kind="paragraph", text="Tiny Tasks is released under the MIT license.")]),
        ],
    )  # fmt: skip
    scene = next(s for s in _write(doc, ctx).scenes if s.title == "B")
    assert scene.bullets == ["Tiny Tasks is released", "Under the MIT license"]
    assert scene.narration == ["Tiny Tasks is released under the MIT license."]


# -- text helpers -------------------------------------------------------------


def test_split_sentences_keeps_versions_and_abbreviations() -> None:
    text = "Use Python 3.11. It works, e.g. on Linux. Dr. Smith agrees! Ask J. R. Doe. Why? Done"
    assert split_sentences(text) == [
        "Use Python 3.11.",
        "It works, e.g. on Linux.",
        "Dr. Smith agrees!",
        "Ask J. R. Doe.",
        "Why?",
        "Done",
    ]


def test_clean_for_speech() -> None:
    assert clean_for_speech("See **docs** at https://x.io/a (or www.x.io) 🚀, e.g. `run_all`.") == (
        "See docs at, for example run all."
    )
    assert (
        clean_for_speech("A -> B & C, i.e. apples etc.")
        == "A to B and C, that is apples and so on."
    )
    assert clean_for_speech("🎉 ✨") == ""
    assert clean_for_speech("<b>Bold</b> | cell | # heading") == "Bold cell heading"


_PIECES = [*"ab .,*_#`[]()|<>:/!", "http://", "https://x.y", "www.", "\U0001f680", "e.g."]


@given(st.lists(st.sampled_from(_PIECES)).map("".join))
def test_clean_for_speech_never_leaves_markup(text: str) -> None:
    assert not UNSPEAKABLE.search(clean_for_speech(text))


def test_shorten_and_split_clause() -> None:
    line = "Validation before a cent is spent, cycles reported with their path, and unknown names"
    short = shorten(line, 70)
    assert len(short) <= 70 and short.endswith("\u2026")
    assert short == "Validation before a cent is spent, cycles reported with their path\u2026"
    assert shorten("Fits.", 70) == "Fits"
    assert split_clause("Install it, then run it") == ["Install it", "Then run it"]
    assert split_clause("Real programs (espeak, ffmpeg, Pillow), all installed by pip") == [
        "Real programs (espeak, ffmpeg, Pillow)",
        "All installed by pip",
    ]


# -- never narrating markup, links, paths or code ------------------------------
# The sentences below are quoted from the long descriptions of installed
# packages (pytest, httpx, Pillow, jsonschema: MIT; networkx: BSD-3-Clause;
# Pillow's is MIT-CMU) and from GNU coreutils' README (GPL-3.0+, verbatim
# copies permitted), for testing only.


def _markdown(text: str, tmp_path: Path, ctx: NodeContext) -> Document:
    path = tmp_path / "doc.md"
    path.write_text(text, "utf-8")
    doc = ingest_markdown.ingest_document(source=path, format=None, ctx=ctx)
    assert doc is not None
    return doc


def _narration(doc: Document, ctx: NodeContext, **kwargs) -> list[str]:
    return [s for scene in _write(doc, ctx, **kwargs).scenes for s in scene.narration]


DANGLING = """# pytest

## Documentation

For full documentation, including installation, tutorials and PDF documents, please see https://docs.pytest.org/en/stable/.

Project documentation is available at [https://www.python-httpx.org/](https://www.python-httpx.org/).

Please report any bugs that you find [here](https://github.com/networkx/networkx/issues).

[Learn more.](https://tidelift.com/subscription/pkg/pypi-pytest)

jsonschema is on GitHub https://github.com/python-jsonschema/jsonschema.

Source code: https://github.com/python-jsonschema/jsonschema

Support for Python 3.14 is here.

The pytest framework makes it easy to write small tests, yet scales to support complex functional testing for applications and libraries.

Consult the [Changelog](https://docs.pytest.org/en/stable/changelog.html) page for fixes and enhancements of each version.
"""


def test_dangling_sentences_are_rewritten_or_dropped(tmp_path, ctx) -> None:
    said = _narration(_markdown(DANGLING, tmp_path, ctx), ctx)
    # the link ended the sentence and the rest still says something: rewritten
    assert "Project documentation is available." in said
    # nothing meaningful left once the link is gone: dropped
    assert not [s for s in said if s.startswith("For full documentation")]
    assert not [s for s in said if "bugs that you find" in s]
    assert "Learn more." not in said
    assert "jsonschema is on GitHub." in said  # the link ended it, the sentence stands
    assert "Support for Python 3.14 is here." in said  # "here" points at nothing
    assert not [s for s in said if s.startswith("Source code")]  # only a label was left
    # a link inside the sentence keeps its text; plain prose is untouched
    assert "Consult the Changelog page for fixes and enhancements of each version." in said
    assert not [s for s in said if re.search(r"\b(?:at|see|via|to)\.$", s)]


INTRODUCTIONS = """# Pillow

## Support

Development is supported by:

- Tidelift (since 2018)
- Thanks.dev (since 2023)
- GitHub Sponsors (since 2026)

## Features

HTTPX builds on the well-established usability of requests, and gives you:

- A broadly requests-compatible API with a few additions that make it easier.
- An integrated command-line client that prints responses in colour.

## Utilities

The programs that can be built with this package are:

arch b2sum base32 base64 basename cat chmod.

## Install

Two extras are available, including:

| Extra | Purpose |
|-------|---------|
| format | format validation |
"""


def test_list_introductions_keep_their_meaning(tmp_path, ctx) -> None:
    said = _narration(_markdown(INTRODUCTIONS, tmp_path, ctx), ctx)
    # a short list is read as one series after its introduction
    assert (
        "Development is supported by: Tidelift (since 2018), Thanks.dev (since 2023) "
        "and GitHub Sponsors (since 2026)." in said
    )
    # a list of long items: the introduction keeps its colon, the items follow
    intro = said.index("HTTPX builds on the well-established usability of requests, and gives you:")
    assert said[intro + 1].startswith("A broadly requests-compatible API")
    # an introduction followed by a paragraph keeps its colon
    at = said.index("The programs that can be built with this package are:")
    assert said[at + 1].startswith("arch b2sum")
    # followed only by a table, which is never narrated: "including." is not said
    assert not [s for s in said if s.startswith("Two extras are available")]
    assert not [s for s in said if re.search(r"\b(?:including|are|by)\.$", s)]


def test_series_bullets_show_the_items(tmp_path, ctx) -> None:
    script = _write(_markdown(INTRODUCTIONS, tmp_path, ctx), ctx)
    [support] = [s for s in script.scenes if s.section == "Support"]
    assert support.bullets == [
        "Tidelift (since 2018)",
        "Thanks.dev (since 2023)",
        "GitHub Sponsors (since 2026)",
    ]


RST_LEFTOVERS = """==========
jsonschema
==========

|PyPI| |Pythons|

.. |PyPI| image:: https://img.shields.io/pypi/v/jsonschema.svg
   :alt: PyPI version
   :target: https://pypi.org/project/jsonschema/

jsonschema is an implementation of the `JSON Schema <https://json-schema.org>`_ specification for Python.

To build this software in 64-bit mode you will need to fix the system /usr/include/inttypes.h header file.

Patches to the template files (man/*.x) are welcome.

Open Collective_ is an online funding platform for open and transparent communities.

.. _Open Collective: https://opencollective.com
"""


def test_rst_read_as_markdown_never_narrates_its_markup(tmp_path, ctx) -> None:
    """The nasty case: reStructuredText given to the Markdown reader."""
    said = _narration(_markdown(RST_LEFTOVERS, tmp_path, ctx), ctx)
    assert said[0] == "jsonschema."
    assert "jsonschema is an implementation of the JSON Schema specification for Python." in said
    assert "Patches to the template files are welcome." in said  # the path's parentheses go
    assert (
        "Open Collective is an online funding platform for open and transparent communities."
        in said
    )
    assert not [s for s in said if "inttypes" in s]  # a path inside the sentence: dropped
    assert not [s for s in said if gate_spoken_text.problems(s)]
    assert not [s for s in said if re.search(r"image|target|PyPI version|={3}", s)]


def test_drop_sentence_feedback_leaves_the_sentence_out(tmp_path, ctx) -> None:
    doc = _markdown(DANGLING, tmp_path, ctx)
    sentence = "Project documentation is available."
    assert sentence in _narration(doc, ctx)
    assert sentence not in _narration(doc, ctx, feedback=[f"drop sentence: {sentence}"])


# Installed packages' long descriptions (reStructuredText and Markdown) and
# Debian READMEs: read at test time, skipped one by one when absent.
_SITE = Path(__import__("site").getsitepackages()[0])
_REAL = [
    *(("rst", name) for name in ("jsonschema", "pluggy", "networkx", "pytest", "colorama",
                                 "wrapt", "webvtt_py", "pathspec", "python_dateutil")),
    *(("md", name) for name in ("rich", "typer", "httpx", "attrs", "structlog", "idna",
                                "urllib3", "pillow", "markdown_it_py")),
    ("txt", "/usr/share/doc/coreutils/README.gz"),
    ("txt", "/usr/share/doc/base-files/README"),
]  # fmt: skip


def _real_text(kind: str, name: str) -> str | None:
    import email
    import gzip

    if kind == "txt":
        path = Path(name)
        if not path.is_file():
            return None
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        return data.decode("utf-8", "replace")
    found = [p for p in _SITE.glob("*.dist-info") if p.name.split("-")[0].lower() == name]
    if not found:
        return None
    message = email.message_from_string((found[0] / "METADATA").read_text("utf-8"))
    return str(message.get_payload() or "") or None


@pytest.mark.parametrize(
    ("kind", "name"), _REAL, ids=[name.split("/")[-2 if "/" in name else -1] for _, name in _REAL]
)
def test_real_documents_narrate_no_markup_links_paths_or_code(kind, name, tmp_path, ctx) -> None:
    text = _real_text(kind, name)
    if text is None:
        pytest.skip(f"{name} is not installed here")
    # reStructuredText goes through the Markdown reader too: the nasty case
    readers = {"rst": [".rst", ".md"], "md": [".md"], "txt": [".txt"]}[kind]
    for suffix in readers:
        path = tmp_path / f"{Path(name).name.split('.')[0]}{suffix}"
        path.write_text(text, "utf-8")
        module = {".rst": ingest_rst, ".md": ingest_markdown, ".txt": ingest_text}[suffix]
        said = _narration(module.ingest_document(source=path, format=None, ctx=ctx), ctx)
        flagged = [(s, gate_spoken_text.problems(s)) for s in said if gate_spoken_text.problems(s)]
        assert flagged == [], suffix
        dangling = [s for s in said if re.search(r"\b(?:at|see|via|including)\.$|^See\.$", s)]
        assert dangling == [], suffix


def _spoken(script: Script) -> str:
    return " ".join(sentence for scene in script.scenes for sentence in scene.narration)


def test_copyright_lines_and_licence_notices_are_not_narrated(tmp_path, ctx) -> None:
    from reelgraph.plugins.writers._boilerplate import is_boilerplate
    from tests.plugins.test_ingest import KSBA_README

    path = tmp_path / "README"
    path.write_text(KSBA_README, "utf-8")
    script = _write(ingest_text.ingest_document(source=path, format=None, ctx=ctx), ctx)
    spoken = _spoken(script)
    # the nine-year copyright list and the warranty disclaimer took 18 s of the video
    assert "2015" not in spoken and "WARRANTY" not in spoken and "free software" not in spoken
    assert "Kasbah" in spoken
    opening = " ".join(script.scenes[0].narration)
    assert opening.count("LIBKSBA") == 1 and "KSBA." not in opening.replace("LIBKSBA.", "")
    # the Debian FAQ's permission notice, as translated in its pt and fr editions
    notices = [
        "É dada permissão para fazer e distribuir cópias textuais deste documento desde que o "
        "aviso de copyright e este aviso de permissão seja preservado em todas as cópias.",
        "Il est permis de produire et distribuer des copies conformes de ce document à "
        "condition que la présente notice de copyright et la présente notice de permission "
        "soient préservées sur toutes les copies.",
        "在遵守并包含本文档版权声明的前提下，允许制作和发布本文档的完整拷贝。",
    ]
    about = [
        "Zstandard is dual-licensed under BSD and GPLv2.",
        "Todos os pacotes são livres para re-distribuir, normalmente sob os termos "
        "especificados pela GNU General Public License.",
    ]
    for notice in notices:
        assert is_boilerplate(notice), notice
    for sentence in about:  # sentences about licensing are content
        assert not is_boilerplate(sentence), sentence


@pytest.mark.parametrize(
    ("language", "closing", "continued", "example"),
    [
        ("fr", "Merci", " (suite)", "Voici un exemple en Python."),
        ("de", "Vielen Dank", " (Fortsetzung)", "Hier ist ein Beispiel in Python."),
        ("ja", "ありがとうございました", "（続き）", "Python の例を示します。"),
        ("zh-Hans", "谢谢", "（续）", "下面是一个 Python 示例。"),
    ],
)
def test_added_sentences_follow_the_script_language(
    language, closing, continued, example, ctx
) -> None:
    script = _write(_ingest("guide.md", ctx), ctx, options={"language": language})
    english = {"We covered", "That concludes", "Here is", "Thank you", "(continued)"}
    added = [s for scene in script.scenes for s in [scene.title, *scene.narration]]
    assert not [s for s in added if any(phrase in s for phrase in english)]
    assert script.scenes[-1].kind == "closing" and script.scenes[-1].title == closing
    assert any(scene.title.endswith(continued) for scene in script.scenes)
    assert example in [
        s for scene in script.scenes if scene.kind == "code" for s in scene.narration
    ]


def test_without_a_translation_nothing_is_added(ctx) -> None:
    # Turkish: no translation of the added sentences; the code scene is
    # introduced by its heading, there is no closing scene.
    script = _write(_ingest("guide.md", ctx), ctx, options={"language": "tr"})
    assert all(scene.kind != "closing" for scene in script.scenes)
    assert all("(continued)" not in scene.title for scene in script.scenes)
    codes = [(scene.title, scene.narration) for scene in script.scenes if scene.kind == "code"]
    assert codes == [
        ("Installation", ["Install it with pip."]),
        ("Configuration", ["Configuration."]),
    ]


def test_links_in_parentheses_go_whole_with_the_spaces_wrapping_left(ctx) -> None:
    # The Debian FAQ's Word edition (tests/corpus/docx/debian-faq.pt.docx): links
    # as asides, some with a space a line wrap left inside; one bare link mid-sentence.
    text = (
        "Como afirmado no Debian Social Contract (https:// www.debian.org/social_contract) , "
        "Debian irá permanecer 100% livre. Debian vem com mais de 59100 pacotes "
        "(http:// packages.debian.org/stable/) e corre em 9 arquitecturas "
        "(http://www.debian. org/ports/) . Para Debian, free tem o significado à GNU (veja o "
        "Debian Free Software Guidelines (https://www.debian.org/social_contract# guidelines) ). "
        "Por favor veja https://www.gnu.org/software/hurd para mais informação acerca de GNU/Hurd."
    )
    doc = Document(
        title="FAQ",
        sections=[Section(heading="FAQ", level=1, blocks=[Block(kind="paragraph", text=text)])],
    )
    script = _write(doc, ctx, options={"language": "pt"})
    spoken = [s for scene in script.scenes for s in scene.narration]
    assert "Como afirmado no Debian Social Contract, Debian irá permanecer 100% livre." in spoken
    assert "Debian vem com mais de 59100 pacotes e corre em 9 arquitecturas." in spoken
    assert (
        "Para Debian, free tem o significado à GNU (veja o Debian Free Software Guidelines)."
        in spoken
    )
    assert not any("Hurd" in s for s in spoken)  # the link was the sentence's object
    assert not any(re.search(r"\(\s*[,.)]|\(\s*$|org|www", s) for s in spoken)


def test_an_encoders_replacement_marks_and_front_matter_are_not_read(tmp_path, ctx) -> None:
    # The Shift_JIS Debian FAQ (tests/corpus/text/debian-faq.ja.sjis.txt): "???" where
    # the encoder lacked a character, at the start of a wrapped line; a date alone.
    text = (
        "Debian FAQ\n\n概要\n\nJanuary 2021\n\n"
        "他の文書へのポインタで済ませることができるものに\n??? ついてはそのようにしています。\n"
    )
    path = tmp_path / "faq.txt"
    path.write_text(text, "utf-8")
    script = _write(ingest_text.ingest_document(source=path, format=None, ctx=ctx), ctx)
    spoken = _spoken(script)
    assert "?" not in spoken and "2021" not in spoken
    assert "ものについてはそのようにしています。" in spoken


def test_a_sentence_that_repeats_the_title_is_not_read_again(ctx) -> None:
    # A manual page's title is its NAME line; the NAME section says it again.
    doc = Document(
        title="apt - command-line interface",
        sections=[
            Section(
                heading="NAME",
                level=3,
                blocks=[Block(kind="paragraph", text="apt - command-line interface")],
            ),
            Section(
                heading="DESCRIPTION",
                level=3,
                blocks=[Block(kind="paragraph", text="apt provides a high-level interface.")],
            ),
        ],
    )
    script = _write(doc, ctx)
    spoken = _spoken(script)
    assert spoken.count("command-line interface") == 2  # the title, and the closing line
    assert script.scenes[0].narration == ["apt - command-line interface."]
    assert all(scene.section != "NAME" for scene in script.scenes)
    assert not extractive.narrates(doc.sections[0], "en", doc.title)
