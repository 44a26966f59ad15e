"""The conformance gate on real MP4s built with ffmpeg lavfi, and on an assembled video."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest
import srt

from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.plugins.gates.conformance import check_quality
from reelgraph.run.context import NodeContext

SMALL = {"width_px": 320, "height_px": 240, "fps": 30, "sample_rate_hz": 48_000}


def write_srt(path: Path) -> Path:
    cue = srt.Subtitle(1, timedelta(seconds=0.2), timedelta(seconds=1.5), "Hello there.")
    path.write_text(srt.compose([cue]), encoding="utf-8")
    return path


def make_clip(
    path: Path,
    *,
    fps: int = 30,
    pix_fmt: str = "yuv420p",
    rate_hz: int | None = 48_000,
    faststart: bool = True,
    subtitles: Path | None = None,
    fmt: str = "mp4",
) -> Path:
    """A 2 s 320x240 H.264 clip with a sine (AAC) and optionally mov_text subtitles."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc=s=320x240:r={fps}:d=2"]
    maps = ["-map", "0:v"]
    if rate_hz is not None:
        cmd += ["-f", "lavfi", "-i", f"sine=f=440:sample_rate={rate_hz}:d=2"]
        maps += ["-map", "1:a"]
    if subtitles is not None:
        cmd += ["-i", str(subtitles)]
        maps += ["-map", f"{2 if rate_hz else 1}:s", "-c:s", "mov_text"]
    cmd += [*maps, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", pix_fmt]
    cmd += ["-profile:v", "high"] if pix_fmt == "yuv420p" else []
    cmd += ["-c:a", "aac"] if rate_hz is not None else []
    cmd += ["-movflags", "+faststart"] if faststart else []
    subprocess.run([*cmd, "-f", fmt, str(path)], check=True, capture_output=True)
    return path


def video_of(path: Path) -> Video:
    return Video(path=path, duration_s=2.0, width_px=320, height_px=240, fps=30)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Video]:
    root = tmp_path_factory.mktemp("conformance")
    subs = write_srt(root / "cues.srt")
    variants = {
        "good": {"subtitles": subs},
        "bad": {"fps": 25, "pix_fmt": "yuv444p", "rate_hz": 44_100, "faststart": False},
        "no_faststart": {"subtitles": subs, "faststart": False},
        "quicktime": {"subtitles": subs, "fmt": "mov"},
        "silent": {"subtitles": subs, "rate_hz": None},
    }
    return {name: video_of(make_clip(root / f"{name}.mp4", **kw)) for name, kw in variants.items()}


def gate(video: Video | None, tmp_path: Path, **kw) -> GateResult:
    args = {"targets": SMALL, "gates": None, "thresholds": {}} | kw
    results = check_quality(video=video, ctx=NodeContext.for_testing(tmp_path), **args)
    assert results is not None
    (result,) = results
    assert result.gate == "conformance" and result.stage == "video"
    return result


def failed(result: GateResult) -> dict[str, dict]:
    return {f["property"]: f for f in result.details["failures"]}


def test_web_safe_clip_passes(clips, tmp_path):
    result = gate(clips["good"], tmp_path)
    assert result.passed, result.message
    assert result.measured == 0.0 and result.unit == "checks"
    found = result.details["found"]
    assert found["video_profile"] == "High" and found["pix_fmt"] == "yuv420p"
    assert found["fps"] == 30.0 and found["sample_rate"] == 48_000
    assert found["faststart"] == "moov before mdat" and found["subtitles"] == ["mov_text"]
    assert found["container"] == "mp4 (brand isom)"


def test_every_failed_property_is_named_with_expected_and_found(clips, tmp_path):
    result = gate(clips["bad"], tmp_path)
    assert not result.passed and result.blocking
    fails = failed(result)
    assert set(fails) == {
        "video_profile", "pix_fmt", "fps", "faststart", "sample_rate", "subtitles"
    }  # fmt: skip
    assert result.measured == 6.0
    assert fails["pix_fmt"] == {"property": "pix_fmt", "expected": "yuv420p", "found": "yuv444p"}
    assert fails["fps"]["found"] == 25.0 and fails["fps"]["expected"] == "30 +-0.01"
    assert fails["sample_rate"]["found"] == 44_100 and fails["sample_rate"]["expected"] == 48_000
    assert fails["faststart"]["found"] == "moov after mdat"
    assert fails["video_profile"]["found"] == "High 4:4:4 Predictive"
    assert fails["subtitles"]["found"] == "none"
    for name in fails:
        assert name in result.message
    assert "pix_fmt yuv444p (expected yuv420p)" in result.message
    assert "+faststart" in result.remedy


def test_missing_faststart_alone_fails(clips, tmp_path):
    result = gate(clips["no_faststart"], tmp_path)
    assert set(failed(result)) == {"faststart"}
    assert gate(
        clips["no_faststart"], tmp_path, thresholds={"conformance": {"faststart": False}}
    ).passed


def test_quicktime_brand_fails_the_container_check(clips, tmp_path):
    result = gate(clips["quicktime"], tmp_path)
    fails = failed(result)
    assert set(fails) == {"container"}
    assert fails["container"]["found"] == "mov (brand qt)"


def test_missing_audio_fails_the_audio_properties(clips, tmp_path):
    fails = failed(gate(clips["silent"], tmp_path))
    assert set(fails) == {"audio_codec", "audio_profile", "sample_rate"}
    assert fails["audio_codec"]["found"] == "none"


def test_targets_and_defaults_set_size_rate_and_fps(clips, tmp_path):
    result = gate(clips["good"], tmp_path, targets={})  # defaults: 1920x1080, 30 fps, 48 kHz
    fails = failed(result)
    assert set(fails) == {"resolution"}
    assert fails["resolution"] == {
        "property": "resolution",
        "expected": "1920x1080",
        "found": "320x240",
    }
    result = gate(clips["bad"], tmp_path, targets=SMALL | {"fps": 25, "sample_rate_hz": 44_100})
    assert "fps" not in failed(result) and "sample_rate" not in failed(result)


def test_threshold_overrides_relax_checks(clips, tmp_path):
    loose = {"conformance": {"pix_fmt": "yuv444p", "video_profile": "High 4:4:4 Predictive"}}
    result = gate(clips["bad"], tmp_path, thresholds=loose)
    assert not {"pix_fmt", "video_profile"} & set(failed(result))
    tolerant = {"conformance": {"fps_tolerance": 5.0, "require_subtitles": False}}
    result = gate(clips["bad"], tmp_path, thresholds=tolerant)
    assert not {"fps", "subtitles"} & set(failed(result))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"thresholds": {"conformance": {"pixfmt": "yuv420p"}}}, "pixfmt"),
        ({"thresholds": {"conformance": {"faststart": "yes"}}}, "faststart"),
        ({"thresholds": {"conformance": {"video_codec": ""}}}, "video_codec"),
        ({"thresholds": {"conformance": {"fps_tolerance": -1}}}, "fps_tolerance"),
        ({"targets": {"fps": 0}}, "fps"),
        ({"targets": {"width_px": "wide"}}, "width_px"),
    ],
)
def test_bad_overrides_are_rejected_naming_the_key(clips, tmp_path, kw, match):
    with pytest.raises(InvalidInputError, match=match):
        gate(clips["good"], tmp_path, **kw)


def test_returns_none_when_not_selected_or_no_video(clips, tmp_path):
    ctx = NodeContext.for_testing(tmp_path)
    common = {"targets": {}, "thresholds": {}, "ctx": ctx}
    assert check_quality(video=clips["good"], gates=["loudness"], **common) is None
    assert check_quality(video=None, gates=None, **common) is None


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match="gone.mp4"):
        gate(video_of(tmp_path / "gone.mp4"), tmp_path)


def test_assembled_video_conforms_through_pluggy(media, tmp_path):
    narrations = [media.narration([("A sentence.", 1.0)], 0), media.narration([("Two.", 0.6)], 1)]
    visuals = [media.image(0, (640, 360), (20, 40, 80)), media.image(1, (640, 360), (80, 40, 20))]
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=30,
        pause_s=0.75,
        options={},
        ctx=NodeContext.for_testing(tmp_path / "run"),
    )
    registry = PluginRegistry(env={"REELGRAPH_PLUGINS": "conformance"}).load()
    outputs = registry.pm.hook.check_quality(
        document=None,
        script=None,
        visuals=None,
        narrations=None,
        video=video,
        targets={"width_px": 640, "height_px": 360, "fps": 30},
        gates=["conformance"],
        thresholds={},
        ctx=NodeContext.for_testing(tmp_path),
    )
    (results,) = [out for out in outputs if out]
    (result,) = results
    assert result.passed, result.message
    assert result.details["found"]["resolution"] == "640x360"


def test_aspect_target_stands_for_its_frame_size(clips, tmp_path):
    rest = {"fps": 30, "sample_rate_hz": 48_000}
    portrait = gate(clips["good"], tmp_path, targets={"aspect": "9:16", **rest})
    assert not portrait.passed
    failed = {f["property"]: f for f in portrait.details["failures"]}
    assert failed["resolution"]["expected"] == "1080x1920"
    assert failed["resolution"]["found"] == "320x240"
    with pytest.raises(InvalidInputError, match="targets.aspect"):
        gate(clips["good"], tmp_path, targets={"aspect": "4:3", **rest})
