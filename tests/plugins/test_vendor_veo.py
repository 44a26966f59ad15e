"""The veo clip provider: the real ``google-genai`` SDK against a fake Gemini API on loopback."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import av
import pytest

from reelgraph.errors import ConfigurationError, InvalidInputError, RateLimitedError
from reelgraph.models import Visual
from reelgraph.plugins.vendors.veo import VeoClips
from tests.fakes.clip_vendors import clip_node, run_clip_nodes
from tests.fakes.runway_server import tiny_mp4
from tests.fakes.veo_server import FakeVeo

KEY = "AIzaSyPlantedVeoTestKey0123456789abcdEF"


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=8.0, size="640x360")


@pytest.fixture
def veo(mp4, monkeypatch):
    with FakeVeo(mp4, key=KEY) as server:
        monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


@pytest.fixture
def frame(tmp_path) -> Visual:
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.new("RGB", (720, 1280), (200, 120, 40)).save(path)
    return Visual(
        scene_index=2, path=path, width_px=720, height_px=1280, alt_text="an orange frame"
    )


def shot(mode: str = "text_to_video", duration_s: float = 5.0, **more) -> dict:
    return {
        "id": "s02",
        "scene_index": 2,
        "shot_type": "close-up",
        "framing": "close-up",
        "camera_move": "static",
        "lighting": "candle light",
        "subject": "a potter's hands",
        "prompt": "Close-up of a potter's hands shaping clay on a wheel",
        "negative_prompt": "cartoon, text",
        "storyboard_frame": "hands centred, wheel turning",
        "duration_s": duration_s,
        "mode": mode,
        **more,
    }


def node(node_id="clip", *, shot_=None, **settings):
    return clip_node("veo", shot_ or shot(), node_id, **settings)


def run(tmp_path, *nodes, budget=None):
    return run_clip_nodes(VeoClips(), tmp_path, *nodes, budget=budget)


def frames_and_size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.codec_context.width, stream.codec_context.height


def test_text_to_video_after_running_downloads_with_the_key_only_from_the_api(veo, tmp_path):
    veo.script = ["running", "running", "done"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    clip = done.outputs["clip"]
    assert clip.kind == "video" and clip.duration_s == 5.0
    assert frames_and_size(clip.path) == (150, 1920, 1080)  # 8 s trimmed to 5 s at 30 fps
    assert veo.counts() == (1, 3, 1)
    post = next(r for r in veo.requests if r.method == "POST")
    assert post.path == "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning"
    assert post.body["instances"] == [
        {"prompt": "Close-up of a potter's hands shaping clay on a wheel"}
    ]
    assert post.body["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 6,  # the shortest offered length covering 5 s
        "aspectRatio": "16:9",
        "resolution": "720p",
        "negativePrompt": "cartoon, text",
    }
    polls = {r.path for r in veo.requests if "/operations/" in r.path}
    assert polls == {
        f"/v1beta/models/veo-3.1-fast-generate-preview/operations/{veo.submissions[0]}"
    }
    # the file URI got the key; the storage URL it redirected to did not
    assert any(":download" in r.path for r in veo.requests) and veo.keys_seen == []
    # veo-3.1-fast $0.10/s at 720p (tools.yaml, Google's pricing page) x 6 s billed
    assert done.cost_usd == pytest.approx(0.6)


def test_image_to_video_sends_the_frame_bytes(veo, tmp_path, frame):
    shot_ = shot("image_to_video", 7.8)
    done = run(
        tmp_path,
        node(shot_=shot_, first_frame=frame, aspect="9:16", model="veo-3.1-generate-preview"),
    )
    assert done.status == "succeeded", done.error
    assert frames_and_size(done.outputs["clip"].path)[1:] == (1080, 1920)
    post = next(r for r in veo.requests if r.method == "POST")
    assert post.path == "/v1beta/models/veo-3.1-generate-preview:predictLongRunning"
    image = post.body["instances"][0]["image"]
    assert image["mimeType"] == "image/png"
    assert base64.b64decode(image["bytesBase64Encoded"]) == frame.path.read_bytes()
    assert (post.body["parameters"]["durationSeconds"], post.body["parameters"]["aspectRatio"]) == (
        8,
        "9:16",
    )
    assert done.cost_usd == pytest.approx(0.40 * 8)


def test_image_to_video_without_a_frame_file_is_refused_before_sending(veo, tmp_path):
    url = "https://cdn.example.com/frames/s02.png"
    done = run(tmp_path, node(shot_=shot("image_to_video"), first_frame_url=url))
    assert done.status == "failed" and "needs the storyboard frame as a file" in str(done.error)
    assert veo.requests == []


def test_a_model_name_is_configuration(veo, tmp_path):
    done = run(tmp_path, node(model="veo-4.0-generate-preview", price_usd_per_s=0.5))
    assert done.status == "succeeded", done.error
    post = next(r for r in veo.requests if r.method == "POST")
    assert post.path == "/v1beta/models/veo-4.0-generate-preview:predictLongRunning"
    assert done.cost_usd == pytest.approx(3.0)


def test_an_unpriced_model_is_stopped_before_it_is_sent(veo, tmp_path):
    done = run(tmp_path, node(model="veo-4.0-generate-preview"))
    assert done.status == "failed" and "options.price_usd_per_s" in str(done.error)
    assert veo.counts()[0] == 0


def test_inline_video_bytes_are_used(veo, tmp_path):
    veo.script = ["running", "inline"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    assert frames_and_size(done.outputs["clip"].path)[0] == 150
    assert not any(":download" in r.path for r in veo.requests)


def test_a_file_served_by_the_api_itself_is_read_with_the_checks(veo, tmp_path):
    veo.files = "direct"
    done = run(tmp_path, node(max_bytes=1024))
    assert done.status == "failed" and "over the 1024-byte limit" in str(done.error)
    veo.requests.clear()
    done = run(tmp_path / "again", node())
    assert done.status == "succeeded", done.error


def test_a_failed_operation_gives_its_message(veo, tmp_path):
    veo.script = ["running", "error"]
    done = run(tmp_path, node())
    assert done.status == "failed"
    assert "[13]" in str(done.error) and "Video generation failed internally" in str(done.error)
    assert done.nodes["clip"].attempts == 1 and veo.counts()[0] == 1


def test_a_filtered_video_gives_the_safety_reason(veo, tmp_path):
    veo.script = ["filtered"]
    done = run(tmp_path, node())
    assert done.status == "failed" and "usage guidelines" in str(done.error)
    assert "RAI_FILTERED" in str(done.error)


def test_429_on_submission_is_retried_and_while_polling_waited_out(veo, tmp_path):
    veo.submit_errors = [429]
    veo.poll_errors = [429]
    veo.script = ["running", "done"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    assert done.nodes["clip"].attempts == 2 and veo.counts()[0] == 1


def test_an_operation_that_never_finishes_times_out_having_paid_once(veo, tmp_path):
    veo.script = ["running"]
    slow = node(timeout_s=1.0, retry={"max_attempts": 2, "initial_s": 0, "jitter_s": 0})
    done = run(tmp_path, slow)
    assert done.status == "failed" and "still running after 1 s" in str(done.error)
    submissions, polls, downloads = veo.counts()
    assert submissions == 1 and downloads == 0 and done.nodes["clip"].attempts == 2
    assert done.cost_usd == pytest.approx(0.6)


def test_a_rejected_key_names_the_variables_and_is_not_retried(veo, tmp_path, monkeypatch):
    wrong = "AIzaSyWrongWrongWrongWrong0000000000000"
    monkeypatch.setenv("GEMINI_API_KEY", wrong)
    done = run(tmp_path, node())
    assert done.status == "failed" and done.nodes["clip"].attempts == 1
    assert "GEMINI_API_KEY" in str(done.error) and wrong not in str(done.error)


def test_no_key_is_named_before_anything_is_sent(veo, tmp_path, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    done = run(tmp_path, node())
    assert done.status == "failed" and "set GEMINI_API_KEY" in str(done.error)
    assert veo.requests == []


def test_one_to_one_is_refused_before_sending(veo, tmp_path):
    done = run(tmp_path, node(aspect="1:1"))
    assert done.status == "failed" and "no 1:1 output" in str(done.error)
    assert veo.requests == []


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_budget_stops_before_the_clip_that_would_cross_it(veo, tmp_path):
    second = node("second", shot_=shot(id="s03", prompt="The finished bowl on a shelf"))
    second["needs"] = ["clip"]
    done = run(tmp_path, node(), second, budget=1.0)
    assert done.status == "over_budget" and done.nodes["second"].status == "blocked"
    assert veo.counts()[0] == 1 and done.cost_usd == pytest.approx(0.6)


def test_classify_maps_sdk_errors():
    from google.genai import errors

    plugin = VeoClips()
    limited = errors.ClientError(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})
    assert isinstance(plugin.classify_error(limited), RateLimitedError)
    rejected = errors.ClientError(
        400, {"error": {"code": 400, "details": [{"reason": "API_KEY_INVALID"}]}}
    )
    assert isinstance(plugin.classify_error(rejected), ConfigurationError)
    bad = errors.ClientError(400, {"error": {"code": 400, "message": "bad aspect"}})
    assert isinstance(plugin.classify_error(bad), InvalidInputError)
    assert plugin.classify_error(errors.ServerError(503, {"error": {"code": 503}})).retryable
    assert plugin.classify_error(ValueError("not ours")) is None


def test_a_planted_key_appears_nowhere(veo, tmp_path, capsys):
    veo.poll_errors = [429]
    veo.script = ["running", "done"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    texts = [
        path.read_bytes().decode("utf-8", "replace")
        for path in (tmp_path / "home").rglob("*")
        if path.is_file() and path.suffix != ".mp4"
    ]
    texts += [repr(done), json.dumps([repr(e) for e in done.events])]
    texts += list(capsys.readouterr())
    blob = "\n".join(texts)
    assert "clip.submitted" in blob and "veo-3.1-fast-generate-preview" in blob
    assert KEY not in blob


def test_environment_variables_and_secret_patterns():
    import re

    plugin = VeoClips()
    names = [name for name, _ in plugin.environment_variables()]
    assert names == ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"]
    ((_, pattern),) = plugin.secret_patterns()
    assert re.fullmatch(pattern, KEY)


def test_without_the_sdk_the_plugin_fails_to_load_with_the_install_line(monkeypatch):
    import importlib
    import importlib.util
    import sys

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "google.genai" else real(name, *a),
    )
    monkeypatch.delitem(sys.modules, "reelgraph.plugins.vendors.veo")
    with pytest.raises(ImportError, match=r"pip install 'reelgraph\[veo\]'"):
        importlib.import_module("reelgraph.plugins.vendors.veo")
