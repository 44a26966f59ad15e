"""The production hookspecs: the tool catalog and the solver's production plan.

Part of :mod:`reelgraph.hookspecs`, which re-exports every hook: import them from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reelgraph._markers import defaults, hookspec
from reelgraph.models import (
    ProductionPlan,
    ShotList,
    ToolEntry,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext


# -- production: the tool catalog and the solver ---------------------------------


@hookspec
@defaults()
def tool_catalog(ctx: NodeContext) -> list[ToolEntry] | None:
    """The video tools this plugin brings, for the solver and ``reelgraph tools``.

    Every implementation is called (a collect hook); a spec node calling it
    gets every answer in one list, and
    :meth:`reelgraph.models.ToolCatalog.from_answers` merges them. The kernel
    knows no vendor: tool data lives in the plugins that answer here (the
    ``solver`` plugin ships ``tools.yaml`` and the user's tools file; a
    third-party video provider answers with its own model's entry).

    Args:
        ctx: the node context when a spec node asks, ``None`` when the
            ``reelgraph tools`` command does; implementations usually take
            no argument.

    Returns:
        :class:`~reelgraph.models.ToolEntry` objects, or dicts of the same
        shape (every figure with a ``sources`` entry: url, date, basis). A
        dict with ``patch: true`` changes the named fields of the tool with
        its ``name`` instead (a user's override); ``None`` for no tools.

    Raises:
        InvalidInputError: the plugin's own data (a user's file) is unreadable.

    Example provider: ``solver`` (the shipped catalog: Runway, Luma, Kling,
    Veo and the offline ``slides`` renderer, plus ``$REELGRAPH_TOOLS``).
    """


@hookspec(firstresult=True)
@defaults(
    tools=None,
    max_cost_usd=None,
    max_time_s=None,
    min_quality=1,
    objective="quality",
    concurrency={},
    options={},
)
def plan_production(
    shots: ShotList,
    tools: list[ToolEntry] | None,
    max_cost_usd: float | None,
    max_time_s: float | None,
    min_quality: int,
    objective: str,
    concurrency: dict[str, int],
    options: dict[str, Any],
    ctx: NodeContext,
) -> ProductionPlan | None:
    """VideoSolver: choose a tool per shot under a budget, a time limit and a quality floor.

    A shot's needs are hard constraints: its mode (``slide``,
    ``text_to_video``, ``image_to_video``), the shot list's aspect, sound
    (``needs_audio``) and a clip length covering ``duration_s``. Among the
    plans that meet them and the limits, the best by ``objective`` is chosen
    (deterministically: the same inputs give the same plan).

    Args:
        shots: the shot list.
        tools: the catalog (a ``tool_catalog`` node's output); ``None`` asks
            the installed plugins.
        max_cost_usd: the most the footage may cost, US dollars; ``None``
            for no limit.
        max_time_s: the longest the footage may take, wall-clock seconds,
            each provider running at most its concurrency limit of clips at
            once; ``None`` for no limit.
        min_quality: the lowest quality tier (1-5) a generated shot may have.
        objective: ``quality`` (best duration-weighted quality, then lowest
            cost, then shortest time) or ``cost`` (lowest cost first).
        concurrency: clips at once per provider, overriding the catalog
            (``{"runway": 5}`` on Runway's tier 3).
        options: provider-specific settings (``max_hold_s``: seconds a short
            clip may be held on its last frame; ``animate_slides``: a slide
            shot may become image-to-video from its storyboard frame;
            ``max_nodes``).
        ctx: the node context; ``plan.json`` and ``plan.md`` go to ``ctx.workdir``.

    Returns:
        The plan: per shot the tool, workflow steps, alternatives and reason;
        costs per tool (USD); lanes and critical path (seconds). When no plan
        meets the constraints, a plan with status ``infeasible`` naming the
        binding constraints and the cheapest relaxation of each kind (a
        verdict: it fails its node with that remedy).

    Raises:
        InvalidInputError: an empty shot list, an unknown option or
            objective, a quality outside 1-5, a catalog entry that does not
            validate.

    Example provider: ``solver`` (a mixed-integer program, PuLP and CBC).
    """
