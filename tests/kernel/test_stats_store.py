"""The run store reads analytics and the server build on: events after an id, runs filtered.

Real SQLite files; several threads write at once where order matters.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from reelgraph.store.runs import RunStore


@pytest.fixture
def store(tmp_path: Path):
    with RunStore(tmp_path / "reelgraph.db") as opened:
        yield opened


def _run(store: RunStore, run_id: str, started_at: float, spec: str = "demo") -> None:
    store.create_run(
        run_id,
        spec=spec,
        spec_path=None,
        spec_text=f"name: {spec}\n",
        inputs={},
        output_dir=None,
        started_at=started_at,
    )


def test_events_of_a_run_after_a_seq(store: RunStore) -> None:
    _run(store, "a", 1.0)
    store.add_events("a", [(1.0 + i, f"e{i}", None, {"i": i}) for i in range(5)])
    rows = store.read_events("a")
    assert [(r.seq, r.type, r.data) for r in rows] == [(i + 1, f"e{i}", {"i": i}) for i in range(5)]
    assert [r.seq for r in store.read_events("a", after=3)] == [4, 5]
    assert [r.seq for r in store.read_events("a", after=1, limit=2)] == [2, 3]
    assert store.read_events("a", after=5) == []
    assert store.get_events("a", after=4) == [(5.0, "e4", None, {"i": 4})]
    assert store.get_events("a") == [r.as_tuple() for r in rows]


def test_all_runs_events_after_a_gid_in_commit_order(store: RunStore) -> None:
    for run_id in ("a", "b"):
        _run(store, run_id, 1.0)
    assert store.last_event_id() == 0
    store.add_events("a", [(5.0, "a1", None, None)])
    store.add_events(
        "b", [(1.0, "b1", None, None), (2.0, "b2", "n", None)]
    )  # older ts, later commit
    store.add_events("a", [(6.0, "a2", None, None)])
    rows = store.read_events()
    assert [(r.gid, r.run_id, r.seq, r.type) for r in rows] == [
        (1, "a", 1, "a1"),
        (2, "b", 1, "b1"),
        (3, "b", 2, "b2"),
        (4, "a", 2, "a2"),
    ]
    assert store.last_event_id() == 4
    assert [r.type for r in store.read_events(after=2)] == ["b2", "a2"]
    assert [r.type for r in store.read_events(after=1, limit=1)] == ["b1"]


def test_a_reader_following_gids_misses_nothing_while_threads_write(tmp_path: Path) -> None:
    """Writers in threads, a reader paging after its last gid: every event once, in order."""
    path = tmp_path / "reelgraph.db"
    writers, per_writer = 4, 40
    with RunStore(path) as store:
        for w in range(writers):
            _run(store, f"r{w}", 1.0)
        done = threading.Event()

        def write(w: int) -> None:
            for i in range(per_writer):
                store.add_events(f"r{w}", [(float(i), "tick", None, {"i": i})])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        seen: list = []
        with RunStore(path) as reader:  # a second connection, as another process has
            for thread in threads:
                thread.start()

            def watch() -> None:
                for thread in threads:
                    thread.join()
                done.set()

            watcher = threading.Thread(target=watch)
            watcher.start()
            after = 0
            while True:
                finished = done.is_set()
                page = reader.read_events(after=after, limit=7)
                seen += page
                after = page[-1].gid if page else after
                if finished and not page:
                    break
            watcher.join()
    assert [r.gid for r in seen] == list(range(1, writers * per_writer + 1))
    for w in range(writers):
        assert [r.data["i"] for r in seen if r.run_id == f"r{w}"] == list(range(per_writer))


def test_list_runs_filters(store: RunStore) -> None:
    _run(store, "old", 100.0, spec="x")
    _run(store, "mid", 200.0, spec="y")
    _run(store, "new", 300.0, spec="x")
    store.set_run_status("mid", "failed")
    store.set_run_status("new", "succeeded")
    assert [r.id for r in store.list_runs(spec="x")] == ["new", "old"]
    assert [r.id for r in store.list_runs(status="failed")] == ["mid"]
    assert [r.id for r in store.list_runs(since=200.0)] == ["new", "mid"]
    assert [r.id for r in store.list_runs(spec="x", since=150.0, status="succeeded")] == ["new"]
    assert [r.id for r in store.list_runs(limit=None)] == ["new", "mid", "old"]
    assert [r.id for r in store.list_runs(1, spec="x")] == ["new"]
    assert store.list_runs(status="running", spec="y") == []


def test_events_stored_before_gids_are_numbered_by_time(tmp_path: Path) -> None:
    """A store at schema 6 (events without gid) migrates: gids by ts, run, seq; new ones follow."""
    from reelgraph.store._migrations import MIGRATIONS

    path = tmp_path / "reelgraph.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        for number, script in enumerate(MIGRATIONS[:6], start=1):
            db.executescript(script)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute(
            "INSERT INTO runs (id, spec, spec_text, inputs, status, started_at)"
            " VALUES ('a', 's', '', '{}', 'succeeded', 1), ('b', 's', '', '{}', 'succeeded', 2)"
        )
        db.execute(
            "INSERT INTO events (run_id, seq, ts, type) VALUES"
            " ('a', 1, 10.0, 'a1'), ('a', 2, 30.0, 'a2'), ('b', 1, 20.0, 'b1')"
        )
    with RunStore(path) as store:
        assert [(r.gid, r.type) for r in store.read_events()] == [(1, "a1"), (2, "b1"), (3, "a2")]
        store.add_events("b", [(40.0, "b2", None, None)])
        assert [(r.gid, r.seq) for r in store.read_events(after=3)] == [(4, 2)]
