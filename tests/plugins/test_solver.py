"""VideoSolver on hand-checked instances: cheapest, time-bound, quality-bound, infeasible.

The catalog here is small and made up, so every expected plan can be worked
out by hand (the working is in each test's docstring):

==========  ========  ======  ==========  =======  ===========  ========  =====
tool        provider  price   durations   quality  latency (s)  lanes     audio
==========  ========  ======  ==========  =======  ===========  ========  =====
slides      slides    $0      any         1        2            2         no
cheap       a         $0.10   5, 10       3        60           1         no
good        b         $0.40   4, 6, 8     5        100          2         yes
==========  ========  ======  ==========  =======  ===========  ========  =====

An image-to-video task also draws its storyboard frame first (the slides
tool's 2 s), so ``good`` takes 102 s for one, 100 s for text-to-video.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reelgraph.models import TOOL_FIGURES as FIGURES
from reelgraph.models import PlanConstraints, Shot, ShotList, ToolCatalog
from reelgraph.plugins.production.planner import make_plan
from reelgraph.plugins.production.report import plan_schema, render_markdown, write_plan

SPECS = Path(__file__).resolve().parents[2] / "specs"


def tool(name: str, provider: str, **fields: object) -> dict[str, object]:
    """A catalog entry citing one (made-up) source for every figure."""
    source = {"url": "https://example.org/prices", "date": "2026-12-05", "basis": "estimate"}
    return {
        "name": name,
        "provider": provider,
        "vendor": provider.upper(),
        "model": name,
        "resolutions": ["1280x720"],
        "aspects": ["16:9"],
        "sources": dict.fromkeys(FIGURES, source),
        **fields,
    }


SLIDES = tool(
    "slides", "slides", modes=["slide"], price_usd_per_s=0, latency_s=2, concurrency=2,
    quality_tier=1, aspects=["16:9", "9:16", "1:1"],
)  # fmt: skip
CHEAP = tool(
    "cheap", "a", modes=["text_to_video", "image_to_video"], durations_s=[5, 10],
    price_usd_per_s=0.10, latency_s=60, concurrency=1, quality_tier=3,
)  # fmt: skip
GOOD = tool(
    "good", "b", modes=["text_to_video", "image_to_video"], durations_s=[4, 6, 8],
    price_usd_per_s=0.40, latency_s=100, concurrency=2, quality_tier=5, native_audio=True,
)  # fmt: skip
CATALOG = ToolCatalog.from_answers([[SLIDES, CHEAP, GOOD]])


def shot(number: int, mode: str, seconds: float, *, audio: bool = False) -> Shot:
    return Shot(
        id=f"s{number:02d}",
        scene_index=number,
        shot_type="wide",
        framing="wide",
        camera_move="static",
        lighting="daylight",
        subject="a lighthouse",
        prompt="a lighthouse at dusk",
        storyboard_frame="a lighthouse on a cliff",
        duration_s=seconds,
        mode=mode,  # type: ignore[arg-type]
        needs_audio=audio,
    )


def shot_list(*shots: Shot) -> ShotList:
    return ShotList(title="Lighthouse", shots=list(shots))


BASIC = shot_list(shot(1, "slide", 5), shot(2, "image_to_video", 7), shot(3, "text_to_video", 4))


def chosen(plan: object) -> dict[str, str]:
    return {s.shot_id: s.tool for s in plan.shots}  # type: ignore[attr-defined]


def test_cheapest_feasible_plan() -> None:
    """Objective cost, floor 3: s02 on cheap (10 s, $1.00), s03 on cheap (5 s, $0.50)."""
    plan = make_plan(BASIC, CATALOG, PlanConstraints(objective="cost", min_quality=3))
    assert plan.status == "feasible" and plan.optimal
    assert chosen(plan) == {"s01": "slides", "s02": "cheap", "s03": "cheap"}
    assert plan.total_cost_usd == pytest.approx(1.50)
    by_id = {s.shot_id: s for s in plan.shots}
    assert by_id["s02"].billed_s == 10 and by_id["s03"].billed_s == 5
    # one lane on provider a: 62 s (frame + clip) then 60 s
    assert plan.timeline is not None and plan.timeline.makespan_s == 122
    assert plan.timeline.critical_provider == "a"
    assert plan.timeline.critical_path == ["s02", "s03"]


def test_best_quality_within_the_budget() -> None:
    """$4 buys good for one shot: s02 (70 tenths x 5) beats s03 (40 x 5); $3.70 in all."""
    plan = make_plan(BASIC, CATALOG, PlanConstraints(max_cost_usd=4.0))
    assert chosen(plan) == {"s01": "slides", "s02": "good", "s03": "cheap"}
    assert plan.total_cost_usd == pytest.approx(3.70)
    assert {c.tool: c.cost_usd for c in plan.costs} == pytest.approx(
        {"good": 3.20, "cheap": 0.50, "slides": 0.0}
    )
    s03 = next(s for s in plan.shots if s.shot_id == "s03")
    assert "good" in s03.reason and "$4.00" in s03.reason
    assert [a.tool for a in s03.alternatives] == ["good"]


def test_without_limits_every_generated_shot_gets_the_best_tool() -> None:
    plan = make_plan(BASIC, CATALOG, PlanConstraints())
    assert chosen(plan) == {"s01": "slides", "s02": "good", "s03": "good"}
    assert plan.total_cost_usd == pytest.approx(3.20 + 1.60)


def test_time_bound_moves_the_shortest_shot_to_the_faster_lane() -> None:
    """Unlimited: good's 2 lanes run s02 (102 s) and s03 + s04 (100 + 100 s): 200 s.

    150 s: good's 2 lanes take one task each (102 s, 100 s); the third goes to cheap.

    s03 (4 s) loses less quality-time than s04 (6 s) or s02 (7 s), so s03 moves.
    """
    shots = shot_list(
        shot(2, "image_to_video", 7), shot(3, "text_to_video", 4), shot(4, "text_to_video", 6)
    )
    unlimited = make_plan(shots, CATALOG, PlanConstraints())
    assert unlimited.timeline is not None and unlimited.timeline.makespan_s == 200
    assert unlimited.timeline.critical_path == ["s03", "s04"]
    plan = make_plan(shots, CATALOG, PlanConstraints(max_time_s=150))
    assert chosen(plan) == {"s02": "good", "s03": "cheap", "s04": "good"}
    assert plan.timeline is not None and plan.timeline.makespan_s == 102
    lanes = {
        (lane.provider, lane.lane): [t.shot_id for t in lane.tasks] for lane in plan.timeline.lanes
    }
    assert sorted(lanes.values()) == [["s02"], ["s03"], ["s04"]]


def test_quality_floor_binds_the_cost() -> None:
    """Floor 4 rules out cheap (3): the cheapest plan is all good, $3.20 + $1.60."""
    plan = make_plan(BASIC, CATALOG, PlanConstraints(objective="cost", min_quality=4))
    assert chosen(plan) == {"s01": "slides", "s02": "good", "s03": "good"}
    assert plan.total_cost_usd == pytest.approx(4.80)
    # the slide shot is exempt from the floor: the designer made it a slide
    assert next(s for s in plan.shots if s.shot_id == "s01").quality_tier == 1


def test_infeasible_budget_reports_its_cheapest_relaxations() -> None:
    """Floor 4 and $4: the cheapest plan costs $4.80 (+$0.80); or s03 as a slide; or floor 3."""
    plan = make_plan(BASIC, CATALOG, PlanConstraints(max_cost_usd=4.0, min_quality=4))
    assert plan.status == "infeasible" and plan.shots == []
    why = plan.infeasibility
    assert why is not None
    assert why.binding == ["budget", "quality"]
    assert "$4.00 budget" in why.message and "$4.80" in why.message
    relax = {r.kind: r for r in why.relaxations}
    assert relax["budget"].amount == pytest.approx(0.80)
    assert relax["budget"].change.startswith("+$0.80")
    assert relax["slides"].shots == ["s03"] and relax["slides"].cost_usd == pytest.approx(3.20)
    assert relax["quality"].amount == 3
    assert "time" not in relax
    [result] = plan.gate_results()
    assert result.blocking and "+$0.80" in (result.remedy or "") and "s03" in (result.remedy or "")


def test_infeasible_time_says_how_much_more_time() -> None:
    """50 s is less than any clip's latency: the fastest plan takes 62 s (cheap, one lane)."""
    shots = shot_list(shot(2, "image_to_video", 7))
    plan = make_plan(shots, CATALOG, PlanConstraints(max_time_s=50))
    why = plan.infeasibility
    assert plan.status == "infeasible" and why is not None
    assert why.binding == ["time"]
    relax = {r.kind: r for r in why.relaxations}
    assert relax["time"].amount == 12 and relax["time"].time_s == 62
    assert relax["slides"].shots == ["s02"]


def test_a_shot_no_tool_can_make_is_named_with_each_tools_reason() -> None:
    """12 s with sound: only good has sound, and good stops at 8 s."""
    shots = shot_list(shot(1, "slide", 4), shot(5, "text_to_video", 12, audio=True))
    plan = make_plan(shots, CATALOG, PlanConstraints())
    why = plan.infeasibility
    assert plan.status == "infeasible" and why is not None
    assert why.binding == ["shot s05"]
    assert "shot s05 (text-to-video 16:9 12 s with sound) fits no tool" in why.message
    assert "cheap: no sound" in why.message and "good: clips up to 8 s" in why.message
    assert {r.kind for r in why.relaxations} == {"slides"}


def test_a_short_clip_is_held_within_max_hold() -> None:
    """8.3 s on good: 8 s clip held 0.3 s (max_hold_s 0.5), not refused."""
    shots = shot_list(shot(6, "text_to_video", 8.3, audio=True))
    plan = make_plan(shots, CATALOG, PlanConstraints())
    [s06] = plan.shots
    assert s06.tool == "good" and s06.billed_s == 8
    assert any("hold the last frame 0.3 s" in step.detail for step in s06.steps)
    strict = make_plan(shots, CATALOG, PlanConstraints(max_hold_s=0))
    assert strict.status == "infeasible"


def test_aspect_is_a_hard_constraint() -> None:
    vertical = ShotList(title="Tall", aspect="9:16", shots=[shot(2, "image_to_video", 5)])
    plan = make_plan(vertical, CATALOG, PlanConstraints())
    assert plan.status == "infeasible"
    assert "no 9:16" in plan.infeasibility.message  # type: ignore[union-attr]


def test_same_inputs_same_plan() -> None:
    shots = shot_list(
        *(shot(i, ("text_to_video", "image_to_video")[i % 2], 3 + i % 6) for i in range(1, 13))
    )
    constraints = PlanConstraints(max_cost_usd=12.0, max_time_s=400)
    first = make_plan(shots, CATALOG, constraints).model_dump_json()
    for _ in range(2):
        assert make_plan(shots, CATALOG, constraints).model_dump_json() == first


def test_plan_json_follows_the_published_schema_and_the_markdown_reads(tmp_path: Path) -> None:
    plan = write_plan(make_plan(BASIC, CATALOG, PlanConstraints(max_cost_usd=4.0)), tmp_path)
    assert plan.json_path == tmp_path / "plan.json" and plan.markdown_path == tmp_path / "plan.md"
    data = json.loads(plan.json_path.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads((SPECS / "production-plan.schema.json").read_text()))
    assert data["total_cost_usd"] == pytest.approx(3.70)
    text = plan.markdown_path.read_text(encoding="utf-8")
    assert "# Production plan: Lighthouse" in text
    assert "| s02 | image-to-video | 7 | good | 5 | 8 | $3.20 |" in text
    assert "Critical path: b lane, s02" in text
    infeasible = make_plan(BASIC, CATALOG, PlanConstraints(max_cost_usd=1.0, min_quality=4))
    assert "Any one of these makes a plan:" in render_markdown(infeasible)
    jsonschema.validate(
        infeasible.model_dump(mode="json", exclude={"json_path", "markdown_path"}), plan_schema()
    )


def test_the_published_schema_is_current() -> None:
    """specs/production-plan.schema.json is what the model says (regenerate it if not)."""
    shipped = json.loads((SPECS / "production-plan.schema.json").read_text(encoding="utf-8"))
    assert shipped == plan_schema(), (
        "regenerate: python -c 'import json; from reelgraph.plugins.production.report import "
        "plan_schema; print(json.dumps(plan_schema(), indent=2))' > specs/production-plan.schema.json"
    )
