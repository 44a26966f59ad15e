"""The kling clip provider: httpx and a PyJWT token against a fake Kling API on loopback.

The fake verifies every bearer token (HS256 signature, ``iss``, ``exp``,
``nbf``) and answers Kling's ``code``/``message``/``data`` envelope.
"""

from __future__ import annotations

import base64
import importlib
import json
import time
from pathlib import Path

import av
import jwt
import pytest

from reelgraph.errors import ConfigurationError, InvalidInputError, RateLimitedError
from reelgraph.models import Visual
from reelgraph.plugins.vendors.kling import KlingClips
from reelgraph.plugins.vendors.kling.plugin import KlingAPIError, jwt_token
from tests.fakes.clip_vendors import clip_node, run_clip_nodes
from tests.fakes.kling_server import FakeKling
from tests.fakes.runway_server import tiny_mp4

ACCESS = "ak-kling-test-7d3f9a1c5e2b4680"
SECRET = "sk-kling-planted-secret-93b1e0c7a4d2f658"


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=5.0, size="640x360")


@pytest.fixture
def kling(mp4, monkeypatch):
    with FakeKling(mp4, access_key=ACCESS, secret_key=SECRET) as server:
        monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
        monkeypatch.setenv("KLING_SECRET_KEY", SECRET)
        monkeypatch.setenv("KLING_BASE_URL", server.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


@pytest.fixture
def frame(tmp_path) -> Visual:
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (40, 90, 160)).save(path)
    return Visual(scene_index=1, path=path, width_px=640, height_px=360, alt_text="a blue frame")


def shot(mode: str = "text_to_video", duration_s: float = 4.0, **more) -> dict:
    return {
        "id": "s01",
        "scene_index": 1,
        "shot_type": "medium",
        "framing": "medium",
        "camera_move": "slow push in",
        "lighting": "blue hour",
        "subject": "a tram crossing a bridge",
        "prompt": "A tram crosses a river bridge at blue hour",
        "negative_prompt": "text, watermark",
        "storyboard_frame": "tram left to right, city lights behind",
        "duration_s": duration_s,
        "mode": mode,
        **more,
    }


def node(node_id="clip", *, shot_=None, **settings):
    return clip_node("kling", shot_ or shot(), node_id, **settings)


def run(tmp_path, *nodes, budget=None):
    return run_clip_nodes(KlingClips(), tmp_path, *nodes, budget=budget)


def test_the_token_is_hs256_with_iss_exp_nbf():
    now = 1_765_000_000
    token = jwt_token(ACCESS, SECRET, now=now)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert claims == {"iss": ACCESS, "exp": now + 1800, "nbf": now - 5}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-000000000000000000", algorithms=["HS256"])


def test_the_token_is_reused_then_renewed_before_it_expires(monkeypatch):
    plugin = KlingClips()
    clock = [1_765_000_000.0]
    module = importlib.import_module("reelgraph.plugins.vendors.kling.plugin")
    monkeypatch.setattr(module.time, "time", lambda: clock[0])
    first = plugin.token(ACCESS, SECRET)
    clock[0] += 1400
    assert plugin.token(ACCESS, SECRET) == first
    clock[0] += 200  # 1600 s old: within 5 minutes of its 1800 s expiry
    renewed = plugin.token(ACCESS, SECRET)
    unchecked = {"verify_exp": False, "verify_nbf": False}
    claims = jwt.decode(renewed, SECRET, algorithms=["HS256"], options=unchecked)
    assert renewed != first and claims["nbf"] == 1_765_000_000 + 1600 - 5


def test_text_to_video_after_submitted_and_processing(kling, tmp_path):
    kling.script = ["submitted", "processing", "processing", "succeed"]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    clip = done.outputs["clip"]
    assert isinstance(clip, Visual) and clip.kind == "video" and clip.duration_s == 4.0
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        assert float(stream.average_rate) == 30
    assert frames == 120  # the 5 s clip trimmed to the shot's 4 s at 30 fps
    assert kling.counts() == (1, 4, 1)
    post = next(r for r in kling.requests if r.method == "POST")
    assert post.path == "/v1/videos/text2video"
    assert post.body == {
        "model_name": "kling-v2-6",
        "prompt": "A tram crosses a river bridge at blue hour",
        "mode": "std",
        "duration": "5",
        "negative_prompt": "text, watermark",
        "aspect_ratio": "16:9",
    }
    polls = [r.path for r in kling.requests if r.method == "GET" and r.path.startswith("/v1")]
    assert set(polls) == {f"/v1/videos/text2video/{kling.submissions[0]}"}
    # every request was signed: the fake verified iss = the access key, exp, nbf
    assert len(kling.tokens) == 5 and {t["iss"] for t in kling.tokens} == {ACCESS}
    assert all(t["exp"] - t["nbf"] == 1805 for t in kling.tokens)
    # kling-v2-6 std $0.042/s (tools.yaml: $0.21 for 5 s, Kling's pricing page) x 5 s billed
    assert done.cost_usd == pytest.approx(0.21)


def test_image_to_video_sends_the_frame_as_bare_base64_in_pro_mode(kling, tmp_path, frame):
    shot_ = shot("image_to_video", 9.8)
    done = run(tmp_path, node(shot_=shot_, first_frame=frame, model="kling-v2-6 (pro)"))
    assert done.status == "succeeded", done.error
    post = next(r for r in kling.requests if r.method == "POST")
    assert post.path == "/v1/videos/image2video"
    assert (post.body["mode"], post.body["duration"]) == ("pro", "10")
    assert "aspect_ratio" not in post.body  # image2video takes the image's shape
    assert base64.b64decode(post.body["image"]) == frame.path.read_bytes()
    get = [r for r in kling.requests if r.method == "GET" and r.path.startswith("/v1")]
    assert get and all(r.path.startswith("/v1/videos/image2video/") for r in get)
    assert done.cost_usd == pytest.approx(0.07 * 10)


def test_failed_task_gives_task_status_msg(kling, tmp_path):
    kling.script = ["processing", "failed"]
    done = run(tmp_path, node())
    assert done.status == "failed"
    assert "Failure to pass the risk control system" in str(done.error)
    assert done.nodes["clip"].attempts == 1 and kling.counts()[0] == 1


def test_concurrency_limit_code_is_rate_limiting_and_retried(kling, tmp_path):
    kling.submit_errors = [1303, 1302]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    assert done.nodes["clip"].attempts == 3 and kling.counts()[0] == 1


def test_concurrency_limit_while_polling_is_waited_out(kling, tmp_path):
    kling.script = ["processing", "succeed"]
    kling.poll_errors = [1303]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    assert done.nodes["clip"].attempts == 1 and kling.counts()[0] == 1


def test_classify_maps_kling_codes():
    plugin = KlingClips()
    limited = plugin.classify(KlingAPIError(429, 1303, "parallel task over resource pack limit"))
    assert isinstance(limited, RateLimitedError) and limited.retry_after_s == 1.0
    assert isinstance(plugin.classify(KlingAPIError(429, 1302, "too fast")), RateLimitedError)
    auth = plugin.classify(KlingAPIError(401, 1004, "Authorization has expired"))
    assert isinstance(auth, ConfigurationError) and "KLING_SECRET_KEY" in str(auth)
    depleted = plugin.classify(KlingAPIError(429, 1102, "Resource pack depleted"))
    assert isinstance(depleted, ConfigurationError)  # not retried: buying resources helps
    assert isinstance(plugin.classify(KlingAPIError(400, 1301, "policy")), InvalidInputError)
    assert plugin.classify(KlingAPIError(500, 5000, "Server internal error")).retryable
    assert plugin.classify(ValueError("not ours")) is None
    # the kernel asks the hook; it answers for Kling's own exception type only
    assert isinstance(plugin.classify_error(KlingAPIError(429, 1303, "x")), RateLimitedError)
    assert plugin.classify_error(ValueError("x")) is None


def test_a_task_that_never_finishes_times_out_having_paid_once(kling, tmp_path):
    kling.script = ["processing"]
    slow = node(timeout_s=1.0, retry={"max_attempts": 2, "initial_s": 0, "jitter_s": 0})
    done = run(tmp_path, slow)
    assert done.status == "failed" and "still running after 1 s" in str(done.error)
    submissions, polls, downloads = kling.counts()
    assert submissions == 1 and downloads == 0  # the retry polled the journaled task
    assert polls >= 4 and done.nodes["clip"].attempts == 2
    assert done.cost_usd == pytest.approx(0.21)


def test_a_wrong_secret_fails_the_signature_and_names_the_variables(kling, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_SECRET_KEY", "sk-kling-wrong-secret-0000000000000000")
    done = run(tmp_path, node())
    assert done.status == "failed" and done.nodes["clip"].attempts == 1
    message = str(done.error)
    assert "KLING_SECRET_KEY" in message and "Authentication failed" in message
    assert "sk-kling-wrong-secret" not in message and kling.counts()[0] == 0


def test_missing_keys_are_named_before_anything_is_sent(kling, tmp_path, monkeypatch):
    monkeypatch.delenv("KLING_SECRET_KEY")
    done = run(tmp_path, node())
    assert done.status == "failed" and "set KLING_SECRET_KEY" in str(done.error)
    assert kling.requests == []


def test_budget_stops_before_the_task_that_would_cross_it(kling, tmp_path):
    second = node("second", shot_=shot(id="s02", prompt="The tram stops at the station"))
    second["needs"] = ["clip"]
    done = run(tmp_path, node(), second, budget=0.30)
    assert done.status == "over_budget"
    assert done.nodes["second"].status == "blocked"
    assert kling.counts()[0] == 1 and done.cost_usd == pytest.approx(0.21)


def test_an_unpriced_model_is_stopped_before_it_is_sent(kling, tmp_path):
    done = run(tmp_path, node(model="kling-v2-5-turbo"))
    assert done.status == "failed" and "options.price_usd_per_s" in str(done.error)
    assert kling.counts()[0] == 0
    done = run(tmp_path / "priced", node(model="kling-v2-5-turbo (pro)", price_usd_per_s=0.05))
    assert done.status == "succeeded", done.error
    post = next(r for r in kling.requests if r.method == "POST")
    assert (post.body["model_name"], post.body["mode"]) == ("kling-v2-5-turbo", "pro")
    assert done.cost_usd == pytest.approx(0.25)


def test_estimate_cost_prices_before_submission():
    plugin = KlingClips()
    args = {
        "shot": shot(duration_s=7.0),
        "aspect": "9:16",
        "options": {"model": "kling-v2-6 (pro)"},
    }
    assert plugin.estimate_cost("generate_clip", "kling", args) == pytest.approx(0.7)
    assert plugin.estimate_cost("generate_clip", "kling", {**args, "options": {}}) == pytest.approx(
        0.42
    )
    assert plugin.estimate_cost("render_shot", "kling", args) is None


def test_a_planted_key_appears_nowhere(kling, tmp_path, capsys):
    kling.script = ["processing", "succeed"]
    kling.submit_errors = [1303]
    done = run(tmp_path, node())
    assert done.status == "succeeded", done.error
    tokens = {
        r.headers["authorization"].split(" ", 1)[1]
        for r in kling.requests
        if r.path.startswith("/v1")
    }
    assert tokens
    texts = []
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file() and path.suffix != ".mp4":
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    texts += [repr(done), json.dumps([repr(e) for e in done.events])]
    texts += list(capsys.readouterr())  # the structured log
    blob = "\n".join(texts)
    assert "clip.submitted" in blob and "kling-v2-6" in blob  # logs and the store were read
    for secret in (SECRET, *tokens):
        assert secret not in blob


def test_environment_variables_and_secret_patterns():
    plugin = KlingClips()
    names = [name for name, _ in plugin.environment_variables()]
    assert names == ["KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_BASE_URL"]
    import re

    ((_, pattern),) = plugin.secret_patterns()
    assert re.search(pattern, f"Bearer {jwt_token(ACCESS, SECRET, now=time.time())}")


def test_without_pyjwt_the_plugin_fails_to_load_with_the_install_line(monkeypatch):
    import importlib.util
    import sys

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jwt" else real(name, *a)
    )
    monkeypatch.delitem(sys.modules, "reelgraph.plugins.vendors.kling")
    with pytest.raises(ImportError, match=r"pip install 'reelgraph\[kling\]'"):
        importlib.import_module("reelgraph.plugins.vendors.kling")
