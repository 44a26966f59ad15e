"""The ``accessibility`` gate on real PNGs: Pillow-drawn test slides and the slides plugin's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

import reelgraph.plugins.gates.accessibility as gate_accessibility
from reelgraph.errors import InvalidInputError
from reelgraph.models import Scene, Video, Visual
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.visuals import _fonts
from reelgraph.plugins.visuals.slides import (
    GLYPHS_KEY,
    THEMES,
    contrast_ratio,
    draw_slide,
    glyph_record,
    render_shot,
    render_slide,
    slide_faces,
)
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
    assert set(results) == {"alt_text", "contrast", "safe_area", "glyphs"}
    assert all(r.passed and r.stage == "shots" for r in results.values())
    # A PNG the slides plugin did not draw has no record of its fonts: not checked.
    assert results["glyphs"].severity == "info"
    assert results["glyphs"].details["unchecked_scenes"] == [0]
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


# -- glyphs ---------------------------------------------------------------------


def _rich_cjk_lines() -> list[str]:
    """Chinese, Japanese and Korean sentences from rich's demo (a dependency of typer)."""
    import importlib.util
    import re

    source = Path(importlib.util.find_spec("rich.__main__").origin).read_text(encoding="utf-8")
    lines = re.findall(r":flag_for_\w+:\s+([^\\\n\"]+)", source)
    assert len(lines) >= 3, "rich's demo no longer holds its CJK sentences"
    return [line.strip() for line in lines[:3]]


@pytest.fixture(scope="module")
def cjk_installed() -> None:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig is not installed (apt-get install fontconfig)")
    found = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True)
    if not found.stdout.strip():
        pytest.skip("no Japanese font installed (apt-get install fonts-noto-cjk)")


def _cjk_scene(index: int) -> Scene:
    zh, ja, ko = _rich_cjk_lines()
    return Scene(index=index, kind="content", title=zh, bullets=[ja, ko])


def test_slide_drawn_with_a_latin_font_and_cjk_text_fails(tmp_path, ctx, cjk_installed) -> None:
    scene = _cjk_scene(3)
    # The low-level path with the fallback off: DejaVu draws the CJK text as boxes.
    faces = slide_faces(scene, fallback=False)
    assert all(len(chain) == 1 and "DejaVu" in chain[0].path.name for chain in faces.values())
    drawn = draw_slide(scene, 1920, 1080, THEMES["dark"], faces)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(GLYPHS_KEY, glyph_record(drawn.drawn))
    drawn.image.save(tmp_path / "tofu.png", pnginfo=info)
    visual = Visual(
        scene_index=3, path=tmp_path / "tofu.png", width_px=1920, height_px=1080, alt_text="CJK"
    )
    glyphs = _check(ctx, visuals=[visual])["glyphs"]
    assert not glyphs.passed and glyphs.blocking and glyphs.severity == "error"
    assert glyphs.measured == 1 and glyphs.details["worst_scene"] == 3
    assert "scene 3" in glyphs.message and "U+" in glyphs.message
    missing = "".join(item["chars"] for item in glyphs.details["missing"])
    assert "支" in missing and "ラ" in missing and "한" in missing
    assert "fonts-noto-cjk" in glyphs.remedy


def test_slide_rendered_by_the_plugin_passes(tmp_path, ctx, cjk_installed) -> None:
    visual = render_shot(scene=_cjk_scene(1), aspect="16:9", options={}, ctx=ctx)
    results = _check(ctx, visuals=[visual])
    glyphs = results["glyphs"]
    assert glyphs.passed and glyphs.severity == "error" and glyphs.measured == 0
    assert glyphs.details["unchecked_scenes"] == []
    assert results["contrast"].passed and results["safe_area"].passed
    # The record names a CJK font, and the gate checked every character with it.
    from PIL import Image as PILImage

    with PILImage.open(visual.path) as image:
        record = json.loads(image.text[GLYPHS_KEY])
    fonts = {Path(run["font"]).name for run in record["runs"]}
    assert any("CJK" in name for name in fonts), fonts
    drawn = "".join(run["chars"] for run in record["runs"])
    assert all(ch in drawn for ch in "该库支持ライブラリ이")


def test_unreadable_font_in_the_record_fails(tmp_path, ctx) -> None:
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", SIZE, "#0f172a")
    info = PngInfo()
    record = {"runs": [{"font": str(tmp_path / "gone.ttf"), "index": 0, "chars": "Ab"}]}
    info.add_itxt(GLYPHS_KEY, json.dumps(record))
    image.save(tmp_path / "gone.png", pnginfo=info)
    visual = Visual(
        scene_index=0, path=tmp_path / "gone.png", width_px=480, height_px=270, alt_text="x"
    )
    glyphs = _check(ctx, visuals=[visual])["glyphs"]
    assert not glyphs.passed
    assert "cannot read the font" in glyphs.details["missing"][0]["error"]


def test_gate_reads_the_cmap_itself(cjk_installed) -> None:
    # The gate's own fontTools read agrees with the plugin's on a real CJK face.
    (face,) = slide_faces(_cjk_scene(0))["sans"]
    assert face is not None
    assert gate_accessibility._cmap(str(face.path), face.index) == _fonts.font_chars(face)
    record = {"runs": [{"font": str(face.path), "index": face.index, "chars": "中文\U00010000"}]}
    assert gate_accessibility.missing_glyphs(record)[0]["chars"] == "\U00010000"
