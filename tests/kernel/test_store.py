"""The SQLite run store, on real database files."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from reelgraph.store.runs import SCHEMA_VERSION, NodeRow, RunRow, RunStore, StoreError


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "runs.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with RunStore(db_path) as opened:
        yield opened


def new_run(store: RunStore, run_id: str, started_at: float = 1000.0, **extra: object) -> None:
    fields: dict = {
        "spec": "document-to-video",
        "spec_path": "specs/document-to-video.yaml",
        "spec_text": "name: document-to-video\n",
        "inputs": {"document": "README.md"},
        "output_dir": "out",
        "started_at": started_at,
    }
    fields.update(extra)
    store.create_run(run_id, **fields)


# -- schema --------------------------------------------------------------------------


def test_schema_version_and_wal(store: RunStore, db_path: Path) -> None:
    assert db_path.is_file()  # parent directory created
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"runs", "nodes", "attempts", "events", "costs", "memo", "journal"} <= tables
    finally:
        raw.close()
    assert store.integrity_check() == "ok"


def test_reopening_keeps_data_and_does_not_migrate_again(db_path: Path) -> None:
    with RunStore(db_path) as store:
        new_run(store, "r1")
    for _ in range(2):
        with RunStore(db_path) as store:
            assert store.get_run("r1") is not None
            assert store.integrity_check() == "ok"
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    RunStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        RunStore(db_path)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "runs.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(bad)):
        RunStore(bad)


def test_closed_store_raises_store_error(db_path: Path) -> None:
    store = RunStore(db_path)
    store.close()
    with pytest.raises(StoreError):
        store.get_run("r1")


# -- runs ------------------------------------------------------------------------------


def test_create_get_and_finish_a_run(store: RunStore) -> None:
    new_run(store, "20261130-101500-aaaaaa", inputs={"document": Path("doc.md"), "n": 2})
    assert store.get_run("20261130-101500-aaaaaa") == RunRow(
        id="20261130-101500-aaaaaa",
        spec="document-to-video",
        spec_path="specs/document-to-video.yaml",
        spec_text="name: document-to-video\n",
        inputs={"document": "doc.md", "n": 2},
        output_dir="out",
        status="running",
        started_at=1000.0,
        ended_at=None,
        seconds=None,
        error=None,
        cost_usd=0.0,
    )
    store.set_run_status(
        "20261130-101500-aaaaaa", "failed", ended_at=1012.5, seconds=12.5, error="boom"
    )
    row = store.get_run("20261130-101500-aaaaaa")
    assert row is not None
    assert (row.status, row.ended_at, row.seconds, row.error) == ("failed", 1012.5, 12.5, "boom")
    assert store.get_run("nope") is None
    with pytest.raises(StoreError, match="(?i)unique"):
        new_run(store, "20261130-101500-aaaaaa")


def test_list_and_find_runs_newest_first(store: RunStore) -> None:
    new_run(store, "20261113-090000-000001", started_at=100.0)
    new_run(store, "20261113-100000-000002", started_at=300.0)
    new_run(store, "20261114-080000-000003", started_at=200.0)
    assert [r.id for r in store.list_runs()] == [
        "20261113-100000-000002",
        "20261114-080000-000003",
        "20261113-090000-000001",
    ]
    assert [r.id for r in store.list_runs(limit=1)] == ["20261113-100000-000002"]
    assert [r.id for r in store.find_runs("2026111")] == [r.id for r in store.list_runs()]
    assert [r.id for r in store.find_runs("20261113")] == [
        "20261113-100000-000002",
        "20261113-090000-000001",
    ]
    assert store.find_runs("20261114-080000-000003") == [store.get_run("20261114-080000-000003")]
    assert store.find_runs("2026111_") == []  # no LIKE wildcards
    assert store.find_runs("x") == []


# -- nodes -----------------------------------------------------------------------------


def test_node_lifecycle(store: RunStore) -> None:
    new_run(store, "r")
    store.node_started(
        "r", "script", hook="write_script", provider="extractive", started_at=1.0, attempt=1
    )
    store.node_finished("r", "script", status="failed", ended_at=2.0, seconds=1.0, error="429")
    store.node_started(
        "r", "script", hook="write_script", provider="extractive", started_at=3.0, attempt=2
    )
    (row,) = store.get_nodes("r")
    assert (row.status, row.attempts, row.error, row.started_at) == ("running", 2, None, 3.0)
    output = {"$model": "reelgraph.models:Script", "data": {"title": "t", "scenes": []}}
    store.node_finished(
        "r",
        "script",
        status="succeeded",
        ended_at=5.0,
        seconds=2.0,
        output=output,
        cache_key="k1",
        items=None,
    )
    assert store.get_nodes("r") == [
        NodeRow(
            run_id="r",
            node_id="script",
            hook="write_script",
            provider="extractive",
            status="succeeded",
            attempts=2,
            cached=False,
            items=None,
            started_at=3.0,
            ended_at=5.0,
            seconds=2.0,
            error=None,
            output=output,
            cache_key="k1",
        )
    ]


def test_cached_node_never_started(store: RunStore) -> None:
    new_run(store, "r")
    store.node_started("r", "b", hook="h", provider=None, started_at=1.0, attempt=1)
    store.node_finished(
        "r",
        "a",
        status="succeeded",
        ended_at=10.0,
        seconds=0.0,
        output=[1, 2],
        cached=True,
        items=2,
        hook="render",
        provider="slides",
    )
    store.node_finished("r", "c", status="succeeded", ended_at=11.0, seconds=0.5)
    nodes = store.get_nodes("r")
    assert [n.node_id for n in nodes] == ["b", "a", "c"]  # insertion order
    a = nodes[1]
    assert (a.cached, a.items, a.hook, a.provider, a.attempts) == (True, 2, "render", "slides", 0)
    assert (a.started_at, a.output) == (10.0, [1, 2])
    assert (nodes[2].hook, nodes[2].output, nodes[2].started_at) == ("", None, 10.5)


def test_nodes_of_an_unknown_run_are_refused(store: RunStore) -> None:
    with pytest.raises(StoreError, match="(?i)foreign key"):
        store.node_started("ghost", "n", hook="h", provider=None, started_at=1.0, attempt=1)


def test_attempts(store: RunStore) -> None:
    new_run(store, "r")
    store.add_attempt("r", "n", None, 1, status="failed", started_at=1.0, ended_at=2.0, error="x")
    store.add_attempt(
        "r", "n", None, 2, status="running", started_at=3.0, ended_at=None, error=None
    )
    store.add_attempt(
        "r", "n", None, 2, status="succeeded", started_at=3.0, ended_at=4.0, error=None
    )
    store.add_attempt("r", "m", 0, 1, status="succeeded", started_at=3.5, ended_at=4.0, error=None)
    store.add_attempt("r", "m", 1, 1, status="succeeded", started_at=3.6, ended_at=4.0, error=None)
    store.add_attempt(
        "r",
        "m",
        1,
        2,
        status="failed",
        started_at=4.5,
        ended_at=None,
        error="timed out",
        provider="runway",
        seconds=30.0,
        cost_usd=0.5,
    )
    rows = store.get_attempts("r")
    assert [(a.node_id, a.item, a.attempt, a.status, a.started_at, a.ended_at) for a in rows] == [
        ("n", None, 1, "failed", 1.0, 2.0),
        ("n", None, 2, "succeeded", 3.0, 4.0),  # the running row was replaced
        ("m", 0, 1, "succeeded", 3.5, 4.0),
        ("m", 1, 1, "succeeded", 3.6, 4.0),
        ("m", 1, 2, "failed", 4.5, None),
    ]
    assert [a.seconds for a in rows[:4]] == [1.0, 1.0, 0.5, pytest.approx(0.4)]
    assert (rows[0].error, rows[0].provider, rows[0].cost_usd) == ("x", None, 0.0)
    assert (rows[4].provider, rows[4].seconds, rows[4].cost_usd) == ("runway", 30.0, 0.5)
    assert store.get_attempts("r", "m") == rows[2:]
    assert store.get_attempts("r", "ghost") == []


# -- events, costs, memo, journal ---------------------------------------------------


def test_events_round_trip(store: RunStore) -> None:
    new_run(store, "r")
    store.add_events("r", [(1.5, "run.started", None, None)])
    store.add_events(
        "r",
        [
            (2.0, "node.started", "tts", {"attempt": 1}),
            (2.5, "node.progress", "tts", {"completed": 1.0, "total": 3.0, "path": Path("a")}),
            (3.0, "node.succeeded", "tts", {}),
        ],
    )
    store.add_events("r", [])
    assert store.get_events("r") == [
        (1.5, "run.started", None, None),
        (2.0, "node.started", "tts", {"attempt": 1}),
        (2.5, "node.progress", "tts", {"completed": 1.0, "total": 3.0, "path": "a"}),
        (3.0, "node.succeeded", "tts", {}),
    ]
    assert store.get_events("other") == []


def test_costs_add_up(store: RunStore) -> None:
    new_run(store, "r")
    store.add_cost("r", "clip", 0.25, "runway gen4 5 s")
    store.add_cost("r", None, 0.125)
    row = store.get_run("r")
    assert row is not None and row.cost_usd == pytest.approx(0.375)
    assert store.get_costs("r") == [("clip", 0.25, "runway gen4 5 s"), (None, 0.125, "")]


def test_memo_put_replace_delete(store: RunStore) -> None:
    assert store.memo_get("k") is None
    store.memo_put("k", {"$artifact": "0" * 64, "name": "a.mp4"}, run_id="r1", node_id="clip")
    assert store.memo_get("k") == ({"$artifact": "0" * 64, "name": "a.mp4"}, "r1", "clip")
    store.memo_put("k", [1, "two", None], run_id="r2", node_id="clip2")
    assert store.memo_get("k") == ([1, "two", None], "r2", "clip2")
    store.memo_delete("k")
    store.memo_delete("k")  # deleting twice is fine
    assert store.memo_get("k") is None


def test_journal_is_keyed_per_item(store: RunStore) -> None:
    new_run(store, "r")
    store.journal_put("r", "clip", None, "task_id", "whole")
    store.journal_put("r", "clip", 0, "task_id", "item0")
    store.journal_put("r", "clip", 1, "task_id", "item1")
    store.journal_put("r", "clip", 1, "task_id", "item1-resubmitted")
    assert store.journal_get("r", "clip", None, "task_id") == "whole"
    assert store.journal_get("r", "clip", 0, "task_id") == "item0"
    assert store.journal_get("r", "clip", 1, "task_id") == "item1-resubmitted"
    assert store.journal_get("r", "clip", 2, "task_id") is None
    assert store.journal_get("r", "other", None, "task_id") is None
    assert store.journal_get("r", "clip", None, "poll_url") is None


def test_threads_share_one_store(store: RunStore) -> None:
    new_run(store, "r")

    def work(item: int) -> None:
        for key in range(20):
            store.journal_put("r", "clip", item, f"k{key}", f"{item}:{key}")
            assert store.journal_get("r", "clip", item, f"k{key}") == f"{item}:{key}"

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(store.journal_get("r", "clip", i, "k19") == f"{i}:19" for i in range(8))


# -- several processes -------------------------------------------------------------------

RUNS_PER_PROCESS = 50


def write_runs(path: str, worker: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    """One process's share: runs with nodes, attempts, events, costs and memo entries."""
    barrier.wait()
    with RunStore(Path(path)) as store:
        for i in range(RUNS_PER_PROCESS):
            run_id = f"w{worker}-{i:03d}"
            new_run(store, run_id, started_at=float(i))
            store.node_started(run_id, "a", hook="h", provider="p", started_at=1.0, attempt=1)
            store.add_attempt(
                run_id, "a", None, 1, status="succeeded", started_at=1.0, ended_at=2.0, error=None
            )
            store.node_finished(
                run_id, "a", status="succeeded", ended_at=2.0, seconds=1.0, output={"i": i}
            )
            store.add_events(run_id, [(1.0, "node.started", "a", None), (2.0, "x", "a", {})])
            store.journal_put(run_id, "a", None, "task", str(i))
            store.add_cost(run_id, "a", 0.5)
            store.memo_put(f"{worker}-{i}", i, run_id=run_id, node_id="a")
            store.set_run_status(run_id, "succeeded", ended_at=3.0, seconds=2.0)


def test_several_processes_write_at_once(db_path: Path) -> None:
    workers = 4  # they also race to create and migrate the new database
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    processes = [
        ctx.Process(target=write_runs, args=(str(db_path), w, barrier)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * workers  # no "database is locked"
    with RunStore(db_path) as store:
        runs = store.list_runs(limit=10_000)
        assert len(runs) == workers * RUNS_PER_PROCESS
        assert {r.status for r in runs} == {"succeeded"}
        assert {r.cost_usd for r in runs} == {0.5}
        for w in range(workers):
            for i in (0, RUNS_PER_PROCESS - 1):
                run_id = f"w{w}-{i:03d}"
                assert [n.output for n in store.get_nodes(run_id)] == [{"i": i}]
                assert len(store.get_events(run_id)) == 2
                assert store.journal_get(run_id, "a", None, "task") == str(i)
                assert store.memo_get(f"{w}-{i}") == (i, run_id, "a")
        assert store.integrity_check() == "ok"


def test_wal_is_checkpointed_in_the_background(db_path: Path, monkeypatch) -> None:
    import time

    monkeypatch.setattr(RunStore, "CHECKPOINT_EVERY", 10)
    store = RunStore(db_path)
    wal = db_path.with_name(db_path.name + "-wal")
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    before = db_path.stat().st_size
    for i in range(40):  # 40 commits: several checkpoint requests
        store.create_run(
            f"run-{i:03d}",
            spec="s",
            spec_path=None,
            spec_text="x" * 4000,
            inputs={},
            output_dir=None,
            started_at=float(i),
        )
    deadline = time.monotonic() + 10
    while db_path.stat().st_size <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    # the checkpointer copied committed WAL frames into the database file
    assert db_path.stat().st_size > before
    assert wal.exists()
    store.close()
    reopened = RunStore(db_path)
    assert len(reopened.list_runs(100)) == 40
    reopened.close()
