"""How a run executes once the kernel has prepared it: the scheduler, the recorder,
the run's span, lease and resource meter, and how it ends (status, published
outputs, the store's last write).

The body of :meth:`reelgraph.Kernel.run`, ``resume``, ``answer`` and
``fork``, which prepare the plan and the run and then call :func:`execute_run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import BudgetExceeded, GateFailed, ReelgraphError
from reelgraph.observe.logs import logging_listener
from reelgraph.observe.resources import ResourceMeter
from reelgraph.observe.secrets import redact_value
from reelgraph.observe.tracing import active_tracer, end_run_span
from reelgraph.plan.graph import Plan
from reelgraph.run.fork import ForkScheduler, Parent
from reelgraph.run.lease import LeaseKeeper, takeover_event
from reelgraph.run.outputs import publish_outputs, resolve_outputs
from reelgraph.run.persist import Recorder
from reelgraph.run.questions import asking
from reelgraph.run.result import Event, Run
from reelgraph.run.scheduler import Scheduler
from reelgraph.spec.model import BudgetSpec
from reelgraph.store.faults import StorageError, storage_fault
from reelgraph.store.leases import Lease, release_lease

if TYPE_CHECKING:
    from reelgraph.kernel import Kernel

__all__ = ["execute_run", "record_end"]


async def execute_run(
    kernel: Kernel,
    plan: Plan,
    run: Run,
    output_dir: str | Path | None,
    on_event: Callable[[Event], None] | None,
    cache: bool,
    reuse: dict[str, tuple[Any, Any]],
    budget: BudgetSpec,
    lease: tuple[Lease, Lease | None, str | None] | None = None,
    *,
    answered: Mapping[str, str] | None = None,
    parent: Parent | None = None,
) -> Run:
    tracer = active_tracer(kernel.tracer_provider)
    recorder = None
    if kernel.persist:
        uncached = frozenset(n.id for n in plan.spec.nodes if not n.cache)
        recorder = Recorder(
            kernel.store, kernel.artifacts, run, kernel.registry, cache=cache, uncached=uncached
        )
    # a fork reuses its parent's unchanged nodes (reelgraph.run.fork)
    kind: Any = Scheduler if parent is None else functools.partial(ForkScheduler, parent=parent)
    scheduler = kind(
        plan,
        run,
        run.inputs,
        concurrency=min(kernel.concurrency, plan.spec.concurrency.max or kernel.concurrency),
        provider_limits=kernel._provider_limits(plan),
        tracer=tracer,
        emit=logging_listener(run, on_event),
        recorder=recorder,
        reuse=reuse,
        budget=budget,
        # what earlier executions spent counts, even if none of their nodes finished
        spent_usd=(
            recorder.run_cost() if recorder is not None and budget.max_cost_usd is not None else 0.0
        ),
        estimate=kernel._estimate if budget.max_cost_usd is not None else None,
        classify=kernel.registry.classify_error,
        route=kernel._router(),
        publish=kernel._publisher(),
        executor=kernel.executor,
    )
    meter = ResourceMeter(
        kernel.home, (lambda: kernel.artifacts.bytes_written) if kernel.persist else (lambda: 0)
    )
    started = time.perf_counter()
    scheduler.emit("run.started", None, {"run_id": run.id, "spec": run.spec})
    if answered:
        scheduler.emit("run.answered", None, {"answers": redact_value(dict(answered))})
    keeper = None
    if lease is not None:
        keeper = LeaseKeeper(kernel.store, lease[0], kernel.lease_ttl_s)
        if lease[1] is not None:
            scheduler.emit("run.lease_taken_over", None, takeover_event(*lease))
    span = None
    if tracer is not None:
        span = tracer.start_span(
            f"run {plan.spec.name}",
            attributes={"reelgraph.run.id": run.id, "reelgraph.spec": plan.spec.name},
        )
    try:
        async with keeper or contextlib.nullcontext():
            if span is None:
                await scheduler.execute()
            else:
                from opentelemetry import trace

                with trace.use_span(
                    span,
                    end_on_exit=False,
                    record_exception=False,
                    set_status_on_exception=False,
                ):
                    await scheduler.execute()
        skipped = frozenset(n for n, r in run.nodes.items() if r.status == "skipped")
        run.outputs = resolve_outputs(plan, scheduler.scope, skipped=skipped)
        if output_dir is not None:
            run.published = publish_outputs(run.outputs, Path(output_dir))
        run.status = "succeeded"
    except GateFailed as err:
        # keep what was made: publish the outputs that exist, for inspection
        run.status, run.error = "failed_quality", err
        run.outputs = resolve_outputs(plan, scheduler.scope, partial=True)
        if output_dir is not None:
            try:
                run.published = publish_outputs(run.outputs, Path(output_dir))
            except StorageError as publish_fault:
                run.status, run.error = "failed", publish_fault
    except BudgetExceeded as err:
        run.status, run.error = "over_budget", err
    except asyncio.CancelledError:
        if keeper is None or keeper.lost is None:
            run.status = "cancelled"
            raise
        # another process took the run over: it owns the run's status now
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        run.status, run.error = "failed", keeper.lost
    except (ReelgraphError, OSError) as err:  # NodeError, StorageError, ...
        if asking(err) is not None:  # clarifying questions: Kernel.answer resumes the run
            run.status, run.error, run.questions = "needs_input", err, scheduler.questions
        else:
            # a plugin's OSError may name no file: it was writing under the run's folder
            fault = storage_fault(err, run.run_dir)
            if fault is None and isinstance(err, OSError):
                raise
            run.status, run.error = "failed", fault or err
    finally:
        run.ended_at = time.time()
        run.seconds = time.perf_counter() - started
        run.resources = meter.finish()
        scheduler.emit("run.finished", None, {"status": run.status, "seconds": run.seconds})
        try:
            record_end(kernel, run, recorder, lease, owner=keeper is None or keeper.lost is None)
        except ReelgraphError as err:
            # the store itself is full or gone: the run stays resumable as it was
            store_fault = storage_fault(err)
            if store_fault is None:
                raise
            if not isinstance(run.error, StorageError):
                run.status, run.error = "failed", store_fault
        if span is not None:
            end_run_span(span, run)
    return run


def record_end(
    kernel: Kernel,
    run: Run,
    recorder: Recorder | None,
    lease: tuple[Lease, Lease | None, str | None] | None,
    *,
    owner: bool,
) -> None:
    """Write the run's last events, its status and error, and give its lease up.

    A process that lost the lease writes events only: the new owner owns
    the status.
    """
    if recorder is None:
        return
    try:
        recorder.flush_events()
        if owner:
            error = run.error
            text = None if error is None else str(error)
            if isinstance(error, StorageError):
                text = f"StorageError ({error.kind}): {error}"
            kernel.store.set_run_status(
                run.id,
                run.status,
                ended_at=run.ended_at,
                seconds=run.seconds,
                error=text,
                resources=run.resources,
                questions=run.questions or None,
            )
    finally:
        if lease is not None and owner:
            release_lease(kernel.store, lease[0])
