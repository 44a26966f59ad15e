"""The run store: a SQLite journal of runs, nodes, attempts, events, costs and the memo cache.

One file, opened in WAL mode so readers never block the writer and several
processes can share it (https://sqlite.org/wal.html).

Durability: every write method commits before it returns; :meth:`RunStore.commit`
writes a whole :class:`Batch` (a node's new state, the events and costs that
came with it) in one transaction, so a state change costs one commit.
``synchronous=NORMAL`` in WAL mode does not fsync on commit, only at
checkpoints: a committed transaction survives a crash of the process (it is
in the WAL file, in the operating system's cache), but a power loss or an OS
crash may roll back the last transactions before the most recent checkpoint;
the database stays consistent either way
(https://sqlite.org/pragma.html#pragma_synchronous, https://sqlite.org/wal.html#performance_considerations).

Writes start with ``BEGIN IMMEDIATE``, which takes the write lock up front and
so waits on ``busy_timeout`` for another writer instead of failing when a
read transaction tries to upgrade (https://sqlite.org/lang_transaction.html).
Times are Unix seconds (REAL), money is US dollars (REAL); JSON columns hold
``json.dumps`` text.

The rows read back are in :mod:`._rows`, the batched writes in :mod:`._batch`,
the background checkpoints in :mod:`._checkpoint`; this module re-exports them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelgraph.errors import ReelgraphError
from reelgraph.run.result import jsonable
from reelgraph.store._batch import _JOURNAL_PUT, _NO_ITEM, Batch, _item, upsert_sql
from reelgraph.store._checkpoint import _Checkpointer
from reelgraph.store._migrations import MIGRATIONS, SCHEMA_VERSION
from reelgraph.store._rows import (
    _ATTEMPT_COLUMNS,
    _NODE_COLUMNS,
    _RUN_COLUMNS,
    AttemptRow,
    Event,
    EventRow,
    NodeRow,
    RunRow,
    _node_row,
    _run_row,
)

__all__ = [
    "SCHEMA_VERSION",
    "AttemptRow",
    "Batch",
    "EventRow",
    "NodeRow",
    "RunRow",
    "RunStore",
    "StoreError",
    "upsert_sql",
]

_RETRIES = 5  # after busy_timeout has expired: the last resort against "database is locked"


class StoreError(ReelgraphError):
    """The run store cannot be opened, read or written; the message names its file.

    Attributes:
        path: the store's database file (``None`` for a store that is not a file).
        kind: a :class:`~reelgraph.store.faults.StorageError` kind when the
            cause is known (``unreachable``: a database server cannot be
            reached; ``not_installed``: no backend for the URL), else ``None``.
        location: where the store is, for messages: its file, or its URL
            without the password.
        detail: what the database or its driver said (one line), if known.
    """

    def __init__(
        self,
        message: str,
        path: Path | None = None,
        *,
        kind: str | None = None,
        location: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind
        self.location = location if location is not None else (str(path) if path else None)
        self.detail = detail


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


def _run_filter(
    status: str | None, spec: str | None, since: float | None
) -> tuple[str, tuple[Any, ...]]:
    """A ``WHERE`` clause over ``runs`` and its parameters (``""`` when nothing filters)."""
    terms, params = [], []
    for term, value in (("status = ?", status), ("spec = ?", spec), ("started_at >= ?", since)):
        if value is not None:
            terms.append(term)
            params.append(value)
    return (" WHERE " + " AND ".join(terms) if terms else ""), tuple(params)


class RunStore:
    """A run store in one SQLite file. Safe to share between threads and processes.

    Args:
        path: the database file; its directory is created if missing.
        busy_timeout_s: how long a write waits for another process's write
            lock before failing with "database is locked" (seconds).

    Raises:
        StoreError: the file cannot be opened, is not a database, or was
            written by a newer reelgraph (schema version above ``SCHEMA_VERSION``).
    """

    #: commits between two background WAL checkpoints (about 3.6 pages each)
    CHECKPOINT_EVERY = 64

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        #: where the store is, for messages: its file here, a URL without password elsewhere
        self.location = str(self.path)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._checkpointer: _Checkpointer | None = None
        self._commits = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; we issue BEGIN IMMEDIATE.
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, timeout=busy_timeout_s, isolation_level=None
            )
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open run store {self.path}: {err}", self.path) from err
        try:
            self._retry("open", self._configure)
            # a store already at this schema is opened without taking the write lock
            version = self._retry("open", lambda: self._db.execute("PRAGMA user_version"))
            if version.fetchone()[0] != SCHEMA_VERSION:
                self._write("migrate", self._migrate)
        except BaseException:
            self._db.close()
            raise

    def _configure(self) -> None:
        # before anything that may lock
        self._db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000):d}")
        self._db.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        self._db.execute("PRAGMA synchronous = NORMAL")  # see the module docstring
        self._db.execute("PRAGMA foreign_keys = ON")
        # Checkpoints (copying the WAL into the database, with its fsyncs) run in a
        # thread of their own (_Checkpointer), not inside a commit on the event loop.
        self._db.execute("PRAGMA wal_autocheckpoint = 0")

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
        """Close the connection. The store cannot be used afterwards.

        The last connection to close checkpoints the WAL into the database
        (SQLite does this itself on close).
        """
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._lock:
            self._db.close()

    def _committed(self) -> None:
        """Count a commit; every CHECKPOINT_EVERY commits, ask for a background checkpoint."""
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY == 0:
            if self._checkpointer is None:
                self._checkpointer = _Checkpointer(self.path)
            self._checkpointer.request()

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
                    raise StoreError(f"run store {self.path}: {what}: {err}", self.path) from err
                time.sleep(0.05 * 2**attempt)
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"run store {self.path}: {what}: {err}", self.path) from err
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
            result = self._retry(what, transaction)
            self._committed()
            return result

    def commit(self, batch: Batch, what: str = "write") -> None:
        """Write ``batch`` in one transaction, all or nothing; an empty batch is a no-op.

        The batch is left as it was: clear it once this returns.

        Raises:
            StoreError: the write failed (nothing of the batch was written);
                ``what`` names the write in the message.
        """
        ops = batch._ops
        if not ops:
            return

        def body(db: sqlite3.Connection) -> None:
            for sql, params, many in ops:
                if many:
                    db.executemany(sql, params)
                else:
                    db.execute(sql, params)

        self._write(what, body)

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
        resources: dict[str, Any] | None = None,
        questions: list[dict[str, Any]] | None = None,
    ) -> None:
        """Set a run's status, end time, wall time (seconds), error message and resources,
        and with ``questions`` the clarifying questions it asked (kept otherwise)."""
        self._exec(
            f"update run {run_id}",
            "UPDATE runs SET status = ?, ended_at = ?, seconds = ?, error = ?,"
            " resources = COALESCE(?, resources), questions = COALESCE(?, questions)"
            " WHERE id = ?",
            (
                status,
                ended_at,
                seconds,
                error,
                None if resources is None else json.dumps(resources),
                None if questions is None else json.dumps(jsonable(questions)),
                run_id,
            ),
        )

    def set_run_answers(
        self, run_id: str, *, inputs: dict[str, Any], answers: dict[str, str]
    ) -> None:
        """Store a run's inputs with the answers merged in, and every answer given so far."""
        self._exec(
            f"store answers of run {run_id}",
            "UPDATE runs SET inputs = ?, answers = ? WHERE id = ?",
            (json.dumps(jsonable(inputs)), json.dumps(answers), run_id),
        )

    def set_run_spec_text(self, run_id: str, spec_text: str) -> None:
        """Replace a run's stored spec (JSON), e.g. with the budget a resume raised."""
        self._exec(
            f"update spec of run {run_id}",
            "UPDATE runs SET spec_text = ? WHERE id = ?",
            (spec_text, run_id),
        )

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._read("get run", f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def get_run_cost(self, run_id: str) -> float:
        """The run's ``cost_usd`` (0 for an unknown run)."""
        rows = self._read("get run cost", "SELECT cost_usd FROM runs WHERE id = ?", (run_id,))
        return float(rows[0][0]) if rows else 0.0

    def find_runs(self, prefix: str) -> list[RunRow]:
        """Runs whose id starts with ``prefix`` (case-sensitive), newest first."""
        rows = self._read(
            "find runs",
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE substr(id, 1, ?) = ? "
            "ORDER BY started_at DESC, id DESC",
            (len(prefix), prefix),
        )
        return [_run_row(r) for r in rows]

    def list_runs(
        self,
        limit: int | None = 50,
        *,
        status: str | None = None,
        spec: str | None = None,
        since: float | None = None,
    ) -> list[RunRow]:
        """The latest ``limit`` runs (``None``: all), newest first by ``started_at``.

        Args:
            status: only runs with this status (``succeeded``, ``failed``, ...).
            spec: only runs of the spec with this name.
            since: only runs started at or after this Unix time (seconds).
        """
        where, params = _run_filter(status, spec, since)
        rows = self._read(
            "list runs",
            f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*params, -1 if limit is None else limit),
        )
        return [_run_row(r) for r in rows]

    # -- nodes and attempts -------------------------------------------------------------

    def node_started(self, run_id: str, node_id: str, **fields: Any) -> None:
        """Commit :meth:`Batch.node_started` (keyword arguments as there)."""
        self.commit(Batch().node_started(run_id, node_id, **fields), f"start node {node_id}")

    def node_finished(self, run_id: str, node_id: str, **fields: Any) -> None:
        """Commit :meth:`Batch.node_finished` (keyword arguments as there)."""
        self.commit(Batch().node_finished(run_id, node_id, **fields), f"finish node {node_id}")

    def get_nodes(self, run_id: str) -> list[NodeRow]:
        """A run's nodes in the order they were first recorded."""
        rows = self._read(
            "get nodes",
            f"SELECT {_NODE_COLUMNS} FROM nodes WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        return [_node_row(r) for r in rows]

    def add_attempt(
        self, run_id: str, node_id: str, item_index: int | None, attempt: int, **fields: Any
    ) -> None:
        """Commit :meth:`Batch.attempt` (keyword arguments as there)."""
        batch = Batch().attempt(run_id, node_id, item_index, attempt, **fields)
        self.commit(batch, f"record attempt of {node_id}")

    def get_attempts(self, run_id: str, node_id: str | None = None) -> list[AttemptRow]:
        """A run's attempts (or one node's) in the order they started."""
        where: str = "run_id = ?"
        params: tuple[str, ...] = (run_id,)
        if node_id is not None:
            # the primary key starts with (run_id, node_id): one index range
            where, params = "run_id = ? AND node_id = ?", (run_id, node_id)
        rows = self._read(
            "get attempts",
            f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE {where}"
            " ORDER BY started_at, node_id, item_index, attempt",
            params,
        )
        return [AttemptRow(r[0], None if r[1] == _NO_ITEM else r[1], *r[2:]) for r in rows]

    # -- events and costs -------------------------------------------------------------

    def add_events(self, run_id: str, events: list[Event]) -> None:
        """Commit :meth:`Batch.events`: append ``(ts, type, node_id, data)`` events."""
        self.commit(Batch().events(run_id, events), "add events")

    def get_events(self, run_id: str, after: int = 0) -> list[Event]:
        """A run's events in the order they were written, those after ``seq`` ``after``.

        ``after`` is an :attr:`EventRow.seq` (0: from the first event).
        """
        return [row.as_tuple() for row in self.read_events(run_id, after=after)]

    def read_events(
        self, run_id: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[EventRow]:
        """Events with their ids: one run's after ``seq`` ``after``, in write order, or with
        ``run_id`` ``None`` every run's after ``gid`` ``after``, in commit order.

        One index range either way (primary key, or ``events_gid``). ``limit``
        caps the rows (``None``: all); read again after the last id to page.
        """
        where: str = "gid > ? ORDER BY gid"
        params: tuple[Any, ...] = (after,)
        if run_id is not None:
            where, params = "run_id = ? AND seq > ? ORDER BY seq", (run_id, after)
        rows = self._read(
            "read events",
            f"SELECT run_id, seq, gid, ts, type, node_id, data FROM events WHERE {where} LIMIT ?",
            (*params, -1 if limit is None else limit),
        )
        return [
            EventRow(r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else json.loads(r[6]))
            for r in rows
        ]

    def last_event_id(self) -> int:
        """The highest :attr:`EventRow.gid` stored (0 before any event): "now" for a reader."""
        rows = self._read("read events", "SELECT COALESCE(MAX(gid), 0) FROM events")
        return int(rows[0][0])

    def add_cost(
        self, run_id: str, node_id: str | None, amount_usd: float, detail: str = ""
    ) -> None:
        """Commit :meth:`Batch.cost`: a cost in US dollars, added to the run and the node."""
        self.commit(Batch().cost(run_id, node_id, amount_usd, detail), "add cost")

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
        """Commit :meth:`Batch.memo_put`."""
        batch = Batch().memo_put(cache_key, output, run_id=run_id, node_id=node_id)
        self.commit(batch, "write cache")

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
            _JOURNAL_PUT,
            (run_id, node_id, _item(item_index), key, value),
        )

    def schema_version(self) -> int:
        """The migrations applied to the store (``SCHEMA_VERSION`` once opened)."""
        return int(self._read("schema version", "PRAGMA user_version")[0][0])

    def integrity_check(self) -> str:
        """The result of ``PRAGMA integrity_check``: ``"ok"`` for a sound database."""
        rows = self._read("integrity check", "PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)

    def size_bytes(self) -> int:
        """Bytes the store takes on disk: the database file and its WAL."""
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    def compact(self) -> None:
        """``VACUUM``, then fold the WAL back into the database and truncate it.

        See https://sqlite.org/lang_vacuum.html and
        https://sqlite.org/pragma.html#pragma_wal_checkpoint.

        Raises:
            StoreError: another process holds the store (compaction can wait).
        """
        self._read("gc: vacuum", "VACUUM")
        self._read("gc: checkpoint", "PRAGMA wal_checkpoint(TRUNCATE)")
