"""Tests of the extractive scriptwriter and the text helpers it uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reelgraph.plugins.ingest.html as ingest_html
import reelgraph.plugins.ingest.markdown as ingest_markdown
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
