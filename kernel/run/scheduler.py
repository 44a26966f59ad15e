"""The asyncio scheduler: runs every node as soon as its inputs exist.

Independent nodes and the items of a ``map`` node run concurrently. Every
hook call (one attempt) takes a slot of the node's own limit (``concurrency:``),
of its provider's limit (``concurrency.providers``) and of the run's global
limit, always in that order, so the limits hold however calls are nested. A
call of an open node (no provider named) takes the slot of the provider
the ``choose_provider`` hook pins it to, if any (:mod:`reelgraph.run.routing`). A
single ready node runs inline, without a task; a node that finishes without
suspending needs no task at all. ``def`` hook implementations run in a worker
thread, ``async def`` ones on the loop.

Per call: the memo cache is asked first; then attempts are made under the
node's retry policy and ``timeout_s``; when they are used up, the node's
``on_error`` fallbacks are tried in order. The first node failure cancels the
nodes still running and fails the run with a
:class:`~reelgraph.errors.NodeError`; a node the budget cannot afford is not
started, the nodes already running finish, and the run stops with
:class:`~reelgraph.errors.BudgetExceeded`. A node that raises
:class:`~reelgraph.errors.NeedsInput` (clarifying questions) is neither
retried nor replaced by a fallback: it ends ``needs_input``, the nodes that
depend on it never start, every other branch runs to its end (its results are
kept for the resume), and then the :class:`NodeError` carrying the
``NeedsInput`` is raised (:attr:`Scheduler.questions` lists what was asked).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reelgraph.errors import BudgetExceeded, GateFailed, NodeError, ProviderError, ReelgraphError
from reelgraph.models import GateResult
from reelgraph.plan.graph import CompiledNode, Plan
from reelgraph.run._aio import Limiter, cancel_all, first_error
from reelgraph.run._calls import CallPolicy, end_node_span, no_result, redact_text
from reelgraph.run.context import MemoryJournal, NodeContext
from reelgraph.run.executors import Executor, InProcessExecutor
from reelgraph.run.policy import Budget
from reelgraph.run.questions import asking, question_list
from reelgraph.run.result import Event, NodeRun, Run
from reelgraph.run.review import ReviewLoop, is_verdict
from reelgraph.spec.conditions import ConditionError
from reelgraph.spec.model import BudgetSpec
from reelgraph.spec.refs import ROOTS as _ROOTS
from reelgraph.spec.refs import evaluate, resolve_path

if TYPE_CHECKING:
    from reelgraph.run.persist import Recorder

__all__ = ["Scheduler"]

_MUTABLE = (list, dict, set)
#: builds an Event from a 4-tuple without the named tuple's Python-level __new__
_new_event = tuple.__new__
_NODE_EVENTS = {
    s: f"node.{s}"
    for s in ("succeeded", "failed", "cancelled", "skipped", "blocked", "needs_input")
}


class _ItemScope:
    """The evaluation scope of one map item: ``$item`` plus everything else."""

    __slots__ = ("_scope", "_item")

    def __init__(self, scope: Mapping[str, Any], item: Any) -> None:
        self._scope = scope
        self._item = item

    def __getitem__(self, key: str) -> Any:
        return self._item if key == "item" else self._scope[key]


class Scheduler(CallPolicy, ReviewLoop):
    """Executes one :class:`Plan` for one :class:`Run`.

    Args:
        plan: the validated plan.
        run: the run record to fill (node states, events).
        inputs: the run's inputs, after type conversion.
        concurrency: how many hook calls may be in flight at once.
        provider_limits: calls in flight per provider name.
        tracer: an OpenTelemetry tracer, or ``None`` when tracing is off.
        emit: called with every event (after it is appended to ``run.events``).
        recorder: writes state changes to the run store; ``None`` for an
            ephemeral run.
        reuse: outputs of nodes finished before (resume), as ``{node id:
            (value, stored form)}``; those nodes are not executed again.
        budget: the run's limits; ``None`` = none.
        spent_usd: what earlier executions of this run spent (resume).
        estimate: the ``estimate_cost`` hook, asked when a cost limit is set.
        classify: the plugins' ``classify_error`` hook, asked about a failed
            attempt's exception before the kernel's rules.
        route: pins a call of an open node to the provider chosen for it
            (:meth:`reelgraph.run.routing.Router.route`); ``None``: calls
            of open nodes stay open.
        publish: the ``publish_asset`` hook, behind every call's
            ``ctx.publish_asset``; ``None`` when no plugin implements it.
        executor: where hook calls run (:mod:`reelgraph.run.executors`);
            in-process by default (then :meth:`_run_fast` may await a plain
            ``async def`` node's implementation itself); any other executor
            is handed every call.
    """

    def __init__(
        self,
        plan: Plan,
        run: Run,
        inputs: dict[str, Any],
        *,
        concurrency: int,
        provider_limits: Mapping[str, int] | None = None,
        tracer: Any = None,
        emit: Callable[[Event], None] | None = None,
        recorder: Recorder | None = None,
        reuse: dict[str, tuple[Any, Any]] | None = None,
        budget: BudgetSpec | None = None,
        spent_usd: float = 0.0,
        estimate: Callable[[str, str | None, dict[str, Any]], float | None] | None = None,
        classify: Callable[[BaseException], ProviderError | None] | None = None,
        route: Callable[[CompiledNode, dict[str, Any]], CompiledNode] | None = None,
        publish: Callable[..., str | None] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.plan = plan
        self.executor: Executor = executor if executor is not None else InProcessExecutor()
        self.classify = classify
        self.route = route
        self.publish = publish
        self.recorder = recorder
        self.reuse = reuse or {}
        self.run = run
        self.scope: dict[str, Any] = {"inputs": inputs}
        self.concurrency = concurrency
        self.tracer = tracer
        self._listener = emit
        self._events = run.events
        self._limiter = Limiter(concurrency)
        self._provider_limiters = {p: Limiter(n) for p, n in (provider_limits or {}).items()}
        self._node_limiters = {n.id: Limiter(n.limit) for n in plan.nodes.values() if n.limit}
        #: whether any node or provider has a limit of its own (else only the global one)
        self._own_limits = bool(self._provider_limiters or self._node_limiters)

        budget_obj = Budget(budget or BudgetSpec(), spent_usd=spent_usd, estimate=estimate)
        self.budget: Budget | None = budget_obj if budget_obj.active else None
        #: nothing but the global limit between a node and its hook (see _fast_call)
        self._fast = tracer is None and recorder is None and self.budget is None
        self._fast = self._fast and not self._own_limits
        # another executor is asked about every call, async ones included
        self._fast = self._fast and type(self.executor) is InProcessExecutor
        self._skipped: set[str] = set()
        #: add to a time.perf_counter() reading to get Unix time (seconds)
        self._wall = time.time() - time.perf_counter()
        #: per running node, per map item (None without map): (from cache, stored form)
        self._stored: dict[str, dict[int | None, tuple[bool, Any]]] = {}
        self._journal: Any = recorder.store if recorder is not None else MemoryJournal()
        #: nodes that asked clarifying questions: (their error, the questions)
        self._asking: list[tuple[NodeError, list[dict[str, str]]]] = []
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
        if message:
            message = redact_text(message)
        self.emit(
            "node.progress",
            node_id,
            {"item": item, "completed": completed, "total": total, "message": message},
        )

    @property
    def questions(self) -> list[dict[str, str]]:
        """The clarifying questions the nodes that ended ``needs_input`` asked, in order
        (one per key: a fallback node asking in place of its primary asks once)."""
        found: dict[str, dict[str, str]] = {}
        for _, questions in self._asking:
            for question in questions:
                found.setdefault(question["key"], question)
        return list(found.values())

    def _asked(self, error: NodeError) -> bool:
        """Whether ``error`` is a node's clarifying questions (kept), not a failure."""
        return any(error is known for known, _ in self._asking)

    # -- the loop ---------------------------------------------------------------

    async def execute(self) -> None:
        """Run every node. Raises the first :class:`NodeError` (or :class:`BudgetExceeded`).

        A node that asked clarifying questions stops its dependents only; once
        everything else has run, its :class:`NodeError` is raised.
        """
        nodes = self.plan.nodes
        standby = self.plan.standby
        waiting = {node_id: len(node.deps) for node_id, node in nodes.items()}
        ready: deque[str] = deque(
            n for n in self.plan.order if waiting[n] == 0 and n not in standby
        )
        running: set[asyncio.Task[None]] = set()
        finished: deque[asyncio.Task[None]] = deque()
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] | None = None
        stop: BudgetExceeded | None = None
        fast = self._fast

        def on_done(task: asyncio.Task[None]) -> None:
            finished.append(task)
            if wake is not None and not wake.done():
                wake.set_result(None)

        def complete(node_id: str) -> None:
            for child in nodes[node_id].dependents:
                waiting[child] -= 1
                if waiting[child] == 0 and child not in standby:
                    ready.append(child)

        try:
            while (ready and stop is None) or running:
                if len(ready) == 1 and not running and stop is None:
                    node_id = ready.popleft()
                    node = nodes[node_id]
                    try:
                        if fast and node.fast and not self._skipped:
                            await self._run_fast(node)
                        else:
                            await self._run_node(node)
                    except BudgetExceeded as err:
                        stop = err
                        continue
                    except NodeError as err:
                        if not self._asked(err):
                            raise
                        continue  # its dependents never become ready
                    for child in node.dependents:  # complete(node_id), inlined for chains
                        waiting[child] -= 1
                        if waiting[child] == 0 and child not in standby:
                            ready.append(child)
                    continue
                if self.recorder is not None and stop is None:
                    # with a run store, nodes start in waves: one commit for all the
                    # nodes ready now; those made ready meanwhile form the next wave
                    wave, stop = self._begin_wave(ready, complete)
                else:
                    wave = None
                # begun wave nodes always run (a budget stop blocks them one by one)
                while wave or (ready and self.recorder is None and stop is None):
                    if wave:
                        node_id, started = wave.popleft()
                        node = nodes[node_id]
                        coro = self._run_node(node, started)
                    else:
                        node_id = ready.popleft()
                        node = nodes[node_id]
                        if fast and node.fast and not self._skipped:
                            coro = self._run_fast(node)
                        else:
                            coro = self._run_node(node)
                    # Every node gets a task of its own, so that asyncio.TaskGroup and
                    # asyncio.timeout inside it cancel that task, never the scheduler's
                    # (a coroutine started by hand in this task once did exactly that:
                    # a failing map item cancelled the whole run).
                    task = loop.create_task(coro, name=node_id)
                    task.add_done_callback(on_done)
                    running.add(task)
                if not running:
                    continue  # nothing was launched (a budget stop)
                if not finished:
                    wake = loop.create_future()
                    await wake
                    wake = None
                while finished:
                    task = finished.popleft()
                    running.discard(task)
                    try:
                        task.result()  # re-raises the node's error
                    except BudgetExceeded as err:
                        stop = stop or err  # let the running nodes finish
                        continue
                    except NodeError as err:
                        if not self._asked(err):
                            raise
                        continue
                    complete(task.get_name())
        except BaseException:
            await cancel_all(running)
            raise
        for node_id in standby:
            if self.run.nodes[node_id].status == "pending":
                self._mark(
                    node_id, "skipped", {"reason": f"fallback of '{standby[node_id]}' not needed"}
                )
        if self._asking:  # answering comes first; a budget stop shows again on resume
            raise self._asking[0][0]
        if stop is not None:
            raise stop

    # -- one node -----------------------------------------------------------------

    def _mark(self, node_id: str, status: str, data: dict[str, Any]) -> None:
        """A node that does not run: skipped, or blocked by the budget."""
        record = self.run.nodes[node_id]
        record.status = status
        record.ended_at = now = time.time()
        if status == "skipped":
            self._skipped.add(node_id)
        else:
            record.error = data.get("error")
        self.emit(_NODE_EVENTS[status], node_id, data, now)
        if self.recorder is not None:
            self.recorder.node_finished(record, None)

    def _should_skip(self, node: CompiledNode) -> str | None:
        """Why ``node`` is skipped (an upstream node was, or ``when:`` is false), or ``None``."""
        if self._skipped:
            for dep in node.deps:
                if dep in self._skipped:
                    return f"'{dep}' was skipped"
        if node.when is not None and not node.when.evaluate(self.scope):
            return f"when: {node.when.text} is false"
        return None

    def _begin_wave(
        self, ready: deque[str], complete: Callable[[str], None]
    ) -> tuple[deque[tuple[str, float]], BudgetExceeded | None]:
        """Mark every ready node started, in one run-store commit, before any hook runs.

        Nodes that are reused or skipped are completed on the spot (their
        dependents may join the wave). Returns the started nodes with their
        start times, and the budget error that stopped the wave, if any.
        """
        wave: deque[tuple[str, float]] = deque()
        stop = None
        while ready:
            node_id = ready.popleft()
            try:
                started = self._begin(self.plan.nodes[node_id], commit=False)
            except BudgetExceeded as err:
                stop = err
                break
            except BaseException:
                self._commit_wave(wave)
                for begun, started in wave:  # begun but never launched
                    self._finish(self.run.nodes[begun], started, "cancelled", None)
                raise
            if started is None:
                complete(node_id)
            else:
                wave.append((node_id, started))
        self._commit_wave(wave)
        return wave, stop

    def _commit_wave(self, wave: deque[tuple[str, float]]) -> None:
        if wave and self.recorder is not None:
            self.recorder.nodes_started([self.run.nodes[node_id] for node_id, _ in wave])

    def _begin(self, node: CompiledNode, *, commit: bool = True) -> float | None:
        """Decide whether ``node`` runs; if it does, mark it started.

        Returns the start time (``time.perf_counter``), or ``None`` when the
        node was reused (resume) or skipped. With ``commit=False`` the caller
        commits the start to the run store (a wave of nodes at once).

        Raises:
            BudgetExceeded: the duration budget is used up (node ``blocked``).
            NodeError: its ``when:`` condition failed to evaluate.
        """
        record = self.run.nodes[node.id]
        if node.id in self.reuse:
            self._reuse(node, record)
            return None
        if node.when is not None or self._skipped:
            try:
                reason = self._should_skip(node)
            except ConditionError as err:
                error = self._wrap(node, err, None)
                self._start(node, record)
                self._finish(record, time.perf_counter(), "failed", None, error)
                raise error from None
            if reason is not None:
                self._mark(node.id, "skipped", {"reason": reason})
                return None
        if self.budget is not None:
            try:
                self.budget.check_duration(node.id)
            except BudgetExceeded as err:
                self._mark(node.id, "blocked", {"error": str(err)})
                raise
        started = time.perf_counter()
        self._start(node, record, commit=commit)
        return started

    async def _run_node(self, node: CompiledNode, started: float | None = None) -> None:
        """Run one node (``started``: it was begun by :meth:`_begin_wave`)."""
        if started is None:
            started = self._begin(node)
            if started is None:
                return
        record = self.run.nodes[node.id]
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

                with trace.use_span(
                    span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    result = await self._execute(node, record)
            if node.map_ref is None and (node.collect or is_verdict(result)):
                result = await self._judge(node, result)
        except asyncio.CancelledError:
            self._finish(record, started, "cancelled", span)
            raise
        except BudgetExceeded as err:
            self._finish(record, started, "blocked", span, err)
            raise
        except GateFailed as err:
            # keep the failing measurements with the node, for `reelgraph show`
            last = self._stored.pop(node.id, {}).get(None)
            self._finish(record, started, "failed", span, err, last[1] if last else None)
            raise
        except BaseException as err:
            error = self._failed(node, record, started, span, err)
            if error is err:
                raise
            raise error from err
        self.scope[node.id] = result
        stored = None
        if self.recorder is not None:
            calls = self._stored.pop(node.id)
            record.cached = bool(calls) and all(hit for hit, _ in calls.values())
            if node.map_ref is None:
                stored = calls[None][1]
            else:
                stored = [calls[index][1] for index in range(len(calls))]
        self._finish(record, started, "succeeded", span, None, stored)

    async def _run_fast(self, node: CompiledNode) -> None:
        """:meth:`_run_node`, :meth:`_call` and :meth:`_attempt` in one frame, for the
        common case.

        A plain node (no map, no ``when``, no timeout, one ``async def``
        implementation called directly) in a run with no tracer, run store,
        budget or limits of its own: nothing stands between the node and its
        hook but the global limit. A failed first attempt goes on to
        :meth:`_recover` (retries, fallbacks) as on the general path.
        """
        record = self.run.nodes[node.id]
        record.status = "running"
        started = time.perf_counter()
        record.started_at = now = self._wall + started  # time.time(), one clock read less
        event = _new_event(Event, ("node.started", now, node.id, None))
        self._events.append(event)
        if self._listener is not None:
            self._listener(event)
        try:
            kwargs = self._kwargs(node, self.scope)
            record.attempts = 1
            run = self.run
            kwargs["ctx"] = NodeContext._for_call(
                run.id,
                node.id,
                node.hook,
                node.provider,
                run.run_dir,
                1,
                None,
                self._progress,
                self._journal,
            )
            kwargs["ctx"]._publish = self.publish
            limiter = self._limiter
            if limiter.free > 0 and not limiter.waiters:  # Limiter.acquire_nowait, inlined
                limiter.free -= 1
            else:
                await limiter.acquire()
            failure: NodeError | None = None
            try:
                if node.pass_all:
                    result = await node.function(**kwargs)
                else:
                    result = await node.function(**{n: kwargs[n] for n in node.argnames})
            except Exception as err:
                failure = err if isinstance(err, NodeError) else self._wrap(node, err, None)
                if failure is not err:
                    failure.__cause__ = err
            finally:
                if limiter.waiters:
                    limiter.release()
                else:
                    limiter.free += 1
            if failure is None and result is None:
                failure = self._wrap(node, ProviderError(no_result(node)), None)
            if failure is not None:
                result, _ = await self._recover(node, kwargs, None, failure, started)
        except asyncio.CancelledError:
            self._finish(record, started, "cancelled", None)
            raise
        except BaseException as err:
            error = self._failed(node, record, started, None, err)
            if error is err:
                raise
            raise error from err
        self.scope[node.id] = result
        record.status = "succeeded"
        ended = time.perf_counter()
        record.ended_at = now = self._wall + ended
        record.seconds = ended - started
        event = _new_event(Event, ("node.succeeded", now, node.id, None))
        self._events.append(event)
        if self._listener is not None:
            self._listener(event)

    def _start(self, node: CompiledNode, record: NodeRun, *, commit: bool = True) -> None:
        record.status = "running"
        record.started_at = now = time.time()
        self.emit("node.started", node.id, None, now)
        if self.recorder is not None:
            if commit:
                self.recorder.node_started(record)
            self._stored[node.id] = {}

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
        questions: list[dict[str, str]] | None = None,
    ) -> None:
        record.status = status
        record.ended_at = now = time.time()
        record.seconds = time.perf_counter() - started
        if error is not None:
            record.error = redact_text(str(error))
        data = {"seconds": record.seconds, "error": record.error} if error else None
        if questions is not None:
            data = {**(data or {}), "questions": questions}
        self.emit(_NODE_EVENTS[status], record.id, data, now)
        if self.recorder is not None:
            self.recorder.node_finished(record, stored)
        if span is not None:
            end_node_span(span, record, error)

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
        blocked: list[BudgetExceeded] = []

        async def one(index: int, item: Any) -> None:
            nonlocal done
            try:
                results[index] = await self._call(
                    node, self._kwargs(node, _ItemScope(scope, item)), index
                )
            except BudgetExceeded as err:  # the items already started finish first
                blocked.append(err)
                return
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
            raise first_error(group_error) from None
        if blocked:
            raise blocked[0]
        return results

    def _kwargs(self, node: CompiledNode, scope: Any) -> dict[str, Any]:
        if node.static_args:
            kwargs = {
                key: value.copy() if type(value) in _MUTABLE else value
                for key, value in node.static_args.items()
            }
        else:
            kwargs = {}
        for key, compiled in node.args:
            if compiled[0] == _ROOTS:  # [$a, $b]: cannot fail, no call needed
                kwargs[key] = [scope[root] for root in compiled[1]]
                continue
            try:
                kwargs[key] = evaluate(compiled, scope)
            except LookupError as err:
                raise ReelgraphError(f"with.{key}: {err}") from err
        return kwargs

    def _failed(
        self,
        node: CompiledNode,
        record: NodeRun,
        started: float,
        span: Any,
        err: BaseException,
    ) -> NodeError:
        """Record ``node`` as failed by ``err``, or as ``needs_input`` when it asked
        clarifying questions; return the NodeError to raise (``err`` itself when
        it already is one)."""
        error = err if isinstance(err, NodeError) else self._wrap(node, err, None)
        needs = asking(error)
        if needs is not None:
            try:
                questions = question_list(needs, node.id)
            except ValueError as bad:  # the plugin asked in a shape nobody can answer
                error = self._wrap(node, ProviderError(str(bad)), error.item_index)
                error.__cause__ = needs
            else:
                self._asking.append((error, questions))
                self._finish(record, started, "needs_input", span, error, questions=questions)
                return error
        self._finish(record, started, "failed", span, error)
        return error
