"""Durable runs: what the scheduler writes to the run store, and the memo cache.

The scheduler calls a :class:`Recorder` at every state change. Each write is
committed before the next side effect: a node is marked started before its
hook runs, and finished, with its output's artifact digests, only after
those artifacts are in the content-addressed store. Events are written in
batches at node boundaries.

Memo cache: a hook call is keyed by hook, provider, the provider's package
version and the digest of its resolved arguments (files by content). A call
whose key matches a finished call of any earlier run is served from the
cache, so a clip already paid for is never generated again.
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from .artifacts import ArtifactError, ArtifactStore
from .graph import CompiledNode
from .registry import PluginRegistry
from .run import NodeRun, Run
from .serialize import digest_value, dump_value, load_value
from .store import RunStore

__all__ = ["Recorder"]

_log = structlog.get_logger("reelgraph.store")


class Recorder:
    """Writes one run's state into a :class:`RunStore` and serves its memo cache.

    Args:
        store: the run store.
        artifacts: the artifact store outputs go into.
        run: the run being recorded.
        registry: to look up provider versions for memo keys.
        cache: whether the memo cache is on for this run.
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
        self._flushed = 0
        self._versions: dict[tuple[str, str | None], str] = {}

    # -- nodes ----------------------------------------------------------------

    def node_started(self, record: NodeRun) -> None:
        self.store.node_started(
            self.run.id,
            record.id,
            hook=record.hook,
            provider=record.provider,
            started_at=record.started_at or time.time(),
            attempt=max(record.attempts, 1),
        )

    def node_finished(self, record: NodeRun, output: Any = None) -> None:
        self.store.node_finished(
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
        self.flush_events()

    def flush_events(self) -> None:
        events = self.run.events[self._flushed :]
        if events:
            self.store.add_events(self.run.id, [(e.ts, e.type, e.node_id, e.data) for e in events])
            self._flushed += len(events)

    # -- memo cache -------------------------------------------------------------

    def call_key(self, node: CompiledNode, kwargs: dict[str, Any]) -> str | None:
        """The memo key of one hook call, or ``None`` when caching is off for it."""
        if not self.cache or node.id in self.uncached:
            return None
        return digest_value(
            {
                "hook": node.hook,
                "provider": node.provider,
                "version": self._version(node),
                "args": kwargs,
            }
        )

    def lookup(self, key: str) -> tuple[bool, Any, Any]:
        """``(hit, value, dumped)`` for a memo key; a corrupt entry is dropped with a warning."""
        found = self.store.memo_get(key)
        if found is None:
            return False, None, None
        dumped, run_id, node_id = found
        try:
            return True, load_value(dumped, self.artifacts, verify=True), dumped
        except ArtifactError as err:
            _log.warning(
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
            self.store.memo_put(key, dumped, run_id=self.run.id, node_id=node.id)
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
            _log.warning(
                "artifact failed its checksum; recomputing node",
                run_id=run_id,
                node_id=row.node_id,
                error=str(err),
            )
            continue
        dumped[row.node_id] = row.output
    return values, dumped
