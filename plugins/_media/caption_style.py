"""Caption styles and how a styled cue is laid out and drawn onto a frame (burned captions).

A style (:class:`CaptionStyle`) is a named preset from ``caption_styles.yaml``
beside this module, merged with the user's ``<reelgraph home>/caption_styles.yaml``
(or ``$REELGRAPH_CAPTION_STYLES``), as ``tools.yaml`` is in plugins/production.
Sizes are pixels of a 1080-pixel short side and scale with the frame.

The cue's text and line breaks are the caption track's
(:func:`reelgraph.plugins._media.captions.build_cues`), built for the width
its lines have at the style's size (:mod:`.caption_fit`): nothing here
re-breaks a cue. A line still too wide (one long word) makes the size step
down until it fits (:func:`layout_cue`), so the burned text is the track's
text.

Where captions may go (:func:`caption_area`):

- 16:9 and 1:1: the title-safe area, the central 90 % of width and height
  (SMPTE ST 2046-1 / EBU R 95; ``_layout.safe_box``).
- 9:16: clear of the interface TikTok, YouTube Shorts and Instagram Reels draw
  over a 1080x1920 video, the widest margin of the three on each side: top
  250 px, bottom 450 px, left 60 px, right 184 px. Sources (third-party
  measurements; the platforms publish overlays only for ads):
  blitzcutai.com/blog/best-caption-placement-short-form-video (TikTok top
  130, bottom 320-350, right 120-164 + 20 for the 2026 playlist button, left
  60; Reels top 108-220, bottom 310-450, right ~120; Shorts top ~120, bottom
  ~300) and socaptions.com/blog/tiktok-safe-zones-2026 (top 250, bottom 420,
  right 170).

Contrast (:func:`contrast_behind`): the WCAG 2.x ratio
(https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio, 4.5:1 for normal text,
success criterion 1.4.3) of the text colour against the actual pixels behind
its lines, after the style's box is composited over them.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "KEEP_OUT_9_16",
    "CaptionStyle",
    "Layout",
    "caption_area",
    "contrast_behind",
    "draw_cue",
    "layout_cue",
    "load_styles",
    "resolve_style",
]

_SHIPPED = Path(__file__).with_name("caption_styles.yaml")

#: 9:16 keep-out margins at 1080x1920, pixels: (left, top, right, bottom); see the module doc.
KEEP_OUT_9_16 = (60, 250, 184, 450)
#: Title-safe margin per side in 16:9 and 1:1 (SMPTE ST 2046-1 / EBU R 95: 90 % safe).
TITLE_SAFE = 0.05
_POSITIONS = ("bottom", "centre", "top")
_ALIGNS = ("centre", "left")
#: Smallest size a line may shrink to, pixels at 1080 (keeps captions readable on a phone).
MIN_SIZE_PX = 24

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    """How burned captions look; sizes in pixels at a 1080-pixel short side."""

    name: str
    font: str = "sans"  # sans, bold, or a font file
    size_px: int = 48
    colour: str = "#ffffff"
    outline_colour: str = "#000000"
    outline_px: int = 3
    box: str | None = None  # box colour behind the lines; None: no box
    box_opacity: float = 0.0
    box_pad_px: int = 0
    position: str = "bottom"
    align: str = "centre"
    max_lines: int = 2
    highlight: str | None = None  # colour of the spoken word, with word timings


def _rgb(value: str, where: str) -> RGB:
    text = value.strip().lstrip("#") if isinstance(value, str) else ""
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise InvalidInputError(f"{where}: {value!r} is not a colour; write it as '#rrggbb'")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def _check(name: str, raw: Mapping[str, Any], where: str) -> CaptionStyle:
    known = {f.name for f in fields(CaptionStyle)} - {"name"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInputError(
            f"{where}: caption style {name!r} has unknown field(s) {unknown}; "
            f"known: {', '.join(sorted(known))}"
        )
    style = CaptionStyle(name=name, **raw)
    here = f"{where}: caption style {name!r}"
    for key in ("colour", "outline_colour"):
        _rgb(getattr(style, key), f"{here} {key}")
    for key in ("box", "highlight"):
        if getattr(style, key) is not None:
            _rgb(getattr(style, key), f"{here} {key}")
    checks = (
        ("size_px", isinstance(style.size_px, int) and 12 <= style.size_px <= 200, "12-200"),
        ("outline_px", isinstance(style.outline_px, int) and 0 <= style.outline_px <= 20, "0-20"),
        ("box_pad_px", isinstance(style.box_pad_px, int) and 0 <= style.box_pad_px <= 80, "0-80"),
        ("box_opacity", isinstance(style.box_opacity, int | float)
         and 0 <= style.box_opacity <= 1, "0-1"),
        ("position", style.position in _POSITIONS, " | ".join(_POSITIONS)),
        ("align", style.align in _ALIGNS, " | ".join(_ALIGNS)),
        ("max_lines", style.max_lines in (1, 2), "1 or 2"),
    )  # fmt: skip
    for key, ok, allowed in checks:
        if not ok:
            raise InvalidInputError(f"{here} {key}={getattr(style, key)!r}; allowed: {allowed}")
    return style


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInputError(f"{path}: cannot read caption styles ({err})") from err
    styles = data.get("styles") if isinstance(data, dict) else None
    if not isinstance(styles, dict) or not all(isinstance(v, dict) for v in styles.values()):
        raise InvalidInputError(f"{path}: expected 'styles:' mapping each name to its fields")
    return styles


def _user_file(env: Mapping[str, str]) -> Path | None:
    if env.get("REELGRAPH_CAPTION_STYLES"):
        return Path(env["REELGRAPH_CAPTION_STYLES"]).expanduser()
    from reelgraph.kernel import default_home

    path = default_home(env) / "caption_styles.yaml"
    return path if path.is_file() else None


def load_styles(env: Mapping[str, str] | None = None) -> dict[str, CaptionStyle]:
    """The shipped presets merged with the user's file, by name.

    A user entry with a shipped name overrides that preset's fields one by
    one; a new name adds a style.

    Raises:
        InvalidInputError: a file is not valid YAML of the form above, or a
            style has an unknown field or a value out of range (the message
            names the file, style and field).
    """
    env = os.environ if env is None else env
    merged = {name: dict(raw) for name, raw in _read(_SHIPPED).items()}
    user = _user_file(env)
    sources = {name: _SHIPPED for name in merged}
    if user is not None:
        for name, raw in _read(user).items():
            merged[name] = {**merged.get(name, {}), **raw}
            sources[name] = user
    return {name: _check(name, raw, str(sources[name])) for name, raw in merged.items()}


def resolve_style(value: Any, env: Mapping[str, str] | None = None) -> CaptionStyle:
    """A style from a preset name, or a mapping of fields (``preset:`` names the base).

    Raises:
        InvalidInputError: unknown preset (the message lists them) or a bad field.
    """
    styles = load_styles(env)
    if value is None:
        value = "clean"
    if isinstance(value, str):
        if value not in styles:
            raise InvalidInputError(
                f"caption_style {value!r} is not a preset; choose one of "
                f"{', '.join(sorted(styles))} or add it to caption_styles.yaml in the "
                "reelgraph home"
            )
        return styles[value]
    if isinstance(value, Mapping):
        fields_ = dict(value)
        base = styles.get(str(fields_.pop("preset", "clean")))
        if base is None:
            raise InvalidInputError(f"caption_style.preset: choose one of {sorted(styles)}")
        raw = {f.name: getattr(base, f.name) for f in fields(CaptionStyle) if f.name != "name"}
        return _check("custom", {**raw, **fields_}, "caption_style")
    raise InvalidInputError(f"caption_style must be a preset name or a mapping, got {value!r}")


# -- geometry -------------------------------------------------------------------


def caption_area(width_px: int, height_px: int) -> Box:
    """``(left, top, right, bottom)`` pixels where burned captions may be drawn.

    Portrait frames (9:16 and taller) keep out of :data:`KEEP_OUT_9_16`
    (scaled by ``width_px / 1080``); other frames keep inside the title-safe
    area (5 % margin on each side).
    """
    if height_px * 9 >= width_px * 16 * 0.98:  # 9:16 or taller
        scale = width_px / 1080
        left, top, right, bottom = (round(m * scale) for m in KEEP_OUT_9_16)
        return (left, top, width_px - right, height_px - bottom)
    mx, my = round(width_px * TITLE_SAFE), round(height_px * TITLE_SAFE)
    return (mx, my, width_px - mx, height_px - my)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a cue's lines go: the font size used, each line's origin, and the box drawn."""

    lines: tuple[str, ...]
    size_px: int  # actual pixels on this frame
    origins: tuple[tuple[int, int], ...]  # each line's left/top (Pillow anchor "la")
    line_px: int
    box: Box  # the lines' box with its padding (drawn when the style has one)


@functools.cache
def _faces(style_font: str, chars: str, language: str | None) -> tuple[Any, ...]:
    from reelgraph.plugins.visuals._fonts import choose_faces
    from reelgraph.plugins.visuals._layout import FontFace, face_for_role

    if style_font in ("sans", "bold"):
        primary = face_for_role(style_font)
        role = style_font
    else:
        path = Path(style_font).expanduser()
        if not path.is_file():
            raise InvalidInputError(
                f"caption_style font: {path} not found; use sans, bold or a font file's path"
            )
        primary, role = FontFace(path), "sans"
    return choose_faces([chars], role, primary, language=language)


def _font(style: CaptionStyle, text: str, size: int, language: str | None) -> Any:
    from reelgraph.plugins.visuals._layout import load_faces

    chars = "".join(sorted(set(text)))
    return load_faces(_faces(style.font, chars, language), size)


def layout_cue(
    text: str, style: CaptionStyle, width_px: int, height_px: int, language: str | None = None
) -> Layout:
    """Lay a cue's lines out in the caption area at the style's size (smaller if too wide).

    ``text`` is a cue's text, lines separated by ``\\n`` (at most
    ``style.max_lines``; more are joined into the last). The size is
    ``style.size_px * short side / 1080``, reduced in steps of 2 px until
    the widest line (plus outline and box padding) fits the area's width,
    never below ``MIN_SIZE_PX`` scaled.

    Raises:
        InvalidInputError: no installed font has some character of ``text``.
    """
    from reelgraph.plugins.visuals._layout import line_metrics

    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > style.max_lines:
        lines = [*lines[: style.max_lines - 1], " ".join(lines[style.max_lines - 1 :])]
    scale = min(width_px, height_px) / 1080
    left, top, right, bottom = caption_area(width_px, height_px)
    pad = round(style.box_pad_px * scale) if style.box else 0
    size = max(1, round(style.size_px * scale))
    floor = max(1, round(MIN_SIZE_PX * scale))
    while True:
        font = _font(style, text, size, language)
        stroke = round(style.outline_px * size / max(1, style.size_px))
        widths = [font.getlength(line) + 2 * stroke for line in lines]
        if max(widths, default=0) + 2 * pad <= right - left or size <= floor:
            break
        size = max(floor, size - 2)
    ascent, descent = line_metrics(font)
    line_px = ascent + descent + 2 * stroke
    block_h = line_px * len(lines)
    if style.position == "top":
        y0 = top + pad
    elif style.position == "centre":
        y0 = (top + bottom - block_h) // 2
    else:
        y0 = bottom - pad - block_h
    origins = []
    for k, width in enumerate(widths):
        x = left + pad if style.align == "left" else round((left + right - width) / 2)
        origins.append((int(x + stroke), int(y0 + k * line_px + stroke)))
    x_min = min((x - stroke for x, _ in origins), default=left) - pad
    x_max = max((x - stroke + w for (x, _), w in zip(origins, widths, strict=True)), default=left)
    box = (int(x_min), int(y0 - pad), int(x_max + pad), int(y0 + block_h + pad))
    return Layout(tuple(lines), size, tuple(origins), line_px, box)


def draw_cue(
    image: Image.Image,
    text: str,
    style: CaptionStyle,
    language: str | None = None,
    highlight: int | None = None,
) -> tuple[Image.Image, Layout, list[tuple[Any, str]]]:
    """``image`` (RGB) with the cue drawn on a copy; its layout; ``(face, text)`` drawn runs.

    ``highlight``: the index of a whitespace-separated word of ``text``
    (counted across its lines) redrawn in ``style.highlight`` (the word
    being spoken); ignored when the style has no highlight colour. The runs
    are for the glyph record (``slides.glyph_record``).

    Raises:
        InvalidInputError: no installed font has some character of ``text``.
    """
    from PIL import Image, ImageDraw

    from reelgraph.plugins.visuals._layout import FontChain, face_of

    base = image.convert("RGB")
    lay = layout_cue(text, style, base.width, base.height, language)
    if style.box:  # blended inside the box only (a whole-frame composite costs ~30 ms)
        box = (max(0, lay.box[0]), max(0, lay.box[1]),
               min(base.width, lay.box[2]), min(base.height, lay.box[3]))  # fmt: skip
        under = base.crop(box)
        solid = Image.new("RGB", under.size, _rgb(style.box, "box"))
        base.paste(Image.blend(under, solid, style.box_opacity), box[:2])
    draw = ImageDraw.Draw(base)
    font = _font(style, text, lay.size_px, language)
    stroke = round(style.outline_px * lay.size_px / max(1, style.size_px))
    colour = _rgb(style.colour, "colour")
    outline = _rgb(style.outline_colour, "outline_colour")
    drawn: list[tuple[Any, str]] = []

    def put(x: float, y: int, text: str, fill: RGB) -> None:
        runs = font.runs(text) if isinstance(font, FontChain) else [(font, face_of(font), text)]
        for part_font, face, part in runs:
            draw.text(
                (x, y), part, font=part_font, fill=fill, anchor="la",
                stroke_width=stroke, stroke_fill=outline,
            )  # fmt: skip
            drawn.append((face, part))
            x += part_font.getlength(part)

    first_word = 0
    for line, (x, y) in zip(lay.lines, lay.origins, strict=True):
        put(float(x), y, line, colour)
        words = list(re.finditer(r"\S+", line))
        k = -1 if highlight is None else highlight - first_word
        if style.highlight and 0 <= k < len(words):
            word = words[k]
            put(
                x + font.getlength(line[: word.start()]),
                y,
                word.group(),
                _rgb(style.highlight, "highlight"),
            )
        first_word += len(words)
    return base, lay, drawn


def contrast_behind(image: Image.Image, style: CaptionStyle, layout: Layout) -> float:
    """WCAG 2.x contrast of the text colour against what is behind its lines (1-21).

    ``image`` is the frame without the caption. The pixels are those of the
    lines' box (padding included), the style's box composited over them; the
    ratio is taken against the 2nd and 98th percentile of their relative
    luminance (whichever is worse), so a few stray pixels do not decide it.
    With an outline of at least 2 px at 1080 (a stroke all round every
    glyph), the text also counts against the outline colour and the better
    of the two is taken. With a highlight colour, the worse of the text's
    and the highlight's ratios is returned.
    """
    import numpy as np
    from PIL import Image

    left, top, right, bottom = layout.box
    rgb = image.convert("RGB")
    area = (max(0, left), max(0, top), min(rgb.width, right), min(rgb.height, bottom))
    under = rgb.crop(area) if area[2] > area[0] and area[3] > area[1] else None
    if under is not None and style.box:  # the pixels draw_cue writes: Image.blend's
        solid = Image.new("RGB", under.size, _rgb(style.box, "box"))
        under = Image.blend(under, solid, style.box_opacity)
    crop = np.asarray(under) if under is not None else np.zeros((0, 3), np.uint8)
    inks = [style.colour] + ([style.highlight] if style.highlight else [])
    behind = _luminance(crop.reshape(-1, 3)) if crop.size else None
    outline_l = float(_luminance(np.array(_rgb(style.outline_colour, "outline_colour"), float)))
    spread = None if behind is None else np.percentile(behind, [2, 98])
    worst = 21.0
    for ink in inks:
        text_l = float(_luminance(np.array(_rgb(ink, "colour"), dtype=np.float64)))
        low, high = (text_l, text_l) if spread is None else spread
        ratio = min(_ratio(text_l, float(low)), _ratio(text_l, float(high)))
        if style.outline_px >= 2:  # a stroke all round every glyph
            ratio = max(ratio, _ratio(text_l, outline_l))
        worst = min(worst, ratio)
    return worst


def _luminance(rgb: Any) -> Any:
    """WCAG 2.x relative luminance of 8-bit sRGB values (last axis: R, G, B).

    ``uint8`` arrays are linearised through a 256-entry table: the same
    values, without a power per pixel (23 of a cue's 28 ms at 1080p).
    """
    import numpy as np

    if getattr(rgb, "dtype", None) == np.uint8:
        return _linear_table()[rgb] @ np.array([0.2126, 0.7152, 0.0722])
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


@functools.cache
def _linear_table() -> Any:
    """Linear light of each 8-bit sRGB level (WCAG 2.x's sRGB formula), 256 floats."""
    import numpy as np

    c = np.arange(256) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _ratio(l1: float, l2: float) -> float:
    return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)
