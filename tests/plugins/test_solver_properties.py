"""No plan the solver returns breaks a constraint; every relaxation it offers works.

Random catalogs, shot lists and limits (hypothesis). Each returned plan is
checked against the constraints from first principles, not through the
solver's own code: every shot's needs, the budget, the quality floor, and
a timeline whose lanes never exceed a provider's concurrency and never
overlap. For an infeasible plan, applying each offered relaxation must give
a feasible plan.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelgraph.models import TOOL_FIGURES, PlanConstraints, Shot, ShotList, ToolCatalog
from reelgraph.plugins.production.planner import make_plan

SOURCE = {"url": "https://example.org/p", "date": "2026-12-05", "basis": "estimate"}
FRAME_S = 2.0  # the slides tool's latency below: an image-to-video task draws its frame first


@st.composite
def tool_entry(draw: st.DrawFn, index: int) -> dict[str, object]:
    durations = draw(st.lists(st.integers(2, 12), min_size=2, max_size=5, unique=True))
    return {
        "name": f"t{index}",
        "provider": draw(st.sampled_from(["a", "b", "c"])),
        "vendor": "V",
        "model": f"m{index}",
        "modes": draw(
            st.lists(st.sampled_from(["text_to_video", "image_to_video"]), min_size=1, unique=True)
        ),
        "durations_s": sorted(float(d) for d in durations),
        "resolutions": ["1280x720"],
        "aspects": draw(
            st.lists(st.sampled_from(["16:9", "9:16", "1:1"]), min_size=1, unique=True)
        ),
        "native_audio": draw(st.booleans()),
        "price_usd_per_s": draw(st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.4])),
        "latency_s": float(draw(st.integers(10, 200))),
        "concurrency": draw(st.integers(1, 3)),
        "quality_tier": draw(st.integers(2, 5)),
        "sources": dict.fromkeys(TOOL_FIGURES, SOURCE),
    }


SLIDES = {
    "name": "slides",
    "provider": "slides",
    "vendor": "reelgraph",
    "model": "slides",
    "modes": ["slide"],
    "resolutions": ["1920x1080"],
    "aspects": ["16:9", "9:16", "1:1"],
    "price_usd_per_s": 0.0,
    "latency_s": FRAME_S,
    "concurrency": 2,
    "quality_tier": 1,
    "sources": dict.fromkeys(TOOL_FIGURES, SOURCE),
}


@st.composite
def catalogs(draw: st.DrawFn) -> ToolCatalog:
    count = draw(st.integers(2, 5))
    tools = [draw(tool_entry(i)) for i in range(count)]
    return ToolCatalog.from_answers([[SLIDES, *tools]])


@st.composite
def shot_lists(draw: st.DrawFn) -> ShotList:
    shots = []
    for i in range(draw(st.integers(1, 7))):
        mode = draw(st.sampled_from(["slide", "text_to_video", "image_to_video"]))
        shots.append(
            Shot(
                id=f"s{i + 1:02d}",
                scene_index=i,
                shot_type="wide",
                framing="wide",
                camera_move="static",
                lighting="soft",
                subject="x",
                prompt="x",
                storyboard_frame="x",
                duration_s=draw(st.sampled_from([1.5, 3.0, 4.0, 5.5, 7.0, 9.0, 12.0])),
                mode=mode,
                needs_audio=mode != "slide" and draw(st.booleans()),
            )
        )
    aspect = draw(st.sampled_from(["16:9", "9:16", "1:1"]))
    return ShotList(title="random", aspect=aspect, shots=shots)


constraint_sets = st.builds(
    PlanConstraints,
    max_cost_usd=st.one_of(st.none(), st.sampled_from([0.5, 1.0, 3.0, 8.0])),
    max_time_s=st.one_of(st.none(), st.sampled_from([30.0, 90.0, 200.0, 400.0])),
    min_quality=st.integers(1, 5),
    objective=st.sampled_from(["quality", "cost"]),
)


def check_plan(shots: ShotList, catalog: ToolCatalog, c: PlanConstraints, plan: object) -> None:
    """Assert every constraint, computed here from the catalog and the shots."""
    assert plan.status == "feasible"  # type: ignore[attr-defined]
    by_id = {s.id: s for s in shots.shots}
    planned = plan.shots  # type: ignore[attr-defined]
    assert [p.shot_id for p in planned] == list(by_id)
    total = 0.0
    task_s = {}
    for p in planned:
        shot, tool = by_id[p.shot_id], catalog.get(p.tool)
        assert tool is not None
        assert shot.mode in tool.modes and shots.aspect in tool.aspects
        assert tool.native_audio or not shot.needs_audio
        if shot.mode != "slide":
            assert tool.quality_tier >= c.min_quality
        if tool.durations_s:
            assert p.billed_s in tool.durations_s
        assert p.billed_s >= shot.duration_s - c.max_hold_s - 1e-9
        assert p.cost_usd == pytest.approx(p.billed_s * tool.price_usd_per_s, abs=1e-4)
        total += p.billed_s * tool.price_usd_per_s
        frame = FRAME_S if shot.mode == "image_to_video" else 0.0
        task_s[p.shot_id] = (tool.provider, math.ceil(tool.latency_s + frame - 1e-9))
    if c.max_cost_usd is not None:
        assert total <= c.max_cost_usd + 1e-6
    timeline = plan.timeline  # type: ignore[attr-defined]
    seen = []
    lanes_per_provider: dict[str, int] = {}
    limit = {}
    for tool in catalog.tools:
        limit[tool.provider] = max(limit.get(tool.provider, 1), tool.concurrency)
    for lane in timeline.lanes:
        lanes_per_provider[lane.provider] = lanes_per_provider.get(lane.provider, 0) + 1
        clock = 0.0
        for task in lane.tasks:
            provider, seconds = task_s[task.shot_id]
            assert provider == lane.provider
            assert task.start_s >= clock - 1e-9 and task.end_s - task.start_s == seconds
            clock = task.end_s
            seen.append(task.shot_id)
        if c.max_time_s is not None:
            assert clock <= c.max_time_s + 1e-9
        assert clock <= timeline.makespan_s + 1e-9
    assert sorted(seen) == sorted(by_id)
    for provider, count in lanes_per_provider.items():
        assert count <= limit[provider]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(catalog=catalogs(), shots=shot_lists(), c=constraint_sets)
def test_no_plan_breaks_a_constraint_and_every_relaxation_works(
    catalog: ToolCatalog, shots: ShotList, c: PlanConstraints
) -> None:
    plan = make_plan(shots, catalog, c)
    if plan.status == "feasible":
        check_plan(shots, catalog, c, plan)
        return
    why = plan.infeasibility
    assert why is not None and why.binding and why.message
    for relax in why.relaxations:
        if relax.kind == "budget":
            relaxed = c.model_copy(update={"max_cost_usd": relax.cost_usd + 1e-6})
            fixed = shots
        elif relax.kind == "time":
            relaxed, fixed = c.model_copy(update={"max_time_s": relax.time_s}), shots
        elif relax.kind == "quality":
            relaxed, fixed = c.model_copy(update={"min_quality": int(relax.amount or 1)}), shots
        else:
            relaxed = c
            fixed = shots.model_copy(
                update={
                    "shots": [
                        s.model_copy(update={"mode": "slide", "needs_audio": False})
                        if s.id in relax.shots
                        else s
                        for s in shots.shots
                    ]
                }
            )
        again = make_plan(fixed, catalog, relaxed)
        assert again.status == "feasible", (relax, again.infeasibility)
        check_plan(fixed, catalog, relaxed, again)
