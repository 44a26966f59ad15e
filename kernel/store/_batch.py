"""The run store's writes: :class:`Batch` (one transaction's statements) and ``upsert_sql``.

Part of :mod:`reelgraph.store.runs`, which re-exports them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from reelgraph.run.result import jsonable
from reelgraph.store._rows import Event

_NO_ITEM = -1

# The statements a Batch collects. Numbered parameters (?1) let one value serve twice.
# Portable SQL (store/backends.py): upserts are ON CONFLICT ... DO UPDATE, and the
# table's own columns are qualified there (PostgreSQL finds "cost_usd" ambiguous
# beside "excluded.cost_usd").
_START_NODE = (
    "INSERT INTO nodes (run_id, node_id, hook, provider, status, attempts, started_at)"
    " VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)"
    " ON CONFLICT (run_id, node_id) DO UPDATE SET hook = ?3, provider = ?4,"
    " status = 'running', attempts = ?5, started_at = ?6, ended_at = NULL,"
    " seconds = NULL, error = NULL"
)
_FINISH_NODE = (
    "INSERT INTO nodes (run_id, node_id, hook, provider, status, cached, items,"
    " started_at, ended_at, seconds, error, output, cache_key)"
    " VALUES (?1, ?2, COALESCE(?3, ''), ?4, ?5, ?6, ?7, ?8 - ?9, ?8, ?9, ?10, ?11, ?12)"
    " ON CONFLICT (run_id, node_id) DO UPDATE SET"
    " hook = COALESCE(?3, nodes.hook), provider = COALESCE(?4, nodes.provider), status = ?5,"
    " cached = ?6, items = ?7, ended_at = ?8, seconds = ?9, error = ?10,"
    " output = ?11, cache_key = ?12"
)
# seq: the run's next; gid: the store's next (index events_gid), in commit order
_ADD_EVENT = (
    "INSERT INTO events (run_id, seq, gid, ts, type, node_id, data) VALUES"
    " (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?1),"
    " (SELECT COALESCE(MAX(gid), 0) + 1 FROM events), ?2, ?3, ?4, ?5)"
)


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)``, replacing the row with the same ``key``.

    Standard upsert (``ON CONFLICT (key) DO UPDATE SET column = excluded.column``),
    which SQLite (3.24+) and PostgreSQL both read; SQLite's ``INSERT OR REPLACE``
    is its own (https://sqlite.org/lang_upsert.html).
    """
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_ADD_ATTEMPT = upsert_sql(
    "attempts",
    ("run_id", "node_id", "item_index", "attempt", "started_at", "status", "ended_at")
    + ("seconds", "error", "provider", "cost_usd"),
    key=("run_id", "node_id", "item_index", "attempt", "started_at"),
)
_ADD_COST = "INSERT INTO costs (run_id, node_id, amount_usd, detail, ts) VALUES (?, ?, ?, ?, ?)"
_RUN_COST = "UPDATE runs SET cost_usd = cost_usd + ?2 WHERE id = ?1"
# a cost reported for a node not recorded yet makes its row, as "pending"
_NODE_COST = (
    "INSERT INTO nodes (run_id, node_id, status, cost_usd) VALUES (?1, ?2, 'pending', ?3)"
    " ON CONFLICT (run_id, node_id) DO UPDATE SET cost_usd = nodes.cost_usd + ?3"
)
_MEMO_PUT = upsert_sql(
    "memo", ("cache_key", "output", "run_id", "node_id", "created_at"), key=("cache_key",)
)
_JOURNAL_PUT = upsert_sql(
    "journal",
    ("run_id", "node_id", "item_index", "key", "value"),
    key=("run_id", "node_id", "item_index", "key"),
)


def _item(item_index: int | None) -> int:
    return _NO_ITEM if item_index is None else item_index


class Batch:
    """Writes for one transaction, kept in the order they were added.

    Building a batch touches no database; :meth:`RunStore.commit` writes it in
    one transaction. The recorder puts a node's new state together with the
    events, attempts and costs that came since its last commit, so a state
    change costs one commit. Methods return the batch, for chaining.
    """

    __slots__ = ("_ops",)

    def __init__(self) -> None:
        #: (sql, parameters, executemany?)
        self._ops: list[tuple[str, Any, bool]] = []

    def __len__(self) -> int:
        return len(self._ops)

    def clear(self) -> None:
        self._ops.clear()

    def truncate(self, length: int) -> None:
        """Drop the writes added after the first ``length``."""
        del self._ops[length:]

    def node_started(
        self,
        run_id: str,
        node_id: str,
        *,
        hook: str,
        provider: str | None,
        started_at: float,
        attempt: int,
    ) -> Batch:
        """Mark a node ``running`` on its ``attempt`` (1-based); clears a previous error."""
        params = (run_id, node_id, hook, provider, attempt, started_at)
        self._ops.append((_START_NODE, params, False))
        return self

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
    ) -> Batch:
        """Record how a node ended. ``output`` is JSON data (``dump_value`` form).

        A node never started (served from the cache, skipped) is inserted, with
        ``started_at = ended_at - seconds``; ``hook`` and ``provider`` are kept
        from ``node_started`` when not given.
        """
        dumped = None if output is None else json.dumps(output)
        params = (run_id, node_id, hook, provider, status, int(cached), items, ended_at, seconds)
        self._ops.append((_FINISH_NODE, (*params, error, dumped, cache_key), False))
        return self

    def events(self, run_id: str, events: Iterable[Event]) -> Batch:
        """Append ``(ts, type, node_id, data)`` events; ``data`` must be JSON-ready or models."""
        rows = [
            (run_id, ts, type_, node_id, None if data is None else json.dumps(jsonable(data)))
            for ts, type_, node_id, data in events
        ]
        if rows:
            self._ops.append((_ADD_EVENT, rows, True))
        return self

    def attempt(
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
        provider: str | None = None,
        seconds: float | None = None,
        cost_usd: float = 0.0,
    ) -> Batch:
        """Record (or replace) one attempt; ``seconds`` defaults to ``ended_at - started_at``."""
        if seconds is None and ended_at is not None:
            seconds = ended_at - started_at
        params = (run_id, node_id, _item(item_index), attempt, started_at, status, ended_at)
        self._ops.append((_ADD_ATTEMPT, (*params, seconds, error, provider, cost_usd), False))
        return self

    def cost(
        self,
        run_id: str,
        node_id: str | None,
        amount_usd: float,
        detail: str = "",
        ts: float | None = None,
    ) -> Batch:
        """Record a cost (US dollars), adding it to the run's and the node's ``cost_usd``."""
        when = time.time() if ts is None else ts
        self._ops.append((_ADD_COST, (run_id, node_id, amount_usd, detail, when), False))
        self._ops.append((_RUN_COST, (run_id, amount_usd), False))
        if node_id is not None:
            self._ops.append((_NODE_COST, (run_id, node_id, amount_usd), False))
        return self

    def memo_put(self, cache_key: str, output: Any, *, run_id: str, node_id: str) -> Batch:
        """Cache ``output`` (JSON data) under ``cache_key``, replacing an older entry."""
        row = (cache_key, json.dumps(output), run_id, node_id, time.time())
        self._ops.append((_MEMO_PUT, row, False))
        return self
