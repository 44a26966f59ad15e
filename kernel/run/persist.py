"""Durable runs: what the scheduler writes to the run store, and the memo cache.

The scheduler calls a :class:`Recorder` at every state change; see its
docstring for when each write is committed.

Memo cache: a hook call is keyed by hook, provider, the provider's package
version and the digest of its resolved arguments (files by content). A call
whose key matches a finished call of any earlier run is served from the
cache, so a clip already paid for is never generated again. A function node
(:mod:`reelgraph.spec.functions`) is keyed by its ``python:`` name and a
digest of its source instead of a provider's version.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from reelgraph.plan.graph import CompiledNode
from reelgraph.plan.registry import PluginRegistry
from reelgraph.run.result import NodeRun, Run
from reelgraph.store.artifacts import ArtifactError, ArtifactStore
from reelgraph.store.runs import Batch, RunStore, StoreError
from reelgraph.store.serialize import digest_value, dump_value, load_value

__all__ = ["Recorder"]


def _log() -> Any:
    """The store's logger (structlog is imported only when there is something to say)."""
    import structlog

    return structlog.get_logger("reelgraph.store")


class Recorder:
    """Writes one run's state into a :class:`RunStore` and serves its memo cache.

    Call it from the run's event loop thread. When writes are committed:

    - :meth:`node_started` commits at once, in one transaction with
      everything queued: the node is durably ``running``, with its
      ``node.started`` event, before its hook runs.
    - :meth:`node_finished`, :meth:`attempt_finished`, :meth:`add_cost` and
      the memo entries of :meth:`persist` are queued and go with the next
      commit: the next ``node_started``, :meth:`flush`, or at the latest a
      callback the recorder schedules on the event loop (``call_soon``),
      which runs once the callbacks already ready have run, before the loop
      waits for anything. So cheap nodes cost one commit each (the finish of
      one goes with the start of the next) and a burst of finishes shares a
      commit. A finish is queued only after its output's artifacts are in
      the (fsynced) artifact store, so a stored output never names a missing
      file. A process killed inside that window loses the queued finishes:
      on resume those nodes run again, as they would had the kill come a
      moment earlier, while their hooks ran.
    - Events are written with the commit that follows them, in order.

    Outside a running event loop, queued writes are committed at once.

    Args:
        store: the run store.
        artifacts: the artifact store outputs go into.
        run: the run being recorded.
        registry: to look up provider versions for memo keys.
        cache: whether the memo cache is on for this run.
        uncached: ids of nodes whose calls are never cached.
    """

    def __init__(
        self,
        store: RunStore,
        artifacts: ArtifactStore,
        run: Run,
        registry: PluginRegistry,
        *,
        cache: bool = True,
        uncached: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.run = run
        self.registry = registry
        self.cache = cache
        self.uncached = uncached
        self._queue = Batch()
        self._scheduled = False
        self._flushed = 0  # run.events[:_flushed] are committed
        self._memo: dict[str, tuple[Any, str]] = {}  # queued memo entries: (dumped, node id)
        self._queued_usd = 0.0
        self._committed_usd = 0.0
        self._earlier_usd: float | None = None  # the run's cost before this recorder
        self._versions: dict[tuple[str, str | None], str] = {}

    # -- nodes ----------------------------------------------------------------

    def node_started(self, record: NodeRun) -> None:
        """Commit ``record`` as running (and everything queued) before its hook runs."""
        self.nodes_started((record,))

    def nodes_started(self, records: Iterable[NodeRun]) -> None:
        """Commit several nodes as running in one transaction (a wave of ready nodes).

        For a scheduler that marks every node of a wave started before it runs
        any of their hooks: one commit for the wave instead of one per node.
        """
        mark = len(self._queue)
        node_id = None
        for record in records:
            node_id = record.id
            self._queue.node_started(
                self.run.id,
                node_id,
                hook=record.hook,
                provider=record.provider,
                started_at=record.started_at or time.time(),
                attempt=max(record.attempts, 1),
            )
        self._commit(f"start node {node_id}", mark)

    def node_finished(self, record: NodeRun, output: Any = None) -> None:
        """Queue how ``record`` ended; ``output`` is its stored (``dump_value``) form."""
        self._queue.node_finished(
            self.run.id,
            record.id,
            status=record.status,
            ended_at=record.ended_at or time.time(),
            seconds=record.seconds or 0.0,
            error=record.error,
            output=output,
            cached=record.cached,
            items=record.items,
            hook=record.hook,
            provider=record.provider,
        )
        self._soon()

    def attempt_finished(
        self,
        record: NodeRun,
        *,
        item: int | None,
        attempt: int,
        provider: str | None,
        status: str,
        error: str | None,
        seconds: float,
        cost_usd: float,
        started_at: float,
    ) -> None:
        """Queue one attempt of ``record`` (or of its map ``item``) for the store.

        ``attempt`` counts from 1; ``provider`` is the plugin that ran it;
        ``status`` is how it ended (``succeeded``, ``failed``, ``timed_out``,
        ...); ``seconds`` its wall time; ``started_at`` a Unix time;
        ``cost_usd`` what it reported, for the attempt's row only: the
        node's and the run's totals come from :meth:`add_cost`. It reaches
        the store no later than the node's finish.
        """
        self._queue.attempt(
            self.run.id,
            record.id,
            item,
            attempt,
            status=status,
            started_at=started_at,
            ended_at=started_at + seconds,
            error=error,
            provider=provider,
            seconds=seconds,
            cost_usd=cost_usd,
        )
        self._soon()

    def add_cost(self, node_id: str, usd: float, detail: str = "") -> None:
        """Queue a cost of ``node_id`` (US dollars), added to the node's and the run's total."""
        self._queue.cost(self.run.id, node_id, usd, detail)
        self._queued_usd += usd
        self._soon()

    def run_cost(self) -> float:
        """The run's total cost in US dollars: earlier executions of this run included.

        Costs queued but not committed yet count too. Reads the store once.
        """
        if self._earlier_usd is None:
            self._earlier_usd = self.store.get_run_cost(self.run.id) - self._committed_usd
        return self._earlier_usd + self._committed_usd + self._queued_usd

    def flush(self) -> None:
        """Commit everything queued and the events not written yet.

        Raises:
            StoreError: the write failed; the queue is kept for the next commit.
        """
        self._commit("write run state", len(self._queue))

    flush_events = flush  # the name Kernel calls at the end of a run

    def _commit(self, what: str, mark: int) -> None:
        """Commit the queue plus new events; on failure keep only the queue up to ``mark``."""
        queue = self._queue
        events = self.run.events
        end = len(events)
        if end > self._flushed:
            queue.events(
                self.run.id,
                [(e.ts, e.type, e.node_id, e.data) for e in events[self._flushed : end]],
            )
        try:
            self.store.commit(queue, what)
        except BaseException:
            queue.truncate(mark)
            raise
        queue.clear()
        self._flushed = end
        self._memo.clear()
        self._committed_usd += self._queued_usd
        self._queued_usd = 0.0

    def _soon(self) -> None:
        """Make sure the queue is committed within this pass of the event loop."""
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing to group with
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._scheduled = False
        try:
            self.flush()
        except StoreError as err:  # kept queued: the next commit retries it
            _log().warning("run store write failed; retrying with the next one", error=str(err))

    # -- memo cache -------------------------------------------------------------

    def call_key(self, node: CompiledNode, kwargs: dict[str, Any]) -> str | None:
        """The memo key of one hook call, or ``None`` when caching is off for it."""
        if not self.cache or node.id in self.uncached:
            return None
        key = {
            "hook": node.hook,
            "provider": node.provider,
            "version": self._version(node),
            "args": kwargs,
        }
        if node.code is not None:  # a function node: editing its source gives new keys
            key["code"] = node.code
        return digest_value(key)

    def lookup(self, key: str) -> tuple[bool, Any, Any]:
        """``(hit, value, dumped)`` for a memo key; a corrupt entry is dropped with a warning."""
        queued = self._memo.get(key)
        found = (queued[0], self.run.id, queued[1]) if queued else self.store.memo_get(key)
        if found is None:
            return False, None, None
        dumped, run_id, node_id = found
        try:
            return True, load_value(dumped, self.artifacts, verify=True), dumped
        except ArtifactError as err:
            _log().warning(
                "cache entry unusable; recomputing",
                key=key,
                run_id=run_id,
                node_id=node_id,
                error=str(err),
            )
            self.store.memo_delete(key)
            return False, None, None

    def persist(self, node: CompiledNode, key: str | None, result: Any) -> tuple[Any, Any]:
        """Put a call's result into the artifact store (and the memo cache).

        Returns ``(value, dumped)``: the value with file paths pointing into the
        artifact store, and its JSON form for the run store.
        """
        dumped = dump_value(result, self.artifacts)
        if key is not None:
            self._queue.memo_put(key, dumped, run_id=self.run.id, node_id=node.id)
            self._memo[key] = (dumped, node.id)
            self._soon()
        return load_value(dumped, self.artifacts, verify=False), dumped

    def _version(self, node: CompiledNode) -> str:
        cache_key = (node.hook, node.provider)
        version = self._versions.get(cache_key)
        if version is None:
            if node.provider is not None:
                names = [node.provider]
            else:
                names = self.registry.providers(node.hook)
            parts = []
            for name in names:
                info = self.registry.info(name)
                parts.append(f"{name}=={info.version if info else '?'}")
            version = self._versions[cache_key] = ",".join(parts)
        return version


def restore_outputs(
    store: RunStore, artifacts: ArtifactStore, run_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Outputs of the nodes a run finished: ``(values, dumped)`` by node id.

    A node whose artifacts are missing or fail their checksum is left out
    (and so runs again), with a warning.
    """
    values: dict[str, Any] = {}
    dumped: dict[str, Any] = {}
    for row in store.get_nodes(run_id):
        if row.status != "succeeded":
            continue
        try:
            values[row.node_id] = load_value(row.output, artifacts, verify=True)
        except ArtifactError as err:
            _log().warning(
                "artifact failed its checksum; recomputing node",
                run_id=run_id,
                node_id=row.node_id,
                error=str(err),
            )
            continue
        dumped[row.node_id] = row.output
    return values, dumped
