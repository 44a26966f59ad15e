"""Gate nodes (a collect hook), failed_quality, and the review loop, with in-test gates."""

from __future__ import annotations

import pytest

from reelgraph import GateFailed, Kernel, hookimpl
from reelgraph.models import Document, GateResult, Scene, Script, Section


class Writer:
    """Writes one narration sentence per word budget; shortens on 'too long' feedback."""

    reelgraph_name = "writer"

    def __init__(self) -> None:
        self.feedback_seen: list[list[str]] = []

    @hookimpl
    def write_script(self, document, feedback, ctx):
        self.feedback_seen.append(list(feedback))
        sentences = 6 - 2 * sum("too long" in f for f in feedback)
        scene = Scene(index=0, title="t", narration=[f"Sentence {i}." for i in range(sentences)])
        return Script(title=document.title, scenes=[scene])


class LengthGate:
    reelgraph_name = "length"
    limit = 3

    @hookimpl
    def check_quality(self, script, gates, ctx):
        if script is None or (gates is not None and "length" not in gates):
            return None
        count = len(script.scenes[0].narration)
        return [
            GateResult(
                gate="length",
                passed=count <= self.limit,
                measured=float(count),
                threshold=float(self.limit),
                unit="sentences",
                stage="script",
                message=f"{count} sentences",
                remedy="too long: drop sentences",
            )
        ]


class NoteGate:
    reelgraph_name = "note"

    @hookimpl
    async def check_quality(self, script, ctx):
        if script is None:
            return None
        return GateResult(gate="note", passed=False, severity="warning", message="just a note")


class Ingest:
    reelgraph_name = "ingest"

    @hookimpl
    def ingest_document(self, source, ctx):
        return Document(title="Doc", sections=[Section(heading="a", level=1)])


def spec(max_revisions: int | None) -> dict:
    script = {
        "id": "script",
        "hook": "write_script",
        "provider": "writer",
        "with": {"document": "$doc"},
    }
    if max_revisions is not None:
        script["review"] = {"gate": "gate", "max_revisions": max_revisions}
    return {
        "name": "reviewed",
        "nodes": [
            {"id": "doc", "hook": "ingest_document", "provider": "ingest", "with": {"source": "x"}},
            script,
            {"id": "gate", "hook": "check_quality", "with": {"script": "$script"}},
            {
                "id": "after",
                "hook": "ingest_document",
                "provider": "ingest",
                "with": {"source": "$script.title"},
            },
        ],
    }


@pytest.fixture
def writer() -> Writer:
    return Writer()


@pytest.fixture
def kernel(writer: Writer, tmp_path) -> Kernel:
    return Kernel(
        plugins=[writer, LengthGate(), NoteGate(), Ingest()], entry_points=False, home=tmp_path
    )


def test_every_gate_answers_and_results_are_collected(kernel: Kernel) -> None:
    LengthGate.limit = 10
    try:
        run = kernel.run(spec(None))
    finally:
        LengthGate.limit = 3
    assert run.status == "succeeded", run.error
    gates = sorted(r.gate for r in run.quality_report)
    assert gates == ["length", "note"]  # a def gate and an async def gate, both called
    assert run.to_dict()["quality"][0]["gate"] in ("length", "note")


def test_failing_gate_without_review_ends_failed_quality(kernel: Kernel) -> None:
    run = kernel.run(spec(None))
    assert run.status == "failed_quality"
    assert isinstance(run.error, GateFailed)
    assert "length: 6 sentences" in str(run.error)
    row = kernel.store.get_run(run.id)
    assert row.status == "failed_quality"
    stored = {n.node_id: n for n in kernel.store.get_nodes(run.id)}
    assert stored["gate"].status == "failed" and stored["gate"].output is not None


def test_review_sends_remedies_back_until_the_gate_passes(kernel: Kernel, writer: Writer) -> None:
    run = kernel.run(spec(2))
    assert run.status == "succeeded", run.error
    assert writer.feedback_seen == [
        [],
        ["too long: drop sentences"],
        ["too long: drop sentences", "too long: drop sentences"],
    ]
    assert [r["revision"] for r in run.revisions] == [1, 2]
    assert len(run.outputs["after"].title) > 0
    final = {r.gate: r for r in run.quality_report}
    assert final["length"].passed and final["length"].measured == 2.0
    revised = [e for e in run.events if e.type == "node.revised"]
    assert [e.node_id for e in revised] == ["script", "script"]
    assert run.nodes["script"].attempts == 3


def test_review_gives_up_after_max_revisions(kernel: Kernel, writer: Writer) -> None:
    run = kernel.run(spec(1))
    assert run.status == "failed_quality"
    assert run.error.revisions == 1
    assert "after 1 revision" in str(run.error)
    assert run.nodes["after"].status == "pending"  # users of the script wait for its verdict
    assert len(writer.feedback_seen) == 2


def test_review_must_name_a_gate_that_uses_the_node(kernel: Kernel) -> None:
    from reelgraph import SpecError

    bad = spec(2)
    bad["nodes"][1]["review"]["gate"] = "after"
    bad["nodes"][3]["with"] = {"source": "x"}
    with pytest.raises(SpecError, match="does not use this node's output"):
        kernel.plan(bad)
