"""The ai-video spec end to end: offline (video=slides), the plan's choice against fake vendors
(video=auto), and the run's budget stopping a clip before it is paid for.

The roles are the offline ones; the clip vendors are the real ``runwayml`` and
``lumaai`` SDKs talking to fake Runway and Luma APIs on loopback.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import av
import pytest
import yaml

from reelgraph import Kernel, load_spec
from tests.fakes.luma_server import FakeLuma
from tests.fakes.runway_server import FakeRunway, tiny_mp4

SPEC = Path(__file__).resolve().parents[2] / "specs" / "ai-video.yaml"
BRIEF = {
    "title": "Why we test backups",
    "goal": "Get every team to restore a backup once a quarter.",
    "audience": "engineering teams",
    "key_messages": [
        "A backup you never restored is a hope, not a backup",
        "Restore drills find missing data before an outage does",
    ],
    "duration_s": 25,
    "tone": "plain",
    "style": "clean",
    "template": "presentation",
}
RUNWAY_KEY = "rw-pipeline-secret-31415926535897"
LUMA_KEY = "luma-pipeline-key-27182818284590"


@pytest.fixture
def brief(tmp_path) -> Path:
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(BRIEF), encoding="utf-8")
    return path


def kernel(tmp_path: Path) -> Kernel:
    return Kernel(home=tmp_path / "home")


def frames_and_size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, stream.codec_context.width, stream.codec_context.height


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_offline_video_is_made_of_moving_clips(brief, tmp_path):
    run = kernel(tmp_path).run(load_spec(SPEC), {"brief": str(brief)})
    assert run.status == "succeeded", run.error
    clips = run.nodes["clips"]
    assert clips.fallback is None
    shots = run.outputs["shots"].shots
    video = Path(run.outputs["video"])
    assert video.is_file() and run.cost_usd == 0
    count, width, height = frames_and_size(video)
    assert (width, height) == (1920, 1080)
    assert abs(count / 30 - BRIEF["duration_s"]) <= 8  # the duration gate's own check passed too
    # every shot became a clip of its own length
    made = list((tmp_path / "home").rglob("clips/*/s*.mp4"))
    assert len(made) == len(shots) >= 3
    assert Path(run.outputs["plan_json"]).is_file()


@pytest.fixture
def vendors(tmp_path_factory, monkeypatch):
    mp4 = tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=3.0)
    with FakeRunway(mp4, key=RUNWAY_KEY) as runway, FakeLuma(mp4, key=LUMA_KEY) as luma:
        runway.script = ["PENDING", "RUNNING", "SUCCEEDED"]
        luma.script = ["queued", "dreaming", "completed"]
        monkeypatch.setenv("RUNWAYML_API_SECRET", RUNWAY_KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", runway.url)
        monkeypatch.setenv("LUMAAI_API_KEY", LUMA_KEY)
        monkeypatch.setenv("LUMAAI_BASE_URL", luma.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        # only Runway and Luma can make 16:9 here: the plan leaves Kling and Veo out
        tools = tmp_path_factory.mktemp("tools") / "tools.yaml"
        patches = [
            {"name": name, "patch": True, "aspects": ["1:1"]}
            for name in ("kling-v2.6-std", "kling-v2.6-pro", "veo-3.1-fast", "veo-3.1", "veo-3")
        ]
        tools.write_text(yaml.safe_dump({"tools": patches}), encoding="utf-8")
        monkeypatch.setenv("REELGRAPH_TOOLS", str(tools))
        yield runway, luma


def fast(spec_path: Path, tmp_path: Path) -> Path:
    """The shipped spec with the vendors' polling made fast for the fakes."""
    data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    for node in data["nodes"]:
        if node["id"] == "clips":
            node["with"]["options"].update({"poll_s": 0.05, "poll_max_s": 0.1})
    path = tmp_path / "ai-video.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_auto_sends_each_shot_to_the_tool_the_plan_chose(brief, tmp_path, vendors):
    runway, luma = vendors
    spec = load_spec(fast(SPEC, tmp_path))
    inputs = {"brief": str(brief), "video": "auto", "max_cost_usd": 3.0}
    run = kernel(tmp_path).run(spec, inputs)
    assert run.status == "succeeded", run.error
    plan = json.loads(Path(run.outputs["plan_json"]).read_text(encoding="utf-8"))
    chosen = Counter(shot["provider"] for shot in plan["shots"])
    assert set(chosen) <= {"runway", "luma", "slides"}
    assert chosen["runway"] + chosen["luma"] >= 1, plan["shots"]
    # each vendor got exactly the shots the plan gave it, once each
    assert runway.counts()[0] == chosen["runway"]
    assert luma.counts()[0] == chosen["luma"]
    assert run.nodes["clips"].fallback is None
    # what the run paid is what the plan priced (price per second x seconds billed)
    assert run.nodes["clips"].cost_usd == pytest.approx(plan["total_cost_usd"], abs=0.01)
    assert run.nodes["clips"].cost_usd <= 3.0
    for request in runway.requests:
        if request.method == "POST":
            model = next(s["model"] for s in plan["shots"] if s["provider"] == "runway")
            assert request.body["model"] in {model, "gen4.5", "gen4_turbo"}
    assert Path(run.outputs["video"]).is_file()


def test_the_run_budget_stops_the_first_clip_before_it_is_paid(brief, tmp_path, vendors):
    runway, luma = vendors
    spec = load_spec(fast(SPEC, tmp_path))
    run = kernel(tmp_path).run(
        spec, {"brief": str(brief), "video": "runway"}, budget={"max_cost_usd": 0.05}
    )
    assert run.status == "over_budget"
    assert runway.counts()[0] == 0 and luma.counts()[0] == 0
    assert run.cost_usd == 0


@pytest.mark.slow  # a whole render; the fallback itself is tested per vendor (test_vendor_luma)
def test_a_clip_provider_missing_its_key_falls_back_to_slides(
    brief, tmp_path, vendors, monkeypatch
):
    runway, _ = vendors
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    spec = load_spec(fast(SPEC, tmp_path))
    run = kernel(tmp_path).run(spec, {"brief": str(brief), "video": "runway"})
    assert run.status == "succeeded", run.error
    assert run.nodes["clips"].fallback == "provider:slides"
    assert runway.requests == []
    assert Path(run.outputs["video"]).is_file() and run.cost_usd == 0
