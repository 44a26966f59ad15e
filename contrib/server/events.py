"""Run events as Server-Sent Events, with ids from the run store.

Wire format: the WHATWG HTML Living Standard, section 9.2 "Server-sent events"
(https://html.spec.whatwg.org/multipage/server-sent-events.html): each message
has ``id``, ``event`` (the event type, e.g. ``node.succeeded``) and ``data`` (one
JSON object); a client that reconnects sends the last id it saw as the
``Last-Event-ID`` header and gets every later event exactly once.

Ids come from the store (:meth:`reelgraph.store.runs.RunStore.read_events`): in
one run's stream, the event's ``seq`` (its 1-based place in the run's events);
in the stream of all runs, its ``gid``, the store-wide id that grows in commit
order, so "after the last id seen" never skips an event committed later. Each
poll (every ``poll_s`` seconds) reads only the events after the last id, in
pages of ``page`` rows, in a worker thread: a store read never blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread

__all__ = ["all_runs_events", "event_json", "parse_index", "run_events", "snapshot"]

#: events read per store query; a stream with more waiting reads again at once
PAGE = 500


def event_json(run_id: str, index: int, event: tuple[Any, ...]) -> dict[str, Any]:
    """One stored event ``(ts, type, node_id, data)`` as JSON; ``id`` is its ``seq`` in the run."""
    ts, type_, node_id, data = event
    return {"id": index, "run_id": run_id, "ts": ts, "type": type_, "node": node_id, "data": data}


def _payload(row: Any) -> dict[str, Any]:
    """An :class:`~reelgraph.store.runs.EventRow` as JSON, with its store-wide ``gid``."""
    return {**event_json(row.run_id, row.seq, row.as_tuple()), "gid": row.gid}


def _message(event_id: int, payload: dict[str, Any]) -> dict[str, str]:
    return {"id": str(event_id), "event": payload["type"], "data": json.dumps(payload)}


def parse_index(last_event_id: str | None) -> int:
    """The id a ``Last-Event-ID`` names (0: start from the first event).

    Raises:
        ValueError: the id is not a non-negative integer.
    """
    if not last_event_id:
        return 0
    value = int(last_event_id)
    if value < 0:
        raise ValueError("negative event id")
    return value


async def _pages(store: Any, run_id: str | None, after: int, poll_s: float) -> AsyncIterator[Any]:
    """Event rows after ``after`` (a ``seq`` of ``run_id``, or a ``gid``), forever."""
    while True:
        read = functools.partial(store.read_events, run_id, after=after, limit=PAGE)
        rows = await to_thread.run_sync(read)
        for row in rows:
            yield row
        if rows:
            after = rows[-1].seq if run_id is not None else rows[-1].gid
        if len(rows) < PAGE:
            await asyncio.sleep(poll_s)


async def run_events(
    store: Any, run_id: str, after: int, *, poll_s: float
) -> AsyncIterator[dict[str, str]]:
    """Events of ``run_id`` after ``seq`` ``after``, as they are stored, forever.

    The stream stays open after the run ends (a resumed run adds events); the
    response's keep-alive comments keep idle connections up.
    """
    async for row in _pages(store, run_id, after, poll_s):
        yield _message(row.seq, _payload(row))


async def snapshot(store: Any) -> int:
    """The id of "now": the store's last ``gid``.

    Taken when a stream is opened, before the response starts, so an event stored
    after the request arrived is never skipped.
    """
    return int(await to_thread.run_sync(store.last_event_id))


async def all_runs_events(
    store: Any, after: int, *, poll_s: float
) -> AsyncIterator[dict[str, str]]:
    """Events of every run stored after ``gid`` ``after``, in commit order, forever."""
    async for row in _pages(store, None, after, poll_s):
        yield _message(row.gid, _payload(row))
