"""The extractive writer's length rule: whole when short, a proportional 5-minute summary
when long, ``full``, a given target; the choice recorded and logged (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import structlog

from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Script, Section
from reelgraph.plugins.writers import extractive
from reelgraph.plugins.writers._summary import DEFAULT_TARGET_S, top_sections
from reelgraph.run.context import NodeContext

WPM = extractive.DEFAULT_OPTIONS["words_per_minute"]
# sentences per level-2 section of the long document: 4 sections, unequal lengths
SIZES = {"Alpha": 30, "Bravo": 60, "Charlie": 90, "Delta": 120}
FILLER = "carefully measured results show that the method keeps working in practice"


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path, node_id="script")


def _sentence(name: str, n: int) -> str:
    return f"{name} fact number {n} says {FILLER} today."


def _document(sizes: dict[str, int]) -> Document:
    """A title section and level-2 sections (each with a level-3 subsection) of numbered facts."""
    sections = [
        Section(
            heading="Long Article",
            level=1,
            blocks=[Block(kind="paragraph", text="This article has many sections to read.")],
        )
    ]
    for name, count in sizes.items():
        half = count // 2
        paragraphs = [
            " ".join(_sentence(name, n) for n in range(i, min(i + 5, half)))
            for i in range(0, half, 5)
        ]
        sections.append(
            Section(
                heading=name, level=2, blocks=[Block(kind="paragraph", text=p) for p in paragraphs]
            )
        )
        paragraphs = [
            " ".join(_sentence(name, n) for n in range(i, min(i + 5, count)))
            for i in range(half, count, 5)
        ]
        sections.append(
            Section(
                heading=f"{name} details",
                level=3,
                blocks=[Block(kind="paragraph", text=p) for p in paragraphs],
            )
        )
    return Document(title="Long Article", sections=sections)


def _write(doc: Document, ctx: NodeContext, duration_s=None, **options) -> Script:
    return extractive.write_script(
        document=doc, duration_s=duration_s, key_messages=[], feedback=[], options=options, ctx=ctx
    )


def _estimate_s(script: Script) -> float:
    words = sum(len(s.split()) for scene in script.scenes for s in scene.narration)
    return words / WPM * 60 + len(script.scenes) * extractive.DEFAULT_OPTIONS["scene_overhead_s"]


def _facts(script: Script) -> dict[str, int]:
    counts = dict.fromkeys(SIZES, 0)
    for scene in script.scenes:
        for sentence in scene.narration:
            found = re.match(r"(\w+) fact number \d+", sentence)
            if found:
                counts[found.group(1)] += 1
    return counts


def test_a_short_document_is_narrated_whole(ctx: NodeContext) -> None:
    doc = _document({"Alpha": 4, "Bravo": 6, "Charlie": 4})
    script = _write(doc, ctx)
    assert _facts(script) == {"Alpha": 4, "Bravo": 6, "Charlie": 4, "Delta": 0}
    assert script.duration_s is None
    assert script.length is not None and script.length.startswith("whole:")


def test_a_long_document_becomes_a_five_minute_summary_in_proportion(ctx: NodeContext) -> None:
    doc = _document(SIZES)
    with structlog.testing.capture_logs() as logs:
        script = _write(doc, ctx)
    full_s = _estimate_s(_write(doc, ctx, full=True))
    assert full_s > 4 * DEFAULT_TARGET_S  # the document really is long
    assert script.duration_s == DEFAULT_TARGET_S
    assert script.length is not None and script.length.startswith("summary:")
    estimate = _estimate_s(script)
    assert 0.85 * DEFAULT_TARGET_S <= estimate <= DEFAULT_TARGET_S
    facts = _facts(script)
    shares = {name: facts[name] / SIZES[name] for name in SIZES}
    overall = sum(facts.values()) / sum(SIZES.values())
    assert all(facts[name] >= 1 for name in SIZES), facts  # every section speaks
    for name, share in shares.items():  # each section keeps about the same share of itself
        assert 0.7 * overall <= share <= 1.3 * overall, (name, shares)
    assert facts["Delta"] > 2.5 * facts["Alpha"]  # 4x the sentences, about 4x kept
    # explainable: every kept fact is logged with the section it came from
    logged = [e for e in logs if e["event"] == "summary.sentence"]
    from_delta = [e for e in logged if e["top_section"] == "Delta"]
    assert len(from_delta) == facts["Delta"]
    assert {e["section"] for e in from_delta} <= {"Delta", "Delta details"}
    summary = {e["section"]: e for e in logs if e["event"] == "summary.section"}
    assert summary["Charlie"]["sentences"] == SIZES["Charlie"]


def test_full_narrates_everything_and_a_given_target_wins(ctx: NodeContext) -> None:
    doc = _document(SIZES)
    everything = _write(doc, ctx, full=True)
    assert _facts(everything) == SIZES
    assert everything.length is not None and everything.length.startswith("full:")
    assert everything.duration_s is None
    given = _write(doc, ctx, duration_s=120)
    assert given.duration_s == 120
    assert given.length == "given: duration_s = 120 s"
    assert _estimate_s(given) <= 120


def test_full_must_be_a_boolean(ctx: NodeContext) -> None:
    with pytest.raises(InvalidInputError, match="option 'full' must be true or false"):
        _write(_document({"Alpha": 3}), ctx, full="yes")


def test_top_sections_group_under_the_level_below_a_single_title() -> None:
    doc = _document({"Alpha": 2, "Bravo": 2})
    # 0 title (own group), 1 Alpha, 2 Alpha details -> 1, 3 Bravo, 4 Bravo details -> 3
    assert top_sections(doc) == [0, 1, 1, 3, 3]
    flat = Document(
        title="t",
        sections=[Section(heading=h, level=1, blocks=[]) for h in ("a", "b", "c")],
    )
    assert top_sections(flat) == [0, 1, 2]


def test_top_sections_of_one_level_are_told_apart_by_numbering() -> None:
    headings = [
        (0, "FAQ"),
        (2, "Abstract"),
        (2, "Chapter 1. Basics"),
        (2, "1.1. What is it?"),
        (2, "dpkg -l"),  # a command line a plain-text reader took for a heading
        (2, "2. Installing"),
        (2, "2.1. Where to get it?"),
    ]
    doc = Document(title="FAQ", sections=[Section(heading=h, level=level) for level, h in headings])
    assert top_sections(doc) == [0, 0, 2, 2, 2, 5, 5]


def test_a_summary_prefers_whole_sentences_to_fragments(ctx: NodeContext) -> None:
    doc = _document(SIZES)
    for section in doc.sections[1:]:
        for block in section.blocks:
            block.text = "Yes. " + block.text  # a fragment leads every paragraph
    script = _write(doc, ctx)
    narrated = [s for scene in script.scenes for s in scene.narration]
    assert "Yes." not in narrated
    assert all(_facts(script)[name] >= 1 for name in SIZES)


def test_the_key_messages_gate_checks_a_summary_against_top_level_headings(ctx) -> None:
    from reelgraph.plugins.gates import key_messages

    doc = _document(SIZES)
    script = _write(doc, ctx)
    results = key_messages.check_quality(
        document=doc, script=script, visuals=None, video=None, targets={},
        gates=None, thresholds={}, ctx=ctx,
    )  # fmt: skip
    assert results is not None and len(results) == 1 and results[0].passed
    assert sorted(results[0].details["covered"]) == sorted(SIZES)  # not "Alpha details"...
