"""The shared clip machinery (plugins/vendors/_clips.py): lengths, per-item inputs,
decode checks, normalisation (sound kept or dropped), inline frames, and the
polling cadence measured at a fake Runway API."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import pytest
from PIL import Image

from reelgraph import InvalidInputError, Kernel
from reelgraph.plugins.vendors._clips import (
    ClipLimits,
    billed_seconds,
    clip_inputs,
    image_data_uri,
    normalise_clip,
    probe_video,
)
from reelgraph.plugins.vendors.runway import RunwayClips
from tests.fakes.runway_server import FakeRunway, tiny_mp4

SHOT = {
    "id": "s03",
    "scene_index": 2,
    "shot_type": "wide",
    "framing": "wide",
    "camera_move": "static",
    "lighting": "soft",
    "subject": "a bridge",
    "prompt": "A bridge at night",
    "storyboard_frame": "the bridge, lights on",
    "duration_s": 4.0,
    "mode": "slide",
}


def test_billed_seconds_is_the_shortest_covering_length():
    limits = ClipLimits("m", frozenset({"text_to_video"}), (5.0, 9.0), frozenset({"16:9"}))
    assert billed_seconds(limits, 4.0, 0.5) == 5.0
    assert billed_seconds(limits, 5.4, 0.5) == 5.0  # held 0.4 s
    assert billed_seconds(limits, 5.6, 0.5) == 9.0
    assert billed_seconds(limits, 9.6, 0.5) is None


def test_clip_inputs_take_the_plans_provider_model_and_the_scenes_frame(tmp_path):
    frames = [
        {"scene_index": i, "path": str(tmp_path / f"f{i}.png"), "width_px": 1920,
         "height_px": 1080, "alt_text": f"frame {i}"}
        for i in range(4)
    ]  # fmt: skip
    plan = {
        "shots": [
            {"shot_id": "s01", "provider": "luma", "model": "ray-2"},
            {"shot_id": "s03", "provider": "runway", "model": "gen4_turbo"},
        ]
    }
    item = clip_inputs(SHOT, None, {"plan": plan, "frames": frames, "seed": 7}, "runway")
    assert item.chosen == "runway" and item.answers("runway", None)
    assert not item.answers("luma", None) and item.answers("luma", "luma")  # pinned wins
    assert item.options == {"seed": 7, "model": "gen4_turbo"}  # plan and frames taken out
    assert item.first_frame is not None and item.first_frame.alt_text == "frame 2"
    assert item.shot.mode == "slide"
    other = clip_inputs(SHOT, None, {"plan": plan}, "luma")
    assert "model" not in other.options  # the plan's model is runway's, not luma's
    with pytest.raises(InvalidInputError, match=r"runway: shot\.duration_s"):
        clip_inputs({**SHOT, "duration_s": -1}, None, {}, "runway")


def _mp4_with_sound(path: Path, seconds: float) -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=640x480:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_normalise_keeps_sound_only_when_asked_and_fits_every_aspect(tmp_path):
    source = _mp4_with_sound(tmp_path / "in.mp4", 2.0)
    kept = normalise_clip(
        source, tmp_path / "a.mp4", aspect="1:1", duration_s=3.0, keep_audio=True, what="t"
    )
    assert (kept.width_px, kept.height_px, kept.fps, kept.has_audio) == (1080, 1080, 30.0, True)
    assert kept.frames == 90
    with av.open(str(tmp_path / "a.mp4")) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac" and audio.codec_context.sample_rate == 48000
        assert float(container.duration) / 1e6 == pytest.approx(3.0, abs=0.05)
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert container.streams.video[0].sample_aspect_ratio in (None, 1)
    dropped = normalise_clip(
        source, tmp_path / "b.mp4", aspect="9:16", duration_s=1.5, keep_audio=False, what="t"
    )
    assert (dropped.width_px, dropped.height_px, dropped.has_audio) == (1080, 1920, False)
    assert dropped.frames == 45
    assert not list(tmp_path.glob("*.part.mp4"))


def test_probe_refuses_what_is_not_a_video(tmp_path):
    still = tmp_path / "still.png"
    Image.new("RGB", (64, 64)).save(still)
    text = tmp_path / "page.mp4"
    text.write_bytes(b"<html>nope</html>" * 50)
    with pytest.raises(InvalidInputError, match="not a decodable video"):
        probe_video(text, "clip x")
    found = probe_video(tiny_mp4(tmp_path / "ok.mp4", seconds=1.0), "clip y")
    assert found.frames == 24 and found.duration_s == pytest.approx(1.0)


def test_a_failed_normalisation_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 1000)
    with pytest.raises(InvalidInputError, match="ffmpeg could not normalise"):
        normalise_clip(bad, tmp_path / "out.mp4", aspect="16:9", duration_s=1, keep_audio=False,
                       what="clip z")  # fmt: skip
    assert list(tmp_path.iterdir()) == [bad]


def test_image_data_uri_inline_png_or_smaller_jpeg(tmp_path):
    small = tmp_path / "small.png"
    Image.new("RGB", (320, 180), (10, 20, 30)).save(small)
    uri = image_data_uri(small)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == small.read_bytes()
    noisy = tmp_path / "noisy.png"
    Image.effect_noise((1920, 1080), 100).convert("RGB").save(noisy)
    big = image_data_uri(noisy, max_bytes=100_000)
    assert big.startswith("data:image/jpeg;base64,")
    assert len(big) < 5 * 1024 * 1024  # Runway's data URI limit
    with pytest.raises(InvalidInputError, match="cannot read it"):
        image_data_uri(tmp_path / "missing.png")


def test_polling_backs_off_from_the_first_wait_to_the_cap(tmp_path, monkeypatch):
    mp4 = tiny_mp4(tmp_path / "clip.mp4", seconds=1.0)
    with FakeRunway(mp4, key="rw-cadence-secret-0000000000") as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", server.key)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        server.script = ["PENDING"] * 6 + ["SUCCEEDED"]
        spec = {
            "name": "cadence",
            "nodes": [
                {
                    "id": "clip",
                    "hook": "generate_clip",
                    "provider": "runway",
                    "with": {
                        "shot": {**SHOT, "mode": "text_to_video"},
                        "options": {"poll_s": 0.2, "poll_max_s": 0.5},
                    },
                }
            ],
        }
        run = Kernel(plugins={"runway": RunwayClips()}, entry_points=False, home=tmp_path).run(spec)
        assert run.status == "succeeded", run.error
        polls = [r.at for r in server.requests if r.method == "GET" and "/v1/tasks/" in r.path]
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert len(gaps) == 6
    # 0.2, 0.3, 0.45, then capped at 0.5 (x1.5 per poll): within scheduling noise
    for gap, expected in zip(gaps, [0.2, 0.3, 0.45, 0.5, 0.5, 0.5], strict=True):
        assert expected - 0.02 <= gap <= expected + 0.25, gaps
