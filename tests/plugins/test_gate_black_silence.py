"""The black_silence gate on lavfi clips with known black and silent spans, and a real video."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Scene, Video
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.plugins.gates.black_silence import DEFAULTS, check_quality
from reelgraph.plugins.visuals.slides import render_shot
from reelgraph.run.context import NodeContext

FPS = 30


def make_clip(
    path: Path,
    seconds: float,
    *,
    black: tuple[float, float] | None = None,
    mute: list[tuple[float, float]] = (),  # type: ignore[assignment]
    audio: bool = True,
    gop: int | None = None,
) -> Path:
    """Grey-blue 320x240 at 30 fps + a 440 Hz tone; black frames and muted spans (seconds)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c=0x4060a0:s=320x240:r={FPS}:d={seconds}"]
    vf = "null"
    if black is not None:
        # Frames whose start time is in [a, b): exactly (b - a) seconds of black.
        vf = f"drawbox=enable='gte(t,{black[0]})*lt(t,{black[1]})':c=black:t=fill"
    if audio:
        af = ",".join(f"volume=enable='between(t,{a},{b})':volume=0" for a, b in mute) or "anull"
        cmd += ["-f", "lavfi", "-i", f"sine=f=440:sample_rate=48000:d={seconds}", "-af", af]
        cmd += ["-c:a", "aac"]
    cmd += ["-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    if gop is not None:
        cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    cmd += [str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def video_of(path: Path, seconds: float) -> Video:
    return Video(path=path, duration_s=seconds, width_px=320, height_px=240, fps=FPS)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Video]:
    root = tmp_path_factory.mktemp("black_silence")
    specs = {
        "clean": (4.0, {"black": (1.0, 1.3), "mute": [(1.5, 2.25)]}),  # short flash, pause
        "black": (4.0, {"black": (1.0, 2.5)}),
        "silence": (5.0, {"mute": [(1.0, 4.0)]}),
        "edges": (4.0, {"mute": [(0.0, 0.4), (3.6, 4.0)]}),
        "late_start": (5.0, {"mute": [(0.0, 3.0)]}),
        "no_audio": (3.0, {"audio": False}),
        # keyframes every 0.5 s, as the assembler writes them: black is sampled
        "black_keyed": (4.0, {"black": (1.0, 2.5), "gop": FPS // 2}),
        "clean_keyed": (4.0, {"black": (1.0, 1.3), "gop": FPS // 2}),
    }
    return {
        name: video_of(make_clip(root / f"{name}.mp4", seconds, **kw), seconds)
        for name, (seconds, kw) in specs.items()
    }


def gate(video: Video | None, tmp_path: Path, **kw) -> list[GateResult] | None:
    args = {"gates": None, "thresholds": {}} | kw
    return check_quality(video=video, ctx=NodeContext.for_testing(tmp_path), **args)


def checks(results: list[GateResult] | None) -> dict[str, GateResult]:
    assert results is not None and len(results) == 2
    assert {r.gate for r in results} == {"black_silence"}
    assert all(r.unit == "s" and r.stage == "video" for r in results)
    return {r.details["check"]: r for r in results}


def test_short_black_flash_and_scene_pause_pass(clips, tmp_path):
    c = checks(gate(clips["clean"], tmp_path))
    assert c["black_frames"].passed and c["silence"].passed
    assert c["black_frames"].measured == pytest.approx(0.3, abs=0.05)
    assert c["black_frames"].details["longest_start_s"] == pytest.approx(1.0, abs=0.05)
    assert c["silence"].measured == pytest.approx(0.75, abs=0.1)  # AAC frames blur the edges
    assert c["silence"].details["longest_start_s"] == pytest.approx(1.5, abs=0.1)
    assert c["black_frames"].threshold == 0.5 and c["silence"].threshold == 2.0


def test_black_segment_of_1_5_s_fails(clips, tmp_path):
    c = checks(gate(clips["black"], tmp_path))
    black = c["black_frames"]
    assert not black.passed and black.blocking
    assert black.measured == pytest.approx(1.5, abs=0.05)
    assert black.details["longest_start_s"] == pytest.approx(1.0, abs=0.05)
    assert "1.50 s at 1.00 s" in black.message and "1.00-2.50 s" in black.remedy
    assert c["silence"].passed and c["silence"].measured == 0.0


def test_silence_of_3_s_inside_the_narration_fails(clips, tmp_path):
    c = checks(gate(clips["silence"], tmp_path))
    silence = c["silence"]
    assert not silence.passed
    assert silence.measured == pytest.approx(3.0, abs=0.1)
    assert silence.details["longest_start_s"] == pytest.approx(1.0, abs=0.1)
    assert "shorten the silence" in silence.remedy
    assert c["black_frames"].passed and c["black_frames"].measured == 0.0


def test_silence_only_at_the_edges_is_ignored(clips, tmp_path):
    silence = checks(gate(clips["edges"], tmp_path))["silence"]
    assert silence.passed and silence.measured == 0.0
    assert len(silence.details["segments"]) == 2  # detected, then ignored


def test_late_start_counts_the_silence_after_the_edge(clips, tmp_path):
    silence = checks(gate(clips["late_start"], tmp_path))["silence"]
    assert not silence.passed
    assert silence.measured == pytest.approx(2.5, abs=0.1)  # 3 s minus the 0.5 s lead-in
    assert silence.details["longest_start_s"] == pytest.approx(0.5, abs=0.01)


def test_video_without_audio_fails_the_silence_check(clips, tmp_path):
    silence = checks(gate(clips["no_audio"], tmp_path))["silence"]
    assert not silence.passed and silence.details["has_audio"] is False
    assert silence.measured == pytest.approx(2.0, abs=0.05)  # 3 s minus both 0.5 s edges
    assert "no audio" in silence.message


def test_threshold_overrides_change_the_verdicts(clips, tmp_path):
    loose = {"black_silence": {"max_black_s": 2.0, "max_silence_s": 3.5}}
    c = checks(gate(clips["black"], tmp_path, thresholds=loose))
    assert c["black_frames"].passed and c["black_frames"].threshold == 2.0
    assert checks(gate(clips["silence"], tmp_path, thresholds=loose))["silence"].passed
    strict = {"black_silence": {"max_silence_s": 0.5}}
    assert not checks(gate(clips["clean"], tmp_path, thresholds=strict))["silence"].passed
    # A looser pixel threshold makes the grey-blue background count as black too.
    grey = {"black_silence": {"black_pix_th": 0.5}}
    black = checks(gate(clips["clean"], tmp_path, thresholds=grey))["black_frames"]
    assert not black.passed and black.measured == pytest.approx(4.0, abs=0.05)


@pytest.mark.parametrize(
    ("thresholds", "match"),
    [
        ({"black_silence": {"max_black": 1}}, "max_black"),
        ({"black_silence": {"black_pix_th": 2}}, "black_pix_th"),
        ({"black_silence": {"silence_noise_db": "quiet"}}, "silence_noise_db"),
    ],
)
def test_bad_overrides_are_rejected_naming_the_key(clips, tmp_path, thresholds, match):
    with pytest.raises(InvalidInputError, match=match):
        gate(clips["clean"], tmp_path, thresholds=thresholds)


def test_returns_none_when_not_selected_or_no_video(clips, tmp_path):
    assert gate(clips["clean"], tmp_path, gates=["loudness"]) is None
    assert gate(None, tmp_path) is None


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match="absent.mp4"):
        gate(video_of(tmp_path / "absent.mp4", 1.0), tmp_path)


def test_defaults():
    assert DEFAULTS["max_black_s"] == 0.5 and DEFAULTS["max_silence_s"] == 2.0
    assert DEFAULTS["silence_noise_db"] == -50.0 and DEFAULTS["edge_s"] == 0.5


def test_real_dark_slides_video_passes_through_pluggy(media, tmp_path):
    """Dark-theme slides (background #0f172a) are not black; 0.75 s pauses are not silence."""
    ctx = NodeContext.for_testing(tmp_path / "slides")
    scenes = [
        Scene(index=0, kind="title", title="Gates", bullets=[]),
        Scene(index=1, kind="closing", title="Thanks", bullets=[]),
    ]
    visuals = [render_shot(scene=s, aspect="16:9", options={}, ctx=ctx) for s in scenes]
    narrations = [
        media.narration([("One sentence.", 1.2), ("Another.", 0.8)], 0),
        media.narration([("Last words.", 1.0)], 1),
    ]
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=FPS,
        pause_s=0.75,
        options={"preset": "veryfast"},
        ctx=NodeContext.for_testing(tmp_path / "run"),
    )
    registry = PluginRegistry(env={"REELGRAPH_PLUGINS": "black_silence"}).load()
    outputs = registry.pm.hook.check_quality(
        document=None,
        script=None,
        visuals=None,
        narrations=None,
        video=video,
        targets={},
        gates=["black_silence"],
        thresholds={},
        ctx=NodeContext.for_testing(tmp_path),
    )
    (results,) = [out for out in outputs if out]
    c = checks(results)
    assert c["black_frames"].passed and c["black_frames"].measured == 0.0
    assert c["silence"].passed
    assert c["silence"].measured == pytest.approx(0.75, abs=0.1)  # the pause after scene 0


def test_keyframe_sampling_when_keyframes_are_frequent(clips, tmp_path):
    full = checks(gate(clips["black"], tmp_path))["black_frames"]
    keyed = checks(gate(clips["black_keyed"], tmp_path))["black_frames"]
    assert full.details["sampled_every_s"] is None  # default x264 GOP: every frame decoded
    assert keyed.details["sampled_every_s"] == 0.5
    assert not keyed.passed
    # 1.5 s of black, seen through keyframes every 0.5 s
    assert keyed.measured == pytest.approx(1.5, abs=0.5)
    assert checks(gate(clips["clean_keyed"], tmp_path))["black_frames"].passed


def test_keyframes_decoded_once_each_agree_with_ffmpeg_blackdetect(media, tmp_path):
    """A black slide between two coloured ones: same runs as ffmpeg blackdetect on keyframes."""
    from reelgraph.plugins._media.probe import _BLACK, _run_null, scan_keyframes

    visuals = [
        media.image(0, (640, 360), (40, 60, 200)),
        media.image(1, (640, 360), (0, 0, 0)),
        media.image(2, (640, 360), (40, 160, 60)),
    ]
    narrations = [media.narration([("Words.", 1.4)], i) for i in range(3)]
    video = assemble_video(
        script=media.script(narrations), visuals=visuals, narrations=narrations, fps=FPS,
        pause_s=0.5, options={"preset": "veryfast"}, ctx=NodeContext.for_testing(tmp_path / "a"),
    )  # fmt: skip
    scan = scan_keyframes(video.path, pix_th=0.05, pic_th=0.98)
    assert scan.duration_s == pytest.approx(video.duration_s, abs=0.01) and scan.has_audio
    ours = scan.black_runs(0.1)
    args = ["-map", "0:v:0", "-vf", "blackdetect=d=0.1:pix_th=0.05:pic_th=0.98"]
    log = _run_null(args, "scan", video.path, ["-skip_frame:v", "nokey"])
    theirs = [(float(m.group(1)), float(m.group(2))) for m in _BLACK.finditer(log)]
    assert len(ours) == len(theirs) == 1
    assert ours[0].start_s == pytest.approx(theirs[0][0], abs=0.01) == pytest.approx(1.9, abs=0.01)
    assert ours[0].end_s == pytest.approx(theirs[0][1], abs=0.01) == pytest.approx(3.8, abs=0.01)
    result = checks(gate(video, tmp_path))["black_frames"]
    assert result.details["sampled_every_s"] == 0.5
    assert not result.passed and result.measured == pytest.approx(1.9, abs=0.01)


def test_a_long_tail_after_the_last_keyframe_forces_a_full_decode(clips):
    """x264 put keyframes at 0 and 1 s only: the 3 s tail is too long to sample."""
    from reelgraph.plugins._media.probe import scan_keyframes

    def interval(name: str) -> float | None:
        return scan_keyframes(clips[name].path, pix_th=0.05, pic_th=0.98).max_keyframe_interval_s

    assert interval("black") == pytest.approx(3.0, abs=0.05)
    assert interval("black_keyed") == pytest.approx(0.5, abs=0.01)


def test_one_pass_reads_the_same_length_as_the_gates_common_probe(clips):
    from reelgraph.plugins._media.probe import scan_keyframes
    from reelgraph.plugins.gates._common import probe_duration_s

    for name in ("black", "black_keyed", "clean_keyed"):
        scan = scan_keyframes(clips[name].path, pix_th=0.05, pic_th=0.98)
        assert scan.duration_s == pytest.approx(probe_duration_s(clips[name].path), abs=1e-6)
