"""The ``accessibility`` quality gate: alt text, contrast, title-safe area and missing glyphs.

Needs ``visuals`` (stage ``shots``, or ``video`` when a video is given too).
Four results, ``details["check"]`` naming each:

- ``alt_text``: every visual has non-blank alt text (WCAG 2.x success
  criterion 1.1.1); ``measured`` = how many have none.
- ``contrast``: measured on each image itself, not on the theme it was drawn
  with. The background is the most common colour of the frame's outer margin;
  "surfaces" are the background and any colour that fills at least 1 % of the
  frame with whole 16x16-pixel blocks (a code panel; glyph strokes are
  thinner); the text colour is the most common other
  colour that differs from every surface by more than ``_INK_DISTANCE`` (RGB
  distance), i.e. the solid core of the glyphs, not their anti-aliased edges.
  Its contrast is taken against the surfaces under it (the lowest ratio) with
  ``slides.contrast_ratio`` (WCAG 2.x). ``measured`` = the lowest ratio
  across slides. A slide without such a colour (blank) is reported, not failed.
- ``safe_area``: no pixel that differs from the background in the outer
  ``safe_margin`` of the frame on any side; ``measured`` = how many slides
  have one.
- ``glyphs``: no character drawn as a box ("tofu"): every character a slide
  drew exists in the font that drew it. The slides plugin stores what it drew
  with which font in the PNG (iTXt chunk ``slides.GLYPHS_KEY``); this gate
  reads each font's cmap itself with fontTools and fails (error) any slide
  with a character the font lacks, or whose font file it cannot read;
  ``measured`` = how many slides fail. PNGs without the record (not drawn by
  ``slides``) are listed as unchecked, not failed.

Video clips are described by their alt text only: contrast and safe area are
not measured on them (an ``info`` result says so). A stock clip's title is
checked, from the record the clip carries (``stock._footage.title_record``):
its characters join ``glyphs`` and its contrast, measured on sampled frames
of the footage behind it as the overlay dimmed them, joins ``contrast``.

Burned captions (a ``video`` whose ``burned_captions_path`` is set, assembler
option ``captions: burned`` or ``both``; checked with or without visuals):

- ``caption_contrast``: the WCAG 2.x ratio of each drawn cue's text colour
  against the actual pixels behind its lines (a still's, or a clip's or
  crossfade's on the cue's first, middle and last frames,
  ``assembly._burn_clips``), its style's box composited over them (measured
  as it was drawn, ``caption_style.contrast_behind``); ``measured`` = the
  lowest across cues, failed under ``min_contrast``.
- ``caption_glyphs``: every character of every burned cue exists in the
  font that drew it (the same record and check as ``glyphs``);
  ``measured`` = how many cues fail.

Thresholds (``thresholds["accessibility"]``):
    min_contrast: 4.5 -- WCAG 2.x success criterion 1.4.3 (AA), normal text
        (``slides.MIN_TEXT_CONTRAST``).
    safe_margin: 0.05 -- SMPTE ST 2046-1 / EBU R95 title safe = central 90 %
        (``_layout.TITLE_SAFE_MARGIN``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video, Visual
from reelgraph.plugins.gates._common import gate_selected, resolve_thresholds
from reelgraph.plugins.visuals._layout import TITLE_SAFE_MARGIN
from reelgraph.plugins.visuals.slides import GLYPHS_KEY, MIN_TEXT_CONTRAST, contrast_ratio

if TYPE_CHECKING:
    from PIL import Image

    from reelgraph.run.context import NodeContext

__all__ = [
    "DEFAULTS",
    "SlideColours",
    "check_quality",
    "measure_colours",
    "missing_glyphs",
    "safe_area_sides",
]

GATE = "accessibility"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, float] = {
    "min_contrast": MIN_TEXT_CONTRAST,
    "safe_margin": TITLE_SAFE_MARGIN,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "min_contrast": (1.0, 21.0),
    "safe_margin": (0.0, 0.25),
}

RGB = tuple[int, int, int]
# Heuristics of the measurement (design choices, documented above):
_SURFACE_SHARE = 0.01  # a surface fills at least 1 % of the frame ...
_SURFACE_BLOCK_PX = 16  # ... with whole 16x16 blocks, which glyph strokes never fill
_INK_DISTANCE = 24.0  # RGB distance from every surface for a text colour (#777 vs #888: 29)
_BACKGROUND_TOLERANCE = 8  # per channel: a pixel this close to the background is background
_MAX_SIDE_PX = 1920  # larger images are measured on a nearest-neighbour copy (same colours)


@dataclass(frozen=True, slots=True)
class SlideColours:
    """What :func:`measure_colours` found: colours as ``(r, g, b)``; ratio 1-21 or ``None``."""

    background: RGB
    text: RGB | None
    behind_text: RGB | None
    ratio: float | None


def _distance(a: RGB, b: RGB) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _colour_mask(image: Image.Image, colour: RGB) -> Image.Image:
    """A mode ``L`` image: 255 where the pixel is exactly ``colour``, else 0."""
    import numpy as np
    from PIL import Image as PILImage

    pixels = np.asarray(image)
    exact = (pixels[:, :, 0] == colour[0]) & (pixels[:, :, 1] == colour[1])
    exact &= pixels[:, :, 2] == colour[2]
    return PILImage.fromarray(exact.view(np.uint8) * np.uint8(255))


def _colours(image: Image.Image) -> list[tuple[int, Any]]:
    """``image.getcolors()`` with every colour: ``[(count, colour), ...]``.

    Pillow sizes its table by ``maxcolors`` (32 ms for a 1080p frame asked
    for up to one colour per pixel, 9 ms for 65,536), and a slide has a few
    hundred colours: ask for 65,536 first, and for one per pixel only when
    that is not enough.
    """
    pixels = image.width * image.height
    found = image.getcolors(maxcolors=min(pixels, 1 << 16))
    if found is None:
        found = image.getcolors(maxcolors=pixels)
    return found or []


def _border_colour(image: Image.Image, margin: float) -> RGB:
    """The most common colour of the frame's outer ``margin`` (at least its edge pixels)."""
    w, h = image.size
    mx, my = max(1, round(w * margin)), max(1, round(h * margin))
    counts: dict[RGB, int] = {}
    for box in ((0, 0, w, my), (0, h - my, w, h), (0, my, mx, h - my), (w - mx, my, w, h - my)):
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        for n, colour in _colours(image.crop(box)):
            key = tuple(colour[:3])
            counts[key] = counts.get(key, 0) + n  # type: ignore[index]
    return max(counts, key=counts.__getitem__)  # type: ignore[return-value]


def measure_colours(image: Image.Image, margin: float = TITLE_SAFE_MARGIN) -> SlideColours:
    """Background, text colour and their WCAG contrast ratio, measured on an RGB image.

    The background is the most common colour of the outer ``margin`` (the
    frame's edge), so a large panel does not pass for it.
    """
    from PIL import Image as PILImage

    if max(image.size) > _MAX_SIDE_PX:
        scale = _MAX_SIDE_PX / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, PILImage.Resampling.NEAREST)
    total = image.width * image.height
    counted = sorted(_colours(image), reverse=True)
    colours: list[tuple[int, RGB]] = [(n, tuple(c[:3])) for n, c in counted]  # type: ignore[misc]
    background = _border_colour(image, margin)
    surfaces: list[tuple[RGB, tuple[int, int, int, int]]] = [
        (background, (0, 0, image.width, image.height))
    ]
    for count, colour in colours:
        if count < _SURFACE_SHARE * total:
            break
        if colour == background:
            continue
        mask = _colour_mask(image, colour)
        solid_px = mask.reduce(_SURFACE_BLOCK_PX).histogram()[255] * _SURFACE_BLOCK_PX**2
        if solid_px >= _SURFACE_SHARE * total:
            surfaces.append((colour, mask.getbbox() or (0, 0, image.width, image.height)))
    surface_colours = [c for c, _ in surfaces]
    text = next(
        (
            colour
            for _, colour in colours
            if colour not in surface_colours
            and min(_distance(colour, s) for s in surface_colours) > _INK_DISTANCE
        ),
        None,
    )
    if text is None:
        return SlideColours(background, None, None, None)
    text_box = _colour_mask(image, text).getbbox() or (0, 0, image.width, image.height)
    under = [c for c, box in surfaces if _overlaps(box, text_box)] or [background]
    behind = min(under, key=lambda c: contrast_ratio(text, c))
    return SlideColours(background, text, behind, contrast_ratio(text, behind))


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def safe_area_sides(image: Image.Image, background: RGB, margin: float) -> list[str]:
    """Sides (``top``, ``bottom``, ``left``, ``right``) whose margin holds a non-background pixel."""
    from PIL import Image as PILImage
    from PIL import ImageChops

    w, h = image.size
    mx, my = round(w * margin), round(h * margin)
    strips = {
        "top": (0, 0, w, my),
        "bottom": (0, h - my, w, h),
        "left": (0, 0, mx, h),
        "right": (w - mx, 0, w, h),
    }
    sides = []
    for side, box in strips.items():
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        strip = image.crop(box)
        diff = ImageChops.difference(strip, PILImage.new("RGB", strip.size, background))
        bands = [b.point(lambda v: 255 if v > _BACKGROUND_TOLERANCE else 0) for b in diff.split()]
        if any(band.getbbox() for band in bands):
            sides.append(side)
    return sides


# Pillow's bundled font (drawn only when no font file was found): assumed to
# cover printable ASCII, as the slides plugin assumes (_fonts.PILLOW_DEFAULT_CHARS).
_PILLOW_DEFAULT_CHARS = frozenset(range(0x20, 0x7F))


@functools.lru_cache(maxsize=64)
def _cmap(path: str, index: int) -> frozenset[int]:
    """Code points the face maps to a glyph (best Unicode cmap, read with fontTools)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def missing_glyphs(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Per font of a glyph record, the characters it drew but has no glyph for.

    ``record`` is the JSON the slides plugin stores under ``GLYPHS_KEY``:
    ``{"runs": [{"font": path or null, "index": int, "chars": str}]}``.
    Returns ``[{"font", "index", "chars", "error"}]`` for fonts with missing
    characters, or that cannot be read (``error`` says why; ``chars`` is then
    everything that font drew).
    """
    from fontTools.ttLib import TTLibError

    problems = []
    for run in record.get("runs", []):
        chars = str(run.get("chars", ""))
        path, index = run.get("font"), int(run.get("index") or 0)
        error = ""
        try:
            covered = _PILLOW_DEFAULT_CHARS if path is None else _cmap(str(path), index)
        except (OSError, TTLibError, AssertionError, KeyError) as err:
            covered, error = frozenset(), f"cannot read the font: {err}"
        missing = "".join(ch for ch in chars if ord(ch) not in covered)
        if missing:
            problems.append({"font": path, "index": index, "chars": missing, "error": error})
    return problems


def _glyph_record(image: Image.Image) -> dict[str, Any] | None:
    text = getattr(image, "text", None) or image.info
    raw = text.get(GLYPHS_KEY) if isinstance(text, dict) else None
    if raw is None:
        return None
    try:
        record = json.loads(str(raw))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _open_rgb(visual: Visual) -> tuple[Image.Image, dict[str, Any] | None]:
    """The image as RGB and its glyph record (``None`` when it has none)."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(visual.path) as image:
            image.load()
            return image.convert("RGB"), _glyph_record(image)
    except (OSError, UnidentifiedImageError) as err:
        raise InvalidInputError(
            f"gate {GATE!r}: cannot read the image of scene {visual.scene_index} "
            f"({visual.path}): {err}"
        ) from err


@hookimpl
def check_quality(
    visuals: list[Visual] | None,
    video: Video | None,
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check alt text, text contrast, the title-safe area and missing glyphs of the visuals.

    Defaults: ``min_contrast`` 4.5 (WCAG 2.x 1.4.3 AA), ``safe_margin`` 0.05
    (SMPTE ST 2046-1 / EBU R95 title safe). Returns ``None`` without visuals.
    """
    burned = video is not None and video.burned_captions_path is not None
    if not gate_selected(GATE, gates) or not (visuals or burned):
        return None
    limits = resolve_thresholds(GATE, DEFAULTS, _LIMITS, thresholds)
    stage = "video" if video is not None else "shots"
    results = _burned_captions(video, limits["min_contrast"]) if burned and video else []
    if not visuals:
        ctx.log.info(
            "accessibility gate", failed=[r.details["check"] for r in results if not r.passed]
        )
        return results
    results.append(_alt_text(visuals, stage))
    images = [v for v in visuals if v.kind == "image"]
    clips = [v.scene_index for v in visuals if v.kind != "image"]
    titled = _titled_clips(visuals)
    if images or titled:
        measured = []
        records: list[tuple[Visual, dict[str, Any] | None]] = []
        for visual in images:
            image, record = _open_rgb(visual)
            colours = measure_colours(image, limits["safe_margin"])
            sides = safe_area_sides(image, colours.background, limits["safe_margin"])
            measured.append((visual, colours, sides))
            records.append((visual, record))
        records += [(visual, title.get("glyphs") or {}) for visual, title in titled]
        titles = [
            {"scene": v.scene_index, "background": "footage", "text": "#ffffff",
             "ratio": float(t["contrast"])}
            for v, t in titled if isinstance(t.get("contrast"), int | float)
        ]  # fmt: skip
        results.append(_contrast(measured, limits["min_contrast"], stage, titles))
        if images:
            results.append(_safe_area(measured, limits["safe_margin"], stage))
        results.append(_glyphs(records, stage))
    if clips:
        measured_titles = [v.scene_index for v, _ in titled]
        also = f"; titles measured on their footage (scenes {measured_titles})" if titled else ""
        results.append(
            GateResult(
                gate=GATE,
                passed=True,
                severity="info",
                message=f"contrast and safe area not measured on video clips (scenes {clips})"
                + also,
                stage=stage,
                details={"check": "clips", "scenes": clips, "titled_scenes": measured_titles},
            )
        )
    ctx.log.info("accessibility gate", failed=[r.details["check"] for r in results if not r.passed])
    return results


def _burned_captions(video: Video, limit: float) -> list[GateResult]:
    """``caption_contrast`` and ``caption_glyphs`` from ``burned_captions.json``."""
    path = Path(str(video.burned_captions_path))
    try:
        cues = json.loads(path.read_text(encoding="utf-8"))["cues"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidInputError(
            f"gate {GATE!r}: cannot read the burned captions' record {path}: {err}; "
            "assemble the video again"
        ) from err
    if not cues:
        return []
    worst = min(cues, key=lambda c: c["contrast"])
    low = [c["cue"] for c in cues if c["contrast"] < limit]
    contrast = GateResult(
        gate=GATE,
        passed=not low,
        measured=float(worst["contrast"]),
        threshold=limit,
        unit="ratio",
        message=f"burned captions: lowest contrast {worst['contrast']:.2f}:1 against the "
        f"picture behind them (cue {worst['cue']}); {len(low)} of {len(cues)} cues under "
        f"{limit:g}:1",
        remedy=""
        if not low
        else "choose a caption style with a box or an outline (e.g. -i caption_style=clean) "
        f"or lighter/darker slides behind cues {low[:10]}",
        stage="video",
        details={"check": "caption_contrast", "low_contrast_cues": low, "worst_cue": worst["cue"]},
    )
    failing = [
        {"cue": c["cue"], **problem} for c in cues for problem in missing_glyphs(c["glyphs"])
    ]
    bad = sorted({item["cue"] for item in failing})
    glyphs = GateResult(
        gate=GATE,
        passed=not failing,
        measured=float(len(bad)),
        threshold=0.0,
        unit="cues",
        message=f"{len(bad)} of {len(cues)} burned cues draw characters their font has no "
        "glyph for (shown as boxes)",
        remedy=""
        if not failing
        else "install fonts that cover them (Debian: apt-get install fonts-noto-cjk) or set "
        f"the caption style's font to one that does (cues {bad[:10]})",
        stage="video",
        details={"check": "caption_glyphs", "missing": failing[:20]},
    )
    return [contrast, glyphs]


def _alt_text(visuals: list[Visual], stage: str) -> GateResult:
    missing = [v.scene_index for v in visuals if not v.alt_text.strip()]
    return GateResult(
        gate=GATE,
        passed=not missing,
        measured=float(len(missing)),
        threshold=0.0,
        unit="visuals",
        message=f"{len(visuals) - len(missing)} of {len(visuals)} visuals have alt text",
        remedy=f"add alt text to the visuals of scenes {missing}" if missing else "",
        stage=stage,
        details={"check": "alt_text", "missing_scenes": missing},
    )


def _hex(colour: RGB | None) -> str | None:
    return None if colour is None else "#{:02x}{:02x}{:02x}".format(*colour)


def _titled_clips(visuals: list[Visual]) -> list[tuple[Visual, dict[str, Any]]]:
    """Clips with the title record stock footage stores (``stock._footage.title_record``:
    its fonts and characters, its contrast measured on the footage)."""
    clips = [v for v in visuals if v.kind != "image"]
    if not clips:
        return []
    from reelgraph.plugins.stock._footage import title_record

    found = [(visual, title_record(Path(visual.path))) for visual in clips]
    return [(visual, record) for visual, record in found if record is not None]


def _contrast(
    measured: list[tuple[Visual, SlideColours, list[str]]],
    limit: float,
    stage: str,
    titles: list[dict[str, Any]] | None = None,
) -> GateResult:
    slides = [
        {
            "scene": visual.scene_index,
            "background": _hex(c.behind_text or c.background),
            "text": _hex(c.text),
            "ratio": None if c.ratio is None else round(c.ratio, 2),
        }
        for visual, c, _ in measured
    ] + (titles or [])
    rated = [s for s in slides if s["ratio"] is not None]
    low = [s["scene"] for s in rated if s["ratio"] < limit]
    details: dict[str, Any] = {"check": "contrast", "slides": slides, "low_contrast_scenes": low}
    if not rated:
        return GateResult(
            gate=GATE,
            passed=True,
            severity="info",
            message="no text colour found on the slides; contrast not measured",
            stage=stage,
            details={**details, "worst_scene": None},
        )
    worst = min(rated, key=lambda s: s["ratio"])
    details["worst_scene"] = worst["scene"]
    return GateResult(
        gate=GATE,
        passed=not low,
        measured=worst["ratio"],
        threshold=limit,
        unit="ratio",
        message=f"lowest text contrast {worst['ratio']:.2f}:1 ({worst['text']} on "
        f"{worst['background']}, scene {worst['scene']}); {len(low)} slide(s) under {limit:g}:1",
        remedy=""
        if not low
        else f"use text and background colours with at least {limit:g}:1 contrast "
        f"(scenes {low}; e.g. the slides' dark or light theme)",
        stage=stage,
        details=details,
    )


def _safe_area(
    measured: list[tuple[Visual, SlideColours, list[str]]], margin: float, stage: str
) -> GateResult:
    outside = [{"scene": v.scene_index, "sides": sides} for v, _, sides in measured if sides]
    scenes = [item["scene"] for item in outside]
    return GateResult(
        gate=GATE,
        passed=not outside,
        measured=float(len(outside)),
        threshold=0.0,
        unit="slides",
        message=f"{len(outside)} of {len(measured)} slides draw outside the title-safe area "
        f"({round((1 - 2 * margin) * 100)} % of the frame)",
        remedy=""
        if not outside
        else f"keep text and graphics inside the central {round((1 - 2 * margin) * 100)} % "
        f"of the frame (scenes {scenes})",
        stage=stage,
        details={
            "check": "safe_area",
            "outside": outside,
            "worst_scene": scenes[0] if scenes else None,
        },
    )


def _glyphs(records: list[tuple[Visual, dict[str, Any] | None]], stage: str) -> GateResult:
    unchecked = [v.scene_index for v, record in records if record is None]
    failing = []
    for visual, record in records:
        if record is None:
            continue
        for problem in missing_glyphs(record):
            failing.append({"scene": visual.scene_index, "path": str(visual.path), **problem})
    details: dict[str, Any] = {
        "check": "glyphs",
        "missing": failing,
        "unchecked_scenes": unchecked,
    }
    checked = len(records) - len(unchecked)
    if not checked:
        return GateResult(
            gate=GATE,
            passed=True,
            severity="info",
            message="no slide records which fonts drew it; missing glyphs not checked",
            stage=stage,
            details=details,
        )
    scenes = sorted({item["scene"] for item in failing})
    named = "; ".join(
        f"scene {item['scene']}: "
        + ", ".join(f"{ch!r} U+{ord(ch):04X}" for ch in item["chars"][:5])
        + (f" and {len(item['chars']) - 5} more" if len(item["chars"]) > 5 else "")
        + f" not in {Path(item['font']).name if item['font'] else 'Pillow default font'}"
        + (f" ({item['error']})" if item["error"] else "")
        for item in failing[:3]
    )
    skipped = f"; {len(unchecked)} without a record not checked" if unchecked else ""
    return GateResult(
        gate=GATE,
        passed=not failing,
        measured=float(len(scenes)),
        threshold=0.0,
        unit="slides",
        message=f"{len(scenes)} of {checked} slides draw characters their font has no glyph "
        f"for (shown as boxes){': ' + named if named else ''}{skipped}",
        remedy=""
        if not failing
        else f"install fonts that cover these characters (Debian: apt-get install "
        f"fonts-noto-cjk) and render scenes {scenes} again, or pass the slides "
        "options.font=/path/to/font.ttf",
        stage=stage,
        details={**details, "worst_scene": scenes[0] if scenes else None},
    )
