"""The ``key_messages`` gate, and its remedies fed back to the extractive writer."""

from __future__ import annotations

from pathlib import Path

import pytest

import reelgraph.plugins.gates.key_messages as gate_key_messages
import reelgraph.plugins.writers.extractive as extractive
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Scene, Script, Section
from reelgraph.plan.registry import PluginRegistry
from reelgraph.run.context import NodeContext


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _script(*narrations: list[str], sections: list[str | None] | None = None) -> Script:
    sections = sections or [None] * len(narrations)
    return Script(
        title="Test",
        scenes=[
            Scene(index=i, title=f"Scene {i}", narration=n, section=s)
            for i, (n, s) in enumerate(zip(narrations, sections, strict=True))
        ],
    )


def _check(ctx: NodeContext, **kwargs) -> list | None:
    args = {
        "document": None,
        "script": None,
        "visuals": None,
        "video": None,
        "targets": {},
        "gates": None,
        "thresholds": {},
    }
    args.update(kwargs)
    return gate_key_messages.check_quality(ctx=ctx, **args)


SCRIPT = _script(
    ["Welcome to the tour.", "Backups run every night, automatically!"],
    ["Restores take minutes.", "The cache is warmed on start-up."],
)


def test_all_messages_covered_ignoring_case_punctuation_and_stopwords(ctx) -> None:
    messages = [
        "backups run every night automatically",  # phrase, punctuation dropped
        "The CACHE is warmed",  # phrase, case folded
        "warmed cache",  # content words in one scene, another order
    ]
    [result] = _check(ctx, script=SCRIPT, targets={"key_messages": messages})
    assert result.passed and result.measured == 1.0
    assert result.details["covered"] == messages and result.details["missing"] == []
    assert result.severity == "error" and result.stage == "script"


def test_a_missing_key_message_fails_with_the_writers_remedy(ctx) -> None:
    messages = ["backups run every night", "data is encrypted at rest"]
    results = _check(ctx, script=SCRIPT, targets={"key_messages": messages})
    assert len(results) == 1
    [result] = results
    assert not result.passed and result.blocking
    assert result.measured == pytest.approx(0.5)
    assert result.threshold == 1.0 and result.unit == "fraction"
    assert result.details["missing"] == ["data is encrypted at rest"]
    assert result.remedy == "missing key message: data is encrypted at rest"


def test_content_words_split_across_scenes_do_not_count(ctx) -> None:
    # "backups" is in scene 0 and "restores" in scene 1: not said together.
    [result] = _check(ctx, script=SCRIPT, targets={"key_messages": ["backups restores"]})
    assert not result.passed and result.measured == 0.0


def test_one_result_per_missing_message(ctx) -> None:
    messages = ["encryption at rest", "single sign-on", "cache is warmed"]
    results = _check(ctx, script=SCRIPT, targets={"key_messages": messages})
    assert [r.remedy for r in results] == [
        "missing key message: encryption at rest",
        "missing key message: single sign-on",
    ]
    assert all(r.measured == pytest.approx(1 / 3, abs=1e-3) for r in results)


def test_min_coverage_override(ctx) -> None:
    messages = ["backups run every night", "data is encrypted at rest"]
    [result] = _check(
        ctx,
        script=SCRIPT,
        targets={"key_messages": messages},
        thresholds={"key_messages": {"min_coverage": 0.5}},
    )
    assert result.passed and result.measured == pytest.approx(0.5)
    assert result.details["missing"] == ["data is encrypted at rest"]
    with pytest.raises(InvalidInputError, match="min_coverage"):
        _check(
            ctx,
            script=SCRIPT,
            targets={"key_messages": messages},
            thresholds={"key_messages": {"min_coverage": 2}},
        )


def test_headings_stand_in_as_warnings(ctx) -> None:
    def prose(heading: str, text: str) -> Section:
        return Section(heading=heading, level=2, blocks=[Block(kind="paragraph", text=text)])

    document = Document(
        title="Guide",
        sections=[
            Section(heading="Guide", level=1),
            prose("Nightly backups", "Backups run every night."),
            prose("Single sign-on", "Log in once with your company account."),
            prose("Cache warming", "The cache is warmed on start-up."),
        ],
    )
    script = _script(
        ["Backups run every night."],
        ["The cache is warmed on start-up."],
        sections=[None, "Cache warming"],
    )
    results = _check(ctx, document=document, script=script)
    assert all(r.severity == "warning" and not r.blocking for r in results)
    result = results[0]
    assert result.details["source"] == "section headings"
    # "Nightly backups": "nightly" is not said; "Cache warming" is the section of scene 1.
    assert result.details["covered"] == ["Cache warming"]
    assert result.details["missing"] == ["Nightly backups", "Single sign-on"]
    assert [r.remedy for r in results] == [
        "missing key message: Nightly backups",
        "missing key message: Single sign-on",
    ]
    assert result.measured == pytest.approx(1 / 3, abs=1e-3)


def test_skips_when_nothing_to_check(ctx) -> None:
    assert _check(ctx, script=None, targets={"key_messages": ["x"]}) is None
    assert _check(ctx, script=SCRIPT) is None  # no messages, no document
    assert _check(ctx, script=SCRIPT, targets={"key_messages": ["x"]}, gates=["duration"]) is None
    with pytest.raises(InvalidInputError, match="key_messages"):
        _check(ctx, script=SCRIPT, targets={"key_messages": "backups"})


# -- the review loop's contract with the extractive writer ---------------------


def test_only_headings_of_sections_with_something_to_say_stand_in(ctx) -> None:
    # From the corpus: httpx's "Release Information" and japanize-matplotlib's
    # "FAQ" head only subsections; a plain-text Debian FAQ has a copyright
    # line as a heading over the permission notice; a table is never narrated.
    notice = (
        "Permission is granted to make and distribute verbatim copies of this document "
        "provided the copyright notice and this permission notice are preserved on all copies."
    )
    document = Document(
        title="Guide",
        sections=[
            Section(heading="Release Information", level=2),
            Section(
                heading="Added",
                level=3,
                blocks=[Block(kind="list", items=["A proxy option for the client."])],
            ),
            Section(
                heading="Copyright © 1996-2021 Software in the Public Interest",
                level=2,
                blocks=[Block(kind="paragraph", text=notice)],
            ),
            Section(
                heading="Benchmarks", level=2, blocks=[Block(kind="table", text="MB/s | ratio")]
            ),
            Section(
                heading="Install",
                level=2,
                blocks=[Block(kind="code", text="pip install guide", language="sh")],
            ),
        ],
    )
    script = _script(["A proxy option for the client."], sections=["Added"])
    [result] = _check(ctx, document=document, script=script, gates=["key_messages"])
    assert result.details["covered"] == ["Added"]
    assert result.details["missing"] == ["Install"]  # code is shown: its heading counts
    assert not result.passed


def test_a_document_without_headings_reports_nothing_to_check(ctx) -> None:
    # zlib's README and libffi's "The Basics" page have no heading but the title
    document = Document(
        title="zlib",
        sections=[
            Section(
                heading="zlib",
                level=0,
                blocks=[Block(kind="paragraph", text="zlib compresses data.")],
            )
        ],
    )
    [result] = _check(ctx, document=document, script=SCRIPT)
    assert result.passed and result.measured == 1.0 and "nothing to check" in result.message


def _document() -> Document:
    def section(heading: str, sentences: list[str]) -> Section:
        return Section(
            heading=heading, level=2, blocks=[Block(kind="paragraph", text=" ".join(sentences))]
        )

    filler = [f"Point {i} adds a further practical detail to this part." for i in range(6)]
    return Document(
        title="Service handbook",
        sections=[
            section("Getting started", [*filler, "Install the service with one command."]),
            section("Operations", [*filler, "Logs rotate every week."]),
            section("Security", [*filler, "All data is encrypted at rest with AES."]),
            section("Backups", [*filler, "Snapshots are copied to a second region nightly."]),
        ],
    )


def test_remedies_fed_back_make_the_writer_cover_the_messages(ctx) -> None:
    document = _document()
    messages = ["data is encrypted at rest", "snapshots copied to a second region"]
    write = {"document": document, "duration_s": 20, "key_messages": [], "options": {}, "ctx": ctx}
    # The writer is not told the key messages; the tight target drops the late sentences.
    first = extractive.write_script(feedback=[], **write)
    results = _check(ctx, script=first, targets={"key_messages": messages})
    assert [r.remedy for r in results] == [f"missing key message: {m}" for m in messages]
    assert all(r.measured == 0.0 for r in results)
    # The scheduler passes each blocking result's remedy as one feedback item.
    second = extractive.write_script(feedback=[r.remedy for r in results], **write)
    [again] = _check(ctx, script=second, targets={"key_messages": messages})
    assert again.passed and again.measured == 1.0


def test_called_through_pluggy(tmp_path) -> None:
    registry = PluginRegistry(env={"REELGRAPH_PLUGINS": "key_messages"}).load()
    outputs = registry.pm.hook.check_quality(
        document=None,
        script=SCRIPT,
        visuals=None,
        narrations=None,
        video=None,
        targets={"key_messages": ["restores take minutes", "zero downtime"]},
        gates=["key_messages"],
        thresholds={},
        ctx=NodeContext.for_testing(tmp_path),
    )
    results = [r for batch in outputs if batch for r in batch]
    assert [(r.gate, r.passed, r.measured) for r in results] == [("key_messages", False, 0.5)]
