"""Costs and attempts in the run store, and when the recorder commits what (real SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.run.persist import Recorder
from reelgraph.run.result import Event, NodeRun, Run
from reelgraph.store.artifacts import ArtifactStore
from reelgraph.store.runs import RunStore

REPO = Path(__file__).resolve().parents[2]


def _recorder(store: RunStore, tmp_path: Path, run_id: str = "r1") -> Recorder:
    """A recorder of a fresh run (or of a stored one, as on resume)."""
    if store.get_run(run_id) is None:
        store.create_run(
            run_id,
            spec="paid",
            spec_path=None,
            spec_text="{}",
            inputs={},
            output_dir=None,
            started_at=time.time(),
        )
    run = Run(id=run_id, spec="paid", run_dir=tmp_path / "runs" / run_id)
    registry = Kernel(plugins=[], entry_points=False).registry
    return Recorder(store, ArtifactStore(tmp_path / "artifacts"), run, registry, cache=False)


def _start(recorder: Recorder, node_id: str, provider: str | None = "runway") -> NodeRun:
    record = NodeRun(id=node_id, hook="generate_clip", provider=provider)
    record.status, record.started_at, record.attempts = "running", time.time(), 1
    recorder.run.events.append(Event("node.started", record.started_at, node_id))
    recorder.node_started(record)
    return record


def _finish(recorder: Recorder, record: NodeRun, output: object = 1) -> None:
    record.status, record.ended_at, record.seconds = "succeeded", time.time(), 0.01
    recorder.run.events.append(Event("node.succeeded", record.ended_at, record.id))
    recorder.node_finished(record, output)


def _peek(path: Path, run_id: str) -> tuple[dict[str, str], list[tuple[str, str]], float]:
    """What another connection sees: node statuses, (event, node) pairs, run cost."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        nodes = dict(db.execute("SELECT node_id, status FROM nodes WHERE run_id = ?", (run_id,)))
        events = db.execute(
            "SELECT type, node_id FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        cost = db.execute("SELECT cost_usd FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    return nodes, events, cost


@pytest.fixture
def store(tmp_path: Path):
    with RunStore(tmp_path / "home" / "reelgraph.db") as opened:
        yield opened


# -- recorder: attempts and costs ------------------------------------------------------


def test_attempts_and_costs_add_up_per_node_and_per_run(store: RunStore, tmp_path: Path) -> None:
    recorder = _recorder(store, tmp_path)
    clip = _start(recorder, "clip")
    recorder.attempt_finished(
        clip,
        item=None,
        attempt=1,
        provider="runway",
        status="failed",
        error="429 Too Many Requests",
        seconds=1.5,
        cost_usd=0.0,
        started_at=100.0,
    )
    recorder.add_cost("clip", 0.25, "runway gen4 5 s")
    recorder.attempt_finished(
        clip,
        item=None,
        attempt=2,
        provider="luma",
        status="succeeded",
        error=None,
        seconds=2.0,
        cost_usd=0.25,
        started_at=103.0,
    )
    recorder.add_cost("clip", 0.5)
    _finish(recorder, clip)
    voice = _start(recorder, "voice", provider=None)
    for item in (0, 1):
        recorder.attempt_finished(
            voice,
            item=item,
            attempt=1,
            provider="elevenlabs",
            status="succeeded",
            error=None,
            seconds=0.5,
            cost_usd=0.125,
            started_at=110.0 + item,
        )
        recorder.add_cost("voice", 0.125, f"item {item}")
    _finish(recorder, voice, [1, 2])

    nodes = {n.node_id: n for n in store.get_nodes("r1")}
    assert nodes["clip"].cost_usd == pytest.approx(0.75)
    assert nodes["voice"].cost_usd == pytest.approx(0.25)
    run = store.get_run("r1")
    assert run is not None and run.cost_usd == pytest.approx(1.0)
    assert recorder.run_cost() == pytest.approx(1.0)
    assert store.get_costs("r1") == [
        ("clip", 0.25, "runway gen4 5 s"),
        ("clip", 0.5, ""),
        ("voice", 0.125, "item 0"),
        ("voice", 0.125, "item 1"),
    ]
    attempts = store.get_attempts("r1")
    assert [(a.node_id, a.item, a.attempt, a.provider, a.status) for a in attempts] == [
        ("clip", None, 1, "runway", "failed"),
        ("clip", None, 2, "luma", "succeeded"),
        ("voice", 0, 1, "elevenlabs", "succeeded"),
        ("voice", 1, 1, "elevenlabs", "succeeded"),
    ]
    first = attempts[0]
    assert (first.error, first.seconds, first.started_at, first.ended_at) == (
        "429 Too Many Requests",
        1.5,
        100.0,
        101.5,
    )
    assert sum(a.cost_usd for a in attempts) == pytest.approx(0.5)
    assert [a.item for a in store.get_attempts("r1", "voice")] == [0, 1]


def test_run_cost_counts_earlier_executions_of_the_run(store: RunStore, tmp_path: Path) -> None:
    first = _recorder(store, tmp_path)
    clip = _start(first, "clip")
    first.add_cost("clip", 0.75)
    first.flush()
    # the process died; a resume records the same run with a new recorder
    resumed = _recorder(store, tmp_path)
    assert resumed.run_cost() == pytest.approx(0.75)
    clip = _start(resumed, "clip")
    resumed.add_cost("clip", 0.5)
    assert resumed.run_cost() == pytest.approx(1.25)  # counted before it is committed
    _finish(resumed, clip)
    assert store.get_run("r1").cost_usd == pytest.approx(1.25)
    (row,) = store.get_nodes("r1")
    assert (row.status, row.cost_usd) == ("succeeded", pytest.approx(1.25))


def test_a_cost_for_a_node_not_recorded_yet_makes_a_pending_row(store: RunStore) -> None:
    store.create_run(
        "r", spec="s", spec_path=None, spec_text="{}", inputs={}, output_dir=None, started_at=1.0
    )
    store.add_cost("r", "later", 0.5)
    store.add_cost("r", None, 0.25)  # a run-level cost
    (row,) = store.get_nodes("r")
    assert (row.node_id, row.status, row.cost_usd) == ("later", "pending", 0.5)
    store.node_started("r", "later", hook="h", provider=None, started_at=2.0, attempt=1)
    (row,) = store.get_nodes("r")
    assert (row.status, row.cost_usd, row.hook) == ("running", 0.5, "h")
    assert store.get_run("r").cost_usd == pytest.approx(0.75)


# -- recorder: when writes are committed -------------------------------------------------


def test_a_finish_is_committed_with_the_next_start_or_within_one_loop_pass(
    store: RunStore, tmp_path: Path
) -> None:
    recorder = _recorder(store, tmp_path)
    seen: dict[str, tuple] = {}

    async def scenario() -> None:
        a = _start(recorder, "a")
        seen["a started"] = _peek(store.path, "r1")
        recorder.attempt_finished(
            a,
            item=None,
            attempt=1,
            provider="runway",
            status="succeeded",
            error=None,
            seconds=0.1,
            cost_usd=0.25,
            started_at=a.started_at,
        )
        recorder.add_cost("a", 0.25)
        _finish(recorder, a)
        seen["a finished, queued"] = _peek(store.path, "r1")
        b = _start(recorder, "b")
        seen["b started"] = _peek(store.path, "r1")
        _finish(recorder, b)
        await asyncio.sleep(0)  # one pass of the event loop
        seen["one loop pass later"] = _peek(store.path, "r1")

    asyncio.run(scenario())
    assert seen["a started"] == ({"a": "running"}, [("node.started", "a")], 0.0)
    # the finish waits for the next commit; nothing of it is visible before
    assert seen["a finished, queued"] == seen["a started"]
    nodes, events, cost = seen["b started"]
    assert nodes == {"a": "succeeded", "b": "running"}
    assert events == [("node.started", "a"), ("node.succeeded", "a"), ("node.started", "b")]
    assert cost == pytest.approx(0.25)
    assert len(store.get_attempts("r1", "a")) == 1  # attempts arrive with the finish
    nodes, events, _ = seen["one loop pass later"]
    assert nodes == {"a": "succeeded", "b": "succeeded"}
    assert events[-1] == ("node.succeeded", "b")


def test_a_wave_of_ready_nodes_is_started_together(store: RunStore, tmp_path: Path) -> None:
    recorder = _recorder(store, tmp_path)
    seen = {}

    async def scenario() -> None:
        root = _start(recorder, "root")
        _finish(recorder, root)
        wave = [NodeRun(id=f"m{i}", hook="generate_clip", provider="runway") for i in range(3)]
        for record in wave:
            record.status, record.started_at, record.attempts = "running", time.time(), 1
            recorder.run.events.append(Event("node.started", record.started_at, record.id))
        recorder.nodes_started(wave)
        seen["wave"] = _peek(store.path, "r1")

    asyncio.run(scenario())
    nodes, events, _ = seen["wave"]
    assert nodes == {"root": "succeeded", "m0": "running", "m1": "running", "m2": "running"}
    assert [e for e, _ in events].count("node.started") == 4
    assert ("node.succeeded", "root") in events


class ProbeSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def probe(value, ctx):
        """Return ``value + 1``, noting what the run store holds while it runs."""


class Probe:
    """A hook that reads the run store through its own connection while it runs."""

    reelgraph_name = "probe"

    def __init__(self, db: Path, price_usd: float) -> None:
        self.db = db
        self.price_usd = price_usd
        self.seen: dict[str, tuple] = {}

    @hookimpl
    async def probe(self, value, ctx):
        self.seen[ctx.node_id] = _peek(self.db, ctx.run_id)
        ctx.report_cost(self.price_usd, detail=f"probe {value}")
        return value + 1


def test_a_node_is_durably_running_and_its_inputs_durably_finished_before_its_hook_runs(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    probe = Probe(home / "reelgraph.db", price_usd=0.125)
    kernel = Kernel(plugins=[probe], entry_points=False, hookspecs=[ProbeSpecs], home=home)
    nodes = [{"id": "p0", "hook": "probe", "provider": "probe", "with": {"value": 0}}]
    nodes += [
        {"id": f"p{i}", "hook": "probe", "provider": "probe", "with": {"value": f"$p{i - 1}"}}
        for i in range(1, 4)
    ]
    run = kernel.run({"name": "probed", "nodes": nodes})
    assert run.status == "succeeded", run.error
    for i in range(4):
        statuses, events, cost = probe.seen[f"p{i}"]
        assert statuses[f"p{i}"] == "running"
        assert ("node.started", f"p{i}") in events
        for j in range(i):  # every upstream node is durably finished, its events stored
            assert statuses[f"p{j}"] == "succeeded"
            assert ("node.succeeded", f"p{j}") in events
        assert cost == pytest.approx(0.125 * i)  # costs of finished nodes are in
    stored = kernel.store.get_run(run.id)
    assert stored is not None and stored.cost_usd == pytest.approx(0.5)
    assert run.cost_usd == run.to_dict()["cost_usd"] == pytest.approx(0.5)
    assert [n.cost_usd for n in kernel.store.get_nodes(run.id)] == [0.125] * 4
    assert [e[1] for e in kernel.store.get_events(run.id)][-1] == "run.finished"


# -- a crashed process -------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from reelgraph import Kernel
    from tests.kernel.steps import AsyncAdder, StepSpecs, chain_spec

    spec = chain_spec(3)
    spec["nodes"][1]["with"]["delay_s"] = 120.0  # n1 hangs until killed
    kernel = Kernel(
        plugins=[AsyncAdder()], entry_points=False, hookspecs=[StepSpecs], home=sys.argv[1]
    )
    kernel.run(spec)
    """
)


def _status(db: Path, node_id: str) -> str | None:
    if not db.exists():
        return None
    try:
        uri = f"file:{db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=1)) as con:
            row = con.execute("SELECT status FROM nodes WHERE node_id = ?", (node_id,)).fetchone()
    except sqlite3.Error:  # not created or not migrated yet
        return None
    return row[0] if row else None


def test_a_killed_process_leaves_the_running_node_and_its_started_event(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = home / "reelgraph.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(db, "n1") != "running":
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "n1 never started"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    with RunStore(db) as store:
        (run,) = store.list_runs()
        assert run.status == "running"  # it never got to record an end
        nodes = {n.node_id: n for n in store.get_nodes(run.id)}
        assert (nodes["n0"].status, nodes["n0"].output) == ("succeeded", 1)
        assert nodes["n1"].status == "running" and nodes["n1"].started_at is not None
        assert "n2" not in nodes
        events = [(kind, node) for _, kind, node, _ in store.get_events(run.id)]
        assert events == [
            ("run.started", None),
            ("node.started", "n0"),
            ("node.succeeded", "n0"),
            ("node.started", "n1"),
        ]
        assert store.integrity_check() == "ok"
