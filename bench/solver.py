"""How long VideoSolver takes on a 60-shot plan, feasible and infeasible.

    python bench/solver.py [--repeat 5]

A fixed 60-shot list (20 slides, 20 image-to-video, 20 text-to-video of
which 10 need sound; 3-9 s each) is planned against the shipped catalog:
once with room to spare, once time-bound, and once with a budget too small
(the infeasible path also finds the relaxations: several more solves).
Prints the median wall time and the CPU time of this process plus its CBC
children (the solver runs as a subprocess). Wall times are noisy on a
shared machine; the CPU figures less so.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from reelgraph.models import PlanConstraints, Shot, ShotList, ToolCatalog
from reelgraph.plugins.production.catalog import shipped_tools
from reelgraph.plugins.production.planner import make_plan


def sixty_shots() -> ShotList:
    shots = []
    for i in range(60):
        mode = ("slide", "image_to_video", "text_to_video")[i % 3]
        shots.append(
            Shot(
                id=f"s{i + 1:02d}",
                scene_index=i // 2,
                shot_type="wide",
                framing="wide",
                camera_move="slow push-in",
                lighting="soft daylight",
                subject=f"subject {i}",
                prompt=f"shot {i} of the product film",
                storyboard_frame=f"frame {i}",
                duration_s=3 + (i * 7) % 7,
                mode=mode,  # type: ignore[arg-type]
                needs_audio=i % 6 == 2,
            )
        )
    return ShotList(title="Sixty shots", shots=shots)


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(shots: ShotList, catalog: ToolCatalog, c: PlanConstraints, repeat: int) -> None:
    walls, cpus = [], []
    plan = None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), cpu_s()
        plan = make_plan(shots, catalog, c)
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpu_s() - cpu0)
    assert plan is not None
    if plan.status == "feasible" and plan.timeline:
        tools = sorted({s.tool for s in plan.shots})
        summary = (
            f"${plan.total_cost_usd:.2f}, {plan.timeline.makespan_s:g} s, "
            f"optimal={plan.optimal}, tools {', '.join(tools)}"
        )
    else:
        why = plan.infeasibility
        summary = f"infeasible: {why.binding if why else '?'}; " + "; ".join(
            r.change for r in (why.relaxations if why else [])
        )
    print(
        f"  {label(c):38} wall median {statistics.median(walls):6.2f} s "
        f"(min {min(walls):.2f}), CPU median {statistics.median(cpus):6.2f} s  -> {summary}"
    )


def label(c: PlanConstraints) -> str:
    cost = "no budget" if c.max_cost_usd is None else f"${c.max_cost_usd:g}"
    span = "no time limit" if c.max_time_s is None else f"{c.max_time_s:g} s"
    return f"{cost}, {span}, quality >= {c.min_quality}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    catalog = ToolCatalog.from_answers([shipped_tools()])
    shots = sixty_shots()
    modes = {
        m: sum(s.mode == m for s in shots.shots)
        for m in ("slide", "image_to_video", "text_to_video")
    }
    print(
        f"60 shots {modes}, {sum(s.needs_audio for s in shots.shots)} with sound, "
        f"{len(catalog.tools)} tools; {args.repeat} runs each"
    )
    for c in (
        PlanConstraints(max_cost_usd=60, min_quality=3),
        PlanConstraints(max_cost_usd=60, max_time_s=600, min_quality=3),
        PlanConstraints(max_cost_usd=5, max_time_s=1500, min_quality=4),
    ):
        measure(shots, catalog, c, args.repeat)


if __name__ == "__main__":
    main()
