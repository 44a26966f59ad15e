"""The runway clip provider: the real ``runwayml`` SDK against a fake Runway API on loopback.

Each test runs a spec through the kernel (retries, fallbacks and budgets are
the kernel's), counts what the fake server saw (submissions, polls,
downloads) and decodes the clip that came out with PyAV.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

from reelgraph import Kernel
from reelgraph.models import Visual
from reelgraph.plugins.vendors.runway import RunwayClips
from tests.fakes.runway_server import FakeRunway, tiny_mp4

KEY = "rw-test-secret-9f8e7d6c5b4a39281706"
FAST = {"poll_s": 0.05, "poll_max_s": 0.1}
NO_RETRY = {"max_attempts": 1}


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2.0)


@pytest.fixture
def runway(mp4, monkeypatch):
    with FakeRunway(mp4, key=KEY) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


@pytest.fixture
def frame(tmp_path) -> dict:
    path = tmp_path / "frame.png"
    Image.new("RGB", (1920, 1080), (30, 60, 120)).save(path)
    return {
        "scene_index": 0,
        "kind": "image",
        "path": str(path),
        "width_px": 1920,
        "height_px": 1080,
        "alt_text": "a blue storyboard frame",
    }


def shot(mode: str = "image_to_video", duration_s: float = 4.6, **more) -> dict:
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
        "mode": mode,
        **more,
    }


def clip_node(node_id="clip", *, frame=None, aspect="16:9", retry=None, **options) -> dict:
    node = {
        "id": node_id,
        "hook": "generate_clip",
        "provider": "runway",
        "with": {
            "shot": options.pop("shot", None) or shot(),
            "first_frame": frame,
            "aspect": aspect,
            "options": {**FAST, **options},
        },
        "retry": retry or {"max_attempts": 3, "initial_s": 0, "jitter_s": 0},
    }
    return node


def spec(*nodes: dict, budget: float | None = None) -> dict:
    out: dict = {"name": "runway-clip", "nodes": list(nodes)}
    out["outputs"] = {n["id"]: f"${n['id']}" for n in nodes}
    if budget is not None:
        out["budget"] = {"max_cost_usd": budget}
    return out


def kernel(tmp_path: Path, **plugins) -> Kernel:
    return Kernel(
        plugins={"runway": RunwayClips(), **plugins}, entry_points=False, home=tmp_path / "home"
    )


def decoded(path: Path) -> tuple[int, float, int, int, float, bool]:
    """(frames, seconds, width, height, fps, has audio) by decoding every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return (
            frames,
            frames / float(stream.average_rate),
            stream.codec_context.width,
            stream.codec_context.height,
            float(stream.average_rate),
            bool(container.streams.audio),
        )


# -- success ----------------------------------------------------------------------


def test_image_to_video_after_pending_throttled_running(runway, frame, tmp_path):
    runway.script = ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"]
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "succeeded", run.error
    clip = run.outputs["clip"]
    assert isinstance(clip, Visual) and clip.kind == "video"
    assert clip.duration_s == pytest.approx(4.6)
    frames, seconds, width, height, fps, audio = decoded(clip.path)
    # the 2 s, 320x240, 24 fps source: scaled and padded, 30 fps, last frame held to 4.6 s
    assert (width, height, fps, audio) == (1920, 1080, 30.0, False)
    assert frames == 138 and seconds == pytest.approx(4.6)
    assert runway.counts() == (1, 4, 1)
    post = next(r for r in runway.requests if r.method == "POST")
    assert post.path == "/v1/image_to_video"
    assert post.headers["x-runway-version"] == "2024-11-06"
    assert post.body["promptImage"].startswith("data:image/png;base64,")
    assert (post.body["model"], post.body["ratio"], post.body["duration"]) == (
        "gen4.5",
        "1280:720",
        5,  # the shortest length covering 4.6 s
    )
    # gen4.5: 12 credits/s x $0.01 (tools.yaml, Runway's API reference) x 5 s billed
    assert run.nodes["clip"].cost_usd == pytest.approx(0.60)
    assert run.cost_usd == pytest.approx(0.60)


def test_text_to_video_vertical(runway, tmp_path):
    runway.script = ["RUNNING", "SUCCEEDED"]
    node = clip_node(aspect="9:16", shot=shot("text_to_video", 3.0), model="gen4.5")
    run = kernel(tmp_path).run(spec(node))
    assert run.status == "succeeded", run.error
    _, seconds, width, height, _, _ = decoded(run.outputs["clip"].path)
    assert (width, height) == (1080, 1920) and seconds == pytest.approx(3.0)
    post = next(r for r in runway.requests if r.method == "POST")
    assert post.path == "/v1/text_to_video"
    assert (post.body["ratio"], post.body["duration"]) == ("720:1280", 3)
    assert "promptImage" not in post.body


def test_a_slide_shot_with_a_frame_goes_image_to_video_on_gen4_turbo(runway, frame, tmp_path):
    node = clip_node(frame=frame, shot=shot("slide", 2.0), model="gen4_turbo")
    run = kernel(tmp_path).run(spec(node))
    assert run.status == "succeeded", run.error
    post = next(r for r in runway.requests if r.method == "POST")
    assert (post.path, post.body["model"], post.body["duration"]) == (
        "/v1/image_to_video",
        "gen4_turbo",
        2,
    )
    assert run.cost_usd == pytest.approx(0.10)  # 5 credits/s x $0.01 x 2 s


# -- failures -----------------------------------------------------------------------


def test_failed_task_names_the_failure_code_and_is_not_retried(runway, frame, tmp_path):
    runway.script = ["RUNNING", "FAILED"]
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "failed"
    assert "SAFETY.INPUT.TEXT" in str(run.error)
    assert "flagged by content moderation" in str(run.error)
    assert run.nodes["clip"].attempts == 1
    assert runway.counts()[0] == 1


def test_cancelled_task_fails(runway, frame, tmp_path):
    runway.script = ["PENDING", "CANCELLED"]
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "failed" and "cancelled" in str(run.error)


def test_429_on_submission_is_retried_by_the_kernel(runway, frame, tmp_path):
    runway.submit_errors = [429]
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "succeeded", run.error
    posts = [r for r in runway.requests if r.method == "POST"]
    assert len(posts) == 2  # the refused one and the accepted one
    assert runway.counts()[0] == 1  # one task, one price
    assert run.nodes["clip"].attempts == 2
    assert run.cost_usd == pytest.approx(0.60)


def test_429_while_polling_is_waited_out_in_the_same_attempt(runway, frame, tmp_path):
    runway.script = ["RUNNING", "SUCCEEDED"]
    runway.poll_errors = [429, 503]
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "succeeded", run.error
    assert run.nodes["clip"].attempts == 1
    assert runway.counts()[0] == 1


def test_a_missing_key_is_a_configuration_error_naming_the_variable(
    runway, frame, tmp_path, monkeypatch
):
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "failed"
    assert "RUNWAYML_API_SECRET" in str(run.error)
    assert run.nodes["clip"].attempts == 1
    assert runway.requests == []


def test_a_rejected_key_is_not_retried_and_never_shown(runway, frame, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "rw-wrong-secret-0000000000000000")
    run = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert run.status == "failed" and run.nodes["clip"].attempts == 1
    assert "RUNWAYML_API_SECRET" in str(run.error)
    assert "rw-wrong-secret" not in str(run.error)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "home").rglob("*") if p.is_file())
    assert b"rw-wrong-secret" not in stored and KEY.encode() not in stored


def test_a_shot_longer_than_any_clip_fails_before_anything_is_sent(runway, frame, tmp_path):
    run = kernel(tmp_path).run(spec(clip_node(frame=frame, shot=shot(duration_s=12.0))))
    assert run.status == "failed"
    assert "longest clip (10 s" in str(run.error) and "split the shot" in str(run.error)
    assert runway.requests == []


def test_image_to_video_without_a_frame_is_refused_before_sending(runway, tmp_path):
    run = kernel(tmp_path).run(spec(clip_node()))
    assert run.status == "failed" and "first_frame" in str(run.error)
    assert runway.requests == []


# -- the download ------------------------------------------------------------------------


# bad results (private redirects, oversize, not a video): test_vendor_clip_results.py


def test_a_retry_after_a_bad_download_polls_the_same_task(runway, frame, tmp_path):
    runway.result = "not_video"
    retry = {"max_attempts": 2, "initial_s": 0, "jitter_s": 0}
    run = kernel(tmp_path).run(spec(clip_node(frame=frame, retry=retry)))
    # an invalid result is not retried, so one attempt; the journal holds the task
    assert run.status == "failed" and run.nodes["clip"].attempts == 1
    assert runway.counts()[0] == 1


# -- budget --------------------------------------------------------------------------------


def test_budget_below_one_clip_submits_nothing(runway, frame, tmp_path):
    run = kernel(tmp_path).run(spec(clip_node(frame=frame), budget=0.50))
    assert run.status == "over_budget"
    assert runway.requests == []
    assert run.cost_usd == 0


def test_budget_stops_before_the_submission_that_would_cross_it(runway, frame, tmp_path):
    first = clip_node("first", frame=frame)
    second = clip_node("second", frame=frame, shot=shot(id="s02", prompt="Gulls over the pier"))
    second["needs"] = ["first"]
    run = kernel(tmp_path).run(spec(first, second, budget=1.00))
    assert run.status == "over_budget"
    assert run.nodes["first"].status == "succeeded"
    assert run.nodes["second"].status == "blocked"
    assert runway.counts()[0] == 1
    assert run.cost_usd == pytest.approx(0.60)


def test_the_same_clip_is_never_paid_twice(runway, frame, tmp_path):
    first = clip_node("first", frame=frame)
    again = clip_node("again", frame=frame)
    again["needs"] = ["first"]
    run = kernel(tmp_path).run(spec(first, again))
    assert run.status == "succeeded", run.error
    assert runway.counts()[0] == 1  # the memo cache answered the second node
    assert run.cost_usd == pytest.approx(0.60)


def test_estimate_is_price_times_billed_seconds(frame):
    plugin = RunwayClips()
    # 7.2 s: a 7 s clip, its last frame held 0.2 s (max_hold_s 0.5, the solver's default)
    arguments = {"shot": shot("text_to_video", 7.2), "aspect": "16:9", "options": {}}
    assert plugin.estimate_cost("generate_clip", "runway", arguments) == pytest.approx(0.84)
    arguments = {
        "shot": shot("image_to_video", 7.6),
        "first_frame": frame,
        "aspect": "1:1",
        "options": {"model": "gen4_turbo"},
    }
    assert plugin.estimate_cost("generate_clip", "runway", arguments) == pytest.approx(0.40)
    assert plugin.estimate_cost("generate_clip", "luma", arguments) is None
    assert plugin.estimate_cost("render_shot", "runway", arguments) is None
    # a shot the model cannot make is not priced (it fails on its check, costing nothing)
    arguments["shot"] = shot("text_to_video", 3.0)
    assert plugin.estimate_cost("generate_clip", "runway", arguments) is None


# -- the journal ------------------------------------------------------------------------------


def test_a_poll_timeout_is_retried_on_the_same_task(runway, frame, tmp_path):
    # attempt 1 polls at 0 and 0.6 s, then stops (a third poll would pass its 1 s);
    # attempt 2 polls the same task at 0 and 0.6 s and finds it done (0.4 s of slack)
    runway.script = ["RUNNING"] * 3 + ["SUCCEEDED"]
    retry = {"max_attempts": 2, "initial_s": 0, "jitter_s": 0}
    node = clip_node(frame=frame, retry=retry, timeout_s=1.0, poll_s=0.6, poll_max_s=0.6)
    run = kernel(tmp_path).run(spec(node))
    assert run.status == "succeeded", run.error
    assert run.nodes["clip"].attempts == 2
    assert runway.counts()[0] == 1  # the retry polled the task it paid for
    assert run.cost_usd == pytest.approx(0.60)  # reported once, at acceptance


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_resuming_after_a_failed_task_submits_a_new_one(runway, frame, tmp_path):
    runway.script = ["FAILED"]
    first = kernel(tmp_path).run(spec(clip_node(frame=frame)))
    assert first.status == "failed" and runway.counts()[0] == 1
    runway.script = ["SUCCEEDED"]
    again = kernel(tmp_path).resume(first.id)
    assert again.status == "succeeded", again.error
    assert runway.counts()[0] == 2  # the failed task is not polled forever


def test_a_clip_with_its_own_sound_keeps_it_for_the_assembler(frame, tmp_path, monkeypatch):
    """A generated clip's sound survives normalisation (the assembler mixes it under
    the voice or drops it with ``clip_audio: drop``), even when the shot did not ask."""
    import imageio_ffmpeg

    source = tmp_path / "sound.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=320x240:rate=24:duration=2",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source)],
        check=True,
    )  # fmt: skip
    with FakeRunway(source, key=KEY) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        server.script = ["RUNNING", "SUCCEEDED"]
        run = kernel(tmp_path).run(spec(clip_node(frame=frame, shot=shot(duration_s=2.0))))
    assert run.status == "succeeded", run.error
    *_, audio = decoded(run.outputs["clip"].path)
    assert audio is True
