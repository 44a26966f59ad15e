"""The asyncio scheduler: runs every node as soon as its inputs exist.

Independent nodes and the items of a ``map`` node run concurrently; every hook
call takes a slot of one global semaphore, so ``concurrency`` bounds the calls
in flight however they are nested. A single ready node runs inline, without a
task. ``def`` hook implementations run in a worker thread, ``async def`` ones
on the loop. The first node failure cancels the nodes still running and fails
the run with a :class:`~reelgraph.errors.NodeError`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .context import MemoryJournal, NodeContext
from .errors import GateFailed, NodeError, ProviderError, ReelgraphError
from .graph import CompiledNode, Plan
from .models import GateResult
from .refs import evaluate, resolve_path
from .run import Event, NodeRun, Run

if TYPE_CHECKING:
    from .persist import Recorder

__all__ = ["Scheduler"]

_MUTABLE = (list, dict, set)
_NODE_EVENTS = {s: f"node.{s}" for s in ("succeeded", "failed", "cancelled")}


class _ItemScope:
    """The evaluation scope of one map item: ``$item`` plus everything else."""

    __slots__ = ("_scope", "_item")

    def __init__(self, scope: Mapping[str, Any], item: Any) -> None:
        self._scope = scope
        self._item = item

    def __getitem__(self, key: str) -> Any:
        return self._item if key == "item" else self._scope[key]


class Scheduler:
    """Executes one :class:`Plan` for one :class:`Run`.

    Args:
        plan: the validated plan.
        run: the run record to fill (node states, events).
        inputs: the run's inputs, after type conversion.
        concurrency: how many hook calls may be in flight at once.
        tracer: an OpenTelemetry tracer, or ``None`` when tracing is off.
        emit: called with every event (after it is appended to ``run.events``).
        recorder: writes state changes to the run store; ``None`` for an
            ephemeral run.
        reuse: outputs of nodes finished before (resume), as ``{node id:
            (value, stored form)}``; those nodes are not executed again.
    """

    def __init__(
        self,
        plan: Plan,
        run: Run,
        inputs: dict[str, Any],
        *,
        concurrency: int,
        tracer: Any = None,
        emit: Callable[[Event], None] | None = None,
        recorder: Recorder | None = None,
        reuse: dict[str, tuple[Any, Any]] | None = None,
    ) -> None:
        self.plan = plan
        self.recorder = recorder
        self.reuse = reuse or {}
        self.run = run
        self.scope: dict[str, Any] = {"inputs": inputs}
        self.concurrency = concurrency
        self.tracer = tracer
        self._listener = emit
        self._events = run.events
        self._limiter = _Limiter(concurrency)
        #: per running node, per map item (None without map): (from cache, stored form)
        self._stored: dict[str, dict[int | None, tuple[bool, Any]]] = {}
        self._journal: Any = recorder.store if recorder is not None else MemoryJournal()
        for node_id in plan.order:
            node = plan.nodes[node_id]
            run.nodes[node_id] = NodeRun(id=node_id, hook=node.hook, provider=node.provider)

    # -- events ---------------------------------------------------------------

    def emit(
        self,
        type_: str,
        node_id: str | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        event = Event(type_, ts or time.time(), node_id, data)
        self._events.append(event)
        if self._listener is not None:
            self._listener(event)

    def _progress(
        self,
        node_id: str,
        item: int | None,
        completed: float,
        total: float | None,
        message: str | None,
    ) -> None:
        self.emit(
            "node.progress",
            node_id,
            {"item": item, "completed": completed, "total": total, "message": message},
        )

    # -- the loop ---------------------------------------------------------------

    async def execute(self) -> None:
        """Run every node. Raises the first :class:`NodeError`."""
        nodes = self.plan.nodes
        waiting = {node_id: len(node.deps) for node_id, node in nodes.items()}
        ready: deque[str] = deque(n for n in self.plan.order if waiting[n] == 0)
        running: set[asyncio.Task[None]] = set()
        finished: deque[asyncio.Task[None]] = deque()
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] | None = None

        def on_done(task: asyncio.Task[None]) -> None:
            finished.append(task)
            if wake is not None and not wake.done():
                wake.set_result(None)

        def complete(node_id: str) -> None:
            for child in nodes[node_id].dependents:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)

        try:
            while ready or running:
                if len(ready) == 1 and not running:
                    node_id = ready.popleft()
                    await self._run_node(nodes[node_id])
                    complete(node_id)
                    continue
                while ready:
                    node_id = ready.popleft()
                    task = _start_eagerly(loop, self._run_node(nodes[node_id]), node_id)
                    if task is None:  # finished without suspending: no task needed
                        complete(node_id)
                        continue
                    task.add_done_callback(on_done)
                    running.add(task)
                if not running:
                    continue  # everything launched finished eagerly
                if not finished:
                    wake = loop.create_future()
                    await wake
                    wake = None
                while finished:
                    task = finished.popleft()
                    running.discard(task)
                    task.result()  # re-raises the node's error
                    complete(task.get_name())
        except BaseException:
            await _cancel_all(running)
            raise

    # -- one node -----------------------------------------------------------------

    async def _run_node(self, node: CompiledNode) -> None:
        record = self.run.nodes[node.id]
        if node.id in self.reuse:
            self._reuse(node, record)
            return
        record.status = "running"
        record.started_at = now = time.time()
        started = time.perf_counter()
        self.emit("node.started", node.id, None, now)
        recorder = self.recorder
        if recorder is not None:
            recorder.node_started(record)
            self._stored[node.id] = {}
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(
                f"node {node.id}",
                attributes={
                    "reelgraph.node.id": node.id,
                    "reelgraph.hook": node.hook,
                    "reelgraph.provider": node.provider or "",
                    "reelgraph.run.id": self.run.id,
                },
            )
        try:
            if span is None:
                if node.map_ref is None:  # the common case, one coroutine less
                    result = await self._call(node, self._kwargs(node, self.scope), None)
                else:
                    result = await self._execute(node, record)
            else:
                from opentelemetry import trace

                with trace.use_span(span, end_on_exit=False, record_exception=False):
                    result = await self._execute(node, record)
            if node.collect and node.map_ref is None:
                result = await self._judge(node, result)
        except asyncio.CancelledError:
            self._finish(record, started, "cancelled", span)
            raise
        except GateFailed as err:
            # keep the failing measurements with the node, for `reelgraph show`
            last = self._stored.pop(node.id, {}).get(None)
            self._finish(record, started, "failed", span, err, last[1] if last else None)
            raise
        except BaseException as err:
            error = err if isinstance(err, NodeError) else self._wrap(node, err, None)
            self._finish(record, started, "failed", span, error)
            if error is err:
                raise
            raise error from err
        self.scope[node.id] = result
        if recorder is not None:
            calls = self._stored.pop(node.id)
            record.cached = bool(calls) and all(hit for hit, _ in calls.values())
            if node.map_ref is None:
                stored = calls[None][1]
            else:
                stored = [calls[index][1] for index in range(len(calls))]
        self._finish(record, started, "succeeded", span, None, stored if recorder else None)

    async def _judge(self, node: CompiledNode, results: list[Any]) -> list[Any]:
        """Act on a gate node's results: revise the reviewed node, or fail the run.

        While an error-severity gate fails and the node under review has
        revisions left, that node runs again with the gates' remedies as
        feedback (accumulated over revisions) and the gate measures again.

        Raises:
            GateFailed: an error-severity gate still fails.
        """
        producer_id = self.plan.reviewers.get(node.id)
        revisions = 0
        feedback: list[str] = []
        while True:
            blocking = [r for r in results if isinstance(r, GateResult) and r.blocking]
            self.run.quality[node.id] = [r for r in results if isinstance(r, GateResult)]
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
        record.attempts += 1
        self.scope[producer.id] = await self._call(producer, kwargs, None)
        if self.recorder is not None:
            record.cached = False
            self.recorder.node_finished(record, self._stored.pop(producer.id)[None][1])

    def _reuse(self, node: CompiledNode, record: NodeRun) -> None:
        value, _ = self.reuse[node.id]
        self.scope[node.id] = value
        if node.collect and isinstance(value, list):
            self.run.quality[node.id] = [r for r in value if isinstance(r, GateResult)]
        record.status = "succeeded"
        record.cached = True
        record.started_at = record.ended_at = now = time.time()
        record.seconds = 0.0
        if node.map_ref is not None and isinstance(value, list):
            record.items = len(value)
        self.emit("node.succeeded", node.id, {"cached": True, "reused": True}, now)

    def _finish(
        self,
        record: NodeRun,
        started: float,
        status: str,
        span: Any,
        error: BaseException | None = None,
        stored: Any = None,
    ) -> None:
        record.status = status
        record.ended_at = now = time.time()
        record.seconds = time.perf_counter() - started
        if error is not None:
            record.error = str(error)
        self.emit(
            _NODE_EVENTS[status],
            record.id,
            {"seconds": record.seconds, "error": record.error} if error else None,
            now,
        )
        if self.recorder is not None:
            self.recorder.node_finished(record, stored)
        if span is not None:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("reelgraph.node.status", status)
            span.set_attribute("reelgraph.node.attempts", record.attempts)
            if error is not None:
                cause = error.__cause__ or error
                span.record_exception(cause)
                span.set_status(Status(StatusCode.ERROR, str(error)))
            span.end()

    def _wrap(self, node: CompiledNode, err: BaseException, item: int | None) -> NodeError:
        return NodeError(
            node_id=node.id,
            hook=node.hook,
            provider=node.provider,
            cause=err,
            attempt=max(self.run.nodes[node.id].attempts, 1),
            item_index=item,
        )

    async def _execute(self, node: CompiledNode, record: NodeRun) -> Any:
        scope = self.scope
        if node.map_ref is None:
            return await self._call(node, self._kwargs(node, scope), None)
        items = scope[node.map_ref.root]
        if node.map_ref.path:
            items = resolve_path(items, node.map_ref.path)
        if not isinstance(items, list | tuple):
            raise ReelgraphError(f"map: {node.map_ref} is a {type(items).__name__}, not a list")
        record.items = len(items)
        if len(items) == 1:
            return [await self._call(node, self._kwargs(node, _ItemScope(scope, items[0])), 0)]
        results: list[Any] = [None] * len(items)
        total = len(items)
        done = 0

        async def one(index: int, item: Any) -> None:
            nonlocal done
            results[index] = await self._call(
                node, self._kwargs(node, _ItemScope(scope, item)), index
            )
            done += 1
            self.emit(
                "node.progress",
                node.id,
                {"item": None, "completed": done, "total": total, "message": None},
            )

        try:
            async with asyncio.TaskGroup() as group:
                for index, item in enumerate(items):
                    group.create_task(one(index, item))
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None
        return results

    def _kwargs(self, node: CompiledNode, scope: Any) -> dict[str, Any]:
        kwargs = {
            key: value.copy() if type(value) in _MUTABLE else value
            for key, value in node.static_args.items()
        }
        for key, compiled in node.args:
            try:
                kwargs[key] = evaluate(compiled, scope)
            except LookupError as err:
                raise ReelgraphError(f"with.{key}: {err}") from err
        return kwargs

    async def _call(self, node: CompiledNode, kwargs: dict[str, Any], item: int | None) -> Any:
        record = self.run.nodes[node.id]
        if not record.attempts:
            record.attempts = 1
        recorder = self.recorder
        key = None
        if recorder is not None:
            key = recorder.call_key(node, kwargs)
            if key is not None:
                hit, value, dumped = recorder.lookup(key)
                if hit:
                    self._stored[node.id][item] = (True, dumped)
                    return value
        kwargs["ctx"] = NodeContext(
            run_id=self.run.id,
            node_id=node.id,
            hook=node.hook,
            provider=node.provider,
            run_dir=self.run.run_dir,
            item_index=item,
            progress=self._progress,
            store=self._journal,
        )
        function = node.function
        if function is not None:
            # pluggy hands an implementation only the arguments it declares
            kwargs = {name: kwargs[name] for name in node.argnames}
        else:
            function = node.caller
        limiter = self._limiter
        if not limiter.acquire_nowait():
            await limiter.acquire()
        try:
            if node.collect:
                raw = (
                    function(**kwargs)
                    if node.is_async
                    else await asyncio.to_thread(function, **kwargs)
                )
                result = await _gather([raw] if node.function is not None else raw)
            elif node.is_async:
                result = await function(**kwargs)
            else:
                result = await asyncio.to_thread(function, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as err:
            if isinstance(err, NodeError):
                raise
            raise self._wrap(node, err, item) from err
        finally:
            limiter.release()
        if result is None:
            message = (
                f"provider '{node.provider}' returned no result"
                if node.provider
                else f"no installed plugin handled hook {node.hook} with these arguments"
            )
            raise self._wrap(node, ProviderError(message), item)
        if recorder is not None:
            result, dumped = recorder.persist(node, key, result)
            self._stored[node.id][item] = (False, dumped)
        return result


async def _gather(answers: list[Any]) -> list[Any]:
    """Every implementation's answer to a collect hook, awaited and flattened one level."""
    out: list[Any] = []
    for answer in answers:
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            continue
        if isinstance(answer, list):
            out.extend(answer)
        else:
            out.append(answer)
    return out


class _Limiter:
    """A counting semaphore whose uncontended acquire needs no ``await``.

    ``asyncio.Semaphore.acquire`` is a coroutine even when a slot is free;
    this one takes a free slot synchronously (``acquire_nowait``) and queues
    only when all slots are taken. ``release`` hands the slot to the oldest
    waiter still waiting, so waiters are served first come, first served.
    """

    __slots__ = ("free", "_waiters")

    def __init__(self, slots: int) -> None:
        self.free = slots
        self._waiters: deque[asyncio.Future[None]] = deque()

    def acquire_nowait(self) -> bool:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        return False

    async def acquire(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just before the cancel
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the waiter
                return
        self.free += 1


class _Reyield:
    """Yields an object the started coroutine yielded, to the task now driving it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return (yield self.value)


async def _resume(coro: Any, yielded: Any) -> Any:
    """Drive ``coro``, started by hand and suspended on ``yielded``, to its end.

    The task running this sees exactly what ``coro`` yields (futures with
    their blocking flag set, or ``None``) and passes results and exceptions,
    cancellation included, back into it.
    """
    while True:
        try:
            value = await _Reyield(yielded)
        except BaseException as exc:  # noqa: BLE001 - handed to the coroutine
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(value)
            except StopIteration as stop:
                return stop.value


def _start_eagerly(
    loop: asyncio.AbstractEventLoop, coro: Any, name: str
) -> asyncio.Task[Any] | None:
    """Run ``coro`` until it first suspends; return ``None`` if it finished.

    Creating a task costs more than a no-op node itself; most cheap nodes
    (cache hits, small transforms) finish without suspending. This is what
    Python 3.12's eager task factory does. The coroutine runs in a copied
    context that its task keeps, so context variables (the current span) set
    before it suspends stay its own. Errors raised before suspending propagate.
    """
    context = contextvars.copy_context()
    try:
        yielded = context.run(coro.send, None)
    except StopIteration:
        return None
    except BaseException:
        coro.close()
        raise
    return loop.create_task(_resume(coro, yielded), name=name, context=context)


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]


async def _cancel_all(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
