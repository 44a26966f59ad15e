"""The production-plan spec end to end, offline: brief -> plan -> script -> shots -> plan files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reelgraph.kernel import Kernel
from reelgraph.models import PlanConstraints, Shot, ShotList, ToolCatalog
from reelgraph.plugins.production.catalog import shipped_tools
from reelgraph.plugins.production.planner import make_plan

ROOT = Path(__file__).resolve().parents[2]
BRIEF = ROOT / "tests" / "fixtures" / "briefs" / "onboarding.json"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kernel:
    monkeypatch.delenv("REELGRAPH_TOOLS", raising=False)
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path / "home"))
    return Kernel(home=tmp_path / "home")


def test_production_plan_runs_offline_and_publishes_both_files(
    kernel: Kernel, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = kernel.run(
        "production-plan",
        inputs={
            "brief": str(BRIEF),
            "max_cost_usd": 10.0,
            "max_time_s": 900.0,
            "min_quality": 3,
            "animate": True,
        },
        output_dir=out,
    )
    assert run.status == "succeeded", run
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "specs" / "production-plan.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["status"] == "feasible"
    assert 0 < data["total_cost_usd"] <= 10.0
    assert data["timeline"]["makespan_s"] <= 900
    animated = [s for s in data["shots"] if s["mode"] == "image_to_video"]
    assert animated and all(s["quality_tier"] >= 3 for s in animated)
    assert all(s["reason"].startswith("a slide animated") for s in animated)
    text = (out / "plan.md").read_text(encoding="utf-8")
    assert text.startswith("# Production plan: Your first week on the support team")
    assert f"**${data['total_cost_usd']:.2f}**" in text


def test_an_impossible_time_limit_fails_with_the_relaxation_as_the_remedy(
    kernel: Kernel, tmp_path: Path
) -> None:
    """7 slides, 2 s each on 2 local lanes, take 8 s: a 4 s limit cannot be met (+4 s)."""
    run = kernel.run(
        "production-plan",
        inputs={"brief": str(BRIEF), "max_time_s": 4.0},
        output_dir=tmp_path / "out",
    )
    assert run.status == "failed_quality", run
    message = str(run.error)
    assert "no plan finishes in 4 s: the fastest at quality >= 1 takes 8 s" in message
    assert "any one of: +4 s (8 s in all)" in message


def test_animate_slides_upgrades_only_within_the_limits() -> None:
    """Two 6 s slide shots: $0.35 animates one, on runway-gen4-turbo (6 s x $0.05 = $0.30).

    Two would cost $0.60; every other tier-3+ tool costs more than $0.35 for
    one (luma-ray-flash-2 9 s $0.44, kling-v2.6-std 10 s $0.42).
    """
    catalog = ToolCatalog.from_answers([shipped_tools()])
    shots = ShotList(
        title="Two",
        shots=[
            Shot(
                id=f"s0{i}",
                scene_index=i,
                shot_type="wide",
                framing="wide",
                camera_move="static",
                lighting="soft",
                subject="a desk",
                prompt="a desk",
                storyboard_frame="a desk",
                duration_s=6,
            )
            for i in (1, 2)
        ],
    )
    still = make_plan(shots, catalog, PlanConstraints(max_cost_usd=100))
    assert [s.tool for s in still.shots] == ["slides", "slides"]
    one = make_plan(shots, catalog, PlanConstraints(max_cost_usd=0.35, animate_slides=True))
    assert sorted(s.mode for s in one.shots) == ["image_to_video", "slide"]
    assert sorted(s.tool for s in one.shots) == ["runway-gen4-turbo", "slides"]
    assert one.total_cost_usd == pytest.approx(0.30)
