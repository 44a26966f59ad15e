"""The ``duration`` gate on real MP4s (ffmpeg lavfi) and on scripts from the extractive writer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import reelgraph.plugins.gates.duration as gate_duration
import reelgraph.plugins.writers.extractive as extractive
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Scene, Script, Section, Video
from reelgraph.plan.registry import PluginRegistry
from reelgraph.run.context import NodeContext


def make_mp4(path: Path, seconds: float) -> Path:
    """A tiny black H.264 clip (160x90, 10 fps), so the test stays fast."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c=black:s=160x90:r=10:d={seconds}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("duration")
    return {"25s": make_mp4(root / "long.mp4", 25), "7s": make_mp4(root / "ok.mp4", 7)}


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _video(path: Path, declared_s: float) -> Video:
    return Video(path=path, duration_s=declared_s, width_px=160, height_px=90, fps=10)


def _check(ctx: NodeContext, **kwargs) -> list | None:
    args = {"script": None, "video": None, "targets": {}, "gates": None, "thresholds": {}}
    args.update(kwargs)
    return gate_duration.check_quality(ctx=ctx, **args)


def _document(paragraphs: int = 8) -> Document:
    """A document of several sections of plain sentences (about 10 words each)."""
    sections = [
        Section(
            heading=f"Topic {chr(65 + s)}",
            level=2,
            blocks=[
                Block(
                    kind="paragraph",
                    text=" ".join(
                        f"Sentence {i} of topic {chr(65 + s)} explains one more useful detail here."
                        for i in range(paragraphs)
                    ),
                )
            ],
        )
        for s in range(4)
    ]
    return Document(
        title="Duration test", sections=[Section(heading="Duration test", level=1)] + sections
    )


# -- video stage ------------------------------------------------------------------


def test_video_20_s_too_long_fails_with_measured_length(clips, ctx) -> None:
    # Declared 5 s on purpose: the gate must measure the file, not trust the model.
    results = _check(ctx, video=_video(clips["25s"], 5.0), targets={"duration_s": 5})
    assert results is not None and len(results) == 1
    result = results[0]
    assert result.gate == "duration" and result.stage == "video"
    assert not result.passed and result.blocking
    assert result.measured == pytest.approx(25.0, abs=0.15)
    assert result.threshold == 5.0 and result.unit == "s"
    assert result.details["difference_s"] == pytest.approx(20.0, abs=0.15)
    assert result.remedy.startswith("too long: shorten by about 20 s")


def test_video_within_tolerance_passes(clips, ctx) -> None:
    [result] = _check(ctx, video=_video(clips["7s"], 7.0), targets={"duration_s": 5})
    assert result.passed
    assert result.measured == pytest.approx(7.0, abs=0.15)


def test_video_too_short_is_an_error(clips, ctx) -> None:
    [result] = _check(ctx, video=_video(clips["7s"], 7.0), targets={"duration_s": 20})
    assert not result.passed and result.severity == "error"
    assert result.measured == pytest.approx(7.0, abs=0.15)
    assert result.remedy.startswith("too short: about 13 s under")


def test_tolerance_override_and_bad_overrides(clips, ctx) -> None:
    video = _video(clips["25s"], 25.0)
    [result] = _check(
        ctx, video=video, targets={"duration_s": 5}, thresholds={"duration": {"tolerance_s": 30}}
    )
    assert result.passed and result.threshold == 30.0
    with pytest.raises(InvalidInputError, match=r"duration.*'tolerance'"):
        _check(
            ctx, video=video, targets={"duration_s": 5}, thresholds={"duration": {"tolerance": 1}}
        )
    with pytest.raises(InvalidInputError, match=r"thresholds\.duration\.tolerance_s"):
        _check(
            ctx,
            video=video,
            targets={"duration_s": 5},
            thresholds={"duration": {"tolerance_s": -1}},
        )


def test_skips_without_target_or_when_not_selected(clips, ctx) -> None:
    video = _video(clips["7s"], 7.0)
    assert _check(ctx, video=video) is None
    assert _check(ctx, video=video, targets={"duration_s": None}) is None
    assert _check(ctx, video=video, targets={"duration_s": 5}, gates=["captions"]) is None
    assert _check(ctx, targets={"duration_s": 5}) is None  # nothing to measure


def test_unreadable_video_is_invalid_input(tmp_path, ctx) -> None:
    bogus = tmp_path / "not_a_video.mp4"
    bogus.write_text("hello")
    with pytest.raises(InvalidInputError, match="not_a_video.mp4"):
        _check(ctx, video=_video(bogus, 1.0), targets={"duration_s": 5})


# -- script stage -----------------------------------------------------------------


def test_script_estimate_matches_the_writer(ctx) -> None:
    script = Script(
        title="t",
        scenes=[
            Scene(index=0, title="a", narration=["one two three four", "five six seven eight"]),
            Scene(index=1, title="b", narration=["nine ten"]),
        ],
    )
    [result] = _check(ctx, script=script, targets={"duration_s": 8})
    # 10 words at 160 wpm = 3.75 s, plus 2 scenes x 1 s.
    assert result.measured == pytest.approx(5.75)
    assert result.stage == "script" and result.passed


def test_too_long_script_fails_and_its_remedy_makes_the_writer_shorten(ctx) -> None:
    document = _document()
    write = {"document": document, "key_messages": [], "options": {}, "ctx": ctx}
    # The writer is not told the target: the gate must catch it before audio is made.
    first = extractive.write_script(duration_s=None, feedback=[], **write)
    [result] = _check(ctx, script=first, targets={"duration_s": 30})
    assert not result.passed and result.blocking and result.stage == "script"
    estimate = gate_duration.estimate_script_s(first, 160, 1.0)
    assert result.measured == pytest.approx(estimate, abs=1e-3)
    assert estimate > 60
    over = round(estimate - 30)
    assert result.remedy.startswith("too long: shorten by about")
    assert abs(int(result.remedy.split("about ")[1].split(" s")[0]) - over) <= 1
    # The review loop passes the remedy back as feedback; the writer must shorten.
    second = extractive.write_script(duration_s=None, feedback=[result.remedy], **write)
    shorter = gate_duration.estimate_script_s(second, 160, 1.0)
    assert shorter < estimate * 0.85
    [again] = _check(ctx, script=second, targets={"duration_s": 30})
    assert again.measured == pytest.approx(shorter, abs=1e-3)


def test_script_fitted_by_the_writer_passes(ctx) -> None:
    script = extractive.write_script(
        document=_document(), duration_s=45, key_messages=[], feedback=[], options={}, ctx=ctx
    )
    [result] = _check(ctx, script=script, targets={"duration_s": 45})
    assert result.passed, result.message
    assert 40 <= result.measured <= 45


def test_too_short_script_is_a_warning_the_writer_does_not_misread(ctx) -> None:
    document = _document(paragraphs=2)
    write = {
        "document": document,
        "key_messages": [],
        "options": {},
        "ctx": ctx,
        "duration_s": None,
    }
    script = extractive.write_script(feedback=[], **write)
    [result] = _check(ctx, script=script, targets={"duration_s": 300})
    assert not result.passed and not result.blocking
    assert result.severity == "warning"
    assert result.remedy.startswith("too short:")
    # Fed back by mistake, it must not make the writer cut material.
    assert extractive.write_script(feedback=[result.remedy], **write) == script


def test_called_through_pluggy(clips, tmp_path) -> None:
    registry = PluginRegistry(env={"REELGRAPH_PLUGINS": "duration"}).load()
    outputs = registry.pm.hook.check_quality(
        document=None,
        script=None,
        visuals=None,
        narrations=None,
        video=_video(clips["25s"], 25.0),
        targets={"duration_s": 5},
        gates=None,
        thresholds={},
        ctx=NodeContext.for_testing(tmp_path),
    )
    results = [r for batch in outputs if batch for r in batch]
    assert [r.gate for r in results] == ["duration"]
    assert not results[0].passed
