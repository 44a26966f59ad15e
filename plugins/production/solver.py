"""The ``solver`` provider: the tool catalog and VideoSolver's production plan.

``tool_catalog`` answers with the shipped ``tools.yaml`` and the user's tools
file (as patches); ``plan_production`` chooses a tool per shot with a
mixed-integer program (PuLP and its bundled CBC, a base dependency so the
``production-plan`` spec runs offline out of the box) and writes
``plan.json`` and ``plan.md`` into the node's working folder. The solver
plans with the figures the run store measured where it has them (see
:mod:`.measured`; ``options.measured: false`` plans with the catalog's
claims alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import PlanConstraints, ProductionPlan, ShotList, ToolCatalog
from reelgraph.plugins.production.catalog import installed_catalog, shipped_tools, user_patches

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["choose_provider", "plan_production", "tool_catalog"]

_OPTIONS = {"animate_slides", "max_hold_s", "max_nodes", "measured"}


@hookimpl
def tool_catalog() -> list[dict[str, Any]]:
    """The shipped tools, then the user's tools file as patches (see :mod:`.catalog`)."""
    return [*shipped_tools(), *user_patches()]


@hookimpl
def choose_provider(hook: str, arguments: dict[str, Any], providers: list[str]) -> str | None:
    """A ``generate_clip`` call's provider: the one the production plan (``options.plan``)
    or ``options.provider`` chose for its shot, else ``None``.

    The kernel then pins the call to it, so each clip of an open node (``-i
    video=auto``) takes a slot of its own provider's limit
    (``concurrency.providers``). A provider that is not installed is still
    named: the kernel fails the call with that reason and tries the node's
    fallbacks.
    """
    if hook != "generate_clip" or arguments.get("shot") is None:
        return None
    from reelgraph.plugins.vendors._clips import chosen_provider

    return chosen_provider(arguments["shot"], arguments.get("options"))


def _catalog(tools: list[Any] | None) -> ToolCatalog:
    if tools is None:
        return installed_catalog()
    try:
        return ToolCatalog.from_answers(list(tools))
    except ValueError as err:
        raise InvalidInputError(f"tools: {err}") from err


def _constraints(
    max_cost_usd: float | None,
    max_time_s: float | None,
    min_quality: int,
    objective: str,
    concurrency: dict[str, int],
    options: dict[str, Any],
) -> PlanConstraints:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InvalidInputError(
            f"options: unknown {', '.join(unknown)} (known: {', '.join(sorted(_OPTIONS))})"
        )
    from pydantic import ValidationError

    values = {
        "max_cost_usd": max_cost_usd,
        "max_time_s": max_time_s,
        "min_quality": min_quality,
        "objective": objective,
        "concurrency": concurrency or {},
    }
    for name in ("max_hold_s", "animate_slides"):
        if name in options:
            values[name] = options[name]
    try:
        return PlanConstraints.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"{field}: {first['msg']} (got {first.get('input')!r})") from err


def _shot_list(shots: Any) -> ShotList:
    """``shots`` as a ShotList: a literal in a spec's ``with:`` arrives as a dict.

    Raises:
        InvalidInputError: the dict is not a shot list (the field is named).
    """
    if isinstance(shots, ShotList):
        return shots
    from pydantic import ValidationError

    try:
        return ShotList.model_validate(shots)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"shots.{field}: {first['msg']}") from err


def _measured(catalog: ToolCatalog, ctx: NodeContext) -> tuple[ToolCatalog, list[Any]]:
    """The catalog with the run store's measured figures (see :mod:`.measured`).

    The store is the run's own (``REELGRAPH_STORE``'s or
    ``<home>/reelgraph.db``), which the kernel hands the context. Without one
    (``Kernel(persist=False)``, a remote worker) or when it cannot be read,
    the claims stay in place (logged).
    """
    from reelgraph.errors import ReelgraphError
    from reelgraph.plugins.production.measured import apply_measurements
    from reelgraph.store.benchmarks import clip_measurements
    from reelgraph.store.runs import RunStore

    store = ctx._store  # the kernel's run store, or a journal when runs are not stored
    if not isinstance(store, RunStore):
        ctx.log.info("measured figures unavailable: this run has no run store")
        return catalog, []
    try:
        measures = clip_measurements(store)
    except ReelgraphError as err:
        ctx.log.warning("measured figures unavailable", store=store.location, error=str(err))
        return catalog, []
    adjusted, figures = apply_measurements(catalog, measures)
    measured = [f.tool for f in figures if "measured" in f.basis.values()]
    if measured:
        ctx.log.info(
            "measured figures",
            tools=measured,
            excluded=[f.tool for f in figures if f.excluded],
        )
    return adjusted, figures


@hookimpl
def plan_production(
    shots: ShotList,
    tools: list[Any] | None,
    max_cost_usd: float | None,
    max_time_s: float | None,
    min_quality: int,
    objective: str,
    concurrency: dict[str, int],
    options: dict[str, Any],
    ctx: NodeContext,
) -> ProductionPlan:
    """Plan the production of ``shots`` (see the hookspec); write plan.json and plan.md."""
    from reelgraph.plugins.production.planner import make_plan
    from reelgraph.plugins.production.report import write_plan

    shots = _shot_list(shots)
    if not shots.shots:
        raise InvalidInputError("shots: the shot list is empty; nothing to plan")
    constraints = _constraints(
        max_cost_usd, max_time_s, min_quality, objective, concurrency, options or {}
    )
    catalog = _catalog(tools)
    options = options or {}
    figures: list[Any] = []
    if options.get("measured", True):
        catalog, figures = _measured(catalog, ctx)
    plan = make_plan(
        shots, catalog, constraints, max_nodes=options.get("max_nodes"), figures=figures
    )
    plan = write_plan(plan, ctx.workdir)
    if plan.status == "feasible":
        ctx.log.info(
            "production planned",
            shots=len(plan.shots),
            cost_usd=plan.total_cost_usd,
            makespan_s=plan.timeline.makespan_s if plan.timeline else 0,
            optimal=plan.optimal,
        )
    else:
        why = plan.infeasibility
        ctx.log.warning(
            "no production plan meets the constraints",
            binding=why.binding if why else [],
            relaxations=[r.change for r in why.relaxations] if why else [],
        )
    return plan
