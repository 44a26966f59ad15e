"""The embedding API: ``Kernel(plugins=[...]).run(spec, inputs={...})``."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph._execution import execute_run
from reelgraph.errors import ReelgraphError
from reelgraph.plan.graph import CompiledNode, Plan, build_plan
from reelgraph.plan.providers import chooses_providers
from reelgraph.plan.registry import PluginInfo, PluginRegistry
from reelgraph.run.executors import DEFAULT_EXECUTOR, Executor, open_executor
from reelgraph.run.persist import restore_outputs
from reelgraph.run.questions import ANSWERS_INPUT, merge_answers
from reelgraph.run.result import Event, Run, jsonable
from reelgraph.spec.inputs import bind_inputs
from reelgraph.spec.model import BudgetSpec, Spec, load_spec
from reelgraph.spec.stored import (
    merged_budget,
    resume_inputs,
    spec_text,
    storable_inputs,
    stored_spec,
)
from reelgraph.store.artifacts import ArtifactStore
from reelgraph.store.backends import open_run_store, sqlite_file
from reelgraph.store.faults import check_writable
from reelgraph.store.leases import DEFAULT_TTL_S, Lease, acquire_lease, release_lease
from reelgraph.store.runs import RunRow, RunStore

if TYPE_CHECKING:
    from reelgraph.run.batch import BatchRow

__all__ = ["Kernel", "Run", "default_home"]

DEFAULT_CONCURRENCY = 8


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """``$REELGRAPH_HOME``, else the platform's user data directory for reelgraph."""
    env = os.environ if env is None else env
    if env.get("REELGRAPH_HOME"):
        return Path(env["REELGRAPH_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("reelgraph", appauthor=False))


def new_run_id() -> str:
    """A run id that sorts by start time: ``20261130-101500-3fa2c1``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class Kernel:
    """Loads plugins, validates specs and runs them.

    Args:
        plugins: plugin objects to register besides the installed entry points,
            as a list or a ``{provider name: plugin}`` mapping.
        entry_points: load the plugins installed in the ``reelgraph``
            entry-point group (honouring ``REELGRAPH_PLUGINS`` and
            ``REELGRAPH_DISABLE_PLUGINS``).
        home: where runs keep their files (``$REELGRAPH_HOME`` or the user
            data directory by default).
        concurrency: hook calls in flight at once, across nodes and map items.
        tracer_provider: an OpenTelemetry tracer provider; the global one by
            default. No spans are made when none is configured.
        hookspecs: extra hookspec modules for hook families of your own.
        env: the environment to read ``REELGRAPH_*`` variables from.
        persist: keep runs in the run store and outputs in the
            artifact store under ``home`` (resume, memo cache, ``reelgraph
            runs``). ``False`` makes every run ephemeral: nothing is written.
        provider_concurrency: calls in flight per provider name (``{"runway":
            2}``: vendors cap concurrent jobs per account). A spec's
            ``concurrency.providers`` may lower these, never raise them; the
            same holds for ``concurrency`` and the spec's ``concurrency.max``.
        lease_ttl_s: seconds a run's lease stays live without a heartbeat
            (renewed every third of it); another host takes a run over once
            it lapses. See :mod:`reelgraph.store.leases`.
        executor: where hook calls run: a registered executor's name
            (``"asyncio"``, in-process, the default; ``"dask"`` with
            ``reelgraph[dask]``) or an executor object. See
            :mod:`reelgraph.run.executors`.
        executor_options: the named executor's options (``{"scheduler":
            "tcp://host:8786"}``, ``{"workers": 2}``).
        store: the run store by URL (``postgresql://user@host/db`` with
            ``reelgraph[postgres]``, or a SQLite file path); ``$REELGRAPH_STORE``
            by default, and SQLite in ``home`` when neither is set. See
            :mod:`reelgraph.store.backends`.
        artifacts: the artifact store by URL (``s3://bucket/prefix`` with
            ``reelgraph[s3]``, any fsspec URL, or a local folder);
            ``$REELGRAPH_ARTIFACTS`` by default, ``home/artifacts`` when
            neither is set. See :mod:`reelgraph.store.remote_artifacts`.

    Example::

        from reelgraph import Kernel
        run = Kernel().run("document-to-video", inputs={"document": "README.md"},
                           output_dir="out")
        print(run.status, run.outputs["video"])
    """

    def __init__(
        self,
        plugins: Iterable[object] | Mapping[str, object] | None = None,
        *,
        entry_points: bool = True,
        home: str | Path | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        tracer_provider: Any = None,
        hookspecs: Iterable[object] = (),
        env: Mapping[str, str] | None = None,
        persist: bool = True,
        provider_concurrency: Mapping[str, int] | None = None,
        lease_ttl_s: float = DEFAULT_TTL_S,
        executor: str | Executor = DEFAULT_EXECUTOR,
        executor_options: Mapping[str, Any] | None = None,
        store: str | None = None,
        artifacts: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        for name, limit in (provider_concurrency or {}).items():
            if limit < 1:
                raise ValueError(f"provider_concurrency[{name!r}] must be at least 1")
        self.registry = PluginRegistry(
            plugins, entry_points=entry_points, env=env, hookspecs=hookspecs
        )
        self._env = env
        self._home = Path(home) if home is not None else None
        self.concurrency = concurrency
        self.provider_concurrency = dict(provider_concurrency or {})
        self.tracer_provider = tracer_provider
        self.persist = persist
        self.lease_ttl_s = lease_ttl_s
        self._store: RunStore | None = None
        self._store_url = store
        self._artifacts: ArtifactStore | None = None
        self._artifacts_url = artifacts
        self._executor_choice = executor
        self._executor_options = dict(executor_options or {})
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        """The executor hook calls run on (opened on first use, closed by :meth:`close`).

        Raises:
            ConfigurationError: no executor has the name given, or it cannot start.
        """
        if self._executor is None:
            choice = self._executor_choice
            if isinstance(choice, str):
                choice = open_executor(self.registry, choice, self._executor_options)
            self._executor = choice
        return self._executor

    @property
    def home(self) -> Path:
        if self._home is None:
            self._home = default_home(self._env)
        return self._home

    @property
    def store(self) -> RunStore:
        """The run store, ``<home>/reelgraph.db`` (opened on first use).

        The ``store`` argument or ``REELGRAPH_STORE`` names another by URL
        (``postgresql://user@host/db`` with ``reelgraph[postgres]``; see
        :mod:`reelgraph.store.backends`).
        ``REELGRAPH_STORE_TIMEOUT_S`` sets how long a write waits for another
        process's lock (30 s by default).

        Raises:
            StoreError: the store cannot be opened, or its URL names no
                installed backend.
        """
        if self._store is None:
            env = os.environ if self._env is None else self._env
            timeout_s = float(env.get("REELGRAPH_STORE_TIMEOUT_S") or 30)
            self._store = open_run_store(self.store_url, self.home, busy_timeout_s=timeout_s)
        return self._store

    @property
    def store_url(self) -> str | None:
        """The run store's URL: the ``store`` argument, else ``REELGRAPH_STORE``
        (``None``: SQLite, ``<home>/reelgraph.db``). May hold a password: never print it."""
        if self._store_url is not None:
            return self._store_url
        env = os.environ if self._env is None else self._env
        return env.get("REELGRAPH_STORE") or None

    def existing_store(self) -> RunStore | None:
        """The run store for a reader, ``None`` when it is a SQLite file not made yet.

        Readers (``reelgraph doctor``, ``tools stats``, the solver's measured
        figures) read whichever store is configured and never create one.

        Raises:
            StoreError: as :attr:`store`.
        """
        path = sqlite_file(self.store_url, self.home)
        if self._store is None and path is not None and not path.is_file():
            return None
        return self.store

    @property
    def artifacts(self) -> ArtifactStore:
        """The content-addressed artifact store, ``<home>/artifacts`` by default.

        The ``artifacts`` argument or ``REELGRAPH_ARTIFACTS`` names another by
        URL (``s3://bucket/prefix``; see :mod:`reelgraph.store.remote_artifacts`).

        Raises:
            ConfigurationError: the URL names no installed fsspec filesystem.
        """
        if self._artifacts is None:
            from reelgraph.store.remote_artifacts import ARTIFACTS_ENV, open_artifact_store

            env = os.environ if self._env is None else self._env
            url = self._artifacts_url if self._artifacts_url is not None else env.get(ARTIFACTS_ENV)
            self._artifacts = open_artifact_store(url, self.home)
        return self._artifacts

    def close(self) -> None:
        """Close the run store and the executor (both reopen on next use)."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    def plugins(self) -> list[PluginInfo]:
        """Every plugin found, loaded or broken."""
        return self.registry.plugins()

    def plan(
        self,
        spec: str | Path | Mapping[str, Any] | Spec,
        inputs: Mapping[str, Any] | None = None,
    ) -> Plan:
        """Load and validate a spec.

        ``inputs`` (bound, see :func:`~reelgraph.spec.inputs.bind_inputs`)
        choose the providers of nodes that name theirs by an input
        (``provider: $inputs.llm``); without them the inputs' defaults do.

        Raises:
            SpecError: every problem in the spec, with file, node and field.
        """
        return build_plan(load_spec(spec), self.registry, inputs)

    def run(
        self,
        spec: str | Path | Mapping[str, Any] | Spec | Plan,
        inputs: Mapping[str, Any] | None = None,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        run_id: str | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
    ) -> Run:
        """Run a spec to completion in a new event loop. See :meth:`arun`."""
        return asyncio.run(
            self.arun(
                spec,
                inputs,
                output_dir=output_dir,
                on_event=on_event,
                run_id=run_id,
                cache=cache,
                budget=budget,
            )
        )

    async def arun(
        self,
        spec: str | Path | Mapping[str, Any] | Spec | Plan,
        inputs: Mapping[str, Any] | None = None,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        run_id: str | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
    ) -> Run:
        """Validate, then run a spec; return the finished :class:`Run`.

        A node failure does not raise: the run comes back with status
        ``failed`` and ``error`` set (call ``run.raise_for_status()`` to raise).
        On success, outputs that are files are copied into ``output_dir``
        (atomically, under their own file names); nothing is copied when the
        run fails. With the run store on (the default), every state change
        is committed as it happens, so a crashed run can be resumed, and
        ``cache=False`` turns the memo cache off for this run.

        ``budget`` (``{"max_cost_usd": 5.0, "max_duration_s": 600}``) replaces
        the spec's ``budget`` fields it sets. A node the budget cannot afford
        is not started; the run ends with status ``over_budget`` and
        ``error`` a :class:`~reelgraph.errors.BudgetExceeded`, and can be
        resumed with a larger budget.

        Raises:
            SpecError: the spec is invalid (nothing has run).
            InputError: the inputs do not fit the spec (nothing has run).
            StorageError: ``output_dir`` or the run store cannot be written
                (nothing has run). A storage fault during the run does not
                raise: the run comes back ``failed`` with ``error`` a
                :class:`~reelgraph.store.faults.StorageError`, and can be
                resumed once the cause is fixed.
            asyncio.CancelledError: the run was cancelled; it is recorded as
                ``cancelled`` and can be resumed.
        """
        plan = spec if isinstance(spec, Plan) else self.plan(spec)
        limits = merged_budget(plan.spec.budget, budget)
        bound = bind_inputs(plan.spec, inputs or {})
        if chooses_providers(plan.spec):  # provider: $inputs.NAME follows the inputs given
            plan = build_plan(plan.spec, self.registry, bound)
        if output_dir is not None:  # before any node can spend money
            check_writable(Path(output_dir))
        run = Run(id=run_id or new_run_id(), spec=plan.spec.name, run_dir=Path(), inputs=bound)
        run.run_dir = self.home / "runs" / run.id
        if self.persist:
            lease = self._create_run(plan, run, limits, output_dir)
            return await execute_run(
                self, plan, run, output_dir, on_event, cache, {}, limits, lease
            )
        return await execute_run(self, plan, run, output_dir, on_event, cache, {}, limits)

    def batch(
        self,
        spec: str | Path | Mapping[str, Any] | Spec | Plan,
        rows: str | Path | Iterable[Mapping[str, Any]],
        *,
        output_dir: str | Path | None = None,
        runs_at_once: int = 2,
        cache: bool = True,
        budget: Mapping[str, Any] | None = None,
    ) -> list[BatchRow]:
        """Run ``spec`` once per row of inputs, all on this kernel's executor.

        ``rows`` is a CSV or JSON Lines file (see :mod:`reelgraph.run.batch`)
        or an iterable of input mappings. Every row is checked first; then
        runs go ``runs_at_once`` at a time, each row's files to
        ``output_dir/row-N``. Returns the rows in order, each with its
        :class:`Run` (a failed run does not stop the others).

        Raises:
            SpecError: the spec is invalid. InputError: a row's inputs are,
                or the batch file is unreadable (every row checked, nothing run).
        """
        from reelgraph.run.batch import BatchRow, read_batch_file, run_batch

        if isinstance(rows, str | Path):
            found = read_batch_file(rows)
        else:
            found = [BatchRow(n, f"row {n}", dict(r)) for n, r in enumerate(rows, start=1)]
        return asyncio.run(
            run_batch(
                self,
                spec,
                found,
                output_dir=output_dir,
                runs_at_once=runs_at_once,
                cache=cache,
                budget=budget,
            )
        )

    def _create_run(
        self, plan: Plan, run: Run, limits: BudgetSpec, output_dir: str | Path | None
    ) -> tuple[Lease, Lease | None, str | None]:
        """Store a new run (its spec, budget and inputs) and take its lease."""
        self.store.create_run(
            run.id,
            spec=plan.spec.name,
            spec_path=str(plan.spec.path) if plan.spec.path else None,
            spec_text=spec_text(plan.spec, limits),
            inputs=jsonable(storable_inputs(plan.spec, run.inputs)),
            output_dir=str(Path(output_dir).resolve()) if output_dir is not None else None,
            started_at=run.started_at,
        )
        return acquire_lease(self.store, run.id, ttl_s=self.lease_ttl_s)

    def fork(
        self,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        fork_id: str | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
    ) -> Run:
        """Start a fork of a stored run with some inputs changed. See :meth:`afork`."""
        return asyncio.run(
            self.afork(
                run_id,
                inputs,
                output_dir=output_dir,
                on_event=on_event,
                fork_id=fork_id,
                cache=cache,
                budget=budget,
            )
        )

    async def afork(
        self,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        fork_id: str | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
    ) -> Run:
        """Run the spec of a stored run again, with ``inputs`` replacing some of its inputs.

        The fork is a new run (id ``fork_id`` or a new one) of the parent's
        stored spec and budget. Every node whose arguments come out equal to
        those of the parent's node (the same inputs, equal upstream outputs,
        the same provider) is not executed: its output is the parent's
        recorded output, so a parent run with ``cache=False`` forks too.
        The rest runs, through the memo cache unless ``cache=False``. See
        :mod:`reelgraph.run.fork` for the rule. The store records the parent
        and the changed inputs (:mod:`reelgraph.store.lineage`; ``reelgraph
        show`` prints them); reused nodes emit ``node.succeeded`` with
        ``{"cached": true, "reused": true, "from_run": PARENT_ID}``.

        Args:
            run_id: the parent run's id, or a unique prefix of it. It may have
                any status: what it finished is reused.
            inputs: the inputs to change, ``{name: value}`` (strings are
                converted as for :meth:`run`), plus the parent's secret
                inputs (never stored).
            output_dir, on_event, cache, budget: as for :meth:`arun`.

        Raises:
            ReelgraphError: no such run, an ambiguous prefix, or the store is off.
            InputError: an input the spec does not take (with the closest
                names), a bad value, a missing file (nothing has run).
            SpecError: the stored spec no longer validates (nothing has run).
            StorageError: as for :meth:`arun`.
        """
        from reelgraph.run.fork import prepare_fork
        from reelgraph.store.lineage import record_fork

        if not self.persist:
            raise ReelgraphError("fork needs the run store; this kernel has persist=False")
        row = self.find_run(run_id)
        plan, parent, bound, changed = prepare_fork(self, row, inputs or {})
        limits = merged_budget(plan.spec.budget, budget)
        if output_dir is not None:
            check_writable(Path(output_dir))
        run = Run(id=fork_id or new_run_id(), spec=plan.spec.name, run_dir=Path(), inputs=bound)
        run.run_dir = self.home / "runs" / run.id
        lease = self._create_run(plan, run, limits, output_dir)
        record_fork(self.store, run.id, row.id, jsonable({k: list(v) for k, v in changed.items()}))
        candidates = dict(parent.outputs)  # ForkScheduler drops those that changed
        return await execute_run(
            self, plan, run, output_dir, on_event, cache, candidates, limits, lease, parent=parent
        )

    def resume(
        self,
        run_id: str,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> Run:
        """Continue a run that crashed, failed or was cancelled. See :meth:`aresume`."""
        return asyncio.run(
            self.aresume(
                run_id,
                output_dir=output_dir,
                on_event=on_event,
                cache=cache,
                budget=budget,
                inputs=inputs,
                force=force,
            )
        )

    async def aresume(
        self,
        run_id: str,
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> Run:
        """Continue a run from the run store, under the same run id.

        Nodes that finished are reused, not executed again (an artifact that
        fails its checksum makes its node run again, with a warning); nodes
        that were running, failed or never started run now. Files are
        published to ``output_dir``, or to the directory the run was started
        with. The budget is the one the run started with, with the fields
        ``budget`` sets replaced (raise ``max_cost_usd`` to continue a run
        that stopped ``over_budget``) and kept for later resumes; costs of
        earlier executions count.
        Inputs declared ``secret: true`` are never stored: pass them again
        in ``inputs``.

        One process executes a run at a time: resuming takes the run's lease
        (:mod:`reelgraph.store.leases`). A lease whose process is gone, or
        whose heartbeat lapsed, is taken over and the takeover is recorded as
        a ``run.lease_taken_over`` event; ``force=True`` takes over a live
        one too (for an operator who knows its holder is gone for good).
        After a takeover the nodes write their files under
        ``runs/<run id>/owner-<first 12 of the new owner id>/`` rather than
        ``runs/<run id>/``: a previous holder that is still alive until it
        notices the loss cannot overwrite a file the new owner is storing.

        Raises:
            RunLeased: another live process is executing the run (nothing ran).
            ReelgraphError: no such run, or the store is off.
            SpecError: the spec no longer validates against the installed plugins.
        """
        if not self.persist:
            raise ReelgraphError("resume needs the run store; this kernel has persist=False")
        row = self.find_run(run_id)
        lease = acquire_lease(self.store, row.id, ttl_s=self.lease_ttl_s, force=force)
        try:
            return await self._resume(row, lease, output_dir, on_event, cache, budget, inputs)
        except BaseException:
            release_lease(self.store, lease[0])  # a no-op once _execute has released it
            raise

    def answer(
        self,
        run_id: str,
        answers: Mapping[str, str],
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> Run:
        """Answer a run's clarifying questions and resume it. See :meth:`aanswer`."""
        return asyncio.run(
            self.aanswer(
                run_id,
                answers,
                output_dir=output_dir,
                on_event=on_event,
                cache=cache,
                budget=budget,
                inputs=inputs,
                force=force,
            )
        )

    async def aanswer(
        self,
        run_id: str,
        answers: Mapping[str, str],
        *,
        output_dir: str | Path | None = None,
        on_event: Callable[[Event], None] | None = None,
        cache: bool = True,
        budget: BudgetSpec | Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> Run:
        """Answer the clarifying questions of a run that stopped ``needs_input``, and resume it.

        The answers (``{question key: answer text}``) are merged into the
        run's ``answers`` input (a later answer to a key replaces the earlier
        one) and stored with the run; then the run resumes as
        :meth:`aresume` does, under its lease: the node that asked runs again
        with them, and nodes that finished are reused. A ``run.answered``
        event records the new answers. Answering only some of the questions
        is allowed: a node that still needs the rest asks again, and the run
        stops ``needs_input`` again; so does a node that asks new questions.

        Args:
            run_id: the run id, or a unique prefix of it.
            answers: answers by question key (the keys ``run.questions`` lists).
            output_dir, on_event, cache, budget, inputs, force: as for :meth:`aresume`.

        Raises:
            ReelgraphError: no such run, the store is off, or the run is not
                waiting for answers (its status is not ``needs_input``).
            InputError: no answer, an empty one, a key no stored question
                asked (the message names the keys asked), or a spec that
                declares no ``answers`` object input (nothing ran).
            RunLeased: another live process is executing the run.
        """
        if not self.persist:
            raise ReelgraphError("answer needs the run store; this kernel has persist=False")
        row = self.find_run(run_id)
        lease = acquire_lease(self.store, row.id, ttl_s=self.lease_ttl_s, force=force)
        try:
            row = self.store.get_run(row.id) or row  # read again, now that it is ours
            merged, given = merge_answers(
                run_id=row.id,
                status=row.status,
                spec=stored_spec(row),
                questions=row.questions,
                inputs=row.inputs,
                given=answers,
            )
            row = dataclasses.replace(row, inputs=merged)
            return await self._resume(
                row, lease, output_dir, on_event, cache, budget, inputs, answered=given
            )
        except BaseException:
            release_lease(self.store, lease[0])  # a no-op once _execute has released it
            raise

    async def _resume(
        self,
        row: RunRow,
        lease: tuple[Lease, Lease | None, str | None],
        output_dir: str | Path | None,
        on_event: Callable[[Event], None] | None,
        cache: bool,
        budget: BudgetSpec | Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None,
        answered: Mapping[str, str] | None = None,
    ) -> Run:
        spec = stored_spec(row)
        limits = merged_budget(spec.budget, budget)
        plan = build_plan(spec, self.registry)
        bound = bind_inputs(plan.spec, resume_inputs(plan.spec, row.inputs, inputs or {}))
        if chooses_providers(plan.spec):
            plan = build_plan(spec, self.registry, bound)
        if answered is not None:  # checked and bound: the run keeps them from now on
            self.store.set_run_answers(
                row.id, inputs=row.inputs, answers=dict(row.inputs[ANSWERS_INPUT])
            )
        values, stored = restore_outputs(self.store, self.artifacts, row.id)
        reuse = {n: (values[n], stored[n]) for n in values if n in plan.nodes}
        run_dir = self.home / "runs" / row.id
        if lease[1] is not None:  # taken over: the previous holder may still be writing
            run_dir = run_dir / f"owner-{lease[0].owner[:12]}"
        run = Run(id=row.id, spec=row.spec, run_dir=run_dir, inputs=bound)
        if budget is not None:  # later resumes start from the raised budget
            self.store.set_run_spec_text(row.id, spec_text(spec, limits))
        self.store.set_run_status(row.id, "running")
        target = output_dir if output_dir is not None else row.output_dir
        if target is not None:
            check_writable(Path(target))
        return await execute_run(
            self, plan, run, target, on_event, cache, reuse, limits, lease, answered=answered
        )

    def _provider_limits(self, plan: Plan) -> dict[str, int]:
        """Per-provider limits: the kernel's, lowered by the spec's."""
        limits = dict(self.provider_concurrency)
        for name, limit in plan.spec.concurrency.providers.items():
            limits[name] = min(limit, limits.get(name, limit))
        return limits

    def _estimate(self, hook: str, provider: str | None, arguments: dict[str, Any]) -> float | None:
        """The ``estimate_cost`` hook's answer for one call, in US dollars."""
        answer = self.registry.pm.hook.estimate_cost(
            hook=hook, provider=provider, arguments=arguments
        )
        return None if answer is None else float(answer)

    def _router(self) -> Callable[[CompiledNode, dict[str, Any]], CompiledNode] | None:
        """Pins calls of open nodes to the provider ``choose_provider`` names, if a plugin
        implements that hook (see :mod:`reelgraph.run.routing`)."""
        from reelgraph.run.routing import Router

        router = Router(self.registry.load())
        return router.route if router.active else None

    def _publisher(self) -> Callable[..., str | None] | None:
        """The ``publish_asset`` hook behind ``ctx.publish_asset``, if a plugin implements it."""
        caller = self.registry.load().pm.hook.publish_asset
        return caller if caller.get_hookimpls() else None

    def find_run(self, run_id: str) -> RunRow:
        """The stored run with this id, or the one run whose id starts with it.

        Raises:
            ReelgraphError: no run, or several runs, match.
        """
        row = self.store.get_run(run_id)
        if row is not None:
            return row
        matches = self.store.find_runs(run_id)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ReelgraphError(f"no run {run_id!r} in {self.home} (see `reelgraph runs`)")
        ids = ", ".join(m.id for m in matches[:5])
        raise ReelgraphError(f"run id {run_id!r} is ambiguous: {ids}")
