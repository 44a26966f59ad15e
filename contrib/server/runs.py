"""Runs the server executes: each one an ``asyncio`` task in the server's event loop.

A run submitted over HTTP is ``await kernel.arun(...)`` in a task, so it is
recorded in the same run store as a CLI run, under the same budgets, leases and
secrets rules. Resume and answer are ``kernel.aresume`` / ``kernel.aanswer`` in a
task. A run left ``running`` by a server that died keeps a lease whose process is
gone, so the kernel's lease rules let ``resume`` take it over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

__all__ = ["RunManager"]


class RunManager:
    """Starts, tracks and cancels the runs this server process executes.

    Args:
        kernel: the :class:`reelgraph.Kernel` whose store and plugins runs use.
    """

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    def run_dir(self, run_id: str) -> Path:
        """``<home>/runs/<run id>``: where a run's files live."""
        return Path(self.kernel.home) / "runs" / run_id

    def live(self, run_id: str) -> bool:
        """Whether this process is executing ``run_id`` now."""
        task = self.tasks.get(run_id)
        return task is not None and not task.done()

    def check(self, spec: str | Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
        """Validate a spec and its inputs before anything runs; return the plan.

        Raises:
            SpecError: the spec is invalid (every problem, with node and field).
            InputError: the inputs do not fit the spec.
        """
        from reelgraph.spec.inputs import bind_inputs

        plan = self.kernel.plan(spec)
        bound = bind_inputs(plan.spec, inputs)
        return self.kernel.plan(plan.spec, bound)

    async def submit(
        self,
        plan: Any,
        inputs: Mapping[str, Any],
        *,
        run_id: str,
        budget: Mapping[str, Any] | None,
        cache: bool,
    ) -> str:
        """Start ``plan`` with ``inputs`` as run ``run_id``; return once the store has it.

        Outputs are published into ``<run dir>/outputs``.

        Raises:
            ReelgraphError: anything ``Kernel.arun`` raises before the run starts
                (an input error, a storage fault).
        """
        output_dir = self.run_dir(run_id) / "outputs"

        def start() -> Coroutine[Any, Any, Any]:
            return self.kernel.arun(
                plan, dict(inputs), output_dir=output_dir, run_id=run_id, cache=cache, budget=budget
            )

        await self._start(run_id, start)
        return run_id

    async def resume(
        self,
        run_id: str,
        *,
        budget: Mapping[str, Any] | None,
        force: bool,
        cache: bool,
        inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """Resume a stored run (``Kernel.aresume``) in a task.

        ``inputs`` gives again the inputs declared ``secret: true`` (never stored).

        Raises:
            RunLeased: another live process executes the run (nothing ran).
            ReelgraphError: no such run.
        """
        row = self.kernel.find_run(run_id)
        if self.live(row.id):
            from reelgraph.errors import ReelgraphError

            raise ReelgraphError(f"run {row.id} is running in this server")
        await self._start(
            row.id,
            lambda: self.kernel.aresume(
                row.id, budget=budget, force=force, cache=cache, inputs=inputs
            ),
        )

    async def answer(self, run_id: str, answers: Mapping[str, str]) -> None:
        """Answer a ``needs_input`` run's questions and resume it (``Kernel.aanswer``) in a task.

        Raises:
            InputError: an unknown key or empty answer (nothing ran).
            ReelgraphError: no such run, or it is not waiting for answers.
            RunLeased: another live process executes the run.
        """
        row = self.kernel.find_run(run_id)
        await self._start(row.id, lambda: self.kernel.aanswer(row.id, dict(answers)))

    async def cancel(self, run_id: str) -> bool:
        """Cancel a run this server executes; wait until it is recorded ``cancelled``.

        Returns False when this process is not executing ``run_id``.
        """
        task = self.tasks.get(run_id)
        if task is None or task.done():
            return False
        task.cancel()
        await asyncio.wait({task})
        return True

    async def shutdown(self) -> None:
        """Cancel every run in flight (they are recorded ``cancelled`` and can be resumed)."""
        for run_id in list(self.tasks):
            await self.cancel(run_id)

    async def _start(self, run_id: str, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``make()`` in a task; raise what it raises before its first suspension.

        ``Kernel.arun``/``aresume``/``aanswer`` check inputs, answers and the lease
        synchronously before they first await, so one step of the task is enough to
        know whether the run started.
        """
        task = asyncio.get_running_loop().create_task(make(), name=f"reelgraph run {run_id}")
        self.tasks[run_id] = task
        task.add_done_callback(_retrieve)
        await asyncio.sleep(0)  # the task's first step runs before this returns
        if task.done() and not task.cancelled() and task.exception() is not None:
            del self.tasks[run_id]
            raise task.exception()  # type: ignore[misc]


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a finished task's exception as seen: the run store already records the failure."""
    if not task.cancelled():
        task.exception()
