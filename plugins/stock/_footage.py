"""A stock file made into a scene's clip: download, decode, loop, dim under the title, normalise.

:func:`make_clip` takes a chosen file's URL and writes the clip the assembler
joins, with the same rules as a generated clip (``generate_clip``'s
hookspec): the download goes through
:func:`reelgraph.plugins._media.fetch.fetch` (https only, every redirect
re-checked, private and loopback addresses refused unless
``REELGRAPH_ALLOW_LOOPBACK=1``, a size cap, a video content type), the bytes
are decoded with PyAV (:func:`~reelgraph.plugins.vendors._clip_media.probe_video`)
before anything else reads them, a file shorter than the scene is looped by
packet copy (``-stream_loop``, no re-encode), and
:func:`~reelgraph.plugins.vendors._clip_media.normalise_clip` writes the
aspect's frame at 30 fps, H.264, the scene's length.

A scene's clip (``render_shot``) carries its title on top: :func:`title_overlay`
draws, with Pillow, a full-frame RGBA picture: the footage dimmed by
:data:`DIM_ALPHA` everywhere and more under the title (a band up to
:data:`BAND_ALPHA`), the title in white with a dark outline inside the
title-safe area (SMPTE ST 2046-1 / EBU R95: 5 % margins). ffmpeg lays it
over the footage (``movie`` + ``overlay``) in the same encode.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import frame_size
from reelgraph.plugins.vendors._clip_media import Probe, normalise_clip, probe_video

__all__ = ["BAND_ALPHA", "DIM_ALPHA", "cover_filter", "make_clip", "title_overlay"]

#: how much the whole picture is darkened (0-255 alpha of black): text stays the
#: subject, footage the background
DIM_ALPHA = 90
#: the darkest part of the band behind the title (alpha of black)
BAND_ALPHA = 170
#: a file whose shape differs from the frame's by at most this factor is cropped to
#: fill it (16:9 from 4:3 loses 25 %); a wider mismatch is letterboxed instead
MAX_CROP_FACTOR = 1.34


def _escape(value: str) -> str:
    """``value`` as a filter option inside a filtergraph: both levels of ffmpeg escaping
    (https://ffmpeg.org/ffmpeg-filters.html#Notes-on-filtergraph-escaping)."""
    first = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in first)


def cover_filter(src_w: int, src_h: int, aspect: str) -> str:
    """The filter chain fitting a ``src_w`` x ``src_h`` picture to the aspect's frame.

    Cropped to fill (``force_original_aspect_ratio=increase`` then ``crop``)
    when the shapes are within :data:`MAX_CROP_FACTOR`, else scaled to fit and
    padded with black; square pixels either way.
    """
    width, height = frame_size(aspect)
    factor = (src_w / src_h) / (width / height) if src_h else 1.0
    if max(factor, 1 / factor) <= MAX_CROP_FACTOR:
        return (
            f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1"
        )
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
    )


def title_overlay(title: str, aspect: str, target: Path) -> Path:
    """Write the RGBA overlay PNG (dim layer, band, title) for ``aspect`` to ``target``.

    The title is wrapped in pixels to at most three lines inside the
    title-safe width, starting at 90 px on a 1080-px short side and shrinking
    to 48 px when it does not fit.
    """
    from PIL import Image, ImageDraw

    from reelgraph.plugins.visuals._layout import load_font

    width, height = frame_size(aspect)
    short = min(width, height)
    image = Image.new("RGBA", (width, height), (0, 0, 0, DIM_ALPHA))
    draw = ImageDraw.Draw(image)
    margin_x, top = int(width * 0.05), int(height * 0.08)
    usable = width - 2 * margin_x
    lines: list[str] = []
    font: Any = None
    for size in range(int(short * 90 / 1080), int(short * 48 / 1080) - 1, -6):
        font = load_font("bold", size)
        lines = _wrap(title, font, usable, draw)
        if len(lines) <= 3:
            break
    lines = lines[:3]
    line_h = int(font.size * 1.25)
    band_h = top + line_h * len(lines) + int(short * 0.06)
    for y in range(band_h):  # darker behind the title, fading into the dim layer
        alpha = BAND_ALPHA - (BAND_ALPHA - DIM_ALPHA) * max(
            0.0, (y - band_h * 0.6) / (band_h * 0.4)
        )
        draw.line([(0, y), (width, y)], fill=(0, 0, 0, int(alpha)))
    stroke = max(2, font.size // 18)
    for i, line in enumerate(lines):
        draw.text(
            (margin_x, top + i * line_h), line, font=font, fill=(255, 255, 255, 255),
            stroke_width=stroke, stroke_fill=(0, 0, 0, 255),
        )  # fmt: skip
    image.save(target, format="PNG")
    return target


def _wrap(text: str, font: Any, max_px: int, draw: Any) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > max_px:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


def _loop(source: Path, found: Probe, duration_s: float, what: str) -> Path:
    """``source`` repeated (packet copy) to cover ``duration_s``; ``source`` if it already does."""
    from reelgraph.plugins._media.probe import ffmpeg_exe

    if found.duration_s >= duration_s or found.duration_s <= 0:
        return source
    repeats = math.ceil(duration_s / found.duration_s)
    looped = source.with_name(source.stem + ".loop.mp4")
    args = [
        ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-stream_loop", str(repeats),
        "-i", str(source), "-map", "0:v:0", "-c", "copy", "-t", f"{duration_s:.3f}", str(looped),
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        looped.unlink(missing_ok=True)
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise InvalidInputError(f"{what}: ffmpeg could not loop the clip ({tail[0]})")
    return looped


def make_clip(
    data: bytes,
    target: Path,
    *,
    aspect: str,
    duration_s: float,
    title: str | None,
    what: str,
) -> tuple[Probe, Probe]:
    """Write ``target`` from a downloaded file: decoded, looped, dimmed under ``title``, normalised.

    Args:
        data: the downloaded bytes.
        target: the MP4 to write (``.mp4``); written under a temporary name
            and renamed, so no half-written clip is left.
        aspect: ``16:9``, ``9:16`` or ``1:1``.
        duration_s: the clip's length, seconds.
        title: the text drawn over the dimmed footage; ``None`` for none.
        what: names the clip in messages.

    Returns:
        The probe of the downloaded file and of the written clip.

    Raises:
        InvalidInputError: the bytes are not a decodable video, or ffmpeg
            fails on them.
    """
    raw = target.with_name(target.stem + ".raw")
    raw.write_bytes(data)
    made_files = [raw]
    try:
        found = probe_video(raw, what)
        source = _loop(raw, found, duration_s, what)
        made_files.append(source)
        chain = cover_filter(found.width_px, found.height_px, aspect)
        if title:
            overlay = title_overlay(title, aspect, target.with_name(target.stem + ".title.png"))
            made_files.append(overlay)
            chain = f"{chain}[bg];movie={_escape(str(overlay))}[ov];[bg][ov]overlay=0:0"
        made = normalise_clip(
            source, target, aspect=aspect, duration_s=duration_s, keep_audio=False,
            what=what, filters=chain,
        )  # fmt: skip
    finally:
        for path in made_files:
            path.unlink(missing_ok=True)
    return found, made
