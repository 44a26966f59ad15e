"""Run leases: one owner per run, recorded in the run store.

A process that executes a run holds its lease: a row in ``leases`` with an
owner id, the host and pid of the process, when it took the lease, its last
heartbeat and when the lease expires. Taking the lease is one
``BEGIN IMMEDIATE`` transaction, so two processes that try at the same moment
are serialised by SQLite's write lock and exactly one wins
(https://sqlite.org/lang_transaction.html).

A held lease is **live** unless it is stale:

- on this host, the holder's pid no longer exists (``kill -9``, a crash);
- on another host (where its pid cannot be checked), the heartbeat has not
  been renewed before ``expires_at``.

A stale lease is taken over; a live one is refused with :class:`RunLeased`,
unless the caller forces it (an operator who knows the holder is gone).
Leases are rows, not SQLite locks, so they survive the holder's process and
can be inspected (``reelgraph show``, ``doctor``) and broken by hand. The same
rows work on a PostgreSQL store (``reelgraph.contrib.postgres.store``), whose
writes hold a transaction-level advisory lock in place of ``BEGIN
IMMEDIATE``; a session lock alone would vanish with the holder's connection
and could not say who held the run.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reelgraph.errors import ReelgraphError
from reelgraph.store.runs import upsert_sql

if TYPE_CHECKING:
    from reelgraph.store.runs import RunStore

__all__ = [
    "DEFAULT_TTL_S",
    "Lease",
    "LeaseLost",
    "RunLeased",
    "acquire_lease",
    "get_lease",
    "pid_alive",
    "release_lease",
    "renew_lease",
]

#: seconds a lease stays live without a heartbeat; the holder renews it every third of this
DEFAULT_TTL_S = 30.0

_COLUMNS = "run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at"

#: owners of leases this process holds now; a lease of this pid whose owner is not
#: here belongs to an execution that ended without releasing it (its store was full)
_HELD: set[str] = set()


@dataclass(frozen=True, slots=True)
class Lease:
    """Who executes a run. Times are Unix seconds.

    Attributes:
        run_id: the run.
        owner: a random id, one per execution (not per process).
        host: the holder's host name (``socket.gethostname()``).
        pid: the holder's process id on that host.
        acquired_at: when the lease was taken.
        heartbeat_at: when it was last renewed.
        expires_at: when it lapses without a renewal.
    """

    run_id: str
    owner: str
    host: str
    pid: int
    acquired_at: float
    heartbeat_at: float
    expires_at: float

    def stale_reason(self, now: float, host: str | None = None) -> str | None:
        """Why this lease no longer protects its run, or ``None`` while it is live."""
        here = host if host is not None else socket.gethostname()
        if self.host == here and not pid_alive(self.pid):
            return f"process {self.pid} on {self.host} is gone"
        if self.host == here and self.pid == os.getpid() and self.owner not in _HELD:
            return "an earlier execution in this process ended without releasing it"
        if now > self.expires_at:
            return f"no heartbeat since {_clock(self.heartbeat_at)}"
        return None

    def describe(self) -> str:
        """``process 4242 on render-1 since 12:04:05 (last heartbeat 12:06:35)``."""
        return (
            f"process {self.pid} on {self.host} since {_clock(self.acquired_at)} "
            f"(last heartbeat {_clock(self.heartbeat_at)})"
        )


class RunLeased(ReelgraphError):
    """The run is being executed by another live process; nothing was run.

    Attributes:
        lease: the live lease that holds the run.
    """

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        super().__init__(
            f"run {lease.run_id} is being executed by {lease.describe()}; wait for it to "
            f"finish (`reelgraph show {lease.run_id}`), or, if that process is gone for "
            f"good, take over with `reelgraph resume {lease.run_id} --force`"
        )


class LeaseLost(ReelgraphError):
    """This process no longer holds the run's lease (another process took it over)."""


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host (signal 0 probes it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _clock(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _lease(row: tuple[object, ...]) -> Lease:
    return Lease(*row)  # type: ignore[arg-type]


def get_lease(store: RunStore, run_id: str) -> Lease | None:
    """The lease recorded for ``run_id``, live or stale, or ``None``."""
    rows = store._read("get lease", f"SELECT {_COLUMNS} FROM leases WHERE run_id = ?", (run_id,))
    return _lease(rows[0]) if rows else None


def acquire_lease(
    store: RunStore,
    run_id: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    force: bool = False,
) -> tuple[Lease, Lease | None, str | None]:
    """Take the lease of ``run_id`` for this process.

    Returns:
        ``(lease, previous, reason)``: the new lease; the lease it replaced
        (``None`` when the run had none); and why the previous one could be
        taken (``"stale: process 4242 on host is gone"``, ``"forced"``), or
        ``None`` when there was none.

    Raises:
        RunLeased: another live process holds the run and ``force`` is false.
        StoreError: the store could not be written.
    """
    host = socket.gethostname()
    owner = uuid.uuid4().hex

    def body(db: sqlite3.Connection) -> tuple[Lease, Lease | None, str | None]:
        now = time.time()
        rows = db.execute(f"SELECT {_COLUMNS} FROM leases WHERE run_id = ?", (run_id,)).fetchall()
        previous = _lease(rows[0]) if rows else None
        reason = None
        if previous is not None:
            stale = previous.stale_reason(now, host)
            if stale is not None:
                reason = f"stale: {stale}"
            elif force:
                reason = "forced"
            else:
                raise RunLeased(previous)
        lease = Lease(run_id, owner, host, os.getpid(), now, now, now + ttl_s)
        db.execute(
            upsert_sql("leases", _COLUMNS.split(", "), key=("run_id",)),
            (lease.run_id, lease.owner, lease.host, lease.pid, now, now, now + ttl_s),
        )
        return lease, previous, reason

    taken = store._write(f"take lease of run {run_id}", body)
    _HELD.add(owner)
    return taken  # type: ignore[no-any-return]


def renew_lease(store: RunStore, lease: Lease, ttl_s: float = DEFAULT_TTL_S) -> None:
    """Push the lease's expiry ``ttl_s`` seconds from now.

    Raises:
        LeaseLost: another process has taken the run over.
        StoreError: the store could not be written.
    """

    def body(db: sqlite3.Connection) -> None:
        now = time.time()
        cursor = db.execute(
            "UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND owner = ?",
            (now, now + ttl_s, lease.run_id, lease.owner),
        )
        if cursor.rowcount != 1:
            raise LeaseLost(f"run {lease.run_id} was taken over by another process")

    store._write(f"renew lease of run {lease.run_id}", body)


def release_lease(store: RunStore, lease: Lease) -> None:
    """Give the lease up (a no-op when another process has taken it over).

    The lease stops being this process's at once, even when the store cannot
    be written (a full disk): a later resume in this process or another then
    finds it stale.
    """
    _HELD.discard(lease.owner)
    store._write(
        f"release lease of run {lease.run_id}",
        lambda db: db.execute(
            "DELETE FROM leases WHERE run_id = ? AND owner = ?", (lease.run_id, lease.owner)
        ),
    )
