"""A run store written by an older reelgraph opens and migrates, keeping its data."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from reelgraph.store._migrations import MIGRATIONS
from reelgraph.store.runs import SCHEMA_VERSION, RunStore

# The schema of version 1 as it shipped (a frozen copy: the migration must not change).
V1_DDL = """
    CREATE TABLE runs (
        id         TEXT PRIMARY KEY,    -- sortable by start: 20261130-101500-3fa2c1
        spec       TEXT NOT NULL,       -- the spec's name
        spec_path  TEXT,                -- the file it was loaded from, if any
        spec_text  TEXT NOT NULL,       -- the spec as run, for resume
        inputs     TEXT NOT NULL,       -- JSON object
        output_dir TEXT,
        status     TEXT NOT NULL,       -- running | succeeded | failed | cancelled
        started_at REAL NOT NULL,
        ended_at   REAL,
        seconds    REAL,
        error      TEXT,
        cost_usd   REAL NOT NULL DEFAULT 0   -- sum of costs.amount_usd
    );
    CREATE INDEX runs_started_at ON runs (started_at);

    CREATE TABLE nodes (                -- rowid keeps insertion order
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        hook       TEXT NOT NULL DEFAULT '',
        provider   TEXT,
        status     TEXT NOT NULL,       -- running | succeeded | failed | cancelled
        attempts   INTEGER NOT NULL DEFAULT 0,
        cached     INTEGER NOT NULL DEFAULT 0,   -- 1: served from the memo cache
        items      INTEGER,             -- map items, for map nodes
        started_at REAL,
        ended_at   REAL,
        seconds    REAL,
        error      TEXT,
        output     TEXT,                -- JSON (serialize.dump_value form)
        cache_key  TEXT,
        PRIMARY KEY (run_id, node_id)
    );

    CREATE TABLE attempts (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        item_index INTEGER NOT NULL,    -- -1: not a map item
        attempt    INTEGER NOT NULL,    -- 1-based
        status     TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at   REAL,
        error      TEXT,
        PRIMARY KEY (run_id, node_id, item_index, attempt)
    );

    CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,   -- write order
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        ts         REAL NOT NULL,
        type       TEXT NOT NULL,       -- run.started, node.succeeded, ...
        node_id    TEXT,
        data       TEXT                 -- JSON object or NULL
    );
    CREATE INDEX events_run ON events (run_id, id);

    CREATE TABLE costs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT,
        amount_usd REAL NOT NULL,
        detail     TEXT NOT NULL DEFAULT '',
        ts         REAL NOT NULL
    );
    CREATE INDEX costs_run ON costs (run_id);

    -- Memo cache: outlives the run that filled it, so no foreign key.
    CREATE TABLE memo (
        cache_key  TEXT PRIMARY KEY,    -- serialize.digest_value of hook, provider, version, args
        output     TEXT NOT NULL,       -- JSON (serialize.dump_value form)
        run_id     TEXT NOT NULL,
        node_id    TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    -- Notes hooks keep about remote work (a submitted task id) for resume.
    CREATE TABLE journal (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        item_index INTEGER NOT NULL,    -- -1: not a map item
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (run_id, node_id, item_index, key)
    );
    """

V1_ROWS = [
    "INSERT INTO runs (id, spec, spec_text, inputs, status, started_at, cost_usd)"
    " VALUES ('a', 'doc', '{}', '{\"n\": 1}', 'failed', 10.0, 0.5),"
    " ('b', 'doc', '{}', '{}', 'succeeded', 20.0, 0)",
    "INSERT INTO nodes (run_id, node_id, hook, provider, status, attempts, output)"
    " VALUES ('a', 'script', 'write_script', 'extractive', 'succeeded', 1, '{\"x\": 1}'),"
    " ('a', 'clip', 'generate_clip', 'runway', 'failed', 2, NULL)",
    "INSERT INTO attempts VALUES ('a', 'clip', -1, 1, 'failed', 11.0, 12.5, '429'),"
    " ('a', 'clip', 3, 2, 'failed', 13.0, NULL, 'timeout')",
    # events of two runs interleaved, as two processes would write them
    "INSERT INTO events (run_id, ts, type, node_id, data) VALUES"
    " ('a', 10.0, 'run.started', NULL, NULL), ('b', 20.0, 'run.started', NULL, NULL),"
    " ('a', 10.1, 'node.started', 'script', NULL), ('b', 20.1, 'run.finished', NULL, '{}'),"
    " ('a', 10.2, 'node.succeeded', 'script', '{\"cached\": false}')",
    "INSERT INTO costs (run_id, node_id, amount_usd, detail, ts)"
    " VALUES ('a', 'clip', 0.5, 'runway', 12.0)",
    "INSERT INTO memo VALUES ('k', '[1, 2]', 'a', 'script', 11.0)",
    "INSERT INTO journal VALUES ('a', 'clip', -1, 'task_id', 'T-1')",
]


def _old_store(path: Path) -> None:
    """A store as reelgraph wrote it at schema version 1, in WAL mode, with data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(V1_DDL)
        for statement in V1_ROWS:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")


def test_the_first_migration_is_the_schema_that_shipped() -> None:
    assert MIGRATIONS[0] == V1_DDL  # never edit a migration that has shipped


def test_a_version_1_store_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "home" / "reelgraph.db"
    _old_store(db)
    with RunStore(db) as store:
        assert store.integrity_check() == "ok"
        a = store.get_run("a")
        assert a is not None and (a.status, a.inputs, a.cost_usd) == ("failed", {"n": 1}, 0.5)
        nodes = store.get_nodes("a")
        assert [(n.node_id, n.status, n.output, n.cost_usd) for n in nodes] == [
            ("script", "succeeded", {"x": 1}, 0.0),
            ("clip", "failed", None, 0.0),
        ]
        attempts = store.get_attempts("a")
        assert [(t.item, t.attempt, t.error, t.seconds, t.provider) for t in attempts] == [
            (None, 1, "429", 1.5, None),
            (3, 2, "timeout", None, None),
        ]
        assert store.get_events("a") == [
            (10.0, "run.started", None, None),
            (10.1, "node.started", "script", None),
            (10.2, "node.succeeded", "script", {"cached": False}),
        ]
        assert [e[1] for e in store.get_events("b")] == ["run.started", "run.finished"]
        assert store.get_costs("a") == [("clip", 0.5, "runway")]
        assert store.memo_get("k") == ([1, 2], "a", "script")
        assert store.journal_get("a", "clip", None, "task_id") == "T-1"

        # new writes go after the migrated ones, with the new columns
        store.add_events("a", [(30.0, "node.started", "clip", None)])
        assert store.get_events("a")[-1] == (30.0, "node.started", "clip", None)
        assert len(store.get_events("a")) == 4
        store.add_cost("a", "clip", 0.25, "luma")
        store.add_attempt(
            "a", "clip", None, 1, status="succeeded", started_at=31.0, ended_at=33.0,
            error=None, provider="luma", cost_usd=0.25,
        )  # fmt: skip
        assert store.get_run("a").cost_usd == pytest.approx(0.75)
        # migration 5: questions and answers are kept with the run
        assert (a.questions, a.answers) == (None, None)
        asked = [{"key": "audience", "question": "Who watches?", "node": "plan"}]
        store.set_run_status("a", "needs_input", questions=asked)
        store.set_run_answers("a", inputs={"n": 1, "answers": {"audience": "kids"}},
                              answers={"audience": "kids"})  # fmt: skip
        a = store.get_run("a")
        assert (a.status, a.questions, a.answers) == ("needs_input", asked, {"audience": "kids"})
        assert a.inputs == {"n": 1, "answers": {"audience": "kids"}}
        store.set_run_status("a", "succeeded")  # the questions asked stay on record
        assert store.get_run("a").questions == asked
        assert store.get_nodes("a")[1].cost_usd == pytest.approx(0.25)
        assert [(t.attempt, t.provider) for t in store.get_attempts("a", "clip")] == [
            (1, None),
            (2, None),
            (1, "luma"),  # a later execution's attempt 1 keeps the earlier one
        ]
    with contextlib.closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert not {"events_v2", "attempts_v2"} & tables
        assert "benchmarks" in tables  # migration 6: tools benchmark results
        assert "forks" in tables  # migration 8: run lineage
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    with RunStore(db) as again:  # opening a migrated store migrates nothing
        assert len(again.get_events("a")) == 4


def test_events_of_a_deleted_run_go_with_it(tmp_path: Path) -> None:
    db = tmp_path / "reelgraph.db"
    _old_store(db)
    with RunStore(db) as store:
        store._exec("delete run", "DELETE FROM runs WHERE id = ?", ("b",))
        assert store.get_events("b") == []
        assert len(store.get_events("a")) == 3
