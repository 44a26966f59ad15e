"""The ``dask`` executor: calls of ``def`` hook implementations run on Dask workers.

Which calls go to workers. A call goes to a worker when every implementation
that may answer it is a ``def`` function of a plugin installed through an
entry point. The hook contract already says what ``def`` means: blocking work
(Pillow slides, espeak-ng speech, ffmpeg encoding, quality gates, a solver)
that the in-process executor runs in a thread; on Dask it runs on a worker
instead. ``async def`` implementations wait on I/O and stay on the kernel's
event loop, where waiting costs nothing. Function nodes (``python:``
callables) and plugin objects given to ``Kernel(plugins=...)`` stay in the
kernel process too: a worker could not import them by name.

What stays in the kernel process: every scheduling decision (readiness,
limits, budgets, retries, fallbacks, the memo cache, events, spans, the run
store's node and attempt records). A worker gets one call's arguments and
sends back its answer, its reported cost and usage, its journal entries and
its progress; the kernel's retry policy decides what a failure means.

Assumptions, stated: arguments and results cross as pickled pydantic models
and file paths, so kernel and workers share a filesystem (always true for the
default ``LocalCluster`` on this machine; a remote cluster needs the run's
home folder mounted at the same path). ``ctx.journal`` on a worker writes
into the run store itself, durable before ``record`` returns: the same SQLite
file, or the worker's own ``REELGRAPH_STORE`` (PostgreSQL) for a store on a
server. An ephemeral run (``persist=False``) ships its entries with the call
and back with the outcome, so a worker lost mid-call loses what it recorded.

Workers lost. The ``LocalCluster`` this executor starts sets Dask's
``distributed.scheduler.allowed-failures`` to 0: a worker lost mid-call gives
``KilledWorker`` at once, mapped (with ``CommClosedError``) to
:class:`~reelgraph.errors.TransientError`, and the node's retry policy runs
the call again on a live worker. A cluster you start yourself keeps its own
setting (Dask's default, 3, re-runs a call up to three times before the
kernel hears of it); set it to 0 there too for the kernel's policy alone.
Nodes that finished are never redone: their results live in the kernel.

Cancellation: a timed-out or cancelled attempt cancels its Dask future; a
call already running on a worker runs to its end (``ctx.cancelled`` stays
false there), as a ``def`` hook in a thread does in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import threading
from importlib import metadata
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from reelgraph.errors import ConfigurationError, TransientError
from reelgraph.run.context import MemoryJournal
from reelgraph.run.executors import InProcessExecutor

from .worker import PROGRESS_TOPIC, Outcome, RemoteCall, run_call

if TYPE_CHECKING:
    from reelgraph.plan.graph import CompiledNode

__all__ = ["DaskExecutor"]

_ids = itertools.count()


class DaskExecutor:
    """Runs hook calls on a Dask distributed cluster.

    Args:
        scheduler: a running scheduler's address (``tcp://HOST:8786``);
            ``None`` starts a ``LocalCluster`` on this machine.
        workers: the ``LocalCluster``'s worker count (default 2).
        threads_per_worker: calls one worker runs at once (default 1: a CPU-bound
            call gets a core).
        processes: ``LocalCluster`` workers as processes (default) or as
            threads of this process (faster to start, for tests).
        client: an existing ``distributed.Client`` to use instead (not closed
            by :meth:`close`).

    The cluster starts on the first call that goes to a worker.

    Raises:
        ConfigurationError: ``workers`` or ``threads_per_worker`` below 1, or
            both ``scheduler`` and ``workers``; later, from a call, a
            scheduler that cannot be reached.
    """

    name = "dask"

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
        threads_per_worker: int = 1,
        processes: bool = True,
        client: Any = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise ConfigurationError(f"--workers must be at least 1, not {workers}")
        if threads_per_worker < 1:
            raise ConfigurationError(
                f"threads_per_worker must be at least 1, not {threads_per_worker}"
            )
        if scheduler and workers is not None:
            raise ConfigurationError(
                "--workers sizes a LocalCluster; with --scheduler the cluster's own workers run"
            )
        self._scheduler = scheduler
        self._workers = workers or 2
        self._threads = threads_per_worker
        self._processes = processes
        self._client = client
        self._own_client = client is None
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._local = InProcessExecutor()
        #: the entry-point plugins a worker can load by name
        self._installed = {ep.name for ep in metadata.entry_points(group="reelgraph")}
        #: calls in flight: task key -> (loop, ctx), for progress reports
        self._pending: dict[str, tuple[asyncio.AbstractEventLoop, Any]] = {}
        if client is not None:
            client.subscribe_topic(PROGRESS_TOPIC, self._on_progress)

    # -- placement ---------------------------------------------------------------

    def runs_on_workers(self, node: CompiledNode) -> bool:
        """Whether calls of ``node`` go to a worker (see the module's rule)."""
        if node.code is not None or node.caller is None:
            return False  # a function node: a callable of the kernel's process
        impls = node.caller.get_hookimpls()
        return bool(impls) and all(
            not inspect.iscoroutinefunction(impl.function) and impl.plugin_name in self._installed
            for impl in impls
        )

    # -- calls -------------------------------------------------------------------

    async def call(self, node: CompiledNode, kwargs: dict[str, Any]) -> Any:
        """Run one call: on a worker when :meth:`runs_on_workers`, else in-process."""
        if not self.runs_on_workers(node):
            return await self._local.call(node, kwargs)
        client = self._client or await asyncio.to_thread(self._start)
        ctx = kwargs["ctx"]
        remote = self._remote_call(node, kwargs, ctx)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Outcome] = loop.create_future()
        self._pending[remote.key] = (loop, ctx)
        try:
            future = client.submit(run_call, remote, key=remote.key, pure=False)
            future.add_done_callback(lambda done: _deliver(done, loop, waiter, node))
            try:
                outcome = await waiter
            except asyncio.CancelledError:
                future.cancel()
                raise
        finally:
            self._pending.pop(remote.key, None)
        if outcome.usage is not None:
            ctx._usage = outcome.usage
        if outcome.journal is not None and isinstance(ctx._store, MemoryJournal):
            for key, value in outcome.journal.items():
                ctx._store.journal_put(ctx.run_id, ctx.node_id, ctx.item_index, key, value)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def _remote_call(self, node: CompiledNode, kwargs: dict[str, Any], ctx: Any) -> RemoteCall:
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the attempt span's traceparent, when tracing is on
        store = ctx._store
        store_path = store_location = journal = None
        if isinstance(store, MemoryJournal) or store is None:
            journal = {
                key: value
                for (run_id, node_id, item, key), value in (store._entries if store else {}).items()
                if (run_id, node_id, item) == (ctx.run_id, ctx.node_id, ctx.item_index)
            }
        else:
            path = getattr(store, "path", None)
            store_path = str(path) if path is not None else None
            store_location = getattr(store, "location", None)
        return RemoteCall(
            key=f"reelgraph-{node.id}-{ctx.run_id}-{os.getpid()}-{next(_ids)}",
            run_id=ctx.run_id,
            node_id=node.id,
            hook=node.hook,
            provider=node.provider,
            plugins=tuple(sorted({impl.plugin_name for impl in node.caller.get_hookimpls()})),
            collect=node.collect,
            kwargs={k: v for k, v in kwargs.items() if k != "ctx"},
            attempt=ctx.attempt,
            item_index=ctx.item_index,
            run_dir=str(ctx.run_dir),
            store_path=store_path,
            store_location=store_location,
            journal=journal,
            carrier=carrier,
            publishers=_publishers(ctx),
        )

    def _on_progress(self, event: tuple[float, dict[str, Any]]) -> None:
        """A worker's ``ctx.progress``, handed to the kernel's loop (Dask's client thread)."""
        _, message = event
        pending = self._pending.get(message.get("key", ""))
        if pending is None:
            return  # the call finished first
        loop, ctx = pending
        with contextlib.suppress(RuntimeError):  # the run's loop is closed
            loop.call_soon_threadsafe(
                ctx.progress, message["completed"], message["total"], message["message"]
            )

    # -- the cluster ---------------------------------------------------------------

    def _start(self) -> Any:
        """Connect to the scheduler, or start a LocalCluster (once)."""
        with self._lock:
            if self._client is not None:
                return self._client
            import dask
            from distributed import Client, LocalCluster

            if self._scheduler:
                try:
                    client = Client(self._scheduler, timeout="10s")
                except (OSError, TimeoutError) as err:
                    raise ConfigurationError(
                        f"cannot reach the Dask scheduler at {self._scheduler}: {err}; "
                        "start one (`dask scheduler`) or drop --scheduler for a LocalCluster"
                    ) from err
            else:
                # the kernel's retry policy decides about a lost worker, not Dask
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self._cluster = LocalCluster(
                        n_workers=self._workers,
                        threads_per_worker=self._threads,
                        processes=self._processes,
                        dashboard_address=None,
                    )
                client = Client(self._cluster)
                if self._processes:  # worker processes log as this process does
                    client.register_plugin(LoggingSetup(*_logging_now()))
            client.subscribe_topic(PROGRESS_TOPIC, self._on_progress)
            self._client = client
            return client

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (the cluster is started if it was not)."""
        return self._client or self._start()

    def close(self) -> None:
        """Close the client and the LocalCluster this executor started."""
        with self._lock:
            client, self._client = self._client, None
            cluster, self._cluster = self._cluster, None
        if client is not None and self._own_client:
            client.close()
        if cluster is not None:
            cluster.close()


class LoggingSetup(WorkerPlugin):
    """Configures a worker process's structlog as the kernel's (format, lowest level),
    so a LocalCluster's workers do not print every debug line of the plugins."""

    name = "reelgraph-logging"

    def __init__(self, fmt: str, level: str) -> None:
        self.fmt = fmt
        self.level = level

    def setup(self, worker: Any) -> None:
        from reelgraph.observe.logs import configure_logging

        configure_logging(self.fmt, self.level)


def _logging_now() -> tuple[str, str]:
    """This process's structlog format and lowest level (``reelgraph --log-format``,
    ``--log-level``); ``("console", "warning")`` when it was not configured."""
    import logging

    import structlog

    config = structlog.get_config()
    fmt = (
        "json"
        if any(isinstance(p, structlog.processors.JSONRenderer) for p in config["processors"])
        else "console"
    )
    try:
        number = config["wrapper_class"](None, [], {}).get_effective_level()
        level = logging.getLevelName(number).lower()
    except (TypeError, AttributeError):
        return fmt, "warning"
    return fmt, level if level in ("debug", "info", "warning", "error") else "warning"


def _publishers(ctx: Any) -> tuple[str, ...]:
    """The plugins behind the kernel's ``ctx.publish_asset`` (a worker loads them too)."""
    if ctx._publish is None or not hasattr(ctx._publish, "get_hookimpls"):
        return ()
    return tuple(sorted({impl.plugin_name for impl in ctx._publish.get_hookimpls()}))


def _deliver(
    done: Any, loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[Outcome], node: Any
) -> None:
    """A finished Dask future's outcome, handed to the waiting call (Dask's callback thread)."""
    try:
        result: Any = done.result()
    except BaseException as err:  # Dask's own failure: the call never answered
        result = _lost(err, node)

    def settle() -> None:
        if waiter.done():
            return  # the call was cancelled meanwhile
        if isinstance(result, Outcome):
            waiter.set_result(result)
        else:
            waiter.set_exception(result)

    with contextlib.suppress(RuntimeError):  # the run's loop is closed
        loop.call_soon_threadsafe(settle)


def _lost(err: BaseException, node: Any) -> BaseException:
    """Dask's failure to run a call, as the error the retry policy classifies."""
    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    if isinstance(err, KilledWorker | CommClosedError):
        lost = TransientError(
            f"node '{node.id}': the Dask worker running it was lost "
            f"({type(err).__name__}: {err}); retried on another worker under the node's policy"
        )
        lost.__cause__ = err
        return lost
    if isinstance(err, asyncio.CancelledError):
        return TransientError(f"node '{node.id}': Dask cancelled the call ({err})")
    return err
