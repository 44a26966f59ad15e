"""Run lineage: which run a fork was made from, and the inputs it changed.

One table, ``forks`` (migration 8 in :mod:`reelgraph.store._migrations`): a
row per fork with its parent's id and the changed inputs as JSON
(``{name: [parent value, fork value]}``; secret inputs are never compared,
so never stored). The parent id has no foreign key: a parent removed by
``reelgraph gc`` leaves its forks' lineage readable.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reelgraph.store.runs import RunStore

__all__ = ["Fork", "children", "fork_of", "record_fork"]


@dataclass(frozen=True, slots=True)
class Fork:
    """One fork: ``run_id`` was made from ``parent_id`` at ``created_at`` (Unix seconds).

    ``changed`` maps each changed input to ``[parent value, fork value]`` (JSON).
    """

    run_id: str
    parent_id: str
    changed: dict[str, list[Any]]
    created_at: float


def record_fork(
    store: RunStore, run_id: str, parent_id: str, changed: dict[str, list[Any]]
) -> None:
    """Record that ``run_id`` (already created) is a fork of ``parent_id``.

    Raises:
        StoreError: the write failed.
    """

    def body(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO forks (run_id, parent_id, changed, created_at) VALUES (?, ?, ?, ?)",
            (run_id, parent_id, json.dumps(changed), time.time()),
        )

    store._write("record fork", body)


def fork_of(store: RunStore, run_id: str) -> Fork | None:
    """The fork record of ``run_id``, or ``None`` when it was not made by a fork."""
    rows = store._read(
        "read fork",
        "SELECT run_id, parent_id, changed, created_at FROM forks WHERE run_id = ?",
        (run_id,),
    )
    return _fork(rows[0]) if rows else None


def children(store: RunStore, parent_id: str) -> list[Fork]:
    """The forks made from ``parent_id``, oldest first."""
    rows = store._read(
        "read forks",
        "SELECT run_id, parent_id, changed, created_at FROM forks"
        " WHERE parent_id = ? ORDER BY created_at, run_id",
        (parent_id,),
    )
    return [_fork(row) for row in rows]


def _fork(row: tuple[Any, ...]) -> Fork:
    return Fork(run_id=row[0], parent_id=row[1], changed=json.loads(row[2]), created_at=row[3])
