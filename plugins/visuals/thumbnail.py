"""``thumbnail.jpg``: a video's title in large type over its own picture.

Size by the video's shape: 1280x720 for 16:9 (YouTube's recommended custom
thumbnail, https://support.google.com/youtube/answer/72431: 1280x720,
at least 640 px wide, under 2 MB, JPG/PNG), 1080x1920 for 9:16 (the frame
size of Shorts and Reels covers) and 1080x1080 for 1:1 (a square feed
post's size: a square video's cover is shown square). The JPEG is written
at quality 90 and re-encoded at lower quality until it is under 2 MB
(2,097,152 bytes).

The background is the video's own picture: the middle frame of the first
clip (stock footage or a generated clip), lightly blurred; with stills only,
the title slide, blurred until its text cannot be read (so the title is not
shown twice) -- both dimmed to 45 % so white type on it keeps a contrast
of at least 4.5:1 (WCAG 2.x) wherever the picture was white.

The title is set in the bold face the slides use (glyph coverage from
``_fonts.choose_faces``, so any script the slides draw is drawn here), at
most three lines, in the largest size that fits 88 % of the width, and never
smaller than a size whose capital height stays at least
:data:`MIN_CAP_PX_AT_320` (12 px) once the thumbnail is shown 320 px wide
(YouTube's search results show thumbnails at about that width); a longer
title is cut with an ellipsis.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from reelgraph.errors import InvalidInputError
from reelgraph.models import Visual
from reelgraph.plugins.visuals._fonts import FontFace, choose_faces
from reelgraph.plugins.visuals._layout import Font, FontChain, face_for_role, load_faces

__all__ = [
    "MAX_BYTES",
    "MIN_CAP_PX_AT_320",
    "THUMBNAIL_SIZES",
    "Thumbnail",
    "render_thumbnail",
    "thumbnail_size",
    "wrap_title",
    "write_thumbnail",
]

THUMBNAIL_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
}
MAX_BYTES = 2 * 1024 * 1024  # YouTube's custom thumbnail limit (help page above)
MIN_CAP_PX_AT_320 = 12.0  # capital height at 320 px wide: legible in a results list
_MAX_LINES = 3
_TEXT_WIDTH = 0.88  # of the thumbnail's width
_DIM = 0.45  # brightness kept behind the title
_WHITE = (255, 255, 255)
_OUTLINE = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A written thumbnail: its file, size in pixels and bytes, and how large its type is.

    ``cap_height_px`` is the capital height of the title at full size;
    ``cap_height_at_320_px`` the same once shown 320 px wide.
    """

    path: Path
    width_px: int
    height_px: int
    bytes: int
    font_px: int
    lines: tuple[str, ...]
    cap_height_px: float

    @property
    def cap_height_at_320_px(self) -> float:
        return self.cap_height_px * 320 / self.width_px


def thumbnail_size(width_px: int, height_px: int) -> tuple[int, int]:
    """The thumbnail size for a video frame: its aspect's entry in :data:`THUMBNAIL_SIZES`."""
    ratio = width_px / height_px
    if ratio > 1.2:
        return THUMBNAIL_SIZES["16:9"]
    if ratio < 0.8:
        return THUMBNAIL_SIZES["9:16"]
    return THUMBNAIL_SIZES["1:1"]


def _picture(visual: Visual) -> Image.Image:
    """The visual as an RGB image: a still, or a clip's middle frame (decoded with PyAV)."""
    path = Path(visual.path)
    try:
        if visual.kind == "image":
            with Image.open(path) as image:
                return image.convert("RGB")
        import av

        middle_s = (visual.duration_s or 0.0) / 2
        frame = None
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):  # stop at the middle: never all frames
                if frame.time is not None and frame.time >= middle_s:
                    break
        if frame is None:
            raise InvalidInputError(f"thumbnail: clip {path} has no frame")
        return frame.to_image().convert("RGB")
    except (OSError, ValueError) as err:
        raise InvalidInputError(f"thumbnail: cannot read visual {path}: {err}") from err


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale ``image`` to cover ``size`` and crop the middle (no bars)."""
    scale = max(size[0] / image.width, size[1] / image.height)
    scaled = image.resize(
        (max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left = (scaled.width - size[0]) // 2
    top = (scaled.height - size[1]) // 2
    return scaled.crop((left, top, left + size[0], top + size[1]))


def _background(visual: Visual, size: tuple[int, int]) -> Image.Image:
    image = _cover(_picture(visual), size)
    blur = size[0] / 160 if visual.kind == "video" else size[0] / 40
    image = image.filter(ImageFilter.GaussianBlur(blur))
    return ImageEnhance.Brightness(image).enhance(_DIM)


def _cap_height(font: Font) -> float:
    first = font.fonts[0] if isinstance(font, FontChain) else font
    left, top, right, bottom = first.getbbox("H", anchor="ls")
    return float(bottom - top)


def wrap_title(title: str, font: Font, width_px: float) -> list[str]:
    """Greedy lines of ``title`` no wider than ``width_px``: by words; by characters when a
    title in a script written without spaces (CJK, U+2E80 on) has none.

    Also the stock footage titles' (``stock._footage``). ``[]`` for a blank title.
    """
    spaced = " " in title or not any(ord(ch) >= 0x2E80 for ch in title)
    tokens = title.split() if spaced else list(title)
    joiner = " " if spaced else ""
    lines: list[str] = []
    for token in tokens:
        candidate = f"{lines[-1]}{joiner}{token}" if lines else token
        if lines and font.getlength(candidate) <= width_px:
            lines[-1] = candidate
        else:
            lines.append(token)
    return lines


def _fit(
    title: str, faces: tuple[FontFace | None, ...], size: tuple[int, int]
) -> tuple[Font, list[str]]:
    """The largest font (and its lines) that sets ``title`` in at most three lines."""
    width = size[0] * _TEXT_WIDTH
    start = round(min(size) * 0.16)
    smallest = None
    for px in range(start, 8, -2):
        font = load_faces(faces, px)
        if _cap_height(font) * 320 / size[0] < MIN_CAP_PX_AT_320:
            break
        smallest = font
        lines = wrap_title(title, font, width)
        widest = max(font.getlength(line) for line in lines)
        if len(lines) <= _MAX_LINES and widest <= width:
            return font, lines
    font = smallest or load_faces(faces, start)
    lines = wrap_title(title, font, width)[:_MAX_LINES]
    while font.getlength(lines[-1] + "\u2026") > width and len(lines[-1]) > 1:
        lines[-1] = lines[-1][:-1]
    lines[-1] = lines[-1].rstrip() + "\u2026"
    return font, lines


def _draw_line(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font, stroke: int
) -> None:
    """One line, its baseline at ``xy[1]``, left edge at ``xy[0]``, white with a dark outline."""
    parts = font.runs(text) if isinstance(font, FontChain) else [(font, None, text)]
    x, baseline = xy
    for part_font, _, part in parts:
        draw.text(
            (x, baseline), part, font=part_font, fill=_WHITE, anchor="ls",
            stroke_width=stroke, stroke_fill=_OUTLINE,
        )  # fmt: skip
        x += part_font.getlength(part)


def render_thumbnail(
    title: str, visual: Visual, size: tuple[int, int], language: str | None = None
) -> tuple[Image.Image, Font, list[str]]:
    """The thumbnail image: ``visual``'s picture blurred and dimmed, ``title`` centred on it.

    Raises:
        InvalidInputError: the visual cannot be read, or no installed font
            has some of the title's characters (the message names them).
    """
    title = " ".join(title.split()) or "Untitled"
    image = _background(visual, size)
    faces = choose_faces([title], "bold", face_for_role("bold"), language=language)
    font, lines = _fit(title, faces, size)
    ascent, descent = font.getmetrics() if not isinstance(font, ImageFont.ImageFont) else (0, 0)
    step = round((ascent + descent) * 1.1)
    block = step * (len(lines) - 1) + ascent
    top = (size[1] - block) / 2 + ascent
    draw = ImageDraw.Draw(image)
    stroke = max(2, round(_cap_height(font) / 14))
    for n, line in enumerate(lines):
        x = (size[0] - font.getlength(line)) / 2
        _draw_line(draw, (x, top + n * step), line, font, stroke)
    return image, font, lines


def _jpeg(image: Image.Image) -> bytes:
    """JPEG bytes under :data:`MAX_BYTES`: quality 90, then lower in steps of 10."""
    for quality in (90, 80, 70, 60, 50, 40):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() < MAX_BYTES:
            return buffer.getvalue()
    return buffer.getvalue()  # quality 40 of 1280x720 is far below 2 MB


def write_thumbnail(
    title: str,
    visual: Visual,
    frame_px: tuple[int, int],
    path: Path,
    language: str | None = None,
) -> Thumbnail:
    """Write ``path`` (JPEG) for a video of ``frame_px`` (width, height) showing ``visual``.

    Written to ``path.part``, then renamed: never a half-written file.

    Raises:
        InvalidInputError: see :func:`render_thumbnail`.
    """
    size = thumbnail_size(*frame_px)
    image, font, lines = render_thumbnail(title, visual, size, language)
    data = _jpeg(image)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return Thumbnail(
        path, size[0], size[1], len(data), _font_px(font), tuple(lines), _cap_height(font)
    )


def _font_px(font: Font) -> int:
    first = font.fonts[0] if isinstance(font, FontChain) else font
    return int(getattr(first, "size", 0))
