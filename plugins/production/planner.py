"""VideoSolver: a production plan for a shot list, or why there is none.

:func:`make_plan` finds each shot's feasible tools (:mod:`._options`), asks
the MILP (:mod:`._milp`) for the best choice under the budget, the time
limit and the quality floor, and turns it into a
:class:`~reelgraph.models.ProductionPlan`: per shot the tool, the workflow,
the alternatives and the reason; costs per tool; lanes and the critical
path. When nothing fits, :func:`diagnose` says which constraint binds and
finds, for each kind of relaxation, the smallest that makes a plan: a
larger budget, more time, a lower quality floor, or some shots as slides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reelgraph.models import (
    CostLine,
    Infeasibility,
    Lane,
    LaneTask,
    PlanConstraints,
    PlanStep,
    ProductionPlan,
    Relaxation,
    Shot,
    ShotList,
    ShotPlan,
    Timeline,
    ToolCatalog,
    ToolFigures,
    ToolOption,
)
from reelgraph.plugins.production._milp import Candidate, Solution, solve, solver_name
from reelgraph.plugins.production._options import (
    Option,
    animated,
    frame_seconds,
    lanes_by_provider,
    option,
    options_for,
    why_no_tool,
)

__all__ = ["diagnose", "make_plan"]

_STAGES = {"quality": ("quality", "cost", "time"), "cost": ("cost", "quality", "time")}


def _weight(shot: Shot) -> int:
    """Tenths of a second: a long shot's quality counts more than a short one's."""
    return max(1, round(shot.duration_s * 10))


def _candidates(
    shots: ShotList, opts: Mapping[str, Sequence[Option]]
) -> dict[str, list[Candidate]]:
    by_id = {s.id: s for s in shots.shots}
    return {sid: [Candidate(o, _weight(by_id[sid])) for o in opts[sid]] for sid in opts}


def make_plan(
    shots: ShotList,
    catalog: ToolCatalog,
    constraints: PlanConstraints,
    *,
    max_nodes: int | None = None,
    figures: Sequence[ToolFigures] = (),
) -> ProductionPlan:
    """The best production plan for ``shots``, or an infeasible plan that says why.

    Args:
        shots: the shot list (its ``aspect`` applies to every shot).
        catalog: the tools to choose from.
        constraints: budget (USD), time limit (s), quality floor, objective.
        max_nodes: CBC's node limit per stage (default :data:`._milp.MAX_NODES`).
        figures: which figures of each tool were measured and which claimed
            (:func:`.measured.apply_measurements`), copied into the plan.

    Returns:
        A ``feasible`` plan (optimal unless the node limit stopped a stage),
        or an ``infeasible`` one whose ``infeasibility`` names the binding
        constraints and the cheapest relaxation of each kind.
    """
    opts = options_for(shots, catalog, constraints)
    lanes = lanes_by_provider(catalog, constraints)
    extra = {} if max_nodes is None else {"max_nodes": max_nodes}
    solution = solve(
        _candidates(shots, opts),
        lanes,
        max_cost_usd=constraints.max_cost_usd,
        max_time_s=constraints.max_time_s,
        stages=_STAGES[constraints.objective],
        **extra,
    )
    base = {
        "title": shots.title,
        "aspect": shots.aspect,
        "constraints": constraints,
        "tools": [t.name for t in catalog.tools],
        "figures": list(figures),
        "solver": solver_name(),
    }
    if solution is None:
        return ProductionPlan(
            status="infeasible",
            infeasibility=diagnose(shots, catalog, constraints, **extra),
            **base,
        )
    shot_plans = [
        _shot_plan(shot, solution, opts[shot.id], constraints, frame_seconds(catalog))
        for shot in shots.shots
    ]
    return ProductionPlan(
        status="feasible",
        optimal=solution.optimal,
        shots=shot_plans,
        costs=_cost_lines(shot_plans),
        total_cost_usd=round(sum(p.cost_usd for p in shot_plans), 4),
        timeline=_timeline(solution),
        **base,
    )


# -- one shot ------------------------------------------------------------------


def _steps(shot: Shot, opt: Option, frame_s: float) -> list[PlanStep]:
    tool = opt.tool
    if shot.mode == "slide":
        return [
            PlanStep(
                step="slide",
                tool=tool.name,
                detail=f"draw the storyboard frame as a slide: {shot.storyboard_frame}",
                seconds=opt.task_s,
            ),
            PlanStep(step="motion", detail=f"hold {shot.duration_s:g} s with a gentle move"),
            PlanStep(step="captions", detail="captions from the narration, timed per sentence"),
        ]
    steps = []
    if shot.mode == "image_to_video":
        steps.append(
            PlanStep(
                step="storyboard frame",
                tool="slides",
                detail=f"first frame drawn offline: {shot.storyboard_frame}",
                seconds=frame_s,
            )
        )
    verb = "image-to-video" if shot.mode == "image_to_video" else "text-to-video"
    # a limitation of the tool that names this step (Luma: image-to-video needs the frame
    # at a URL) is repeated in it, so the plan says what the clip depends on
    notes = "".join(f"; {x}" for x in tool.limitations if x.lower().startswith(verb))
    steps.append(
        PlanStep(
            step=verb,
            tool=tool.name,
            detail=f"{tool.vendor} {tool.model}: a {opt.billed_s:g} s clip from the prompt{notes}",
            seconds=tool.latency_s,
            cost_usd=round(opt.cost_usd, 4),
        )
    )
    if opt.billed_s > shot.duration_s:
        fit = f"trim {opt.billed_s:g} s to {shot.duration_s:g} s"
    elif opt.held_s > 0:
        fit = f"hold the last frame {opt.held_s:g} s to reach {shot.duration_s:g} s"
    else:
        fit = f"keep all {shot.duration_s:g} s"
    steps.append(PlanStep(step="trim", detail=f"{fit}; normalise fps, size and SAR"))
    if shot.needs_audio:
        steps.append(PlanStep(step="sound", detail="keep the clip's own sound under the narration"))
    steps.append(
        PlanStep(step="captions", detail="captions from the narration, timed per sentence")
    )
    return steps


def _alternatives(chosen: Option, opts: Sequence[Option]) -> list[ToolOption]:
    others = [o for o in opts if o.tool.name != chosen.tool.name]
    others.sort(key=lambda o: (-o.tool.quality_tier, o.cost_usd, o.tool.name))
    out = []
    for o in others[:3]:
        delta = o.cost_usd - chosen.cost_usd
        sign = "+" if delta >= 0 else "-"
        out.append(
            ToolOption(
                tool=o.tool.name,
                provider=o.tool.provider,
                cost_usd=round(o.cost_usd, 4),
                quality_tier=o.tool.quality_tier,
                billed_s=o.billed_s,
                time_s=o.task_s,
                note=f"{sign}${abs(delta):.2f}, quality {o.tool.quality_tier} "
                f"(chosen {chosen.tool.quality_tier}), {o.task_s} s",
            )
        )
    return out


def _reason(shot: Shot, chosen: Option, opts: Sequence[Option], c: PlanConstraints) -> str:
    if shot.mode == "slide":
        if not c.animate_slides:
            return "the designer made this shot a slide: the offline renderer draws it for $0"
        if len(opts) > 1:
            return "kept a slide ($0): animating it does not fit the limits beside the other shots"
        return f"kept a slide ($0): no tool makes a {shot.duration_s:g} s clip in this aspect"
    tier = chosen.tool.quality_tier
    best = max(o.tool.quality_tier for o in opts)
    same_tier = [o for o in opts if o.tool.quality_tier == tier]
    cheapest = min(same_tier, key=lambda o: o.cost_usd).cost_usd >= chosen.cost_usd - 1e-9
    cost_note = "the cheapest at that tier" if cheapest else "not the cheapest at that tier: "
    if not cheapest:
        cost_note += "a cheaper one's lane was needed for the time limit"
    if c.objective == "cost":
        return f"cheapest plan meeting quality floor {c.min_quality}: tier {tier}, {cost_note}"
    if tier == best:
        return f"highest quality this shot's needs allow (tier {tier}), {cost_note}"
    limits = [f"${c.max_cost_usd:.2f}" if c.max_cost_usd is not None else "", ""]
    if c.max_time_s is not None:
        limits[1] = f"{c.max_time_s:g} s"
    fits = " and ".join(x for x in limits if x) or "the limits"
    better = sorted({o.tool.name for o in opts if o.tool.quality_tier > tier})
    return (
        f"tier {tier}: a higher tier ({', '.join(better)}) for every shot that wants one "
        f"does not fit {fits}; {cost_note}"
    )


def _shot_plan(
    shot: Shot, solution: Solution, opts: Sequence[Option], c: PlanConstraints, frame_s: float
) -> ShotPlan:
    chosen = solution.choice[shot.id].option
    tool = chosen.tool
    way = shot if shot.mode in tool.modes else animated(shot)
    reason = _reason(way, chosen, opts, c)
    if way is not shot:
        reason = f"a slide animated from its storyboard frame: {reason}"
    return ShotPlan(
        shot_id=shot.id,
        scene_index=shot.scene_index,
        beat_id=shot.beat_id,
        mode=way.mode,
        duration_s=shot.duration_s,
        tool=tool.name,
        provider=tool.provider,
        model=tool.model,
        quality_tier=tool.quality_tier,
        billed_s=chosen.billed_s,
        cost_usd=round(chosen.cost_usd, 4),
        time_s=chosen.task_s,
        steps=_steps(way, chosen, frame_s),
        alternatives=_alternatives(chosen, opts),
        reason=reason,
    )


def _cost_lines(plans: Sequence[ShotPlan]) -> list[CostLine]:
    lines: dict[str, CostLine] = {}
    for p in plans:
        line = lines.setdefault(
            p.tool, CostLine(tool=p.tool, provider=p.provider, shots=0, billed_s=0, cost_usd=0)
        )
        line.shots += 1
        line.billed_s = round(line.billed_s + p.billed_s, 3)
        line.cost_usd = round(line.cost_usd + p.cost_usd, 4)
    return sorted(lines.values(), key=lambda line: (-line.cost_usd, line.tool))


def _timeline(solution: Solution) -> Timeline:
    lanes: list[Lane] = []
    for provider in sorted(solution.lanes):
        for number, shot_ids in enumerate(solution.lanes[provider]):
            clock = 0.0
            tasks = []
            for sid in shot_ids:
                seconds = solution.choice[sid].option.task_s
                tasks.append(LaneTask(shot_id=sid, start_s=clock, end_s=clock + seconds))
                clock += seconds
            lanes.append(Lane(provider=provider, lane=number, tasks=tasks, busy_s=clock))
    critical = max(lanes, key=lambda lane: lane.busy_s, default=None)
    return Timeline(
        makespan_s=critical.busy_s if critical else 0.0,
        critical_provider=critical.provider if critical else None,
        critical_path=[t.shot_id for t in critical.tasks] if critical else [],
        lanes=lanes,
    )


# -- no plan: why, and what would make one ---------------------------------------


def diagnose(
    shots: ShotList,
    catalog: ToolCatalog,
    constraints: PlanConstraints,
    *,
    max_nodes: int | None = None,
) -> Infeasibility:
    """Which constraints bind, and the smallest relaxation of each kind that gives a plan.

    Relaxations, each found by the same MILP: ``budget`` (the cheapest plan
    without the budget), ``time`` (the fastest plan without the time limit),
    ``quality`` (the highest floor that works) and ``slides`` (the fewest
    generated shots made as slides instead, with their sound and motion lost).
    """
    c = constraints
    extra = {} if max_nodes is None else {"max_nodes": max_nodes}
    opts = options_for(shots, catalog, c)
    lanes = lanes_by_provider(catalog, c)
    cands = _candidates(shots, opts)
    lost = [s for s in shots.shots if not opts[s.id]]
    relaxations: list[Relaxation] = []
    binding: list[str] = []

    def run(candidates: Mapping[str, Sequence[Candidate]], **kw: object) -> Solution | None:
        kw.setdefault("max_cost_usd", c.max_cost_usd)
        kw.setdefault("max_time_s", c.max_time_s)
        return solve(candidates, lanes, **kw, **extra)  # type: ignore[arg-type]

    if not lost and c.max_cost_usd is not None:
        cheapest = run(cands, max_cost_usd=None, stages=("cost", "time"))
        if cheapest is not None and cheapest.cost_usd > c.max_cost_usd:
            binding.append("budget")
            extra_usd = cheapest.cost_usd - c.max_cost_usd
            relaxations.append(
                Relaxation(
                    kind="budget",
                    change=f"+${extra_usd:.2f} budget (${cheapest.cost_usd:.2f} in all)",
                    amount=round(extra_usd, 4),
                    cost_usd=round(cheapest.cost_usd, 4),
                    time_s=cheapest.makespan_s,
                )
            )
    slides = catalog.get("slides")
    if slides is not None and shots.aspect in slides.aspects:
        demotable = _with_slides(shots, cands, slides, c, frame_seconds(catalog))
        fewest = run(demotable, stages=("demotions", "quality", "cost", "time"))
        if fewest is not None and fewest.demotions:
            ids = [sid for sid, cand in fewest.choice.items() if cand.demoted]
            relaxations.append(
                Relaxation(
                    kind="slides",
                    change=f"{len(ids)} shot{'s' if len(ids) > 1 else ''} as slides ({', '.join(ids)})",
                    amount=len(ids),
                    shots=ids,
                    cost_usd=round(fewest.cost_usd, 4),
                    time_s=fewest.makespan_s,
                )
            )
    if not lost and c.max_time_s is not None:
        fastest = run(cands, max_time_s=None, stages=("time", "cost"))
        if fastest is not None and fastest.makespan_s > c.max_time_s:
            binding.append("time")
            more = fastest.makespan_s - c.max_time_s
            relaxations.append(
                Relaxation(
                    kind="time",
                    change=f"+{more:g} s ({fastest.makespan_s} s in all)",
                    amount=more,
                    cost_usd=round(fastest.cost_usd, 4),
                    time_s=fastest.makespan_s,
                )
            )
    for floor in range(c.min_quality - 1, 0, -1):
        lower = c.model_copy(update={"min_quality": floor})
        lower_opts = options_for(shots, catalog, lower)
        found = run(_candidates(shots, lower_opts), stages=("quality", "cost", "time"))
        if found is not None:
            binding.append("quality")
            relaxations.append(
                Relaxation(
                    kind="quality",
                    change=f"quality floor {floor} (instead of {c.min_quality})",
                    amount=floor,
                    cost_usd=round(found.cost_usd, 4),
                    time_s=found.makespan_s,
                )
            )
            break
    binding += [f"shot {s.id}" for s in lost]
    if not binding:  # no single limit is to blame: they bind together
        binding = [n for n, v in (("budget", c.max_cost_usd), ("time", c.max_time_s)) if v]
    return Infeasibility(
        binding=binding,
        message=_message(shots, catalog, c, lost, relaxations, binding),
        relaxations=relaxations,
    )


def _with_slides(
    shots: ShotList,
    cands: Mapping[str, Sequence[Candidate]],
    slides: object,
    c: PlanConstraints,
    frame_s: float,
) -> dict[str, list[Candidate]]:
    """Every generated shot may also become a slide, counted as a demotion."""
    out: dict[str, list[Candidate]] = {}
    for shot in shots.shots:
        current = list(cands[shot.id])
        if shot.mode != "slide":
            as_slide = shot.model_copy(update={"mode": "slide", "needs_audio": False})
            opt = option(slides, as_slide, c, frame_s)  # type: ignore[arg-type]
            if opt is not None:
                current.append(Candidate(opt, _weight(shot), demoted=True))
        out[shot.id] = current
    return out


def _message(
    shots: ShotList,
    catalog: ToolCatalog,
    c: PlanConstraints,
    lost: Sequence[Shot],
    relaxations: Sequence[Relaxation],
    binding: Sequence[str],
) -> str:
    if lost:
        return "; ".join(why_no_tool(s, shots.aspect, catalog, c) for s in lost)
    by_kind = {r.kind: r for r in relaxations}
    floor = f"quality >= {c.min_quality}"
    if "budget" in binding and "budget" in by_kind:
        r = by_kind["budget"]
        within = f"within {c.max_time_s:g} s and " if c.max_time_s is not None else ""
        return (
            f"no plan fits the ${c.max_cost_usd:.2f} budget: the cheapest plan {within}at "
            f"{floor} costs ${r.cost_usd:.2f}"
        )
    if "time" in binding and "time" in by_kind:
        r = by_kind["time"]
        budget = "within the budget " if c.max_cost_usd is not None else ""
        return (
            f"no plan finishes in {c.max_time_s:g} s: the fastest {budget}at "
            f"{floor} takes {r.time_s:g} s"
        )
    if "quality" in binding:
        return f"no tool mix reaches {floor} within the budget and the time limit"
    return "the budget and the time limit cannot both be met: " + (
        "; ".join(r.change for r in relaxations) or "relax either"
    )
