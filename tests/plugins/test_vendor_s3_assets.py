"""s3_assets publishes a frame to S3-compatible storage as a presigned URL, and Luma's
image-to-video sends it as its keyframe: boto3 against moto's S3 server on loopback, the
real ``lumaai`` SDK against the fake Luma API, which fetches the frame from that URL.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reelgraph import Kernel
from reelgraph.errors import ConfigurationError
from reelgraph.plugins.vendors import s3_assets
from reelgraph.plugins.vendors.luma import LumaClips
from tests.fakes.luma_server import FakeLuma
from tests.fakes.runway_server import tiny_mp4

KEY = "luma-s3-test-key-5f0c1e2d3b4a6978"
BUCKET = "frames"


@pytest.fixture
def storage(moto_url, monkeypatch):
    """An empty bucket on the moto server, and the environment pointing at it."""
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "REELGRAPH_ASSET_URL": f"s3://{BUCKET}/run-frames",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def frame(tmp_path) -> Path:
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (30, 90, 160)).save(path)
    return path


# -- the publisher ---------------------------------------------------------------------------


def test_without_a_setting_nothing_is_published(frame, monkeypatch):
    monkeypatch.delenv("REELGRAPH_ASSET_URL", raising=False)
    assert s3_assets.publish_asset(path=frame, content_type="image/png", expires_s=600) is None


def test_a_frame_becomes_a_presigned_url_that_serves_it(storage, frame):
    url = s3_assets.publish_asset(path=frame, content_type="image/png", expires_s=600)
    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == frame.read_bytes()
    assert answer.headers["content-type"] == "image/png"
    # the bucket stays private: the same object without the signature is refused
    assert httpx.get(url.split("?")[0]).status_code == 403
    # named by content, under the prefix: publishing again reuses the name
    keys = [o["Key"] for o in storage.list_objects_v2(Bucket=BUCKET)["Contents"]]
    again = s3_assets.publish_asset(path=frame, content_type="image/png", expires_s=10**9)
    assert keys == [o["Key"] for o in storage.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("run-frames/") and keys[0].endswith(".png")
    assert again is not None and f"X-Amz-Expires={s3_assets.MAX_EXPIRES_S}" in again


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("https://frames.example.com/x", "is not s3://BUCKET/PREFIX"),
        ("s3://no-such-bucket/x", "refused the upload (NoSuchBucket)"),
    ],
)
def test_a_bad_setting_is_a_configuration_error_naming_it(storage, frame, monkeypatch, setting,
                                                         words):  # fmt: skip
    monkeypatch.setenv("REELGRAPH_ASSET_URL", setting)
    with pytest.raises(ConfigurationError) as caught:
        s3_assets.publish_asset(path=frame, content_type="image/png", expires_s=600)
    assert words in str(caught.value) and "testing" not in str(caught.value)


# -- Luma, image-to-video from the published frame ---------------------------------------------


@pytest.fixture
def luma(tmp_path_factory, monkeypatch):
    mp4 = tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=5.0, size="640x360")
    with FakeLuma(mp4, key=KEY) as server:
        monkeypatch.setenv("LUMAAI_API_KEY", KEY)
        monkeypatch.setenv("LUMAAI_BASE_URL", server.base_url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


def clip_spec(frame: Path, mode: str) -> dict:
    shot = {
        "id": "s01",
        "scene_index": 0,
        "shot_type": "wide",
        "framing": "wide",
        "camera_move": "slow push in",
        "lighting": "soft",
        "subject": "a title card",
        "prompt": "The title card drifts gently towards the viewer",
        "storyboard_frame": "the title on blue",
        "duration_s": 1.0,  # short: the clip is normalised to 1080p by ffmpeg
        "mode": mode,
    }
    first_frame = {
        "scene_index": 0,
        "path": str(frame),
        "width_px": 640,
        "height_px": 360,
        "alt_text": "the title on blue",
    }
    return {
        "name": "luma-frame",
        "nodes": [
            {
                "id": "clip",
                "hook": "generate_clip",
                "provider": "luma",
                "with": {
                    "shot": shot,
                    "first_frame": first_frame,
                    "aspect": "16:9",
                    "options": {"poll_s": 0.05, "poll_max_s": 0.1},
                },
                "retry": {"max_attempts": 1},
            }
        ],
        "outputs": {"clip": "$clip"},
    }


def run(tmp_path, spec):
    kernel = Kernel(
        plugins={"luma": LumaClips(), "s3_assets": s3_assets},
        entry_points=False,
        home=tmp_path / "home",
    )
    return kernel.run(spec)


def test_luma_fetches_the_published_frame_as_its_keyframe(storage, luma, frame, tmp_path):
    done = run(tmp_path, clip_spec(frame, "image_to_video"))
    assert done.status == "succeeded", done.error
    post = next(r for r in luma.requests if r.method == "POST")
    url = post.body["keyframes"]["frame0"]["url"]
    assert post.body["keyframes"]["frame0"]["type"] == "image" and "X-Amz-Signature=" in url
    # the fake fetched the frame from the presigned URL, as Luma would, and got the PNG
    assert luma.frames == [(url, "image/png", frame.read_bytes())]
    assert done.outputs["clip"].kind == "video"


def test_a_slide_shot_without_a_publisher_is_made_text_to_video_and_says_so(
    luma, frame, tmp_path, monkeypatch
):
    monkeypatch.delenv("REELGRAPH_ASSET_URL", raising=False)
    done = run(tmp_path, clip_spec(frame, "slide"))
    assert done.status == "succeeded", done.error
    post = next(r for r in luma.requests if r.method == "POST")
    assert "keyframes" not in post.body and luma.frames == []
    said = [e.data["message"] for e in done.events if e.type == "node.progress" and e.data]
    assert any("text-to-video" in (m or "") and "REELGRAPH_ASSET_URL" in m for m in said), said


def test_an_image_to_video_shot_without_a_publisher_is_refused_before_sending(
    luma, frame, tmp_path, monkeypatch
):
    monkeypatch.delenv("REELGRAPH_ASSET_URL", raising=False)
    done = run(tmp_path, clip_spec(frame, "image_to_video"))
    assert done.status == "failed"
    assert "REELGRAPH_ASSET_URL" in str(done.error) and luma.requests == []


def test_the_plan_says_that_lumas_image_to_video_needs_a_published_frame():
    from reelgraph.models import PlanConstraints, Shot, ShotList, ToolCatalog
    from reelgraph.plugins.production.catalog import shipped_tools
    from reelgraph.plugins.production.planner import make_plan

    tools = [t for t in shipped_tools() if t["provider"] in ("luma", "slides")]
    shot = Shot.model_validate(
        clip_spec(Path("frame.png"), "image_to_video")["nodes"][0]["with"]["shot"]
    )
    plan = make_plan(
        ShotList(title="Frames", shots=[shot]),
        ToolCatalog.from_answers([tools]),
        PlanConstraints(min_quality=2),
    )
    (decision,) = plan.shots
    assert decision.provider == "luma"
    step = next(s for s in decision.steps if s.step == "image-to-video")
    assert "REELGRAPH_ASSET_URL" in step.detail and "text-to-video" in step.detail
