"""What a run returns: its status, outputs, per-node timings and events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from reelgraph.errors import NodeError, ReelgraphError

__all__ = ["Event", "NodeRun", "Run", "jsonable"]

#: ``needs_input``: a node asked clarifying questions (``Run.questions``); answer them
#: with ``Kernel.answer`` to resume the run
RUN_STATUSES = (
    "running",
    "succeeded",
    "failed",
    "failed_quality",
    "over_budget",
    "cancelled",
    "needs_input",
)
#: ``skipped``: its ``when:`` was false or a node it depends on was skipped (a
#: standby fallback node that was not needed is skipped too); ``blocked``: not
#: started because the budget would be exceeded; ``needs_input``: it raised
#: :class:`~reelgraph.errors.NeedsInput` and runs again once answered
NODE_STATUSES = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "blocked",
    "cancelled",
    "needs_input",
)


class Event(NamedTuple):
    """Something that happened in a run (an immutable record).

    ``type`` is one of ``run.started``, ``node.started``, ``node.progress``,
    ``node.retrying`` (data: attempt, error, wait_s), ``node.fallback``
    (data: error, to), ``node.revised``, ``node.succeeded``, ``node.failed``,
    ``node.skipped`` (data: reason), ``node.blocked`` (data: error),
    ``node.needs_input`` (data: error, questions), ``node.cancelled``,
    ``run.answered`` (data: answers, the new ones, when ``Kernel.answer``
    resumed the run), ``run.finished``. ``ts`` is a Unix time in seconds.

    A named tuple: the scheduler makes two per node, and a tuple is the
    cheapest record Python has.
    """

    type: str
    ts: float
    node_id: str | None = None
    data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "ts": round(self.ts, 6)}
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.data:
            out["data"] = jsonable(self.data)
        return out


@dataclass(slots=True)
class NodeRun:
    """One node's state in a run. Times are Unix seconds; ``seconds`` is wall time."""

    id: str
    hook: str
    provider: str | None
    status: str = "pending"
    started_at: float | None = None
    ended_at: float | None = None
    seconds: float | None = None
    attempts: int = 0
    items: int | None = None
    error: str | None = None
    #: served from the memo cache or reused from the run being resumed
    cached: bool = False
    #: US dollars its hook calls reported (``ctx.report_cost``)
    cost_usd: float = 0.0
    #: what produced the output when the node fell back: ``provider:NAME`` or ``node:ID``
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hook": self.hook,
            "provider": self.provider,
            "status": self.status,
            "attempts": self.attempts,
            "cached": self.cached,
            "items": self.items,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "seconds": None if self.seconds is None else round(self.seconds, 6),
            "error": self.error,
            "cost_usd": self.cost_usd,
            "fallback": self.fallback,
        }


@dataclass(slots=True)
class Run:
    """The result of ``Kernel.run``.

    Attributes:
        id: the run id (sortable by start time).
        spec: the spec's name.
        status: ``succeeded``, ``failed``, ``failed_quality`` (an error-severity
            quality gate did not pass), ``over_budget``, ``needs_input`` (a
            node asked clarifying questions: ``questions``) or ``cancelled``
            once finished.
        inputs: the inputs after defaults and type conversion.
        outputs: the spec's ``outputs`` (or the sink nodes' outputs), resolved.
        nodes: per node, in execution order.
        events: everything that happened, in order.
        error: the :class:`NodeError` that failed the run, if any.
        run_dir: where the nodes' files were written.
        published: files copied to the output directory, by output name.
        quality: gate results by gate node; ``quality_report`` lists them all.
        revisions: what review loops sent back, in order.
        resources: what this execution cost the machine (peak RSS, CPU
            seconds, artifact bytes, free disk space; see
            :mod:`reelgraph.observe.resources`).
        questions: with status ``needs_input``, the clarifying questions
            asked: ``key``, ``question``, ``why``, ``assumption`` and the
            ``node`` that asked (see :mod:`reelgraph.run.questions`).
    """

    id: str
    spec: str
    run_dir: Path
    inputs: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    outputs: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, NodeRun] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    error: ReelgraphError | None = None
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    seconds: float | None = None
    published: dict[str, Path] = field(default_factory=dict)
    #: quality gate results by gate node id (the final measurement of each)
    quality: dict[str, list[Any]] = field(default_factory=dict)
    #: revisions made by review loops: node, gate, revision number, feedback
    revisions: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    questions: list[dict[str, str]] = field(default_factory=list)

    @property
    def quality_report(self) -> list[Any]:
        """Every gate result of the run, in the order the gate nodes finished."""
        return [result for results in self.quality.values() for result in results]

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def cost_usd(self) -> float:
        """US dollars this execution's hook calls reported, summed over its nodes.

        Nodes reused from an earlier execution (resume) add nothing here; the
        run store's ``runs.cost_usd`` counts every execution of the run.
        """
        return sum(node.cost_usd for node in self.nodes.values())

    def raise_for_status(self) -> Run:
        """Return the run when it succeeded, else raise the error that failed it."""
        if self.error is not None:
            raise self.error
        if self.status != "succeeded":
            raise ReelgraphError(f"run {self.id} {self.status}")
        return self

    @property
    def failed_node(self) -> str | None:
        return self.error.node_id if isinstance(self.error, NodeError) else None

    def to_dict(self, *, events: bool = False) -> dict[str, Any]:
        """A JSON-ready summary (what ``run.json`` holds)."""
        out = {
            "id": self.id,
            "spec": self.spec,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "seconds": None if self.seconds is None else round(self.seconds, 6),
            "inputs": _redacted(jsonable(self.inputs)),
            "outputs": jsonable(self.outputs),
            "published": {k: str(v) for k, v in self.published.items()},
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "error": str(self.error) if self.error else None,
            "cost_usd": self.cost_usd,
            "run_dir": str(self.run_dir),
            "quality": jsonable(self.quality_report),
            "revisions": jsonable(self.revisions),
            "resources": self.resources,
            "questions": self.questions,
        }
        if events:
            out["events"] = [e.to_dict() for e in self.events]
        return out


def _redacted(value: Any) -> Any:
    from reelgraph.observe.secrets import redact_value

    return redact_value(value)


def jsonable(value: Any) -> Any:
    """Convert models, paths and containers into JSON-ready values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)
