"""A run's timeline: every attempt as a bar, in lanes, as Chrome trace JSON or CSV.

Chrome trace: the Trace Event Format's complete events (``"ph": "X"``, ``ts`` and
``dur`` in microseconds; "Trace Event Format", Google, section "Complete Events":
https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU),
which Perfetto (https://ui.perfetto.dev) and chrome://tracing open. One lane
(``tid``) per call in flight at once: an attempt takes the lowest lane free when
it starts, so the lane count is the run's peak concurrency.
"""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["CSV_COLUMNS", "chrome_trace", "timeline", "timeline_csv"]

CSV_COLUMNS = (
    "lane",
    "node",
    "item",
    "attempt",
    "provider",
    "status",
    "start_s",
    "end_s",
    "seconds",
    "cost_usd",
    "error",
)


def timeline(store: Any, run_id: str) -> list[dict[str, Any]]:
    """The run's attempts in start order, each with its ``lane`` and times from the run start.

    ``start_s``/``end_s`` are seconds since the first attempt started; an attempt
    still running has ``end_s`` None and holds its lane.
    """
    attempts = sorted(store.get_attempts(run_id), key=lambda a: (a.started_at, a.node_id))
    if not attempts:
        return []
    origin = attempts[0].started_at
    lanes_end: list[float | None] = []  # per lane: when its current attempt ends
    rows = []
    for a in attempts:
        lane = next(
            (i for i, end in enumerate(lanes_end) if end is not None and end <= a.started_at),
            len(lanes_end),
        )
        if lane == len(lanes_end):
            lanes_end.append(None)
        lanes_end[lane] = a.ended_at
        rows.append(
            {
                "lane": lane,
                "node": a.node_id,
                "item": a.item,
                "attempt": a.attempt,
                "provider": a.provider,
                "status": a.status,
                "start_s": round(a.started_at - origin, 6),
                "end_s": None if a.ended_at is None else round(a.ended_at - origin, 6),
                "seconds": a.seconds,
                "cost_usd": a.cost_usd,
                "error": a.error,
            }
        )
    return rows


def chrome_trace(run_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``rows`` of :func:`timeline` as a Trace Event Format document (``traceEvents``)."""
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": f"run {run_id}"}}
    ]
    for row in rows:
        end = row["end_s"] if row["end_s"] is not None else row["start_s"]
        name = row["node"] if row["item"] is None else f"{row['node']}[{row['item']}]"
        events.append(
            {
                "name": name if row["attempt"] == 1 else f"{name} attempt {row['attempt']}",
                "cat": row["status"],
                "ph": "X",
                "ts": round(row["start_s"] * 1e6),
                "dur": round((end - row["start_s"]) * 1e6),
                "pid": 1,
                "tid": row["lane"],
                "args": {k: row[k] for k in ("provider", "status", "cost_usd", "error")},
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def timeline_csv(rows: list[dict[str, Any]]) -> str:
    """``rows`` of :func:`timeline` as CSV (RFC 4180, header row first)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
