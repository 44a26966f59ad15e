"""video=auto: an open generate_clip node whose clips the production plan splits between
vendors; each clip takes a slot of its own vendor's limit (choose_provider, answered by the
solver), so Runway and Luma each run one task at a time, side by side.

The real ``runwayml`` and ``lumaai`` SDKs talk to the fake APIs on loopback.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.plugins.production import solver
from reelgraph.plugins.vendors.luma import LumaClips
from reelgraph.plugins.vendors.runway import RunwayClips
from reelgraph.plugins.visuals import slides
from tests.fakes.luma_server import FakeLuma
from tests.fakes.runway_server import FakeRunway, tiny_mp4

RUNWAY_KEY = "rw-routing-secret-31415926535897"
LUMA_KEY = "luma-routing-key-27182818284590"
PLAN = ["runway", "luma", "runway", "luma", "slides"]


@pytest.fixture
def vendors(tmp_path_factory, monkeypatch):
    mp4 = tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2.0)
    with FakeRunway(mp4, key=RUNWAY_KEY) as runway, FakeLuma(mp4, key=LUMA_KEY) as luma:
        runway.script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
        luma.script = ["queued", "dreaming", "dreaming", "completed"]
        monkeypatch.setenv("RUNWAYML_API_SECRET", RUNWAY_KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", runway.url)
        monkeypatch.setenv("LUMAAI_API_KEY", LUMA_KEY)
        monkeypatch.setenv("LUMAAI_BASE_URL", luma.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield runway, luma


def shot(index: int) -> dict:
    return {
        "id": f"s{index:02d}",
        "scene_index": index,
        "shot_type": "wide",
        "framing": "wide",
        "camera_move": "static",
        "lighting": "soft daylight",
        "subject": "a server room",
        "prompt": f"A quiet server room, shot {index}",
        "storyboard_frame": "racks left and right",
        "duration_s": 1.0,  # short: each clip is normalised to 1080p by ffmpeg
        "mode": "text_to_video",
    }


def spec() -> dict:
    shots = [shot(i) for i in range(len(PLAN))]
    plan = {
        "shots": [{"shot_id": s["id"], "provider": p} for s, p in zip(shots, PLAN, strict=True)]
    }
    return {
        "name": "routed-clips",
        "inputs": {"shots": {"type": "list", "default": shots}},
        "concurrency": {"providers": {"runway": 1, "luma": 1, "slides": 2}},
        "nodes": [
            {
                "id": "clips",
                "hook": "generate_clip",
                "map": "$inputs.shots",
                "with": {
                    "shot": "$item",
                    "aspect": "16:9",
                    "options": {"plan": plan, "poll_s": 0.05, "poll_max_s": 0.1},
                },
                "retry": {"max_attempts": 1},
            }
        ],
        "outputs": {"clips": "$clips"},
    }


def overlapping(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one moment."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def test_auto_clips_take_their_own_vendors_slot_and_vendors_overlap(vendors, tmp_path):
    runway, luma = vendors
    kernel = Kernel(
        plugins={"runway": RunwayClips(), "luma": LumaClips(), "slides": slides, "solver": solver},
        entry_points=False,
        home=tmp_path / "home",
    )
    run = kernel.run(spec())
    assert run.status == "succeeded", run.error
    assert [clip.kind for clip in run.outputs["clips"]] == ["video"] * len(PLAN)
    # each vendor got exactly its shots, once each
    assert runway.counts()[0] == PLAN.count("runway")
    assert luma.counts()[0] == PLAN.count("luma")
    attempts = kernel.store.get_attempts(run.id, "clips")
    assert {a.item: a.provider for a in attempts} == dict(enumerate(PLAN))
    lanes: dict[str, list[tuple[float, float]]] = {}
    for attempt in attempts:
        assert attempt.ended_at is not None
        lanes.setdefault(attempt.provider or "", []).append((attempt.started_at, attempt.ended_at))
    # the per-vendor limit of 1 held (a task at a time per account) ...
    assert overlapping(lanes["runway"]) == 1
    assert overlapping(lanes["luma"]) == 1
    # ... and the vendors' lanes ran side by side
    assert overlapping(lanes["runway"] + lanes["luma"]) == 2
    # what was paid is per provider, as each one priced it
    paid = Counter()
    for attempt in attempts:
        paid[attempt.provider] += attempt.cost_usd
    assert paid["slides"] == 0 and paid["runway"] > 0 and paid["luma"] > 0
    assert run.cost_usd == pytest.approx(sum(paid.values()))
    assert all(Path(clip.path).is_file() for clip in run.outputs["clips"])
