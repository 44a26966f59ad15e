"""The luma clip provider: the real ``lumaai`` SDK against a fake Luma API on loopback."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from reelgraph.models import Visual
from reelgraph.plugins.vendors.luma import LumaClips
from tests.fakes.clip_vendors import clip_node, run_clip_nodes
from tests.fakes.luma_server import FakeLuma
from tests.fakes.runway_server import tiny_mp4

KEY = "luma-test-key-5f0c1e2d3b4a69788796"


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=5.0, size="640x360")


@pytest.fixture
def luma(mp4, monkeypatch):
    with FakeLuma(mp4, key=KEY) as server:
        monkeypatch.setenv("LUMAAI_API_KEY", KEY)
        monkeypatch.setenv("LUMAAI_BASE_URL", server.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


def shot(mode: str = "text_to_video", duration_s: float = 4.0, **more) -> dict:
    return {
        "id": "s01",
        "scene_index": 1,
        "shot_type": "medium",
        "framing": "medium",
        "camera_move": "static",
        "lighting": "golden hour",
        "subject": "a cyclist on a coast road",
        "prompt": "A cyclist rides along a coast road at golden hour",
        "storyboard_frame": "cyclist left of frame, sea on the right",
        "duration_s": duration_s,
        "mode": mode,
        **more,
    }


def node(node_id="clip", *, shot_=None, **settings):
    return clip_node("luma", shot_ or shot(), node_id, **settings)


def run(tmp_path, *nodes, budget=None):
    return run_clip_nodes(LumaClips(), tmp_path, *nodes, budget=budget)


def test_text_to_video_after_queued_and_dreaming(luma, tmp_path):
    luma.script = ["queued", "dreaming", "dreaming", "completed"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    clip = done.outputs["clip"]
    assert isinstance(clip, Visual) and clip.kind == "video" and clip.scene_index == 1
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        assert not container.streams.audio
    assert frames == 120  # the 5 s clip trimmed to the shot's 4 s at 30 fps
    assert luma.counts() == (1, 4, 1)
    post = next(r for r in luma.requests if r.method == "POST")
    assert post.path == "/dream-machine/v1/generations/video"
    assert post.body["model"] == "ray-flash-2"
    assert (post.body["duration"], post.body["aspect_ratio"]) == ("5s", "16:9")
    assert "keyframes" not in post.body
    # ray-flash-2 $0.0487/s (tools.yaml, Luma's per-pixel list price at 720p) x 5 s
    assert done.cost_usd == pytest.approx(0.2435)


def test_image_to_video_sends_the_frame_url_as_keyframe(luma, tmp_path):
    url = "https://cdn.example.com/frames/s01.png"
    shot_ = shot("image_to_video", 8.0)
    done = run(tmp_path, node(shot_=shot_, aspect="1:1", model="ray-2", first_frame_url=url))
    assert done.status == "succeeded", done.error
    post = next(r for r in luma.requests if r.method == "POST")
    assert post.body["keyframes"] == {"frame0": {"type": "image", "url": url}}
    assert (post.body["model"], post.body["duration"], post.body["aspect_ratio"]) == (
        "ray-2",
        "9s",
        "1:1",
    )
    assert done.cost_usd == pytest.approx(0.1416 * 9)


def test_image_to_video_without_a_url_is_refused_before_sending(luma, tmp_path):
    done = run(tmp_path, node(shot_=shot("image_to_video")))
    assert done.status == "failed" and "options.first_frame_url" in str(done.error)
    assert luma.requests == []


def test_failed_generation_gives_the_failure_reason(luma, tmp_path):
    luma.script = ["queued", "failed"]
    done = run(tmp_path, node())
    assert done.status == "failed"
    assert "advanced moderation failed" in str(done.error)
    assert done.nodes["clip"].attempts == 1 and luma.counts()[0] == 1


def test_429_on_submission_is_retried(luma, tmp_path):
    luma.submit_errors = [429, 429]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    assert done.nodes["clip"].attempts == 3 and luma.counts()[0] == 1


def test_a_generation_that_never_finishes_times_out_then_falls_back_to_slides(luma, tmp_path):
    luma.script = ["dreaming"]
    slow = node(timeout_s=1.0, retry={"max_attempts": 1}, on_error=[{"provider": "slides"}])
    done = run(tmp_path, slow)
    assert done.status == "succeeded", done.error
    assert done.nodes["clip"].fallback == "provider:slides"
    clip = done.outputs["clip"]
    assert clip.kind == "video" and clip.duration_s == 4.0
    assert luma.counts()[0] == 1 and luma.counts()[2] == 0  # paid once, nothing downloaded
    # the generation accepted is paid for even though the fallback made the clip
    assert done.cost_usd == pytest.approx(0.2435)


def test_a_rejected_key_names_the_variable_and_is_not_retried(luma, tmp_path, monkeypatch):
    monkeypatch.setenv("LUMAAI_API_KEY", "luma-wrong-key-000000000000000000")
    done = run(tmp_path, node())
    assert done.status == "failed" and done.nodes["clip"].attempts == 1
    assert "LUMAAI_API_KEY" in str(done.error) and "luma-wrong-key" not in str(done.error)


def test_budget_stops_before_the_generation_that_would_cross_it(luma, tmp_path):
    second = node("second", shot_=shot(id="s02", prompt="Waves on the rocks"))
    second["needs"] = ["clip"]
    done = run(tmp_path, node(), second, budget=0.40)
    assert done.status == "over_budget"
    assert done.nodes["second"].status == "blocked"
    assert luma.counts()[0] == 1
