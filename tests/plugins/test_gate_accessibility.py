"""The ``accessibility`` gate on real PNGs: Pillow-drawn test slides and the slides plugin's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

import reelgraph.plugins.gates.accessibility as gate_accessibility
from reelgraph.errors import InvalidInputError
from reelgraph.models import Scene, Video, Visual
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.visuals.slides import THEMES, contrast_ratio, render_slide
from reelgraph.run.context import NodeContext

SIZE = (480, 270)  # 16:9, small so the test is fast; the 5 % margin is 24 x 13.5 px


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def slide(
    path: Path,
    background: str,
    text: str,
    at: tuple[int, int] = (60, 100),
    scene: int = 0,
    alt: str = "A slide",
) -> Visual:
    """A PNG with one line of anti-aliased text in ``text`` colour on ``background``."""
    image = Image.new("RGB", SIZE, background)
    font = ImageFont.load_default(size=40)
    ImageDraw.Draw(image).text(at, "Low contrast", fill=text, font=font)
    image.save(path)
    return Visual(scene_index=scene, path=path, width_px=SIZE[0], height_px=SIZE[1], alt_text=alt)


def _check(ctx: NodeContext, **kwargs) -> dict | None:
    args = {"visuals": None, "video": None, "gates": None, "thresholds": {}}
    args.update(kwargs)
    results = gate_accessibility.check_quality(ctx=ctx, **args)
    if results is None:
        return None
    assert all(r.gate == "accessibility" for r in results)
    return {r.details["check"]: r for r in results}


def test_good_slide_passes(tmp_path, ctx) -> None:
    visual = slide(tmp_path / "good.png", "#0f172a", "#f8fafc")
    results = _check(ctx, visuals=[visual])
    assert set(results) == {"alt_text", "contrast", "safe_area"}
    assert all(r.passed and r.stage == "shots" for r in results.values())
    contrast = results["contrast"]
    assert contrast.measured == pytest.approx(contrast_ratio("#f8fafc", "#0f172a"), abs=0.01)
    assert contrast.details["slides"][0]["text"] == "#f8fafc"
    assert contrast.details["slides"][0]["background"] == "#0f172a"
    assert results["safe_area"].measured == 0 and results["alt_text"].measured == 0


def test_low_contrast_slide_fails(tmp_path, ctx) -> None:
    good = slide(tmp_path / "good.png", "#0f172a", "#f8fafc", scene=0)
    low = slide(tmp_path / "low.png", "#888888", "#777777", scene=1)
    contrast = _check(ctx, visuals=[good, low])["contrast"]
    assert not contrast.passed and contrast.blocking
    expected = contrast_ratio("#777777", "#888888")
    assert expected < 1.5
    assert contrast.measured == pytest.approx(expected, abs=0.01)
    assert contrast.threshold == 4.5 and contrast.unit == "ratio"
    assert contrast.details["worst_scene"] == 1
    assert contrast.details["low_contrast_scenes"] == [1]
    assert contrast.details["slides"][1]["text"] == "#777777"


def test_text_outside_title_safe_area_fails(tmp_path, ctx) -> None:
    inside = slide(tmp_path / "in.png", "#ffffff", "#111827", scene=0)
    outside = slide(tmp_path / "out.png", "#ffffff", "#111827", at=(6, 100), scene=1)
    safe = _check(ctx, visuals=[inside, outside])["safe_area"]
    assert not safe.passed and safe.measured == 1
    assert safe.details["outside"][0]["scene"] == 1
    assert safe.details["outside"][0]["sides"] == ["left"]
    # The text starts about 6 px from the left edge: a 1 % margin (5 px) holds no ink.
    smaller = _check(ctx, visuals=[outside], thresholds={"accessibility": {"safe_margin": 0.01}})[
        "safe_area"
    ]
    assert smaller.passed and smaller.measured == 0


def test_missing_alt_text_counts(tmp_path, ctx) -> None:
    a = slide(tmp_path / "a.png", "#0f172a", "#f8fafc", scene=0, alt="  ")
    b = slide(tmp_path / "b.png", "#0f172a", "#f8fafc", scene=1, alt="Title slide")
    alt = _check(ctx, visuals=[a, b])["alt_text"]
    assert not alt.passed and alt.measured == 1
    assert alt.details["missing_scenes"] == [0]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_slides_plugin_code_slide_passes(tmp_path, ctx, theme) -> None:
    # A code panel covers more of the frame than the background: it must not
    # pass for the text colour, nor the background for a text colour on it.
    code = "\n".join(f"value_{i} = compute({i}, cache=True)" for i in range(14))
    scene = Scene(index=0, kind="code", title="Configuration", code=code, code_language="python")
    image, _ = render_slide(scene, 1920, 1080, THEMES[theme])
    image.save(tmp_path / "code.png")
    visual = Visual(
        scene_index=0, path=tmp_path / "code.png", width_px=1920, height_px=1080, alt_text="code"
    )
    results = _check(ctx, visuals=[visual], video=None)
    assert results["contrast"].passed, results["contrast"].message
    assert results["contrast"].measured >= 4.5
    assert results["contrast"].details["slides"][0]["text"] == "#{:02x}{:02x}{:02x}".format(
        *THEMES[theme].foreground
    )
    assert results["safe_area"].passed


def test_video_clips_are_not_measured(tmp_path, ctx) -> None:
    clip = Visual(
        scene_index=0,
        kind="video",
        path=tmp_path / "clip.mp4",
        width_px=160,
        height_px=90,
        alt_text="A test pattern",
        duration_s=2.0,
    )
    video = Video(path=tmp_path / "v.mp4", duration_s=2, width_px=160, height_px=90, fps=10)
    results = _check(ctx, visuals=[clip], video=video)
    assert set(results) == {"alt_text", "clips"}
    assert results["clips"].severity == "info" and results["clips"].stage == "video"
    assert results["alt_text"].passed


def test_skips_and_bad_input(tmp_path, ctx) -> None:
    visual = slide(tmp_path / "a.png", "#0f172a", "#f8fafc")
    assert _check(ctx, visuals=None) is None
    assert _check(ctx, visuals=[visual], gates=["captions"]) is None
    with pytest.raises(InvalidInputError, match="min_ratio"):
        _check(ctx, visuals=[visual], thresholds={"accessibility": {"min_ratio": 3}})
    with pytest.raises(InvalidInputError, match="min_contrast"):
        _check(ctx, visuals=[visual], thresholds={"accessibility": {"min_contrast": 30}})
    broken = visual.model_copy(update={"path": tmp_path / "missing.png"})
    with pytest.raises(InvalidInputError, match="missing.png"):
        _check(ctx, visuals=[broken])


def test_called_through_pluggy(tmp_path) -> None:
    low = slide(tmp_path / "low.png", "#888888", "#777777")
    outputs = (
        PluginRegistry(env={"REELGRAPH_PLUGINS": "accessibility"})
        .load()
        .pm.hook.check_quality(
            document=None,
            script=None,
            visuals=[low],
            narrations=None,
            video=None,
            targets={},
            gates=None,
            thresholds={},
            ctx=NodeContext.for_testing(tmp_path),
        )
    )
    results = {r.details["check"]: r for batch in outputs if batch for r in batch}
    assert not results["contrast"].passed
    assert results["contrast"].measured == pytest.approx(contrast_ratio("#777", "#888"), abs=0.01)
