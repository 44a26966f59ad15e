"""The loudness gate on real MP4s: lavfi sine tones at known levels and an assembled video.

A 1 kHz sine of peak amplitude A measures 20*log10(A) - 3.01 LUFS (ITU-R
BS.1770 is calibrated so; K-weighting is ~0 dB at 1 kHz) and its true peak is
20*log10(A) dBTP. ffmpeg's ``sine`` source has A = 1/8 (-18.06 dBFS), so
``volume=5dB`` gives about -16.1 LUFS and a -13.1 dBTP peak.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.plugins.gates.loudness import DEFAULTS, check_quality
from reelgraph.run.context import NodeContext

SINE_DBFS = -18.06  # ffmpeg sine source amplitude 1/8


def make_clip(path: Path, seconds: float, *, gain_db: float | None, fps: int = 30) -> Path:
    """Blue 320x240 H.264 + a 1 kHz sine (AAC 48 kHz) at ``SINE_DBFS + gain_db``; no audio if None."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c=blue:s=320x240:r={fps}:d={seconds}"]
    if gain_db is not None:
        sine = f"sine=f=1000:sample_rate=48000:d={seconds},volume={gain_db}dB"
        cmd += ["-f", "lavfi", "-i", sine, "-c:a", "aac", "-b:a", "128k"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def video_of(path: Path, seconds: float = 3.0) -> Video:
    return Video(path=path, duration_s=seconds, width_px=320, height_px=240, fps=30)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Video]:
    root = tmp_path_factory.mktemp("loudness")
    levels = {"on_target": 5.0, "quiet": -10.0, "hot": 17.9, "none": None}
    return {
        name: video_of(make_clip(root / f"{name}.mp4", 3.0, gain_db=gain))
        for name, gain in levels.items()
    }


def gate(video: Video | None, tmp_path: Path, **kw) -> list[GateResult] | None:
    args = {"targets": {}, "gates": None, "thresholds": {}} | kw
    return check_quality(video=video, ctx=NodeContext.for_testing(tmp_path), **args)


def by_check(results: list[GateResult]) -> dict[str, GateResult]:
    assert {r.gate for r in results} == {"loudness"}
    assert all(r.stage == "video" and r.severity == "error" for r in results)
    return {r.details["check"]: r for r in results}


def test_tone_at_minus_16_lufs_passes_both_checks(clips, tmp_path):
    results = by_check(gate(clips["on_target"], tmp_path))
    integrated, peak = results["integrated"], results["true_peak"]
    assert integrated.passed and peak.passed
    assert integrated.unit == "LUFS" and peak.unit == "dBTP"
    assert integrated.measured == pytest.approx(SINE_DBFS + 5.0 - 3.01, abs=0.3)
    # AAC coding lifts the true peak of the tone's abrupt onset by up to ~1 dB.
    assert SINE_DBFS + 5.0 - 0.2 <= peak.measured <= SINE_DBFS + 5.0 + 1.2
    assert integrated.threshold == -16.0 and peak.threshold == -1.0
    assert integrated.remedy == "" and peak.remedy == ""


def test_quiet_tone_fails_loudness_but_not_true_peak(clips, tmp_path):
    results = by_check(gate(clips["quiet"], tmp_path))
    integrated = results["integrated"]
    assert not integrated.passed and integrated.blocking
    assert integrated.measured == pytest.approx(SINE_DBFS - 10.0 - 3.01, abs=0.3)
    assert "too quiet" in integrated.message
    assert "loudnorm" in integrated.remedy and "-16 LUFS" in integrated.remedy
    assert results["true_peak"].passed


def test_hot_tone_fails_both_loudness_and_true_peak(clips, tmp_path):
    results = by_check(gate(clips["hot"], tmp_path))
    integrated, peak = results["integrated"], results["true_peak"]
    assert not integrated.passed and "too loud" in integrated.message
    assert integrated.measured == pytest.approx(SINE_DBFS + 17.9 - 3.01, abs=0.4)
    assert not peak.passed
    assert peak.measured > -1.0 and peak.measured == pytest.approx(-0.2, abs=0.6)
    assert "dBTP" in peak.message and "ceiling" in peak.message


def test_targets_loudness_sets_the_target(clips, tmp_path):
    results = by_check(gate(clips["quiet"], tmp_path, targets={"loudness_lufs": -31}))
    assert results["integrated"].passed
    assert results["integrated"].threshold == -31.0
    assert results["integrated"].details["allowed_lufs"] == [-32.0, -30.0]


def test_threshold_overrides_change_the_verdict(clips, tmp_path):
    loose = {"loudness": {"tolerance_lu": 16.0, "max_true_peak_dbtp": 0.0}}
    results = by_check(gate(clips["quiet"], tmp_path, thresholds=loose))
    assert results["integrated"].passed
    strict = {"loudness": {"max_true_peak_dbtp": -15.0}}
    results = by_check(gate(clips["on_target"], tmp_path, thresholds=strict))
    assert not results["true_peak"].passed and results["true_peak"].threshold == -15.0


def test_video_without_audio_fails_with_no_measurement(clips, tmp_path):
    results = by_check(gate(clips["none"], tmp_path))
    assert not any(r.passed for r in results.values())
    assert all(r.measured is None and "no audio" in r.message for r in results.values())


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"thresholds": {"loudness": {"target_lfus": -16}}}, "target_lfus"),
        ({"thresholds": {"loudness": {"tolerance_lu": -1}}}, "tolerance_lu"),
        ({"thresholds": {"loudness": {"max_true_peak_dbtp": "loud"}}}, "max_true_peak_dbtp"),
        ({"targets": {"loudness_lufs": 3}}, "loudness_lufs"),
    ],
)
def test_bad_overrides_are_rejected_naming_the_key(clips, tmp_path, kw, match):
    with pytest.raises(InvalidInputError, match=match):
        gate(clips["on_target"], tmp_path, **kw)


def test_returns_none_when_not_selected_or_no_video(clips, tmp_path):
    assert gate(clips["on_target"], tmp_path, gates=["captions"]) is None
    assert gate(None, tmp_path) is None
    assert gate(clips["on_target"], tmp_path, gates=["loudness"]) is not None


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match="nothere.mp4"):
        gate(video_of(tmp_path / "nothere.mp4"), tmp_path)


def test_defaults_are_the_streaming_speech_targets():
    assert DEFAULTS == {"target_lufs": -16.0, "tolerance_lu": 1.0, "max_true_peak_dbtp": -1.0}


def test_assembled_video_is_normalised_and_passes(media, tmp_path):
    """A real assembly of quiet tones (about -28 LUFS as spoken) lands at -16 LUFS."""
    narrations = [
        media.narration([("First sentence.", 1.5), ("Second one.", 1.0)], 0, amplitude=2000),
        media.narration([("Third sentence here.", 2.0)], 1, amplitude=2000),
    ]
    visuals = [media.image(0, (640, 360), (30, 60, 90)), media.image(1, (640, 360), (90, 60, 30))]
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=30,
        pause_s=0.75,
        options={},
        ctx=NodeContext.for_testing(tmp_path / "run"),
    )
    registry = PluginRegistry(env={"REELGRAPH_PLUGINS": "loudness"}).load()
    outputs = registry.pm.hook.check_quality(
        document=None,
        script=None,
        visuals=None,
        narrations=None,
        video=video,
        targets={},
        gates=None,
        thresholds={},
        ctx=NodeContext.for_testing(tmp_path),
    )
    (results,) = [out for out in outputs if out]
    checks = by_check(results)
    assert checks["integrated"].passed, checks["integrated"].message
    assert checks["integrated"].measured == pytest.approx(-16.0, abs=1.0)
    assert checks["true_peak"].passed and checks["true_peak"].measured <= -1.0


@pytest.mark.parametrize("factor", [4, 8])
def test_screened_true_peak_equals_oversampling_the_whole_track(factor) -> None:
    """Skipping blocks that cannot reach the peak changes nothing: the same maximum as
    resample_poly over every sample (to float32's precision), on noise with one spike
    and a peak in the last, partial block."""
    import numpy as np
    from scipy.signal import resample_poly

    from reelgraph.plugins._media.probe import _oversampled_peak

    rng = np.random.default_rng(7)
    for n in (500, 1024, 1025, 40_000, 123_457):
        x = rng.standard_normal(n) * 0.05
        x[rng.integers(n)] = 0.9
        x[-1] = -0.95  # a peak in the last, partial block
        whole = float(np.abs(resample_poly(x, factor, 1)).max())  # float64, every sample
        assert _oversampled_peak(x, factor) == pytest.approx(whole, rel=1e-6)
    assert _oversampled_peak(np.zeros(3000), factor) == 0.0
