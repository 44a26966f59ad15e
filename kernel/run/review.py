"""The review loop: a gate or a reviewer judges a node's output; while an
error-severity result fails, the node runs again with the remedies as feedback.

A mixin of :class:`~reelgraph.run.scheduler.Scheduler` (split out to keep each
module readable), as :class:`~reelgraph.run._calls.CallPolicy` is. A spec
node with ``review: {gate: ID, max_revisions: N, feedback: ARG}`` is sent
back by gate node ``ID``; a gate node is a collect hook's list of
:class:`~reelgraph.models.GateResult` (``check_quality``) or any value with a
``gate_results()`` method (a reviewer's :class:`~reelgraph.models.Review`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reelgraph.errors import GateFailed
from reelgraph.models import GateResult
from reelgraph.plan.graph import CompiledNode

if TYPE_CHECKING:
    from reelgraph.plan.graph import Plan
    from reelgraph.run.persist import Recorder
    from reelgraph.run.result import Run

__all__ = ["ReviewLoop", "gate_results", "is_verdict"]


class ReviewLoop:
    """How the scheduler acts on a gate node's results."""

    if TYPE_CHECKING:  # provided by Scheduler
        plan: Plan
        run: Run
        recorder: Recorder | None
        scope: dict[str, Any]
        _stored: dict[str, dict[int | None, tuple[bool, Any]]]

        def emit(
            self,
            type_: str,
            node_id: str | None = None,
            data: dict[str, Any] | None = None,
            ts: float | None = None,
        ) -> None: ...

        def _kwargs(self, node: CompiledNode, scope: Any) -> dict[str, Any]: ...

        async def _call(
            self, node: CompiledNode, kwargs: dict[str, Any], item: int | None
        ) -> Any: ...

    async def _judge(self, node: CompiledNode, results: Any) -> Any:
        """Act on a gate node's results: revise the reviewed node, or fail the run.

        ``results`` is a gate node's list (a collect hook such as
        ``check_quality``), or a verdict: any value with a ``gate_results()``
        method (a reviewer's :class:`~reelgraph.models.Review`). While an
        error-severity result fails and the node under review has revisions
        left, that node runs again with the remedies as feedback
        (accumulated over revisions) and the gate measures again.

        Raises:
            GateFailed: an error-severity gate still fails.
        """
        producer_id = self.plan.reviewers.get(node.id)
        revisions = 0
        feedback: list[str] = []
        while True:
            measured = gate_results(results)
            blocking = [r for r in measured if r.blocking]
            self.run.quality[node.id] = measured
            if not blocking:
                return results
            producer = self.plan.nodes[producer_id] if producer_id else None
            review = producer.review if producer else None
            if producer is None or review is None or revisions >= review.max_revisions:
                raise GateFailed(node.id, blocking, revisions)
            revisions += 1
            feedback += [r.remedy or r.message for r in blocking]
            await self._revise(producer, review.feedback, list(feedback), revisions, node.id)
            results = await self._call(node, self._kwargs(node, self.scope), None)

    async def _revise(
        self,
        producer: CompiledNode,
        argument: str,
        feedback: list[str],
        revision: int,
        gate_id: str,
    ) -> None:
        record = self.run.nodes[producer.id]
        self.emit(
            "node.revised",
            producer.id,
            {"revision": revision, "gate": gate_id, "feedback": feedback},
        )
        self.run.revisions.append(
            {"node": producer.id, "gate": gate_id, "revision": revision, "feedback": feedback}
        )
        kwargs = self._kwargs(producer, self.scope)
        kwargs[argument] = feedback
        if self.recorder is not None:
            self._stored[producer.id] = {}
        record.attempts += 1  # a revision is one more call of the node
        self.scope[producer.id] = await self._call(producer, kwargs, None)
        if self.recorder is not None:
            record.cached = False
            self.recorder.node_finished(record, self._stored.pop(producer.id)[None][1])


def is_verdict(value: Any) -> bool:
    """True for a value that judges work: it has a ``gate_results()`` method."""
    return callable(getattr(value, "gate_results", None))


def gate_results(value: Any) -> list[GateResult]:
    """The gate results in a gate node's list, or those a verdict reports."""
    if is_verdict(value):
        return [r for r in value.gate_results() if isinstance(r, GateResult)]
    return [r for r in value if isinstance(r, GateResult)] if isinstance(value, list) else []
