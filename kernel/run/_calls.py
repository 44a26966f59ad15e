"""One hook call under the node's policy: memo cache, attempts, retries, timeouts,
fallbacks, limits, budget, cost accounting and attempt spans.

A mixin of :class:`~reelgraph.run.scheduler.Scheduler` (split out to keep each
module readable); the methods are annotated with ``self``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reelgraph.errors import NeedsInput, NodeError, ProviderError
from reelgraph.plan.graph import CompiledNode
from reelgraph.run._aio import Limiter
from reelgraph.run.context import NodeContext
from reelgraph.run.policy import classify, retry_wait
from reelgraph.run.result import NodeRun

if TYPE_CHECKING:
    from reelgraph.plan.graph import Plan
    from reelgraph.run.executors import Executor
    from reelgraph.run.persist import Recorder
    from reelgraph.run.policy import Budget
    from reelgraph.run.result import Run

__all__ = ["CallPolicy", "end_node_span", "no_result", "redact_text"]


class CallPolicy:
    """How the scheduler makes one call of a node's hook (one map item)."""

    if TYPE_CHECKING:  # provided by Scheduler
        plan: Plan
        run: Run
        recorder: Recorder | None
        tracer: Any
        budget: Budget | None
        classify: Callable[[BaseException], ProviderError | None] | None
        route: Callable[[CompiledNode, dict[str, Any]], CompiledNode] | None
        publish: Callable[..., str | None] | None
        executor: Executor
        scope: dict[str, Any]
        _stored: dict[str, dict[int | None, tuple[bool, Any]]]
        _wall: float
        _journal: Any
        _limiter: Limiter
        _node_limiters: dict[str, Limiter]
        _provider_limiters: dict[str, Limiter]
        _own_limits: bool

        def emit(
            self,
            type_: str,
            node_id: str | None = None,
            data: dict[str, Any] | None = None,
            ts: float | None = None,
        ) -> None: ...

        def _progress(
            self,
            node_id: str,
            item: int | None,
            completed: float,
            total: float | None,
            message: str | None,
        ) -> None: ...

        def _kwargs(self, node: CompiledNode, scope: Any) -> dict[str, Any]: ...

        def _failed(
            self,
            node: CompiledNode,
            record: NodeRun,
            started: float,
            span: Any,
            err: BaseException,
        ) -> NodeError: ...

        def _start(self, node: CompiledNode, record: NodeRun, *, commit: bool = True) -> None: ...

        def _finish(
            self,
            record: NodeRun,
            started: float,
            status: str,
            span: Any,
            error: BaseException | None = None,
            stored: Any = None,
        ) -> None: ...

    def _wrap(self, node: CompiledNode, err: BaseException, item: int | None) -> NodeError:
        return NodeError(
            node_id=node.id,
            hook=node.hook,
            provider=node.provider,
            cause=err,
            attempt=max(self.run.nodes[node.id].attempts, 1),
            item_index=item,
        )

    # -- one call: cache, attempts, fallbacks ---------------------------------------

    async def _call(self, node: CompiledNode, kwargs: dict[str, Any], item: int | None) -> Any:
        """One call of ``node``'s hook (one map item): routed, cached, retried, fallen back.

        A call of an open node is first pinned to the provider chosen for it
        (:attr:`route`); when the choice cannot be honoured (the provider is
        not installed), the call fails as a first attempt would, and the
        node's fallbacks are tried.
        """
        if self.route is not None and node.provider is None:
            try:
                node = self.route(node, kwargs)
            except ProviderError as err:
                failure = self._wrap(node, err, item)
                failure.__cause__ = err
                result, _ = await self._recover(node, kwargs, item, failure, time.perf_counter())
                return result
        recorder = self.recorder
        key = None
        if recorder is not None:
            key = recorder.call_key(node, kwargs)
            if key is not None:
                hit, value, dumped = recorder.lookup(key)
                if hit:
                    self._stored[node.id][item] = (True, dumped)
                    if self.tracer is not None:
                        _span_event("reelgraph.cache_hit", {"reelgraph.item_index": item})
                    return value
        first = time.perf_counter()
        try:
            result = await self._attempt(node, kwargs, item, 1)
        except NodeError as err:
            result, fell_back = await self._recover(node, kwargs, item, err, first)
            if fell_back:
                return result  # stored by the fallback's own call
        if recorder is not None:
            result, dumped = recorder.persist(node, key, result)
            self._stored[node.id][item] = (False, dumped)
        return result

    async def _recover(
        self,
        node: CompiledNode,
        kwargs: dict[str, Any],
        item: int | None,
        failure: NodeError,
        first: float,
    ) -> tuple[Any, bool]:
        """After a failed first attempt: retries under the node's policy, then its fallbacks.

        ``first`` is when the first attempt started (``time.perf_counter``).
        Returns ``(result, fell_back)``; raises the last failure when nothing works.
        Clarifying questions (:class:`~reelgraph.errors.NeedsInput`) are raised at
        once: no retry or fallback can answer them.
        """
        if isinstance(failure.cause, NeedsInput):
            raise failure
        attempt = 1
        while True:
            wait = self._retry_wait(node, failure, item, attempt, first)
            if wait is None:
                if not node.fallbacks:
                    raise failure
                return await self._fall_back(node, kwargs, item, failure), True
            await asyncio.sleep(wait)
            attempt += 1
            try:
                return await self._attempt(node, kwargs, item, attempt), False
            except NodeError as err:
                if isinstance(err.cause, NeedsInput):
                    raise
                failure = err

    def _retry_wait(
        self,
        node: CompiledNode,
        err: NodeError,
        item: int | None,
        attempt: int,
        first: float,
    ) -> float | None:
        """Seconds to wait before retrying a failed attempt (events and span events made),
        or ``None`` to give up."""
        error = classify(err.cause, self.classify)
        wait, _ = retry_wait(node.retry, attempt, error, time.perf_counter() - first)
        if wait is None:
            return None
        self.emit(
            "node.retrying",
            node.id,
            {
                "item": item,
                "attempt": attempt,
                "error": redact_text(f"{type(err.cause).__name__}: {err.cause}"),
                "wait_s": round(wait, 3),
            },
        )
        if self.tracer is not None:
            _span_event(
                "reelgraph.retry",
                {
                    "reelgraph.attempt": attempt,
                    "reelgraph.item_index": item,
                    "reelgraph.retry.wait_s": wait,
                    "error.type": type(error or err.cause).__name__,
                },
            )
        return wait

    async def _fall_back(
        self,
        node: CompiledNode,
        kwargs: dict[str, Any],
        item: int | None,
        failure: NodeError,
    ) -> Any:
        """Try ``node``'s fallbacks in order; raise the last failure when none works."""
        record = self.run.nodes[node.id]
        for fallback in node.fallbacks:
            label = (
                f"node:{fallback}" if isinstance(fallback, str) else f"provider:{fallback.provider}"
            )
            self.emit(
                "node.fallback",
                node.id,
                {"item": item, "to": label, "error": redact_text(str(failure))},
            )
            if self.tracer is not None:
                _span_event(
                    "reelgraph.fallback",
                    {"reelgraph.fallback": label, "error.type": type(failure.cause).__name__},
                )
            try:
                if isinstance(fallback, str):
                    result = await self._run_standby(self.plan.nodes[fallback], node)
                else:
                    arguments = {k: v for k, v in kwargs.items() if k != "ctx"}
                    result = await self._call(fallback, arguments, item)
            except NodeError as err:
                if isinstance(err.cause, NeedsInput):  # the fallback asks: the run waits
                    raise
                failure = err
                continue
            record.fallback = label
            return result
        raise failure

    async def _run_standby(self, standby: CompiledNode, primary: CompiledNode) -> Any:
        """Run a fallback node in place of ``primary``; its output becomes ``primary``'s."""
        record = self.run.nodes[standby.id]
        started = time.perf_counter()
        self._start(standby, record)
        stored = self._stored.get(primary.id)
        try:
            result = await self._call(standby, self._kwargs(standby, self.scope), None)
        except asyncio.CancelledError:
            self._finish(record, started, "cancelled", None)
            raise
        except BaseException as err:
            error = self._failed(standby, record, started, None, err)
            if error is err:
                raise
            raise error from err
        dumped = None
        if self.recorder is not None:
            dumped = self._stored.pop(standby.id)[None]
            if stored is not None:
                stored[None] = dumped  # the primary stores what the fallback made
            dumped = dumped[1]
        self.scope[standby.id] = result
        self._finish(record, started, "succeeded", None, None, dumped)
        return result

    async def _attempt(
        self, node: CompiledNode, kwargs: dict[str, Any], item: int | None, attempt: int
    ) -> Any:
        """One attempt: budget check, limits, timeout, span, cost accounting."""
        record = self.run.nodes[node.id]
        if attempt > record.attempts:
            record.attempts = attempt
        ctx = NodeContext._for_call(
            self.run.id,
            node.id,
            node.hook,
            node.provider,
            self.run.run_dir,
            attempt,
            item,
            self._progress,
            self._journal,
        )
        ctx._publish = self.publish
        kwargs = dict(kwargs) if attempt > 1 else kwargs
        kwargs["ctx"] = ctx
        reserved = 0.0
        if self.budget is not None:
            reserved = self.budget.reserve(node.id, node.hook, node.provider, kwargs)
        limits = self._limits(node) if self._own_limits else ()
        began = 0.0  # when the hook was called, after the limits let it through
        failure: BaseException | None = None
        try:
            if limits:
                await _acquire_all(limits)
            limiter = self._limiter
            if not limiter.acquire_nowait():
                try:
                    await limiter.acquire()
                except BaseException:
                    for held in limits:
                        held.release()
                    raise
            began = time.perf_counter()
            try:
                if self.tracer is None and node.timeout_s is None:
                    result = await self._invoke(node, kwargs, item)
                else:
                    result = await self._observed(node, kwargs, item, attempt, ctx)
            finally:
                limiter.release()
                for held in limits:
                    held.release()
            if result is None:
                raise self._wrap(node, ProviderError(no_result(node)), item)
        except BaseException as err:
            failure = err
            raise
        finally:
            if ctx._usage is not None or reserved:
                self._account(node, record, item, ctx, reserved)
            if self.recorder is not None and began:
                self._record_attempt(node, record, item, attempt, ctx, began, failure)
        return result

    def _limits(self, node: CompiledNode) -> tuple[Limiter, ...]:
        """The node's own limiter and its provider's, in the order they are taken."""
        found = []
        own = self._node_limiters.get(node.id)
        if own is not None:
            found.append(own)
        vendor = self._provider_limiters.get(node.provider) if node.provider else None
        if vendor is not None:
            found.append(vendor)
        return tuple(found)

    async def _invoke(self, node: CompiledNode, kwargs: dict[str, Any], item: int | None) -> Any:
        """Hand the call to the executor (:mod:`reelgraph.run.executors`): the one place a
        hook implementation is called, apart from :meth:`_run_fast`'s ``async def``."""
        try:
            return await self.executor.call(node, kwargs)
        except Exception as err:
            if isinstance(err, NodeError):
                raise
            raise self._wrap(node, err, item) from err

    async def _observed(
        self,
        node: CompiledNode,
        kwargs: dict[str, Any],
        item: int | None,
        attempt: int,
        ctx: NodeContext,
    ) -> Any:
        """An attempt with a timeout and/or an attempt span."""
        span = None
        if self.tracer is not None:
            attributes: dict[str, Any] = {
                "reelgraph.node.id": node.id,
                "reelgraph.attempt": attempt,
                "reelgraph.hook": node.hook,
                "reelgraph.provider": node.provider or "",
            }
            if item is not None:
                attributes["reelgraph.item_index"] = item
            span = self.tracer.start_span(f"attempt {attempt} {node.id}", attributes=attributes)
        error: BaseException | None = None
        try:
            if span is not None:
                from opentelemetry import trace

                with trace.use_span(
                    span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    return await self._timed(node, kwargs, item, ctx)
            return await self._timed(node, kwargs, item, ctx)
        except BaseException as err:
            error = err
            raise
        finally:
            if span is not None:
                _end_attempt_span(span, ctx, error)

    async def _timed(
        self,
        node: CompiledNode,
        kwargs: dict[str, Any],
        item: int | None,
        ctx: NodeContext,
    ) -> Any:
        if node.timeout_s is None:
            return await self._invoke(node, kwargs, item)
        try:
            async with asyncio.timeout(node.timeout_s):
                return await self._invoke(node, kwargs, item)
        except TimeoutError as err:
            ctx._cancelled = True  # a `def` hook in its thread sees it and stops
            message = f"attempt timed out after {node.timeout_s:g} s (timeout_s)"
            raise self._wrap(node, TimeoutError(message), item) from err
        except asyncio.CancelledError:
            ctx._cancelled = True
            raise

    def _record_attempt(
        self,
        node: CompiledNode,
        record: NodeRun,
        item: int | None,
        attempt: int,
        ctx: NodeContext,
        began: float,
        failure: BaseException | None,
    ) -> None:
        """One row per attempt in the run store: outcome, seconds, cost (secrets redacted)."""
        assert self.recorder is not None
        if failure is None:
            status, error = "succeeded", None
        elif isinstance(failure, asyncio.CancelledError):
            status, error = "cancelled", None
        else:
            cause = failure.cause if isinstance(failure, NodeError) else failure
            status = "needs_input" if isinstance(cause, NeedsInput) else "failed"
            error = redact_text(f"{type(cause).__name__}: {cause}")
        usage = ctx._usage
        self.recorder.attempt_finished(
            record,
            item=item,
            attempt=attempt,
            provider=node.provider,
            status=status,
            error=error,
            seconds=time.perf_counter() - began,
            cost_usd=usage.cost_usd if usage is not None else 0.0,
            started_at=self._wall + began,
        )

    def _account(
        self,
        node: CompiledNode,
        record: NodeRun,
        item: int | None,
        ctx: NodeContext,
        reserved: float,
    ) -> None:
        """Add what an attempt reported to the node, the run and the store."""
        usage = ctx._usage
        spent = usage.cost_usd if usage is not None else 0.0
        if self.budget is not None:
            self.budget.settle(reserved, spent)
        if spent:
            record.cost_usd += spent
            if self.recorder is not None:
                detail = "; ".join(usage.details) if usage is not None else ""
                self.recorder.add_cost(node.id, spent, redact_text(detail))


def no_result(node: CompiledNode) -> str:
    """Why a call that returned ``None`` failed (a hook's answer, or a function's output)."""
    if node.code is not None:
        return f"function {node.hook} returned None: a function node must return its output"
    if node.provider:
        return f"provider '{node.provider}' returned no result"
    return f"no installed plugin handled hook {node.hook} with these arguments"


async def _acquire_all(limiters: tuple[Limiter, ...]) -> None:
    """Take a slot of each limiter in order; on cancellation, give back what was taken."""
    taken: list[Limiter] = []
    try:
        for limiter in limiters:
            if not limiter.acquire_nowait():
                await limiter.acquire()
            taken.append(limiter)
    except BaseException:
        for limiter in taken:
            limiter.release()
        raise


def redact_text(text: str) -> str:
    from reelgraph.observe.secrets import redact

    return redact(text)


def _span_event(name: str, attributes: dict[str, Any]) -> None:
    """An event on the current span (the node's), ``None`` values left out."""
    from opentelemetry import trace

    clean = {k: v for k, v in attributes.items() if v is not None}
    trace.get_current_span().add_event(name, clean)


def _end_attempt_span(span: Any, ctx: NodeContext, error: BaseException | None) -> None:
    """Usage (OpenTelemetry GenAI semantic conventions), cost and outcome of an attempt."""
    usage = ctx._usage
    if usage is not None:
        if usage.cost_usd:
            span.set_attribute("reelgraph.cost_usd", usage.cost_usd)
        genai = {
            "gen_ai.operation.name": usage.operation,
            "gen_ai.provider.name": usage.provider_name,
            "gen_ai.request.model": usage.model,
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
        }
        for name, value in genai.items():
            if value is not None:
                span.set_attribute(name, value)
        if usage.operation:
            # GenAI span name: "{gen_ai.operation.name} {gen_ai.request.model}"
            span.update_name(f"{usage.operation} {usage.model or ''}".strip())
    if error is not None:
        _record_error(span, error)
    span.end()


def end_node_span(span: Any, record: NodeRun, error: BaseException | None) -> None:
    span.set_attribute("reelgraph.node.status", record.status)
    span.set_attribute("reelgraph.node.attempts", record.attempts)
    span.set_attribute("reelgraph.node.cached", record.cached)
    if record.cost_usd:
        span.set_attribute("reelgraph.cost_usd", record.cost_usd)
    if record.fallback:
        span.set_attribute("reelgraph.fallback", record.fallback)
    if record.items is not None:
        span.set_attribute("reelgraph.node.items", record.items)
    if error is not None:
        _record_error(span, error)
    span.end()


def _record_error(span: Any, error: BaseException) -> None:
    """The exception as a span event and an ERROR status, secrets redacted."""
    from opentelemetry.trace import Status, StatusCode

    cause = error.cause if isinstance(error, NodeError) else error
    if isinstance(cause, asyncio.CancelledError):
        span.set_attribute("reelgraph.cancelled", True)
        return
    if isinstance(cause, NeedsInput):  # waiting for a human is not a failure
        keys = [
            q.get("key") if isinstance(q, dict) else getattr(q, "key", "") for q in cause.questions
        ]
        span.add_event("reelgraph.needs_input", {"reelgraph.questions": [str(k) for k in keys]})
        return
    message = redact_text(str(error))
    span.add_event(
        "exception",
        {
            "exception.type": f"{type(cause).__module__}.{type(cause).__qualname__}",
            "exception.message": redact_text(str(cause)),
        },
    )
    span.set_status(Status(StatusCode.ERROR, message))
