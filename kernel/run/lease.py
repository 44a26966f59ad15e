"""Keeping a run's lease while it executes: a heartbeat on the event loop.

:mod:`reelgraph.store.leases` takes and releases leases; this module renews
the one an execution holds, every third of its time to live, so a holder that
is alive never looks stale to another host. When a renewal finds that another
process has taken the run over (``reelgraph resume --force``), the execution
is cancelled: two owners must never run the same nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import structlog

from reelgraph.errors import ReelgraphError
from reelgraph.store.leases import DEFAULT_TTL_S, Lease, LeaseLost, renew_lease

if TYPE_CHECKING:
    from reelgraph.store.runs import RunStore

__all__ = ["LeaseKeeper", "takeover_event"]


class LeaseKeeper:
    """Renews ``lease`` in the background while the task that started it runs.

    Use as ``async with LeaseKeeper(store, lease): ...``. When the lease is
    lost, the task inside is cancelled and :attr:`lost` is set; the caller
    then raises :class:`~reelgraph.store.leases.LeaseLost` instead of
    recording anything as the run's owner.
    """

    def __init__(self, store: RunStore, lease: Lease, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.store = store
        self.lease = lease
        self.ttl_s = ttl_s
        self.lost: LeaseLost | None = None
        self._owner_task: asyncio.Task[object] | None = None
        self._beat: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LeaseKeeper:
        self._owner_task = asyncio.current_task()
        self._beat = asyncio.create_task(self._heartbeat(), name=f"lease {self.lease.run_id}")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat

    async def _heartbeat(self) -> None:
        log = structlog.get_logger("reelgraph.lease")
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            try:
                await asyncio.to_thread(renew_lease, self.store, self.lease, self.ttl_s)
            except LeaseLost as err:
                self.lost = err
                log.warning("lease lost; stopping", run_id=self.lease.run_id)
                if self._owner_task is not None:
                    self._owner_task.cancel()
                return
            except ReelgraphError as err:  # a busy or full store: try again next beat
                log.warning("lease renewal failed", run_id=self.lease.run_id, error=str(err))


def takeover_event(lease: Lease, previous: Lease | None, reason: str | None) -> dict[str, Any]:
    """The ``run.lease_taken_over`` event's data: whose lease was taken, and why."""
    assert previous is not None
    return {
        "reason": reason,
        "forced": reason == "forced",
        "previous": {"host": previous.host, "pid": previous.pid, "since": previous.acquired_at},
        "owner": {"host": lease.host, "pid": lease.pid},
    }
