"""What runs on a Dask worker: one hook call, and what it reported.

:func:`run_call` is the task the kernel submits. It loads the plugins the
call names, once per worker process, through the ``reelgraph`` entry points
(the provider names the kernel uses; only those, so a worker imports what
its calls need), builds the call's
:class:`~reelgraph.run.context.NodeContext`, calls the hook under a
``worker NODE`` span whose parent is the kernel's attempt span (the W3C
``traceparent`` the kernel injected), and returns an :class:`Outcome`: the
answer or the exception, plus the usage and cost the hook reported and its
journal entries. Exceptions are returned, not raised, so a hook's error
reaches the kernel as the hook raised it (Dask raises only its own failures:
a lost worker).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelgraph.errors import ConfigurationError, ProviderError

__all__ = ["PROGRESS_TOPIC", "Outcome", "RemoteCall", "run_call"]

#: the Dask event topic a worker reports ``ctx.progress`` on
PROGRESS_TOPIC = "reelgraph.progress"


@dataclass(slots=True)
class RemoteCall:
    """One hook call, as it crosses to a worker (pickled by Dask).

    Attributes:
        key: the Dask task key, unique per attempt.
        plugins: the plugins that may answer (the kernel's implementations
            of ``hook`` for this node); the worker calls exactly these.
        kwargs: the hook's arguments without ``ctx``: pydantic models, paths
            (a shared filesystem: the worker reads and writes the same paths).
        store_path: the run store's SQLite file, for ``ctx.journal``; ``None``
            when the store is a server (the worker opens its own
            ``REELGRAPH_STORE``) or the run is ephemeral.
        store_location: the run store's location without a password, for messages.
        journal: an ephemeral run's journal entries for this call
            (``{key: value}``), ``None`` with a run store.
        carrier: the W3C trace context (``traceparent``) of the attempt span.
        publishers: the plugins behind the kernel's ``ctx.publish_asset``.
    """

    key: str
    run_id: str
    node_id: str
    hook: str
    provider: str | None
    plugins: tuple[str, ...]
    collect: bool
    kwargs: dict[str, Any]
    attempt: int
    item_index: int | None
    run_dir: str
    store_path: str | None
    store_location: str | None
    journal: dict[str, str] | None
    carrier: dict[str, str] = field(default_factory=dict)
    publishers: tuple[str, ...] = ()


@dataclass(slots=True)
class Outcome:
    """What a call gave back: ``value`` or ``error``, and what it reported through ``ctx``."""

    value: Any = None
    error: BaseException | None = None
    usage: Any = None
    journal: dict[str, str] | None = None
    worker: str = ""


class _CallJournal:
    """An ephemeral run's journal entries of one call, kept on the worker and sent back."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = dict(entries)

    def journal_get(self, run_id: str, node_id: str, item: int | None, key: str) -> str | None:
        return self.entries.get(key)

    def journal_put(
        self, run_id: str, node_id: str, item: int | None, key: str, value: str
    ) -> None:
        self.entries[key] = value


def run_call(call: RemoteCall) -> Outcome:
    """Run one hook call on this worker (the task the kernel submits)."""
    from distributed import get_worker

    worker = get_worker()
    outcome = Outcome(worker=worker.address)
    journal = _CallJournal(call.journal) if call.journal is not None else None
    ctx = _context(call, worker, journal)
    try:
        with _span(call, worker.address):
            outcome.value = _invoke(call, ctx, worker.address)
    except Exception as err:
        err.add_note(f"reelgraph: raised on Dask worker {worker.address}")
        outcome.error = _portable(err, call)
    outcome.usage = ctx._usage
    if journal is not None:
        outcome.journal = journal.entries
    return outcome


def _context(call: RemoteCall, worker: Any, journal: _CallJournal | None) -> Any:
    from reelgraph.run.context import NodeContext

    def progress(
        node_id: str, item: int | None, completed: float, total: float | None, message: str | None
    ) -> None:
        worker.log_event(
            PROGRESS_TOPIC,
            {"key": call.key, "completed": completed, "total": total, "message": message},
        )

    store: Any = journal
    if journal is None:
        store = _LazyStore(call.store_path, call.store_location)
    ctx = NodeContext(
        run_id=call.run_id,
        node_id=call.node_id,
        hook=call.hook,
        provider=call.provider,
        run_dir=Path(call.run_dir),
        attempt=call.attempt,
        item_index=call.item_index,
        progress=progress,
        store=store,
    )
    publish = _registry(call).pm.hook.publish_asset
    ctx._publish = publish if call.publishers and publish.get_hookimpls() else None
    return ctx


def _invoke(call: RemoteCall, ctx: Any, address: str) -> Any:
    caller = _caller(call, address)
    answer = caller(**call.kwargs, ctx=ctx)
    if not call.collect:
        return _settled(answer)
    out: list[Any] = []
    for item in answer:  # a collect hook: every answer, flattened one level
        item = _settled(item)
        if isinstance(item, list):
            out.extend(item)
        elif item is not None:
            out.append(item)
    return out


def _settled(answer: Any) -> Any:
    """An answer; an awaitable one (a plugin's ``async`` helper) is run to its end here."""
    if inspect.isawaitable(answer):

        async def wait() -> Any:
            return await answer

        return asyncio.run(wait())
    return answer


def _caller(call: RemoteCall, address: str) -> Any:
    """The pluggy caller of ``call.hook`` limited to ``call.plugins``.

    Raises:
        ConfigurationError: a plugin the call needs is not installed (or
            failed to load) on this worker.
    """
    registry = _registry(call)
    for name in call.plugins:
        info = registry.info(name)
        if info is None or info.error or name not in registry.providers(call.hook):
            reason = info.error if info is not None and info.error else "not installed"
            raise ConfigurationError(
                f"node '{call.node_id}': plugin '{name}' (hook {call.hook}) is unavailable on "
                f"Dask worker {address}: {reason}; install the package that provides the "
                f"'{name}' entry point (group 'reelgraph') on every worker"
            )
    if call.provider is not None:
        return registry.caller(call.hook, call.provider)
    pm = registry.pm
    others = [
        pm.get_plugin(n)
        for n in registry.providers(call.hook)
        if n not in call.plugins and pm.get_plugin(n) is not None
    ]
    return pm.subset_hook_caller(call.hook, remove_plugins=others)


def _registry(call: RemoteCall) -> Any:
    """The plugins ``call`` needs, loaded from this worker's ``reelgraph`` entry points."""
    return _plugins(frozenset(call.plugins + call.publishers))


@functools.cache
def _plugins(names: frozenset[str]) -> Any:
    """The entry-point plugins ``names``, loaded once per worker process."""
    from reelgraph.plan.registry import PluginRegistry

    return PluginRegistry(env={"REELGRAPH_PLUGINS": ",".join(sorted(names))}).load()


class _LazyStore:
    """The run store, opened on a worker's first journal use (most calls never journal)."""

    def __init__(self, path: str | None, location: str | None) -> None:
        self._path = path
        self._location = location

    def journal_get(self, *args: Any) -> str | None:
        return _open_store(self._path, self._location).journal_get(*args)

    def journal_put(self, *args: Any) -> None:
        _open_store(self._path, self._location).journal_put(*args)


@functools.cache
def _open_store(path: str | None, location: str | None) -> Any:
    """The run store a worker journals into: the same SQLite file (a shared
    filesystem), or its own ``REELGRAPH_STORE`` for a store on a server (the
    kernel never sends a password).

    Raises:
        ConfigurationError: the store is a server and this worker has no
            ``REELGRAPH_STORE``.
    """
    from reelgraph.store.backends import open_run_store
    from reelgraph.store.runs import RunStore

    if path is not None:
        return RunStore(Path(path))
    url = os.environ.get("REELGRAPH_STORE")
    if not url:
        raise ConfigurationError(
            f"a hook on this Dask worker keeps a journal, and the run store is {location}: "
            "set REELGRAPH_STORE on every worker to the same store"
        )
    return open_run_store(url, Path.home())


def _span(call: RemoteCall, address: str) -> Any:
    """A ``worker NODE`` span, child of the kernel's attempt span; a no-op without tracing."""
    import contextlib

    from opentelemetry import context, propagate, trace

    if not call.carrier:
        return contextlib.nullcontext()
    parent = propagate.extract(call.carrier)
    tracer = trace.get_tracer("reelgraph.contrib.dask")
    attributes = {
        "reelgraph.node.id": call.node_id,
        "reelgraph.hook": call.hook,
        "reelgraph.provider": call.provider or "",
        "reelgraph.attempt": call.attempt,
        "reelgraph.executor": "dask",
        "reelgraph.worker": address,
    }
    if call.item_index is not None:
        attributes["reelgraph.item_index"] = call.item_index

    @contextlib.contextmanager
    def scope() -> Any:
        token = context.attach(parent)
        try:
            with tracer.start_as_current_span(f"worker {call.node_id}", attributes=attributes):
                yield
        finally:
            context.detach(token)

    return scope()


def _portable(err: Exception, call: RemoteCall) -> BaseException:
    """``err`` if it survives pickling; else what it amounts to, as a reelgraph error.

    The worker's plugins classify it (``classify_error``, then the kernel's
    httpx-level rules), so an SDK's unpicklable exception still reaches the
    kernel's retry policy as rate-limited, transient, ...
    """
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        pass
    from reelgraph.run.policy import classify

    answer = classify(err, _registry(call).classify_error)
    text = f"{type(err).__name__}: {err}"
    if answer is None:
        return ProviderError(text)
    try:
        pickle.dumps(answer)
        return answer
    except Exception:
        kind = type(answer) if type(answer).__init__ is ProviderError.__init__ else ProviderError
        return kind(f"{answer}")
