"""The production plan as a mixed-integer program, solved by CBC through PuLP.

Variables: ``x[s, o]`` (binary) picks option ``o`` for shot ``s``; for each
provider with ``L`` concurrent slots (lanes), ``n[p, l, c]`` (integer) counts
the tasks of duration class ``c`` (tasks of one provider that take the same
whole seconds) run on lane ``l``. A lane runs its tasks one after another,
so its load ``sum_c n[p, l, c] * seconds_c`` is when it is done, and the
makespan ``M`` is at least every lane's load. Because the tasks are
independent, any counts per lane can be scheduled exactly that way (the
lanes model is exact; no list-scheduling approximation). Lanes are ordered
by load to break their symmetry.

Hard constraints: one option per shot; ``sum cost <= max_cost_usd``;
``M <= max_time_s``. Objectives are met in order (lexicographically): each
stage is solved, then fixed as a constraint for the next (``quality``:
quality-tier x tenths of a second, maximised; ``cost``: US dollars,
minimised; ``time``: ``M``, minimised; ``demotions``: shots made as slides
by a relaxation, minimised).

CBC runs single-threaded with fixed seeds and no wall-clock limit (a node
limit instead), so the same inputs give the same plan on any machine.
PuLP is imported here only, on first use: ``reelgraph --help`` never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reelgraph.plugins.production._options import Option

__all__ = ["Candidate", "Solution", "solve", "solver_name"]

#: CBC's branch-and-bound node limit per stage: deterministic, unlike a time limit
MAX_NODES = 200_000
_SEED = 20261205
_COST_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class Candidate:
    """An option for a shot; ``demoted`` marks a slide chosen only as a relaxation."""

    option: Option
    weight: int  # tenths of a second of the shot: quality counts per second
    demoted: bool = False


@dataclass(slots=True)
class Solution:
    """A solved plan: the option per shot id and the shots on each lane, in order."""

    choice: dict[str, Candidate]
    lanes: dict[str, list[list[str]]]
    makespan_s: int
    cost_usd: float
    quality: int
    demotions: int
    optimal: bool
    stages: list[str] = field(default_factory=list)


def solver_name() -> str:
    """``PuLP <version> / CBC``, for the plan's record."""
    import pulp

    return f"PuLP {pulp.__version__} / CBC (single thread, seed {_SEED})"


def solve(
    candidates: Mapping[str, Sequence[Candidate]],
    lanes: Mapping[str, int],
    *,
    max_cost_usd: float | None,
    max_time_s: float | None,
    stages: Sequence[str],
    max_nodes: int = MAX_NODES,
) -> Solution | None:
    """Choose one candidate per shot, meeting the limits, best by ``stages`` in order.

    Args:
        candidates: per shot id (in shot-list order), its candidates.
        lanes: concurrent slots per provider.
        max_cost_usd: budget in US dollars, or ``None``.
        max_time_s: wall-time limit in seconds, or ``None``.
        stages: objectives in priority order: ``quality``, ``cost``,
            ``time``, ``demotions``.
        max_nodes: CBC's node limit per stage.

    Returns:
        The solution, or ``None`` when no choice meets the limits (or a shot
        has no candidate).
    """
    import pulp

    if any(not cands for cands in candidates.values()):
        return None
    prob = pulp.LpProblem("production_plan", pulp.LpMinimize)
    pick: dict[tuple[str, int], Any] = {}
    for s_index, (shot_id, cands) in enumerate(candidates.items()):
        for c_index, _ in enumerate(cands):
            pick[shot_id, c_index] = prob.add_variable(f"x_{s_index}_{c_index}", cat="Binary")
        prob += pulp.lpSum(pick[shot_id, i] for i in range(len(cands))) == 1, f"one_{s_index}"

    # tasks grouped by provider and duration class (whole seconds)
    classes: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for shot_id, cands in candidates.items():
        for i, cand in enumerate(cands):
            key = (cand.option.tool.provider, cand.option.task_s)
            classes.setdefault(key, []).append((shot_id, i))
    makespan = prob.add_variable("makespan", lowBound=0)
    counts: dict[tuple[str, int, int], Any] = {}
    for p_index, provider in enumerate(sorted({p for p, _ in classes})):
        keys = sorted(k for k in classes if k[0] == provider)
        n_lanes = max(1, int(lanes.get(provider, 1)))
        loads = []
        for lane in range(n_lanes):
            for c_index, key in enumerate(keys):
                counts[provider, lane, key[1]] = prob.add_variable(
                    f"n_{p_index}_{lane}_{c_index}",
                    lowBound=0,
                    upBound=len(classes[key]),
                    cat="Integer",
                )
            loads.append(pulp.lpSum(counts[provider, lane, k[1]] * k[1] for k in keys))
        for c_index, key in enumerate(keys):
            prob += (
                pulp.lpSum(counts[provider, lane, key[1]] for lane in range(n_lanes))
                == pulp.lpSum(pick[pair] for pair in classes[key]),
                f"tasks_{p_index}_{c_index}",
            )
        for lane, load in enumerate(loads):
            prob += makespan >= load, f"load_{p_index}_{lane}"
            if lane:
                prob += loads[lane - 1] >= load, f"order_{p_index}_{lane}"

    cost = pulp.lpSum(
        cand.option.cost_usd * pick[shot_id, i]
        for shot_id, cands in candidates.items()
        for i, cand in enumerate(cands)
    )
    quality = pulp.lpSum(
        cand.option.tool.quality_tier * cand.weight * pick[shot_id, i]
        for shot_id, cands in candidates.items()
        for i, cand in enumerate(cands)
        if not cand.demoted
    )
    demotions = pulp.lpSum(
        pick[shot_id, i]
        for shot_id, cands in candidates.items()
        for i, cand in enumerate(cands)
        if cand.demoted
    )
    if max_cost_usd is not None:
        prob += cost <= max_cost_usd + _COST_TOL, "budget"
    if max_time_s is not None:
        prob += makespan <= max_time_s, "time"

    goals = {
        "quality": (-1, quality),
        "cost": (1, cost),
        "time": (1, makespan),
        "demotions": (1, demotions),
    }
    command = _cbc(pulp, max_nodes)
    optimal = True
    for number, stage in enumerate(stages):
        sign, expr = goals[stage]
        if isinstance(expr, pulp.LpAffineExpression) and not expr.keys():
            continue  # nothing to choose by (e.g. no generated shot left): CBC needs a variable
        prob.setObjective(sign * expr)
        prob.solve(command)
        if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return None
        optimal = optimal and prob.sol_status == pulp.LpSolutionOptimal
        value = pulp.value(expr) or 0.0
        if stage == "quality":
            prob += expr >= round(value), f"fix_{number}"
        elif stage == "cost":
            prob += expr <= value + _COST_TOL, f"fix_{number}"
        else:
            prob += expr <= round(value), f"fix_{number}"

    choice = {
        shot_id: cands[i]
        for shot_id, cands in candidates.items()
        for i in range(len(cands))
        if (pick[shot_id, i].value() or 0) > 0.5
    }
    return Solution(
        choice=choice,
        lanes=_lanes(choice, candidates, lanes, counts),
        makespan_s=round(pulp.value(makespan) or 0),
        cost_usd=round(sum(c.option.cost_usd for c in choice.values()), 6),
        quality=round(pulp.value(quality) or 0),
        demotions=sum(1 for c in choice.values() if c.demoted),
        optimal=optimal,
        stages=list(stages),
    )


def _cbc(pulp: Any, max_nodes: int) -> Any:
    """CBC as the PuLP wheel bundles it: one thread, fixed seeds, a node limit."""
    import warnings

    with warnings.catch_warnings():
        # PuLP 3.x warns that 4.0 moves the bundled binary to the pulp[cbc] extra;
        # the dependency is pinned below 4 (pyproject.toml) until that move is made
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(
            msg=False,
            threads=1,
            maxNodes=max_nodes,
            options=[f"randomSeed {_SEED}", f"randomCbcSeed {_SEED}"],
        )


def _lanes(
    choice: Mapping[str, Candidate],
    candidates: Mapping[str, Sequence[Candidate]],
    lanes: Mapping[str, int],
    counts: Mapping[tuple[str, int, int], Any],
) -> dict[str, list[list[str]]]:
    """Deal the chosen shots to lanes by the solved counts, in shot-list order."""
    order = {shot_id: i for i, shot_id in enumerate(candidates)}
    by_class: dict[tuple[str, int], list[str]] = {}
    for shot_id in candidates:
        opt = choice[shot_id].option
        by_class.setdefault((opt.tool.provider, opt.task_s), []).append(shot_id)
    dealt: dict[str, list[list[str]]] = {}
    for (provider, seconds), shot_ids in sorted(by_class.items()):
        n_lanes = max(1, int(lanes.get(provider, 1)))
        rows = dealt.setdefault(provider, [[] for _ in range(n_lanes)])
        queue = list(shot_ids)
        for lane in range(n_lanes):
            take = round(counts[provider, lane, seconds].value() or 0)
            rows[lane].extend(queue[:take])
            queue = queue[take:]
        rows[-1].extend(queue)  # never happens when the counts add up; keeps every shot
    for rows in dealt.values():
        for row in rows:
            row.sort(key=order.__getitem__)
    return {p: [row for row in rows if row] for p, rows in dealt.items()}
