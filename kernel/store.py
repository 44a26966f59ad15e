"""The run store: a SQLite journal of runs, nodes, attempts, events, costs and the memo cache.

One file, opened in WAL mode so readers never block the writer and several
processes can share it (https://sqlite.org/wal.html). ``synchronous=NORMAL``
makes a WAL commit durable against an application crash, though the last
commits may roll back after a power loss; the database stays consistent
either way (https://sqlite.org/pragma.html#pragma_synchronous).

Every write method commits before it returns. Writes start with
``BEGIN IMMEDIATE``, which takes the write lock up front and so waits on
``busy_timeout`` for another writer instead of failing when a read
transaction tries to upgrade (https://sqlite.org/lang_transaction.html).
Times are Unix seconds (REAL); JSON columns hold ``json.dumps`` text.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReelgraphError
from .run import jsonable

__all__ = ["SCHEMA_VERSION", "NodeRow", "RunRow", "RunStore", "StoreError"]

# Migration N+1 is MIGRATIONS[N]; PRAGMA user_version records how many have run.
# Append new migrations; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: initial schema. item_index is -1 for "not a map item" so it can sit in
    # a primary key (NULLs are distinct in SQLite keys).
    """
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
    """,
]

SCHEMA_VERSION: int = len(MIGRATIONS)

_RETRIES = 5  # after busy_timeout has expired: the last resort against "database is locked"
_NO_ITEM = -1
_RUN_COLUMNS = (
    "id, spec, spec_path, spec_text, inputs, output_dir, status, "
    "started_at, ended_at, seconds, error, cost_usd"
)
_NODE_COLUMNS = (
    "run_id, node_id, hook, provider, status, attempts, cached, items, "
    "started_at, ended_at, seconds, error, output, cache_key"
)

Event = tuple[float, str, str | None, dict[str, Any] | None]


class StoreError(ReelgraphError):
    """The run store cannot be opened, read or written; the message names its file."""


@dataclass(slots=True)
class RunRow:
    """One run. Times are Unix seconds; ``inputs`` is the decoded JSON object."""

    id: str
    spec: str
    spec_path: str | None
    spec_text: str
    inputs: dict[str, Any]
    output_dir: str | None
    status: str
    started_at: float
    ended_at: float | None
    seconds: float | None
    error: str | None
    cost_usd: float


@dataclass(slots=True)
class NodeRow:
    """One node of a run. ``output`` is decoded JSON (``dump_value`` form) or ``None``."""

    run_id: str
    node_id: str
    hook: str
    provider: str | None
    status: str
    attempts: int
    cached: bool
    items: int | None
    started_at: float | None
    ended_at: float | None
    seconds: float | None
    error: str | None
    output: Any
    cache_key: str | None


def _run_row(row: tuple[Any, ...]) -> RunRow:
    values = list(row)
    values[4] = json.loads(values[4])
    return RunRow(*values)


def _node_row(row: tuple[Any, ...]) -> NodeRow:
    values = list(row)
    values[6] = bool(values[6])
    values[12] = None if values[12] is None else json.loads(values[12])
    return NodeRow(*values)


def _item(item_index: int | None) -> int:
    return _NO_ITEM if item_index is None else item_index


def _statements(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit mid-migration)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


class RunStore:
    """A run store in one SQLite file. Safe to share between threads and processes.

    Args:
        path: the database file; its directory is created if missing.

    Raises:
        StoreError: the file cannot be opened, is not a database, or was
            written by a newer reelgraph (schema version above ``SCHEMA_VERSION``).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; we issue BEGIN IMMEDIATE.
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, timeout=30, isolation_level=None
            )
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open run store {self.path}: {err}") from err
        try:
            self._retry("open", self._configure)
            self._write("migrate", self._migrate)
        except BaseException:
            self._db.close()
            raise

    def _configure(self) -> None:
        self._db.execute("PRAGMA busy_timeout = 30000")  # before anything that may lock
        self._db.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run store {self.path} has schema version {version}, newer than this "
                f"reelgraph's {SCHEMA_VERSION}; upgrade reelgraph or use another REELGRAPH_HOME"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number:d}")  # transactional: in the header

    def close(self) -> None:
        """Close the connection. The store cannot be used afterwards."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------

    def _retry(self, what: str, action: Callable[[], Any]) -> Any:
        for attempt in range(1, _RETRIES + 1):
            try:
                return action()
            except sqlite3.OperationalError as err:
                self._rollback()
                locked = "locked" in str(err) or "busy" in str(err)
                if not locked or attempt == _RETRIES:
                    raise StoreError(f"run store {self.path}: {what}: {err}") from err
                time.sleep(0.05 * 2**attempt)
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"run store {self.path}: {what}: {err}") from err
            except BaseException:
                self._rollback()
                raise
        raise AssertionError("unreachable")

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # e.g. the connection is closed
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def _write(self, what: str, body: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction and commit it."""

        def transaction() -> Any:
            self._db.execute("BEGIN IMMEDIATE")
            result = body(self._db)
            self._db.execute("COMMIT")
            return result

        with self._lock:
            return self._retry(what, transaction)

    def _exec(self, what: str, sql: str, params: Any) -> None:
        """Run one write statement in its own transaction."""
        self._write(what, lambda db: db.execute(sql, params))

    def _read(self, what: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._retry(what, lambda: self._db.execute(sql, params).fetchall())

    # -- runs -------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        *,
        spec: str,
        spec_path: str | None,
        spec_text: str,
        inputs: dict[str, Any],
        output_dir: str | None,
        started_at: float,
    ) -> None:
        """Record a new run with status ``running``. Paths in ``inputs`` are stored as text.

        Raises:
            StoreError: a run with this id exists.
        """
        inputs_json = json.dumps(jsonable(inputs))
        self._exec(
            f"create run {run_id}",
            "INSERT INTO runs (id, spec, spec_path, spec_text, inputs, output_dir, status,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
            (run_id, spec, spec_path, spec_text, inputs_json, output_dir, started_at),
        )

    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        ended_at: float | None = None,
        seconds: float | None = None,
        error: str | None = None,
    ) -> None:
        """Set a run's status, end time, wall time (seconds) and error message."""
        self._exec(
            f"update run {run_id}",
            "UPDATE runs SET status = ?, ended_at = ?, seconds = ?, error = ? WHERE id = ?",
            (status, ended_at, seconds, error, run_id),
        )

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._read("get run", f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def find_runs(self, prefix: str) -> list[RunRow]:
        """Runs whose id starts with ``prefix`` (case-sensitive), newest first."""
        rows = self._read(
            "find runs",
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE substr(id, 1, ?) = ? "
            "ORDER BY started_at DESC, id DESC",
            (len(prefix), prefix),
        )
        return [_run_row(r) for r in rows]

    def list_runs(self, limit: int = 50) -> list[RunRow]:
        """The latest ``limit`` runs, newest first by ``started_at``."""
        rows = self._read(
            "list runs",
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_run_row(r) for r in rows]

    # -- nodes and attempts -------------------------------------------------------------

    def node_started(
        self,
        run_id: str,
        node_id: str,
        *,
        hook: str,
        provider: str | None,
        started_at: float,
        attempt: int,
    ) -> None:
        """Mark a node ``running`` on its ``attempt`` (1-based); clears a previous error."""
        self._exec(
            f"start node {node_id}",
            "INSERT INTO nodes (run_id, node_id, hook, provider, status, attempts, started_at)"
            " VALUES (:run, :node, :hook, :provider, 'running', :attempt, :started)"
            " ON CONFLICT (run_id, node_id) DO UPDATE SET hook = :hook,"
            " provider = :provider, status = 'running', attempts = :attempt,"
            " started_at = :started, ended_at = NULL, seconds = NULL, error = NULL",
            dict(
                run=run_id,
                node=node_id,
                hook=hook,
                provider=provider,
                started=started_at,
                attempt=attempt,
            ),
        )

    def node_finished(
        self,
        run_id: str,
        node_id: str,
        *,
        status: str,
        ended_at: float,
        seconds: float,
        error: str | None = None,
        output: Any = None,
        cache_key: str | None = None,
        cached: bool = False,
        items: int | None = None,
        hook: str | None = None,
        provider: str | None = None,
    ) -> None:
        """Record how a node ended. ``output`` is JSON data (``dump_value`` form).

        A node never started (served from the cache) is inserted, with
        ``started_at = ended_at - seconds``; ``hook`` and ``provider`` are
        kept from ``node_started`` when not given.
        """
        params = dict(
            run=run_id,
            node=node_id,
            status=status,
            ended=ended_at,
            seconds=seconds,
            error=error,
            cache_key=cache_key,
            cached=int(cached),
            items=items,
            hook=hook,
            provider=provider,
            output=None if output is None else json.dumps(output),
        )
        self._exec(
            f"finish node {node_id}",
            "INSERT INTO nodes (run_id, node_id, hook, provider, status, cached, items,"
            " started_at, ended_at, seconds, error, output, cache_key)"
            " VALUES (:run, :node, COALESCE(:hook, ''), :provider, :status, :cached,"
            " :items, :ended - :seconds, :ended, :seconds, :error, :output, :cache_key)"
            " ON CONFLICT (run_id, node_id) DO UPDATE SET"
            " hook = COALESCE(:hook, hook), provider = COALESCE(:provider, provider),"
            " status = :status, cached = :cached, items = :items, ended_at = :ended,"
            " seconds = :seconds, error = :error, output = :output,"
            " cache_key = :cache_key",
            params,
        )

    def get_nodes(self, run_id: str) -> list[NodeRow]:
        """A run's nodes in the order they were first recorded."""
        rows = self._read(
            "get nodes",
            f"SELECT {_NODE_COLUMNS} FROM nodes WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        return [_node_row(r) for r in rows]

    def add_attempt(
        self,
        run_id: str,
        node_id: str,
        item_index: int | None,
        attempt: int,
        *,
        status: str,
        started_at: float,
        ended_at: float | None,
        error: str | None,
    ) -> None:
        """Record (or replace) one attempt of a node or of one of its map items."""
        self._exec(
            f"record attempt of {node_id}",
            "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, node_id, _item(item_index), attempt, status, started_at, ended_at, error),
        )

    def get_attempts(
        self, run_id: str
    ) -> list[tuple[str, int | None, int, str, float, float | None, str | None]]:
        """``(node_id, item_index, attempt, status, started_at, ended_at, error)`` in start order."""
        rows = self._read(
            "get attempts",
            "SELECT node_id, item_index, attempt, status, started_at, ended_at, error"
            " FROM attempts WHERE run_id = ? ORDER BY started_at, rowid",
            (run_id,),
        )
        return [(r[0], None if r[1] == _NO_ITEM else r[1], *r[2:]) for r in rows]

    # -- events and costs -------------------------------------------------------------

    def add_events(self, run_id: str, events: list[Event]) -> None:
        """Append ``(ts, type, node_id, data)`` events in one transaction."""
        rows = [
            (run_id, ts, type_, node_id, None if data is None else json.dumps(jsonable(data)))
            for ts, type_, node_id, data in events
        ]
        self._write(
            "add events",
            lambda db: db.executemany(
                "INSERT INTO events (run_id, ts, type, node_id, data) VALUES (?, ?, ?, ?, ?)",
                rows,
            ),
        )

    def get_events(self, run_id: str) -> list[Event]:
        """A run's events in the order they were written."""
        rows = self._read(
            "get events",
            "SELECT ts, type, node_id, data FROM events WHERE run_id = ? ORDER BY id",
            (run_id,),
        )
        return [(ts, t, n, None if d is None else json.loads(d)) for ts, t, n, d in rows]

    def add_cost(
        self, run_id: str, node_id: str | None, amount_usd: float, detail: str = ""
    ) -> None:
        """Record a cost in US dollars and add it to the run's ``cost_usd``."""

        def body(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO costs (run_id, node_id, amount_usd, detail, ts)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, node_id, amount_usd, detail, time.time()),
            )
            db.execute("UPDATE runs SET cost_usd = cost_usd + ? WHERE id = ?", (amount_usd, run_id))

        self._write("add cost", body)

    def get_costs(self, run_id: str) -> list[tuple[str | None, float, str]]:
        """``(node_id, amount_usd, detail)`` in the order they were recorded."""
        return self._read(
            "get costs",
            "SELECT node_id, amount_usd, detail FROM costs WHERE run_id = ? ORDER BY id",
            (run_id,),
        )

    # -- memo cache and journal -------------------------------------------------------

    def memo_get(self, cache_key: str) -> tuple[Any, str, str] | None:
        """``(output, run_id, node_id)`` cached under ``cache_key``, or ``None``."""
        rows = self._read(
            "read cache",
            "SELECT output, run_id, node_id FROM memo WHERE cache_key = ?",
            (cache_key,),
        )
        return (json.loads(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def memo_put(self, cache_key: str, output: Any, *, run_id: str, node_id: str) -> None:
        """Cache ``output`` (JSON data) under ``cache_key``, replacing an older entry."""
        self._exec(
            "write cache",
            "INSERT OR REPLACE INTO memo VALUES (?, ?, ?, ?, ?)",
            (cache_key, json.dumps(output), run_id, node_id, time.time()),
        )

    def memo_delete(self, cache_key: str) -> None:
        self._exec("delete cache entry", "DELETE FROM memo WHERE cache_key = ?", (cache_key,))

    def journal_get(
        self, run_id: str, node_id: str, item_index: int | None, key: str
    ) -> str | None:
        rows = self._read(
            "read journal",
            "SELECT value FROM journal"
            " WHERE run_id = ? AND node_id = ? AND item_index = ? AND key = ?",
            (run_id, node_id, _item(item_index), key),
        )
        return rows[0][0] if rows else None

    def journal_put(
        self, run_id: str, node_id: str, item_index: int | None, key: str, value: str
    ) -> None:
        """Record (or replace) a journal entry of one run, node and map item."""
        self._exec(
            "write journal",
            "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?)",
            (run_id, node_id, _item(item_index), key, value),
        )

    def integrity_check(self) -> str:
        """The result of ``PRAGMA integrity_check``: ``"ok"`` for a sound database."""
        rows = self._read("integrity check", "PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)
