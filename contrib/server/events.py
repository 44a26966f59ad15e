"""Run events as Server-Sent Events, with ids from the run store.

Wire format: the WHATWG HTML Living Standard, section 9.2 "Server-sent events"
(https://html.spec.whatwg.org/multipage/server-sent-events.html): each message
has ``id``, ``event`` (the event type, e.g. ``node.succeeded``) and ``data`` (one
JSON object); a client that reconnects sends the last id it saw as the
``Last-Event-ID`` header and gets every later event exactly once.

Ids: in one run's stream, the event's 1-based position in the run's stored
events (``RunStore.get_events`` returns them in write order and never reorders
them). In the stream of all runs, an opaque cursor: the count of events sent per
run, for the latest ``window`` runs, as compact JSON compressed with zlib and
base64url-encoded. The store is polled every ``poll_s`` seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

__all__ = [
    "all_runs_events",
    "decode_cursor",
    "encode_cursor",
    "event_json",
    "parse_index",
    "run_events",
    "snapshot",
]

#: statuses a run leaves only when it is resumed or answered
_TERMINAL = {"succeeded", "failed", "failed_quality", "over_budget", "needs_input", "cancelled"}


def event_json(run_id: str, index: int, event: tuple[Any, ...]) -> dict[str, Any]:
    """One stored event ``(ts, type, node_id, data)`` as JSON: ``id`` is its 1-based position."""
    ts, type_, node_id, data = event
    return {"id": index, "run_id": run_id, "ts": ts, "type": type_, "node": node_id, "data": data}


def _message(event_id: str, payload: dict[str, Any]) -> dict[str, str]:
    return {"id": event_id, "event": payload["type"], "data": json.dumps(payload)}


def parse_index(last_event_id: str | None) -> int:
    """The position a per-run ``Last-Event-ID`` names (0: start from the first event).

    Raises:
        ValueError: the id is not a non-negative integer.
    """
    if not last_event_id:
        return 0
    value = int(last_event_id)
    if value < 0:
        raise ValueError("negative event id")
    return value


async def run_events(
    store: Any, run_id: str, after: int, *, poll_s: float
) -> AsyncIterator[dict[str, str]]:
    """Events of ``run_id`` after position ``after``, as they are stored, forever.

    The stream stays open after the run ends (a resumed run adds events); the
    response's keep-alive comments keep idle connections up.
    """
    sent = after
    while True:
        events = store.get_events(run_id)
        for index in range(sent, len(events)):
            yield _message(str(index + 1), event_json(run_id, index + 1, events[index]))
        sent = max(sent, len(events))
        await asyncio.sleep(poll_s)


def encode_cursor(counts: dict[str, int]) -> str:
    """``{run id: events sent}`` as an SSE id (no newlines, ASCII)."""
    raw = json.dumps(counts, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, int]:
    """The counts an :func:`encode_cursor` id holds.

    Raises:
        ValueError: the text is not such a cursor.
    """
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        counts = json.loads(raw)
    except (ValueError, zlib.error) as err:
        raise ValueError(f"not an event cursor: {err}") from None
    if not isinstance(counts, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in counts.items()
    ):
        raise ValueError("not an event cursor")
    return counts


def snapshot(store: Any, window: int = 100) -> dict[str, int]:
    """The cursor of "now": the count of stored events of each of the latest ``window`` runs.

    Taken when a stream is opened, before the response starts, so an event stored
    after the request arrived is never skipped.
    """
    return {row.id: len(store.get_events(row.id)) for row in store.list_runs(window)}


async def all_runs_events(
    store: Any, cursor: dict[str, int], *, poll_s: float, window: int = 100
) -> AsyncIterator[dict[str, str]]:
    """Events of the latest ``window`` runs stored after ``cursor``, as they are stored.

    A run missing from the cursor started after it was made, so all its events
    are sent. A run's events are read again only while it runs, and once more
    after each stop (its ``ended_at`` changes), so idle runs cost one row of
    ``list_runs`` per poll.
    """
    counts = dict(cursor)
    settled: dict[str, Any] = {}  # terminal run -> its ended_at when last read
    while True:
        rows = list(reversed(store.list_runs(window)))  # oldest first
        for row in rows:
            if row.status in _TERMINAL and settled.get(row.id, _TERMINAL) == row.ended_at:
                continue  # read since it stopped, and not run again since
            events = store.get_events(row.id)
            for index in range(counts.get(row.id, 0), len(events)):
                counts[row.id] = index + 1
                payload = event_json(row.id, index + 1, events[index])
                yield _message(encode_cursor(_trim(counts, rows)), payload)
            counts.setdefault(row.id, len(events))
            if row.status in _TERMINAL:
                settled[row.id] = row.ended_at
            else:
                settled.pop(row.id, None)
        await asyncio.sleep(poll_s)


def _trim(counts: dict[str, int], rows: list[Any]) -> dict[str, int]:
    """The counts of the runs still in the window (older ones cannot come back into it)."""
    keep = {row.id for row in rows}
    return {run_id: n for run_id, n in counts.items() if run_id in keep}
