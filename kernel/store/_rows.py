"""The rows the run store reads back: runs, nodes, attempts, events.

Part of :mod:`reelgraph.store.runs`, which re-exports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_RUN_COLUMNS = (
    "id, spec, spec_path, spec_text, inputs, output_dir, status, "
    "started_at, ended_at, seconds, error, cost_usd, resources, questions, answers"
)
_NODE_COLUMNS = (
    "run_id, node_id, hook, provider, status, attempts, cached, items, "
    "started_at, ended_at, seconds, error, output, cache_key, cost_usd"
)
_ATTEMPT_COLUMNS = (
    "node_id, item_index, attempt, provider, status, error, seconds, cost_usd, started_at, ended_at"
)

Event = tuple[float, str, str | None, dict[str, Any] | None]


@dataclass(slots=True)
class RunRow:
    """One run. Times are Unix seconds; ``inputs`` is the decoded JSON object.

    ``cost_usd`` is the sum of every cost recorded for the run, over all its
    executions (a resumed run keeps what the interrupted one spent).
    """

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
    #: what the last execution cost the machine (see reelgraph.observe.resources)
    resources: dict[str, Any] | None = None
    #: the last clarifying questions asked (``needs_input``; see reelgraph.run.questions)
    questions: list[dict[str, Any]] | None = None
    #: every answer given to them, by question key
    answers: dict[str, str] | None = None


@dataclass(slots=True)
class NodeRow:
    """One node of a run. ``output`` is decoded JSON (``dump_value`` form) or ``None``.

    ``cost_usd`` sums the costs recorded for the node (US dollars), over all
    executions of the run.
    """

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
    cost_usd: float = 0.0


@dataclass(slots=True)
class AttemptRow:
    """One attempt of a node or of one of its map items.

    ``item`` is the map item's index (``None`` for a node without ``map``);
    ``attempt`` counts from 1 within one execution of the run; ``provider`` is
    the plugin that ran it; ``seconds`` its wall time; ``cost_usd`` what it
    reported (US dollars); times are Unix seconds.
    """

    node_id: str
    item: int | None
    attempt: int
    provider: str | None
    status: str
    error: str | None
    seconds: float | None
    cost_usd: float
    started_at: float
    ended_at: float | None


@dataclass(slots=True)
class EventRow:
    """One stored event with its ids.

    ``seq`` is its 1-based place in its run's events (write order; ids of runs
    stored before schema 2 need not start at 1); ``gid`` its id across the
    store, increasing in commit order, so a reader that saw ``gid`` N never
    later finds a new event below N. ``ts`` is Unix seconds; ``data`` decoded
    JSON or ``None``.
    """

    run_id: str
    seq: int
    gid: int
    ts: float
    type: str
    node_id: str | None
    data: Any

    def as_tuple(self) -> Event:
        """``(ts, type, node_id, data)``, as :meth:`RunStore.get_events` returns events."""
        return (self.ts, self.type, self.node_id, self.data)


def _run_row(row: tuple[Any, ...]) -> RunRow:
    values = list(row)
    values[4] = json.loads(values[4])
    for index in (12, 13, 14):  # resources, questions, answers
        values[index] = None if values[index] is None else json.loads(values[index])
    return RunRow(*values)


def _node_row(row: tuple[Any, ...]) -> NodeRow:
    values = list(row)
    values[6] = bool(values[6])
    values[12] = None if values[12] is None else json.loads(values[12])
    return NodeRow(*values)
