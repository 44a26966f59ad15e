"""Tests for the ``slides`` render_shot provider (Pillow slides)."""

from __future__ import annotations

from pathlib import Path

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import reelgraph.plugins.visuals._layout as _layout
import reelgraph.plugins.visuals.slides as slides
from reelgraph import InvalidInputError, hookspecs
from reelgraph.models import ASPECT_SIZES, Scene
from reelgraph.run.context import NodeContext

ASPECTS = list(ASPECT_SIZES)
KINDS = ["title", "content", "code", "closing"]
DARK = slides.THEMES["dark"]

SIX_BULLETS = [
    "Each stage is a pluggy hook with typed inputs",
    "Providers are swapped in the YAML spec",
    "Map nodes render every scene in parallel",
    "Quality gates check contrast and loudness",
    "Everything runs offline",
    "Runs are traced with OpenTelemetry",
]
CODE = 'pip install reelgraph\nfor f in *.md; do\n\treelgraph run "$f"\ndone\n'

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6
ABSURD_TITLE = "A heading that never seems to end and keeps going " * 8 + LONG_WORD
ABSURD_BULLETS = ["This point rambles on about everything at great length " * 6 + LONG_WORD] * 9
ABSURD_CODE = "\n".join(
    f"        result_{i} = call_a_function_with_a_very_long_name(arg_{i}, {'x' * 120!r})"
    for i in range(80)
)


def make_scene(kind: str, index: int = 0, *, absurd: bool = False) -> Scene:
    if absurd:
        return Scene(
            index=index,
            kind=kind,
            title=ABSURD_TITLE,
            bullets=ABSURD_BULLETS,
            code=ABSURD_CODE,
            code_language="python",
        )
    bullets = {"content": SIX_BULLETS, "title": ["A short subtitle"], "closing": ["Thanks"]}
    return Scene(
        index=index,
        kind=kind,
        title=f"The {kind} slide",
        bullets=bullets.get(kind, []),
        code=CODE if kind == "code" else None,
        code_language="bash" if kind == "code" else None,
    )


def outside_is_background(image: Image.Image, box: _layout.Box, colour: tuple) -> bool:
    """True when every pixel outside ``box`` has exactly ``colour``."""
    width, height = image.size
    left, top, right, bottom = box
    strips = [(0, 0, width, top), (0, bottom, width, height), (0, 0, left, height)]
    strips.append((right, 0, width, height))
    for strip in strips:
        region = image.crop(strip)
        area = region.width * region.height
        if area and region.getcolors(1) != [(area, colour)]:
            return False
    return True


def count_non_background(image: Image.Image, colour: tuple) -> int:
    colours = image.getcolors(image.width * image.height)
    return sum(n for n, c in colours if c != colour)


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path, node_id="slides")


# -- the hook -------------------------------------------------------------------


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_and_aspect_renders_inside_title_safe_area(kind, aspect, ctx):
    visual = slides.render_shot(scene=make_scene(kind, 3), aspect=aspect, options={}, ctx=ctx)

    width, height = ASPECT_SIZES[aspect]
    assert (visual.width_px, visual.height_px) == (width, height)
    assert visual.scene_index == 3 and visual.kind == "image"
    assert visual.path == ctx.workdir / "scene-003.png"
    with Image.open(visual.path) as image:
        assert image.format == "PNG" and image.size == (width, height)
        image = image.convert("RGB")
    assert outside_is_background(image, _layout.safe_box(width, height), DARK.background)
    # Something was drawn, in the theme's text colour.
    assert count_non_background(image, DARK.background) > 1000
    assert any(c == DARK.foreground for _, c in image.getcolors(width * height))
    assert [p.name for p in ctx.workdir.iterdir()] == ["scene-003.png"]


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("kind", KINDS)
def test_absurdly_long_text_is_shrunk_and_cut_inside_safe_area(kind, aspect):
    width, height = ASPECT_SIZES[aspect]
    image, truncated = slides.render_slide(make_scene(kind, absurd=True), width, height, DARK)

    assert truncated
    assert outside_is_background(image, _layout.safe_box(width, height), DARK.background)


def test_slide_fits_when_text_is_reasonable():
    _, truncated = slides.render_slide(make_scene("content"), 1920, 1080, DARK)
    assert not truncated


def test_more_text_gets_a_smaller_body_font():
    short = _layout.fit_paragraphs(
        SIX_BULLETS[:2], "sans", start_px=45, min_px=30, max_width_px=1600, max_height_px=700
    )
    long = _layout.fit_paragraphs(
        [b * 4 for b in SIX_BULLETS],
        "sans",
        start_px=45,
        min_px=30,
        max_width_px=1600,
        max_height_px=700,
        gap_em=0.5,
    )
    assert short.size_px == 45 and not short.truncated
    assert 30 <= long.size_px < 45
    assert long.height_px <= 700


def test_code_keeps_indentation_and_expands_tabs():
    fitted = _layout.fit_code(
        "def f():\n    if x:\n\treturn 1",
        start_px=34,
        min_px=24,
        max_width_px=1500,
        max_height_px=600,
    )
    assert fitted.lines == ["def f():", "    if x:", "    return 1"]
    assert not fitted.truncated


def test_code_too_wide_and_too_long_is_clipped_with_ellipsis():
    fitted = _layout.fit_code(
        ABSURD_CODE, start_px=34, min_px=24, max_width_px=900, max_height_px=600
    )
    assert fitted.truncated and fitted.size_px == 24
    assert fitted.height_px <= 600
    assert fitted.lines[-1] == _layout.ELLIPSIS
    assert all(fitted.font.getlength(line) <= 900 for line in fitted.lines)
    assert fitted.lines[0].startswith("        result_0 = ") and fitted.lines[0].endswith(
        _layout.ELLIPSIS
    )


def test_code_slide_draws_a_panel_in_its_own_colour():
    image, _ = slides.render_slide(make_scene("code"), 1920, 1080, DARK)
    colours = {c for _, c in image.getcolors(1920 * 1080)}
    assert DARK.panel in colours and DARK.panel != DARK.background


def test_hook_registers_and_answers_through_pluggy(ctx):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(slides, name="slides")
    pm.check_pending()
    visual = pm.hook.render_shot(scene=make_scene("title"), aspect="9:16", options={}, ctx=ctx)
    assert (visual.width_px, visual.height_px) == (1080, 1920)
    assert visual.path.is_file()


def test_scene_may_be_given_as_a_mapping(ctx):
    visual = slides.render_shot(
        scene={"index": 1, "kind": "content", "title": "T", "bullets": ["a", "b"]},
        aspect="1:1",
        options={},
        ctx=ctx,
    )
    assert visual.path.name == "scene-001.png"
    with pytest.raises(InvalidInputError, match="scene"):
        slides.render_shot(scene={"index": -1}, aspect="1:1", options={}, ctx=ctx)


def test_rendering_again_replaces_the_file_atomically(ctx):
    first = slides.render_shot(scene=make_scene("title"), aspect="16:9", options={}, ctx=ctx)
    second = slides.render_shot(
        scene=make_scene("title"), aspect="16:9", options={"theme": "light"}, ctx=ctx
    )
    assert first.path == second.path
    with Image.open(second.path) as image:
        assert image.convert("RGB").getpixel((0, 0)) == slides.THEMES["light"].background
    assert len(list(ctx.workdir.iterdir())) == 1


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "scene-000.png"
    with pytest.raises(OSError):
        # PNG cannot hold CMYK: Pillow fails while writing.
        slides._save_png_atomic(Image.new("CMYK", (8, 8)), target)
    assert list(tmp_path.iterdir()) == []


# -- input validation -------------------------------------------------------------


@pytest.mark.parametrize("aspect", ["4:3", "16x9", "", None])
def test_unknown_aspect_is_invalid_input(aspect, ctx):
    with pytest.raises(InvalidInputError) as err:
        slides.render_shot(scene=make_scene("title"), aspect=aspect, options={}, ctx=ctx)
    message = str(err.value)
    assert repr(aspect) in message
    assert all(a in message for a in ASPECTS)


@pytest.mark.parametrize("value", ["#12345", "red", "112233", "#gggggg", 0x112233, None])
def test_bad_colour_is_invalid_input(value, ctx):
    with pytest.raises(InvalidInputError, match="background"):
        slides.render_shot(
            scene=make_scene("title"), aspect="16:9", options={"background": value}, ctx=ctx
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [({"colour": "#fff"}, "colour"), ({"theme": "neon"}, "neon")],
)
def test_unknown_option_or_theme_is_invalid_input(options, match):
    with pytest.raises(InvalidInputError, match=match):
        slides.theme_from_options(options)


def test_colour_options_override_the_theme(ctx):
    options = {"background": "#112233", "foreground": "#FFF", "accent": "#ffcc00"}
    visual = slides.render_shot(
        scene=make_scene("content"), aspect="16:9", options=options, ctx=ctx
    )
    with Image.open(visual.path) as image:
        image = image.convert("RGB")
    colours = {c for _, c in image.getcolors(1920 * 1080)}
    assert image.getpixel((0, 0)) == (0x11, 0x22, 0x33)
    assert {(255, 255, 255), (255, 204, 0)} <= colours
    assert outside_is_background(image, _layout.safe_box(1920, 1080), (0x11, 0x22, 0x33))


def test_parse_hex_colour_accepts_short_and_long_forms():
    assert slides.parse_hex_colour("#0f172A") == (15, 23, 42)
    assert slides.parse_hex_colour("#fa0") == (255, 170, 0)


# -- contrast -----------------------------------------------------------------------


def test_contrast_ratio_reference_values():
    assert slides.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert slides.contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert slides.contrast_ratio((120, 30, 200), (120, 30, 200)) == pytest.approx(1.0)
    # #767676 on white is the darkest grey commonly cited as passing AA (4.54:1).
    assert slides.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert slides.contrast_ratio("#777777", "#ffffff") < 4.5


@pytest.mark.parametrize(
    "theme",
    [
        slides.THEMES["dark"],
        slides.THEMES["light"],
        slides.theme_from_options({"background": "#112233", "foreground": "#ffffff"}),
    ],
)
def test_theme_text_meets_wcag_aa(theme):
    for name, text, behind in theme.text_pairs():
        assert slides.contrast_ratio(text, behind) >= 4.5, name
    for name, mark, behind in theme.graphic_pairs():
        assert slides.contrast_ratio(mark, behind) >= 3.0, name


def test_every_text_colour_drawn_is_a_checked_one():
    # The colours with the most pixels after the background must be the theme's
    # (anti-aliasing makes many rare in-between shades, which are not text colours).
    theme = DARK
    allowed = {theme.background, theme.foreground, theme.muted, theme.panel, theme.accent}
    for kind in KINDS:
        image, _ = slides.render_slide(make_scene(kind), 1080, 1080, theme)
        top = sorted(image.getcolors(1080 * 1080), reverse=True)[:3]
        assert {c for _, c in top} <= allowed, kind


# -- alt text -----------------------------------------------------------------------


def test_alt_text_names_title_and_every_point():
    text = slides.alt_text(make_scene("content"))
    assert text.startswith("Slide titled 'The content slide' with points: ")
    assert all(b in text for b in SIX_BULLETS)
    assert len(text) <= 300 and "\n" not in text


def test_alt_text_for_code_title_and_closing():
    code = slides.alt_text(make_scene("code"))
    assert "Code example in bash" in code and "pip install reelgraph" in code
    assert "(4 lines)" in code
    title = slides.alt_text(make_scene("title"))
    assert "'The title slide'" in title and "A short subtitle" in title
    closing = slides.alt_text(make_scene("closing"))
    assert closing.startswith("Closing slide: 'The closing slide'") and "Thanks" in closing


@pytest.mark.parametrize("kind", KINDS)
def test_alt_text_of_absurd_scene_is_short_plain_text(kind):
    text = slides.alt_text(make_scene(kind, absurd=True))
    assert 20 < len(text) <= 300
    assert "\n" not in text and "\t" not in text


def test_alt_text_keeps_every_point_when_points_are_long():
    bullets = [f"Point number {i} explains a detail at some length here" for i in range(6)]
    text = slides.alt_text(Scene(index=0, title="Long points", bullets=bullets))
    assert len(text) <= 300
    assert all(f"Point number {i}" in text for i in range(6))


# -- layout helpers -----------------------------------------------------------------


def test_safe_and_content_boxes():
    assert _layout.safe_box(1920, 1080) == (96, 54, 1824, 1026)
    assert _layout.safe_box(1080, 1920) == (54, 96, 1026, 1824)
    left, top, right, bottom = _layout.content_box(1920, 1080)
    assert (left, top, right, bottom) == (96 + 32, 54 + 32, 1824 - 32, 1026 - 32)


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=300),
    width=st.integers(min_value=60, max_value=900),
)
def test_wrapped_lines_never_exceed_the_width(text, width):
    font = _layout.load_font("sans", 40)
    lines = _layout.wrap_text(text, font, width)
    assert all(font.getlength(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_long_word_is_broken_into_pieces_that_fit():
    font = _layout.load_font("bold", 60)
    lines = _layout.wrap_text(f"Start {LONG_WORD} end", font, 500)
    assert len(lines) > 3
    assert all(font.getlength(line) <= 500 for line in lines)
    assert lines[0] == "Start"
    assert "".join(lines).replace(" ", "") == f"Start{LONG_WORD}end"


def test_truncate_to_width_ends_with_ellipsis_and_fits():
    font = _layout.load_font("sans", 40)
    cut = _layout.truncate_to_width("word " * 50, font, 300)
    assert cut.endswith(_layout.ELLIPSIS) and font.getlength(cut) <= 300


def test_fallback_font_lays_out_text_too():
    fitted = _layout.fit_paragraphs(
        ["Pillow's bundled font when DejaVu is missing " * 5],
        "sans",
        start_px=40,
        min_px=28,
        max_width_px=600,
        max_height_px=120,
        use_system_fonts=False,
    )
    assert fitted.truncated and fitted.height_px <= 120
    assert fitted.font.getname()[0] != "DejaVu Sans"


def test_system_font_is_dejavu_when_found():
    for role, name in _layout.FONT_FILES.items():
        path = _layout.find_font_file(role)
        assert path is None or path.name == name
