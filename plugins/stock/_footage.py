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
:data:`DIM_ALPHA` everywhere and more under the title (a band of
:data:`BAND_ALPHA` under every line, fading out below the last), the title
in white with a dark outline inside the title-safe area (SMPTE ST 2046-1 /
EBU R95: 5 % margins). ffmpeg lays it over the footage (``movie`` +
``overlay``) in the same encode.

The title is set as the slides and the thumbnail set theirs
(:func:`title_layout`): the bold face, or an installed face that has every
character of the title (``_fonts.choose_faces``, fontconfig), so a Japanese or
Chinese title is drawn, not boxes. Its contrast is measured on the footage
itself (:func:`title_contrast`): :data:`SAMPLE_FRAMES` frames spread over the
clip, fitted to the frame, darkened as the overlay darkens them, white against
the brightest 2 % behind each line. When that is under ``min_contrast``, the
band is darkened (:func:`darkest_needed`) until it passes. The threshold is
WCAG 2.x success criterion 1.4.3's 4.5:1 for normal text
(https://www.w3.org/TR/WCAG22/#contrast-minimum): large text (18 pt, or 14 pt
bold: 24 / 18.66 CSS px) may have 3:1, and a 48-90 px title qualifies at full
size, but a player may show the video far smaller (320 px wide: 14-27 px), so
the stricter figure is kept. What was drawn (fonts and characters, the
measured contrast, the band) is stored in the clip's MP4 metadata under
:data:`TITLE_KEY` (:func:`title_record`), where the accessibility gate's
``glyphs`` and ``contrast`` checks read it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import frame_size
from reelgraph.plugins.vendors._clip_media import Probe, normalise_clip, probe_video

__all__ = [
    "BAND_ALPHA",
    "DIM_ALPHA",
    "TITLE_KEY",
    "TitleLayout",
    "band_alphas",
    "cover_filter",
    "darkest_needed",
    "make_clip",
    "title_contrast",
    "title_layout",
    "title_overlay",
    "title_record",
]

#: how much the whole picture is darkened (0-255 alpha of black): text stays the
#: subject, footage the background
DIM_ALPHA = 90
#: the band under the title's lines, alpha of black: white text on white footage
#: dimmed by it reaches 7.5:1 (WCAG 2.x; 4.5:1 needs about 138); raised by
#: :func:`darkest_needed` when the sampled footage still falls short
BAND_ALPHA = 170
#: footage frames sampled, evenly over the clip, to measure what is behind the title
SAMPLE_FRAMES = 6
#: MP4 metadata key (``mdta``, ffmpeg ``use_metadata_tags``) of the title record
TITLE_KEY = "reelgraph_title"
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


@dataclass(frozen=True, slots=True)
class TitleLayout:
    """Where a clip's title goes: its lines, font, each line's ink box and the band's height.

    Pixels of the aspect's frame; ``boxes`` are ``(left, top, right, bottom)``
    of each line's ink, outline included; ``faces`` the fonts chosen.
    """

    lines: tuple[str, ...]
    size_px: int
    origins: tuple[tuple[int, int], ...]
    boxes: tuple[tuple[int, int, int, int], ...]
    stroke_px: int
    band_h: int
    faces: tuple[Any, ...]


def _wrap(text: str, font: Any, max_px: float) -> list[str]:
    """The thumbnail's greedy lines (:func:`~reelgraph.plugins.visuals.thumbnail.wrap_title`)."""
    from reelgraph.plugins.visuals.thumbnail import wrap_title

    return wrap_title(text, font, max_px) or [""]


def _balanced(text: str, font: Any, max_px: float) -> list[str]:
    """:func:`_wrap`'s lines at the narrowest width that needs no more of them (found by
    bisection), so the last line is not a lone word or character."""
    count = len(_wrap(text, font, max_px))
    low, high = 0.0, float(max_px)
    while high - low > 4:
        middle = (low + high) / 2
        if len(_wrap(text, font, middle)) <= count:
            high = middle
        else:
            low = middle
    return _wrap(text, font, high)


def title_layout(title: str, aspect: str, language: str | None = None) -> TitleLayout:
    """The title's lines: at most three inside the title-safe width (in 9:16, clear of
    the platforms' overlays: ``caption_style.KEEP_OUT_9_16``), from 90 px (on a
    1080-px short side) down to 48 px until they fit, balanced (:func:`_balanced`),
    in the slides' bold face with
    their glyph fallback (``_fonts.choose_faces``: an installed face that has every
    character, found with fontconfig; ``language`` steers Han characters).

    Raises:
        InvalidInputError: no installed font has some character of ``title``
            (the message names them and the package to install).
    """
    from reelgraph.plugins._media.caption_style import KEEP_OUT_9_16
    from reelgraph.plugins.visuals._fonts import choose_faces
    from reelgraph.plugins.visuals._layout import face_for_role, line_metrics, load_faces

    title = " ".join(title.split())
    width, height = frame_size(aspect)
    short = min(width, height)
    faces = choose_faces([title], "bold", face_for_role("bold"), language=language)
    if height > width:  # 9:16: clear of TikTok's, Shorts' and Reels' own overlays
        scale = width / 1080
        margin_x, top, right, _ = (round(m * scale) for m in KEEP_OUT_9_16)
        margin_x, top = margin_x + round(16 * scale), top + round(16 * scale)  # outline too
        usable = width - margin_x - right - round(16 * scale)
    else:  # the title-safe area (5 % each side) and 8 % from the top
        margin_x, top = int(width * 0.05), int(height * 0.08)
        usable = width - 2 * margin_x
    lines: list[str] = []
    font: Any = None
    for size in range(int(short * 90 / 1080), int(short * 48 / 1080) - 1, -6):
        font = load_faces(faces, size)
        lines = _wrap(title, font, usable)
        if len(lines) <= 3 and max(font.getlength(line) for line in lines) <= usable:
            break
    lines = _balanced(title, font, usable)[:3]
    size = int(font.fonts[0].size if hasattr(font, "fonts") else font.size)
    stroke = max(2, size // 18)
    ascent, descent = line_metrics(font)
    line_h = int(size * 1.25)
    origins, boxes = [], []
    for i, line in enumerate(lines):
        x, y = margin_x, top + i * line_h
        origins.append((x, y))
        right = x + math.ceil(font.getlength(line))
        boxes.append((x - stroke, y - stroke, right + stroke, y + ascent + descent + stroke))
    band_h = max(top + line_h * len(lines) + int(short * 0.06), boxes[-1][3] + int(short * 0.02))
    return TitleLayout(tuple(lines), size, tuple(origins), tuple(boxes), stroke, band_h, faces)


def band_alphas(layout: TitleLayout, band_alpha: int) -> Any:
    """Alpha of black (0-255) for each row of the band, as a numpy array of ``band_h``.

    ``band_alpha`` under every line of the title (down to the last line's ink
    box), fading into :data:`DIM_ALPHA` below it, so no line sits on the fade.
    """
    import numpy as np

    rows = np.arange(layout.band_h, dtype=np.float64)
    solid = min(layout.band_h, layout.boxes[-1][3] + 1)
    fade = np.clip((rows - solid) / max(1, layout.band_h - solid), 0.0, 1.0)
    return np.maximum(band_alpha - (band_alpha - DIM_ALPHA) * fade, DIM_ALPHA)


def title_contrast(frames: Any, layout: TitleLayout, band_alpha: int) -> float:
    """WCAG 2.x contrast (1-21) of the white title against the dimmed footage behind it.

    ``frames`` is ``(n, rows, width, 3)`` uint8 RGB: the top rows of sampled
    frames of the fitted footage (at least ``band_h`` rows). Behind each
    line's ink box, the footage is darkened as the overlay darkens it
    (``band_alphas``), and the ratio of white (the text's fill) against the
    98th percentile of that relative luminance is taken (a few stray pixels
    do not decide it); the lowest across lines and frames is returned. The
    dark outline is not counted: the fill alone must pass (WCAG 2.x 1.4.3,
    https://www.w3.org/TR/WCAG22/#contrast-minimum).
    """
    import numpy as np

    from reelgraph.plugins._media.caption_style import _luminance, _ratio

    keep = 1.0 - band_alphas(layout, band_alpha)[:, None, None] / 255.0
    worst = 21.0
    for left, top, right, bottom in layout.boxes:
        top, bottom = max(0, top), min(layout.band_h, bottom)
        for frame in frames:
            behind = frame[top:bottom, max(0, left) : right].astype(np.float64) * keep[top:bottom]
            if behind.size:
                bright = float(np.percentile(_luminance(behind.reshape(-1, 3)), 98))
                worst = min(worst, _ratio(1.0, bright))
    return worst


def darkest_needed(frames: Any, layout: TitleLayout, minimum: float) -> tuple[int, float | None]:
    """``(band alpha, contrast)``: :data:`BAND_ALPHA`, raised in steps of 8 (to 255)
    until :func:`title_contrast` on ``frames`` reaches ``minimum``; the contrast is
    ``None`` when there are no frames."""
    if frames is None or not len(frames):
        return BAND_ALPHA, None
    alpha = BAND_ALPHA
    ratio = title_contrast(frames, layout, alpha)
    while ratio < minimum and alpha < 255:
        alpha = min(255, alpha + 8)
        ratio = title_contrast(frames, layout, alpha)
    return alpha, ratio


def title_overlay(
    layout: TitleLayout, aspect: str, target: Path, band_alpha: int = BAND_ALPHA
) -> tuple[Path, str]:
    """Write the RGBA overlay PNG (dim layer, band, title) for ``aspect`` to ``target``.

    Returns the path and the glyph record (``slides.glyph_record`` JSON: each
    face and the characters it drew), for the accessibility gate.
    """
    import numpy as np
    from PIL import Image, ImageDraw

    from reelgraph.plugins.visuals._layout import FontChain, face_of, load_faces
    from reelgraph.plugins.visuals.slides import glyph_record

    width, height = frame_size(aspect)
    alpha = np.full((height, width), DIM_ALPHA, dtype=np.uint8)
    alpha[: layout.band_h] = np.round(band_alphas(layout, band_alpha))[:, None].astype(np.uint8)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.putalpha(Image.fromarray(alpha, "L"))
    draw = ImageDraw.Draw(image)
    font = load_faces(layout.faces, layout.size_px)
    drawn: list[tuple[Any, str]] = []
    for line, (x, y) in zip(layout.lines, layout.origins, strict=True):
        runs = font.runs(line) if isinstance(font, FontChain) else [(font, face_of(font), line)]
        at = float(x)
        for part_font, face, part in runs:
            draw.text(
                (at, y), part, font=part_font, fill=(255, 255, 255, 255), anchor="la",
                stroke_width=layout.stroke_px, stroke_fill=(0, 0, 0, 255),
            )  # fmt: skip
            drawn.append((face, part))
            at += part_font.getlength(part)
    image.save(target, format="PNG")
    return target, glyph_record(drawn)


def _sample_band(source: Path, chain: str, aspect: str, span_s: float, rows: int, what: str) -> Any:
    """:data:`SAMPLE_FRAMES` frames spread over the first ``span_s`` seconds of
    ``source`` fitted by ``chain``, their top ``rows`` rows: ``(n, rows, width, 3)``
    uint8 RGB (``None`` when ffmpeg gives none)."""
    import numpy as np

    from reelgraph.plugins._media.probe import ffmpeg_exe

    width, _ = frame_size(aspect)
    rate = SAMPLE_FRAMES / max(span_s, 0.1)
    args = [
        ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(source),
        "-vf", f"fps={rate:.6f},{chain},crop={width}:{rows}:0:0",
        "-frames:v", str(SAMPLE_FRAMES), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, check=False)
    size = width * rows * 3
    if done.returncode != 0 or len(done.stdout) < size:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no frames"]
        raise InvalidInputError(f"{what}: ffmpeg could not sample the footage ({tail[0]})")
    count = len(done.stdout) // size
    return np.frombuffer(done.stdout[: count * size], np.uint8).reshape(count, rows, width, 3)


def _tag(clip: Path, record: dict[str, Any], what: str) -> None:
    """Store ``record`` (JSON) in ``clip``'s metadata under :data:`TITLE_KEY` (stream
    copy, ``use_metadata_tags``); on failure ``clip`` is removed and the error raised."""
    from reelgraph.plugins._media.probe import ffmpeg_exe

    tagged = clip.with_name(clip.stem + ".tagged.mp4")
    args = [
        ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(clip), "-map", "0", "-c", "copy",
        "-movflags", "+faststart+use_metadata_tags",
        "-metadata", f"{TITLE_KEY}={json.dumps(record, ensure_ascii=False)}", str(tagged),
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tagged.unlink(missing_ok=True)
        clip.unlink(missing_ok=True)  # no clip without its record
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise InvalidInputError(f"{what}: ffmpeg could not record the title ({tail[0]})")
    os.replace(tagged, clip)


def title_record(clip: Path) -> dict[str, Any] | None:
    """The title record :func:`make_clip` stored in ``clip`` (``None``: no title, or not
    a clip made here): ``{"text", "lines", "size_px", "band_alpha", "frames",
    "contrast", "min_contrast", "glyphs"}``."""
    import av

    try:
        with av.open(str(clip)) as container:
            raw = container.metadata.get(TITLE_KEY)
    except (OSError, av.FFmpegError):
        return None
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


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
    language: str | None = None,
    min_contrast: float = 4.5,
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
        language: BCP 47 tag steering the title's font fallback for Han
            characters (Japanese or Chinese forms).
        min_contrast: the WCAG 2.x ratio the title must reach on the
            sampled footage (1.4.3 AA, normal text: 4.5; see the module doc).

    Returns:
        The probe of the downloaded file and of the written clip.

    Raises:
        InvalidInputError: the bytes are not a decodable video, ffmpeg
            fails on them, or no installed font has some character of the title.
    """
    raw = target.with_name(target.stem + ".raw")
    raw.write_bytes(data)
    made_files = [raw]
    try:
        found = probe_video(raw, what)
        source = _loop(raw, found, duration_s, what)
        made_files.append(source)
        chain = cover_filter(found.width_px, found.height_px, aspect)
        record = None
        if title and title.strip():
            layout = title_layout(title, aspect, language)
            span = min(duration_s, found.duration_s) if found.duration_s > 0 else duration_s
            band = _sample_band(source, chain, aspect, span, layout.band_h, what)
            alpha, ratio = darkest_needed(band, layout, min_contrast)
            png = target.with_name(target.stem + ".title.png")
            made_files.append(png)
            overlay, glyphs = title_overlay(layout, aspect, png, alpha)
            chain = f"{chain}[bg];movie={_escape(str(overlay))}[ov];[bg][ov]overlay=0:0"
            record = {
                "text": title, "lines": list(layout.lines), "size_px": layout.size_px,
                "band_alpha": alpha, "frames": len(band),
                "contrast": None if ratio is None else round(ratio, 2),
                "min_contrast": min_contrast, "glyphs": json.loads(glyphs),
            }  # fmt: skip
        made = normalise_clip(
            source, target, aspect=aspect, duration_s=duration_s, keep_audio=False,
            what=what, filters=chain,
        )  # fmt: skip
        if record is not None:
            _tag(target, record, what)
    finally:
        for path in made_files:
            path.unlink(missing_ok=True)
    return found, made
