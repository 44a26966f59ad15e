"""The solver plans with measured figures once the run store has them.

The catalog and shots are test_solver's hand-checked instance (slides $0;
``cheap`` on provider a: $0.10/s, 5 or 10 s clips, 60 s, one lane, tier 3;
``good`` on provider b: $0.40/s, 4/6/8 s, 100 s, two lanes, tier 5). The
shots: s01 a 5 s slide, s02 a 7 s image-to-video (cheap bills 10 s, good
8 s; plus the 2 s storyboard frame), s03 a 4 s text-to-video (cheap 5 s,
good 4 s). Objective cost, quality floor 3: on the catalog's claims both
clips go to ``cheap`` for $1.00 + $0.50 = $1.50. Each test below says by
hand what the measured figures change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.models import PlanConstraints
from reelgraph.plugins.production.measured import apply_measurements
from reelgraph.plugins.production.planner import make_plan
from reelgraph.plugins.production.report import render_markdown
from reelgraph.store.benchmarks import ToolMeasure
from tests.plugins.test_solver import BASIC, CATALOG, chosen

COST = PlanConstraints(objective="cost", min_quality=3)


def plan_with(measures: list[ToolMeasure], constraints: PlanConstraints = COST):
    catalog, figures = apply_measurements(CATALOG, measures)
    return make_plan(BASIC, catalog, constraints, figures=figures), figures


def by_tool(figures):
    return {f.tool: f for f in figures}


def test_claims_alone_keep_the_catalog_plan():
    plan, figures = plan_with([])
    assert chosen(plan) == {"s01": "slides", "s02": "cheap", "s03": "cheap"}
    assert plan.total_cost_usd == pytest.approx(1.50)
    assert all(set(f.basis.values()) == {"claimed"} for f in plan.figures)
    assert [f.tool for f in plan.figures] == ["slides", "cheap", "good"]


def test_a_poor_measured_success_rate_excludes_the_tool():
    """cheap: 2 of 5 attempts (40% < 50%) -> excluded; both clips on good: 8 s + 4 s x $0.40."""
    cheap = ToolMeasure("a", "cheap", attempts=5, succeeded=2, seconds=[55.0, 58.0], runs=2)
    plan, figures = plan_with([cheap])
    assert chosen(plan) == {"s01": "slides", "s02": "good", "s03": "good"}
    assert plan.total_cost_usd == pytest.approx(4.80)
    assert "cheap" not in plan.tools
    excluded = by_tool(plan.figures)["cheap"]
    assert excluded.excluded and excluded.basis["success_rate"] == "measured"
    assert "2 of 5 attempts succeeded" in excluded.note
    assert "**excluded**" in render_markdown(plan)


def test_a_middling_success_rate_raises_price_and_latency():
    """cheap: 4 of 5 (80%): planned at $0.125/s and 75 s; still the cheapest ($1.25 + $0.625)."""
    cheap = ToolMeasure("a", "cheap", attempts=5, succeeded=4, seconds=[60.0] * 4, runs=1)
    plan, _ = plan_with([cheap])
    assert chosen(plan) == {"s01": "slides", "s02": "cheap", "s03": "cheap"}
    assert plan.total_cost_usd == pytest.approx(1.875)
    figures = by_tool(plan.figures)["cheap"]
    assert figures.basis == {
        "price_usd_per_s": "claimed",
        "latency_s": "measured",
        "success_rate": "measured",
    }
    assert figures.used == {"price_usd_per_s": 0.125, "latency_s": 75.0, "success_rate": 0.8}
    # lane a: 2 s frame + 75 s, then 75 s (ceil of each task)
    assert plan.timeline is not None and plan.timeline.makespan_s == 152


def test_a_measured_price_above_the_claim_moves_the_shots():
    """cheap really costs $0.50/s ($5.00 for 10 s): good is cheaper for both ($3.20 + $1.60)."""
    cheap = ToolMeasure(
        "a", "cheap", attempts=3, succeeded=3, seconds=[60.0] * 3, billed_s=10, cost_usd=5.0
    )
    plan, _ = plan_with([cheap])
    assert chosen(plan) == {"s01": "slides", "s02": "good", "s03": "good"}
    assert plan.total_cost_usd == pytest.approx(4.80)
    assert by_tool(plan.figures)["cheap"].basis["price_usd_per_s"] == "measured"
    assert by_tool(plan.figures)["good"].basis["price_usd_per_s"] == "claimed"


def test_a_measured_latency_breaks_the_time_limit():
    """Limit 130 s. Claims: lane a 62 + 60 = 122 s, both on cheap ($1.50).

    Measured cheap median 90 s: both on cheap is 92 + 90 = 182 s. Splitting:
    s02 cheap (92 s, $1.00) + s03 good (100 s, $1.60) = $2.60, or s02 good
    (102 s, $3.20) + s03 cheap (90 s, $0.50) = $3.70: the first.
    """
    limit = COST.model_copy(update={"max_time_s": 130})
    claims, _ = plan_with([], limit)
    assert chosen(claims) == {"s01": "slides", "s02": "cheap", "s03": "cheap"}
    cheap = ToolMeasure("a", "cheap", attempts=3, succeeded=3, seconds=[85.0, 90.0, 97.0], runs=3)
    plan, _ = plan_with([cheap], limit)
    assert chosen(plan) == {"s01": "slides", "s02": "cheap", "s03": "good"}
    assert plan.total_cost_usd == pytest.approx(2.60)
    assert by_tool(plan.figures)["cheap"].used["latency_s"] == 90.0


def test_too_few_measurements_stay_claims():
    """Two attempts (fewer than 3): neither latency nor success rate is used; nothing moves."""
    cheap = ToolMeasure("a", "cheap", attempts=2, succeeded=0, seconds=[], runs=1)
    plan, _ = plan_with([cheap])
    assert chosen(plan) == {"s01": "slides", "s02": "cheap", "s03": "cheap"}
    assert set(by_tool(plan.figures)["cheap"].basis.values()) == {"claimed"}


def test_provider_figures_without_a_model_apply_to_a_single_tool_provider():
    """A model-less measurement of provider b (its only tool, good) is good's."""
    good = ToolMeasure("b", None, attempts=4, succeeded=1, seconds=[100.0], runs=1)
    _, figures = plan_with([good])
    assert by_tool(figures)["good"].excluded
    measured = apply_measurements(CATALOG, [good])[0]
    assert measured.get("good") is None and measured.get("cheap") is not None


# -- learned from ordinary runs, through the kernel ----------------------------------------

KEY = "rw-learn-secret-0a1b2c3d4e5f66778899"


def _shot(duration_s: float = 4.0) -> dict:
    return {
        "id": "s01",
        "scene_index": 0,
        "shot_type": "wide",
        "framing": "wide",
        "camera_move": "slow push in",
        "lighting": "soft daylight",
        "subject": "a harbour at dawn",
        "prompt": "A calm harbour at dawn, boats rocking gently",
        "storyboard_frame": "the harbour, boats in the foreground",
        "duration_s": duration_s,
        "mode": "image_to_video",
    }


def _clip_run(kernel, frame: dict) -> str:
    """An ordinary run: one runway clip, no retry, no fallback; its status."""
    spec = {
        "name": "a-clip",
        "nodes": [
            {
                "id": "clip",
                "hook": "generate_clip",
                "provider": "runway",
                "with": {
                    "shot": _shot(),
                    "first_frame": frame,
                    "aspect": "16:9",
                    "options": {"model": "gen4_turbo", "poll_s": 0.05, "poll_max_s": 0.1},
                },
                "retry": {"max_attempts": 1},
            }
        ],
    }
    return kernel.run(spec, cache=False).status


def _plan_run(kernel, tools: list[dict], options: dict | None = None):
    spec = {
        "name": "a-plan",
        "nodes": [
            {
                "id": "plan",
                "hook": "plan_production",
                "provider": "solver",
                "with": {
                    "shots": {"title": "Harbour", "aspect": "16:9", "shots": [_shot()]},
                    "tools": tools,
                    "objective": "cost",
                    "min_quality": 3,
                    "options": options or {},
                },
            }
        ],
        "outputs": {"plan": "$plan"},
    }
    run = kernel.run(spec, cache=False)
    assert run.status == "succeeded", run.error
    return run.outputs["plan"]


def test_ordinary_runs_teach_the_solver(tmp_path, monkeypatch):
    """Claims: runway-gen4-turbo makes the 4 s shot for $0.20, ``dear`` for $2.00: runway.

    Then three ordinary runway runs of which two fail (FAILED, not retried):
    1 of 3 attempts (33% < 50%) excludes runway-gen4-turbo, so ``dear`` wins.
    """
    from PIL import Image

    from reelgraph import Kernel
    from reelgraph.plugins.production.catalog import shipped_tools
    from reelgraph.store.benchmarks import clip_measurements
    from tests.fakes.runway_server import FakeRunway, tiny_mp4

    shipped = {t["name"]: t for t in shipped_tools()}
    dear = {
        **shipped["runway-gen4-turbo"],
        "name": "dear",
        "provider": "other",
        "model": "dear-1",
        "price_usd_per_s": 0.5,
        "credits_per_s": None,
        "usd_per_credit": None,
    }
    tools = [shipped["slides"], shipped["runway-gen4-turbo"], dear]
    path = tmp_path / "frame.png"
    Image.new("RGB", (1920, 1080), (30, 60, 120)).save(path)
    frame = {"scene_index": 0, "kind": "image", "path": str(path),
             "width_px": 1920, "height_px": 1080, "alt_text": "a blue frame"}  # fmt: skip
    kernel = Kernel(home=tmp_path / "home")
    before = _plan_run(kernel, tools)
    assert [s.tool for s in before.shots] == ["runway-gen4-turbo"]
    assert before.total_cost_usd == pytest.approx(0.20)
    mp4 = tiny_mp4(tmp_path / "clip.mp4", seconds=5.0)
    with FakeRunway(mp4, key=KEY) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        statuses = [_clip_run(kernel, frame)]
        server.script = ["FAILED"]
        statuses += [_clip_run(kernel, frame), _clip_run(kernel, frame)]
    assert statuses == ["succeeded", "failed", "failed"]
    (measure,) = [m for m in clip_measurements(kernel.home / "reelgraph.db")]
    assert (measure.provider, measure.model) == ("runway", "gen4_turbo")
    assert (measure.attempts, measure.succeeded, measure.runs) == (3, 1, 3)
    # three clips submitted and paid for (4 s x $0.05 each)
    assert measure.billed_s == 12 and measure.usd_per_s == pytest.approx(0.05)
    after = _plan_run(kernel, tools)
    assert [s.tool for s in after.shots] == ["dear"]
    assert after.total_cost_usd == pytest.approx(2.00)
    figures = {f.tool: f for f in after.figures}
    assert figures["runway-gen4-turbo"].excluded
    assert figures["runway-gen4-turbo"].basis["success_rate"] == "measured"
    assert figures["runway-gen4-turbo"].basis["price_usd_per_s"] == "measured"
    assert set(figures["dear"].basis.values()) == {"claimed"}
    assert "runway-gen4-turbo: **excluded**" in Path(after.markdown_path).read_text()
    # options.measured false: the catalog's claims alone, as before the runs
    claims = _plan_run(kernel, tools, {"measured": False})
    assert [s.tool for s in claims.shots] == ["runway-gen4-turbo"] and claims.figures == []


def test_a_slides_clip_latency_does_not_become_the_frame_time():
    """slides' latency is also the storyboard frame's 2 s: 3 slow clips leave it claimed."""
    slides = ToolMeasure("slides", None, attempts=3, succeeded=3, seconds=[20.0] * 3, runs=3)
    plan, _ = plan_with([slides])
    figures = by_tool(plan.figures)["slides"]
    assert figures.basis["latency_s"] == "claimed" and figures.basis["success_rate"] == "measured"
    assert figures.used["latency_s"] == 2.0
    assert plan.timeline is not None and plan.timeline.makespan_s == 122  # as on the claims
