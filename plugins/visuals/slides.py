"""The ``slides`` provider of ``render_shot``: one Pillow-drawn PNG slide per scene.

Layouts by scene kind: ``title`` (big centred title, the first bullet as a
subtitle), ``content`` (heading and bullet points), ``code`` (heading and the
code in a monospace font on a panel) and ``closing`` (centred title and a
short line). All text stays inside the title-safe area (SMPTE ST 2046-1 /
EBU R95: the central 90 % of the frame) plus a padding of 3 % of the short
side. Text is wrapped in pixels with the real font; when it does not fit the
font shrinks step by step to a legible minimum, then the text is cut with an
ellipsis.

Every character drawn exists in the font that draws it (checked on the
font's cmap with fontTools, see ``_fonts``): a role (title, body, code) whose
text the primary font lacks is drawn with an installed font that covers it,
found with fontconfig (Noto Sans CJK for Chinese and Japanese, from Debian's
``fonts-noto-cjk``); with none, ``render_shot`` stops with
``InvalidInputError`` naming the characters and the package to install,
except for emoji and other decoration (``_fonts.is_decoration``), which are
left off the slide with a warning: a missing 🦝 loses no word. What
was drawn with which font is stored in the PNG itself (an iTXt chunk, key
:data:`GLYPHS_KEY`), and the accessibility gate re-checks it.

Options (``render_shot(options=...)``):
    theme: ``"dark"`` (default) or ``"light"``.
    background, foreground, accent: CSS hex colours (``#rgb`` or
        ``#rrggbb``) overriding the theme's.
    font: path to a TrueType/OpenType font (face 0 of a collection) to draw
        every role with instead of DejaVu; characters it lacks still fall
        back to an installed font that has them.
    language: the document's language, a BCP 47 tag (``ja``, ``zh-Hant``;
        ``Script.language``): picks the Japanese or Chinese glyph forms of
        Han characters when the text itself (kana, Hangul) does not say.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, PngImagePlugin
from pydantic import ValidationError

import reelgraph.plugins.visuals._layout as _layout
from reelgraph import InvalidInputError, hookimpl
from reelgraph.models import ASPECT_SIZES, Scene, Visual, frame_size
from reelgraph.plugins.visuals._fonts import (
    FontFace,
    choose_faces,
    describe_chars,
    drawn_chars,
    font_chars,
    is_decoration,
    uncovered_chars,
)
from reelgraph.plugins.visuals._layout import Canvas, FittedText
from reelgraph.plugins.visuals.motion import generate_clip as generate_clip  # Ken Burns clip

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "GLYPHS_KEY",
    "THEMES",
    "RenderedSlide",
    "Theme",
    "alt_text",
    "contrast_ratio",
    "draw_slide",
    "glyph_record",
    "parse_hex_colour",
    "relative_luminance",
    "render_shot",
    "render_slide",
    "slide_faces",
    "theme_from_options",
    "without_undrawable_decoration",
]

RGB = tuple[int, int, int]

#: WCAG 2.x success criterion 1.4.3 (AA): normal text needs 4.5:1.
MIN_TEXT_CONTRAST = 4.5
#: WCAG 2.x success criterion 1.4.11: graphical objects need 3:1.
MIN_GRAPHIC_CONTRAST = 3.0
#: Alt text longer than this is cut (screen-reader guidance commonly suggests
#: keeping alt text short; 300 characters is this project's limit).
MAX_ALT_CHARS = 300

# Font sizes as fractions of the frame's short side (1080 px for every
# supported aspect): (start, legible minimum). Design choices, not a standard:
# a title around 7 % and body text around 4 % of the short side; the minimums
# are about 30 px for body text and 24 px for code at 1080 p.
SIZES: dict[str, tuple[float, float]] = {
    "title": (0.075, 0.045),
    "closing": (0.065, 0.045),
    "subtitle": (0.042, 0.030),
    "heading": (0.058, 0.038),
    "body": (0.042, 0.028),
    "code": (0.032, 0.022),
}

_ALLOWED_OPTIONS = ("theme", "background", "foreground", "accent", "font", "language")

#: PNG iTXt keyword of the glyph record: JSON ``{"runs": [{"font": path or
#: null (Pillow's bundled font), "index": face index, "chars": every distinct
#: character drawn with that face}]}``. Kept in the PNG rather than in a
#: sidecar file so it travels with the image and is replaced with it.
GLYPHS_KEY = "reelgraph:glyphs"
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


# -- colour ---------------------------------------------------------------------


def parse_hex_colour(value: object, field: str = "colour") -> RGB:
    """Parse a CSS hex colour (``#rgb`` or ``#rrggbb``) into an ``(r, g, b)`` 0-255 tuple.

    Raises:
        InvalidInputError: ``value`` is not such a string; the message names ``field``.
    """
    if not isinstance(value, str) or not _HEX.fullmatch(value.strip()):
        raise InvalidInputError(
            f"render_shot options.{field}: {value!r} is not a hex colour; "
            "use '#rrggbb' or '#rgb', e.g. '#0f172a'"
        )
    digits = value.strip()[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _as_rgb(colour: Sequence[int] | str) -> RGB:
    if isinstance(colour, str):
        return parse_hex_colour(colour)
    r, g, b = (int(c) for c in colour[:3])
    return (r, g, b)


def relative_luminance(colour: Sequence[int] | str) -> float:
    """WCAG 2.x relative luminance (0 black .. 1 white) of an sRGB colour.

    ``colour`` is ``(r, g, b)`` in 0-255 (extra channels such as alpha are
    ignored) or a hex string. Each channel is linearised with the sRGB
    transfer function (IEC 61966-2-1; threshold 0.04045 as in WCAG 2.2's
    definition) and weighted 0.2126 R + 0.7152 G + 0.0722 B.
    Source: https://www.w3.org/TR/WCAG22/#dfn-relative-luminance
    """

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = _as_rgb(colour)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(rgb1: Sequence[int] | str, rgb2: Sequence[int] | str) -> float:
    """WCAG 2.x contrast ratio of two colours: 1.0 (same) to 21.0 (black on white).

    ``(L1 + 0.05) / (L2 + 0.05)`` with ``L1`` the lighter relative luminance.
    AA asks for >= 4.5 for normal text, >= 3 for large text and graphics.
    Source: https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio
    """
    l1, l2 = relative_luminance(rgb1), relative_luminance(rgb2)
    lighter, darker = max(l1, l2), min(l1, l2)
    return (lighter + 0.05) / (darker + 0.05)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way towards ``b``."""
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


@dataclass(frozen=True)
class Theme:
    """Slide colours as ``(r, g, b)`` tuples.

    ``muted`` (subtitles) and ``panel`` (code background) are derived from
    the other three by :meth:`derive`.
    """

    background: RGB
    foreground: RGB
    accent: RGB
    muted: RGB
    panel: RGB

    @classmethod
    def derive(cls, background: RGB, foreground: RGB, accent: RGB) -> Theme:
        """A theme whose muted text and code panel are blends of background and foreground."""
        muted = _mix(foreground, background, 0.2)
        if contrast_ratio(muted, background) < MIN_TEXT_CONTRAST:
            muted = foreground
        panel = _mix(background, foreground, 0.07)
        return cls(background, foreground, accent, muted, panel)

    def text_pairs(self) -> list[tuple[str, RGB, RGB]]:
        """Every ``(name, text colour, colour behind it)`` pair the slides draw."""
        return [
            ("heading and body", self.foreground, self.background),
            ("subtitle", self.muted, self.background),
            ("code", self.foreground, self.panel),
        ]

    def graphic_pairs(self) -> list[tuple[str, RGB, RGB]]:
        """Non-text marks (bullet dots, rules) against their background."""
        return [("accent", self.accent, self.background)]


#: Built-in themes. Dark: Tailwind CSS "slate"/"sky" palette values.
THEMES: dict[str, Theme] = {
    "dark": Theme.derive((15, 23, 42), (248, 250, 252), (56, 189, 248)),
    "light": Theme.derive((255, 255, 255), (17, 24, 39), (29, 78, 216)),
}


def theme_from_options(options: Mapping[str, Any] | None) -> Theme:
    """Build the theme from ``render_shot`` options (see the module docstring).

    Raises:
        InvalidInputError: an unknown option, theme name or a bad hex colour.
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(_ALLOWED_OPTIONS))
    if unknown:
        raise InvalidInputError(
            f"render_shot options: unknown option(s) {', '.join(map(repr, unknown))} "
            f"for provider 'slides'; allowed: {', '.join(_ALLOWED_OPTIONS)}"
        )
    name = options.get("theme", "dark")
    if name not in THEMES:
        raise InvalidInputError(
            f"render_shot options.theme: unknown theme {name!r}; use one of {', '.join(THEMES)}"
        )
    base = THEMES[name]
    colours = {
        key: parse_hex_colour(options[key], key)
        for key in ("background", "foreground", "accent")
        if key in options
    }
    if not colours:
        return base
    return Theme.derive(
        colours.get("background", base.background),
        colours.get("foreground", base.foreground),
        colours.get("accent", base.accent),
    )


# -- drawing --------------------------------------------------------------------


def _draw_centred(canvas: Canvas, theme: Theme, title: str, line: str, title_size: str) -> bool:
    """Title and closing layout: centred title, accent rule, optional line below."""
    head = canvas.fit(
        [title],
        "bold",
        SIZES[title_size],
        max_height_px=canvas.height // 2,
        max_lines=4,
        spacing=1.15,
    )
    sub = canvas.fit(
        [line],
        "sans",
        SIZES["subtitle"],
        max_height_px=canvas.height // 4,
        max_lines=3,
        spacing=1.3,
    )
    gap = canvas.px(0.035)
    rule_h = canvas.px(0.006)
    total = head.height_px + 2 * gap + rule_h + (gap + sub.height_px if sub.paragraphs else 0)
    top = max(0, (canvas.height - total) // 2)
    canvas.draw_block(head, top, theme.foreground, centred=True)
    top += head.height_px + gap
    top += canvas.draw_rule(top, canvas.px(0.12), theme.accent, centred=True) + gap
    canvas.draw_block(sub, top, theme.muted, centred=True)
    return head.truncated or sub.truncated


def _heading(canvas: Canvas, title: str) -> tuple[FittedText, int]:
    """Fit the heading of a content or code slide; return it and the space it takes."""
    head = canvas.fit(
        [title],
        "bold",
        SIZES["heading"],
        max_height_px=canvas.height // 3,
        max_lines=3 if canvas.portrait else 2,
        spacing=1.15,
    )
    below = canvas.px(0.025) * 2 + canvas.px(0.006)
    return head, head.height_px + below


def _place_heading(canvas: Canvas, theme: Theme, head: FittedText, top: int) -> int:
    """Draw heading and rule from ``top``; return where the body starts."""
    canvas.draw_block(head, top, theme.foreground)
    top += head.height_px + canvas.px(0.025)
    top += canvas.draw_rule(top, canvas.px(0.09), theme.accent, centred=False)
    return top + canvas.px(0.025)


def _draw_content(canvas: Canvas, theme: Theme, scene: Scene) -> bool:
    head, head_space = _heading(canvas, scene.title)
    body = canvas.fit(
        scene.bullets,
        "sans",
        SIZES["body"],
        max_height_px=canvas.height - head_space,
        spacing=1.3,
        gap_em=0.55,
        indent_em=1.2,
    )
    # Portrait frames have room to spare below: centre the block there.
    spare = canvas.height - head_space - body.height_px
    top = max(0, spare // 2) if canvas.portrait else 0
    top = _place_heading(canvas, theme, head, top)
    indent = round(body.size_px * 1.2)
    ascent, _ = _layout.line_metrics(body.font)
    x_top = body.font.getbbox("x", anchor="ls")[1]  # negative: the x-height
    radius = max(2, round(body.size_px * 0.16))
    y = top
    for lines in body.paragraphs:
        cx = canvas.box[0] + round(body.size_px * 0.35)
        cy = canvas.box[1] + y + ascent + x_top // 2
        canvas.draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=theme.accent)
        point = replace(body, paragraphs=[lines])
        canvas.draw_block(point, y, theme.foreground, indent_px=indent)
        y += len(lines) * body.line_step_px + body.paragraph_gap_px
    return head.truncated or body.truncated


def _draw_code(canvas: Canvas, theme: Theme, scene: Scene) -> bool:
    head, head_space = _heading(canvas, scene.title)
    pad_x, pad_y = canvas.px(0.03), canvas.px(0.025)
    start, minimum = SIZES["code"]
    code = _layout.fit_code(
        _code_text(scene),
        start_px=canvas.px(start),
        min_px=canvas.px(minimum),
        max_width_px=canvas.width - 2 * pad_x,
        max_height_px=canvas.height - head_space - 2 * pad_y,
        faces=canvas.faces_for("mono"),
    )
    panel_h = code.height_px + 2 * pad_y
    spare = canvas.height - head_space - panel_h
    top = max(0, spare // 2) if canvas.portrait else 0
    top = _place_heading(canvas, theme, head, top)
    left, box_top = canvas.box[0], canvas.box[1]
    canvas.draw.rounded_rectangle(
        (left, box_top + top, canvas.box[2] - 1, box_top + top + panel_h - 1),
        radius=canvas.px(0.012),
        fill=theme.panel,
    )
    y = box_top + top + pad_y
    for line in code.lines:
        canvas.draw_text((left + pad_x, y), line, code.font, theme.foreground, "la")
        y += code.line_step_px
    return head.truncated or code.truncated


def _code_text(scene: Scene) -> str:
    return textwrap.dedent(scene.code or "").strip("\n")


# Control characters (Unicode category Cc) other than newline and tab: FreeType
# draws them as boxes (ESC measured 24 px wide at 40 px DejaVu Sans, inked).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def drawable(scene: Scene) -> Scene:
    """``scene`` without control characters (other than newline and tab) in its text."""
    texts = [scene.title, *scene.bullets, scene.code or ""]
    if not any(_CONTROLS.search(text) for text in texts):
        return scene
    return scene.model_copy(
        update={
            "title": _CONTROLS.sub("", scene.title),
            "bullets": [_CONTROLS.sub("", b) for b in scene.bullets],
            "code": None if scene.code is None else _CONTROLS.sub("", scene.code),
        }
    )


def role_texts(scene: Scene) -> dict[str, list[str]]:
    """The strings each font role (``bold``, ``sans``, ``mono``) may draw on the slide.

    Each includes the ellipsis, which a string cut to fit ends with.
    """
    scene = drawable(scene)
    first = scene.bullets[:1]
    if scene.kind in ("title", "closing"):
        texts = {"bold": [scene.title], "sans": first}
    elif scene.kind == "code":
        texts = {"bold": [scene.title], "mono": [_code_text(scene)]}
    else:
        texts = {"bold": [scene.title], "sans": list(scene.bullets)}
    return {role: [*strings, _layout.ELLIPSIS] for role, strings in texts.items()}


def slide_faces(
    scene: Scene,
    *,
    font: FontFace | None = None,
    language: str | None = None,
    fallback: bool = True,
) -> dict[str, _layout.Faces]:
    """The faces for each role of the slide, together having every character the role draws.

    The primary face is ``font`` when given, else the role's DejaVu font;
    when it lacks characters, an installed face that has them all is found
    with fontconfig (``language``, a BCP 47 tag, steers Han characters to
    Japanese or Chinese forms); text mixing scripts no single font has gets
    a chain of faces (see ``_fonts.choose_faces``). ``fallback=False`` keeps
    the primary face whatever it lacks (a slide with boxes: for testing the
    gate).

    Raises:
        InvalidInputError: no installed font has some character (the message
            names them and ``fonts-noto-cjk`` / ``options.font``).
    """
    faces = {}
    for role, texts in role_texts(scene).items():
        primary = font if font is not None else _layout.face_for_role(role)
        faces[role] = choose_faces(texts, role, primary, language=language, fallback=fallback)
    return faces


def without_undrawable_decoration(
    scene: Scene, *, font: FontFace | None = None, language: str | None = None
) -> tuple[Scene, str]:
    """``scene`` without the emoji and symbols no installed font has, and those characters.

    Emoji are decoration (``_fonts.is_decoration``): a slide without 🦝
    loses no word, while a box in its place would fail the glyphs check.
    Letters, digits and punctuation no font has are kept, so that
    :func:`slide_faces` stops the run naming them (the text would be lost).
    """
    dropped: set[str] = set()
    for role, texts in role_texts(scene).items():
        primary = font if font is not None else _layout.face_for_role(role)
        missing = uncovered_chars(texts, role, primary, language=language)
        dropped.update(ch for ch in missing if is_decoration(ch))
    if not dropped:
        return scene, ""

    def strip(text: str) -> str:
        kept = "".join(ch for ch in text if ch not in dropped)
        return re.sub(r"[ \t]{2,}", " ", kept) if kept != text else text

    scene = scene.model_copy(
        update={
            "title": strip(scene.title).strip(),
            "bullets": [b for b in (strip(b).strip() for b in scene.bullets) if b],
            "code": None if scene.code is None else strip(scene.code),
        }
    )
    return scene, "".join(sorted(dropped))


@dataclass(frozen=True)
class RenderedSlide:
    """A drawn slide: the RGB image, whether text was cut, and each ``(face, string)`` drawn."""

    image: Image.Image
    truncated: bool
    drawn: list[tuple[FontFace | None, str]]


def draw_slide(
    scene: Scene, width_px: int, height_px: int, theme: Theme, faces: Mapping[str, _layout.Faces]
) -> RenderedSlide:
    """Draw one slide with the given faces per role (no coverage check: see :func:`slide_faces`)."""
    scene = drawable(scene)
    image = Image.new("RGB", (width_px, height_px), theme.background)
    canvas = Canvas.for_image(image, faces)
    first = scene.bullets[0] if scene.bullets else ""
    if scene.kind == "title":
        truncated = _draw_centred(canvas, theme, scene.title, first, "title")
    elif scene.kind == "closing":
        truncated = _draw_centred(canvas, theme, scene.title, first, "closing")
    elif scene.kind == "code":
        truncated = _draw_code(canvas, theme, scene)
    else:
        truncated = _draw_content(canvas, theme, scene)
    return RenderedSlide(image, truncated, list(canvas.drawn))


def render_slide(
    scene: Scene,
    width_px: int,
    height_px: int,
    theme: Theme,
    *,
    font: FontFace | None = None,
    language: str | None = None,
) -> tuple[Image.Image, bool]:
    """Draw one slide in fonts that have its characters; the RGB image and whether text was cut.

    Raises:
        InvalidInputError: no installed font has some character (see :func:`slide_faces`).
    """
    faces = slide_faces(scene, font=font, language=language)
    slide = draw_slide(scene, width_px, height_px, theme, faces)
    return slide.image, slide.truncated


def glyph_record(drawn: Sequence[tuple[FontFace | None, str]]) -> str:
    """The JSON stored under :data:`GLYPHS_KEY`: each face and the characters it drew."""
    by_face: dict[FontFace | None, list[str]] = {}
    for face, text in drawn:
        by_face.setdefault(face, []).append(text)
    runs = [
        {
            "font": None if face is None else str(face.path),
            "index": 0 if face is None else face.index,
            "chars": drawn_chars(texts),
        }
        for face, texts in by_face.items()
    ]
    return json.dumps({"runs": runs}, ensure_ascii=False)


# -- alt text -------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    """Collapse whitespace; cut at a word boundary with an ellipsis beyond ``limit`` chars."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:.") + _layout.ELLIPSIS


def alt_text(scene: Scene) -> str:
    """A one-sentence plain-text description of the slide, at most 300 characters.

    For example ``"Slide titled 'Setup' with points: install it; run it."``.
    """
    title = _clip(scene.title, 90)
    first = _clip(scene.bullets[0], 120) if scene.bullets else ""
    if scene.kind == "title":
        text = f"Title slide: '{title}'" + (f", subtitle '{first}'" if first else "")
    elif scene.kind == "closing":
        text = f"Closing slide: '{title}'" + (f", with the line '{first}'" if first else "")
    elif scene.kind == "code":
        lines = [line for line in (scene.code or "").splitlines() if line.strip()]
        language = f" in {_clip(scene.code_language, 20)}" if scene.code_language else ""
        text = f"Code example{language} titled '{title}'"
        if lines:
            count = f" ({len(lines)} lines)" if len(lines) > 1 else ""
            text += f", first line: {_clip(lines[0], 100)}{count}"
    else:
        text = _content_alt(title, scene.bullets)
    return _end(_clip(text, MAX_ALT_CHARS))


def _end(text: str) -> str:
    return text if text.endswith((".", _layout.ELLIPSIS)) else text + "."


def _content_alt(title: str, bullets: Sequence[str]) -> str:
    head = f"Slide titled '{title}' with points: "
    points = [" ".join(b.split()).rstrip(".") for b in bullets if b.strip()]
    if not points:
        return f"Slide titled '{title}'."
    # Give every point an equal share of the room left (long points give up
    # what short ones do not use), so all are named; drop points only if a
    # share would be too short to mean anything.
    for shown in range(len(points), 0, -1):
        more = f"; and {len(points) - shown} more" if shown < len(points) else ""
        budget = MAX_ALT_CHARS - len(head) - len(more) - 1 - 2 * (shown - 1)
        limit = _share([len(p) for p in points[:shown]], budget)
        if limit >= 25 or shown == 1:
            clipped = [_clip(p, max(limit, 1)) for p in points[:shown]]
            return _end(head + "; ".join(clipped) + more)
    raise AssertionError("unreachable")


def _share(lengths: Sequence[int], budget: int) -> int:
    """The largest per-item cap ``c`` with ``sum(min(n, c)) <= budget``."""
    lo, hi = 0, max(lengths)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


# -- the hook -------------------------------------------------------------------


def _frame_size(aspect: object) -> tuple[int, int]:
    try:
        return frame_size(str(aspect))
    except ValueError:
        allowed = ", ".join(repr(a) for a in ASPECT_SIZES)
        raise InvalidInputError(
            f"render_shot aspect: {aspect!r} is not supported by 'slides'; use one of {allowed}"
        ) from None


def _as_scene(scene: object) -> Scene:
    if isinstance(scene, Scene):
        return scene
    try:
        return Scene.model_validate(scene)
    except ValidationError as err:
        raise InvalidInputError(f"render_shot scene: not a valid Scene: {err}") from err


def _save_png_atomic(image: Image.Image, path: Path, glyphs: str | None = None) -> None:
    """Write ``image`` as PNG to ``path`` via a temp file in the same folder and ``os.replace``.

    ``glyphs`` (see :func:`glyph_record`) is stored as an iTXt (UTF-8) chunk.
    """
    info = PngImagePlugin.PngInfo()
    if glyphs is not None:
        info.add_itxt(GLYPHS_KEY, glyphs)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            # Level 3: flat slides compress almost as well as at the default 6, faster.
            image.save(fh, format="PNG", compress_level=3, pnginfo=info)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _font_option(options: Mapping[str, Any] | None) -> FontFace | None:
    """``options.font`` as a face, checked to be a font fontTools can read."""
    value = (options or {}).get("font")
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not Path(value).is_file():
        raise InvalidInputError(
            f"render_shot options.font: {value!r} is not a font file; "
            "pass the path of a .ttf, .otf or .ttc file, e.g. "
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
        )
    face = FontFace(Path(value).resolve())
    font_chars(face)  # raises InvalidInputError naming the file when it is not a font
    return face


def _language_option(options: Mapping[str, Any] | None) -> str | None:
    value = (options or {}).get("language")
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(
            f"render_shot options.language: {value!r} is not a BCP 47 tag; use e.g. 'ja' or 'zh-Hans'"
        )
    return value


def _warn_low_contrast(theme: Theme, ctx: NodeContext) -> None:
    for name, fg, bg in theme.text_pairs():
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_TEXT_CONTRAST:
            ctx.log.warning(
                "slides.low_contrast", element=name, ratio=round(ratio, 2), needed=MIN_TEXT_CONTRAST
            )


@hookimpl
def render_shot(scene: Scene, aspect: str, options: dict[str, Any], ctx: NodeContext) -> Visual:
    """Render ``scene`` as a PNG slide ``scene-NNN.png`` in ``ctx.workdir``.

    The frame is 1920x1080, 1080x1920 or 1080x1080 px for ``aspect`` 16:9,
    9:16 or 1:1. Options: see the module docstring.

    Raises:
        InvalidInputError: unknown aspect, unknown option, bad hex colour,
            unreadable ``options.font``, or letters, digits or punctuation
            no installed font has (the message names them and the package
            to install). Emoji and symbols no font has are left off the
            slide instead, with a ``slides.dropped_characters`` warning.
    """
    started = time.perf_counter()
    scene = _as_scene(scene)
    width, height = _frame_size(aspect)
    theme = theme_from_options(options)
    _warn_low_contrast(theme, ctx)
    font, language = _font_option(options), _language_option(options)
    scene, dropped = without_undrawable_decoration(scene, font=font, language=language)
    if dropped:
        ctx.log.warning(
            "slides.dropped_characters",
            scene_index=scene.index,
            characters=describe_chars(dropped),
            reason="no installed font has them; emoji and symbols are decoration",
        )
    faces = slide_faces(scene, font=font, language=language)
    slide = draw_slide(scene, width, height, theme, faces)
    path = Path(ctx.workdir) / f"scene-{scene.index:03d}.png"
    _save_png_atomic(slide.image, path, glyph_record(slide.drawn))
    fallbacks = {
        role: [str(face) for face in chain]
        for role, chain in faces.items()
        if chain != (_layout.face_for_role(role),)
    }
    if fallbacks:
        ctx.log.info("slides.font_fallback", scene_index=scene.index, fonts=fallbacks)
    truncated = slide.truncated
    if truncated:
        ctx.log.warning("slides.text_truncated", scene_index=scene.index, title=scene.title[:60])
    ctx.log.debug(
        "slides.rendered",
        path=str(path),
        kind=scene.kind,
        seconds=round(time.perf_counter() - started, 4),
    )
    return Visual(
        scene_index=scene.index,
        kind="image",
        path=path,
        width_px=width,
        height_px=height,
        alt_text=alt_text(scene),
    )
