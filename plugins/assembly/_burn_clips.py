"""Burned captions on clips and crossfades: each cue an RGBA layer overlaid in the clip's own encode.

A clip's body (generated or stock footage) and every crossfade
(``transition: fade``) are encoded frame by frame anyway, when they are
normalised to the frame size and rate (``_segments._encode_cmd``), so their
captions cost no extra encode. Each cue the segment shows is drawn once as
an RGBA layer by the stills' own drawing code
(:func:`~reelgraph.plugins._media.caption_style.draw_cue`: the caption
track's text and line breaks from ``build_cues``, the style's font, box and
outline) and composited by ffmpeg's ``overlay`` filter
(https://ffmpeg.org/ffmpeg-filters.html#overlay-1), switched on over exactly
the cue's frames of the segment with timeline editing,
``enable='between(n,FIRST,LAST)'`` (``n``: the frame's number in the
segment; https://ffmpeg.org/ffmpeg-filters.html#Timeline-editing). A
crossfade's layers are overlaid after ``xfade``, so a cue that spans a
crossfade shows steadily through it. Word-by-word highlight works as on
stills (``_burn.word_times``): one layer per spoken word.

The layer: ``draw_cue`` draws on RGB pictures, so each cue is drawn on black
and on white; ``alpha = 1 - (white - black) / 255`` and ``colour = black /
alpha`` recover what Pillow blended (the text's anti-aliasing, the box's
opacity) up to 8-bit rounding (difference matting: Smith and Blinn, "Blue
Screen Matting", SIGGRAPH 1996, the triangulation solution). The layer is
cropped to what it covers, at even pixels (yuv420p chroma), and converted
to BT.709 as the frames are.

Contrast on moving pictures (decided here): a clip's background changes
under a cue, and a few sampled frames cannot prove every frame, so the style
drawn on clips must pass WCAG 2.x 4.5:1 (``slides.MIN_TEXT_CONTRAST``, SC
1.4.3) against any background by construction (:func:`style_for_clips`):
against every grey from black to white and the six full primaries and
secondaries, with its box blended in, as ``contrast_behind`` counts it (an
outline of >= 2 px counts as a background). The shipped presets already do
(``clean``: 55 % black box and outline; ``bold-social``: 7 px outline;
``lower-third``: 92 % light box). A style that does not gets a box, in
black or white (whichever contrasts more with its text), at the lowest
opacity in steps of 5 % that passes. The contrast the accessibility gate
reads (``burned_captions.json``) is still measured on the real pixels behind
each cue, on its first, middle and last frames, taken from the same encode
(a ``split`` of the normalised frames before the overlay, written as raw
RGB; no second decode).

Cost: two ``draw_cue`` calls and a matte per cue or word, the overlay of a
cropped layer on the cue's frames, the sampled frames' conversion to RGB and
their contrast; the encode itself is the one the clip already had. Measured
on a 5.5 s 1080p clip at 30 fps with two cues (x264 ``preset=medium``, 3
rounds alternated, load ~15 on 2 cores): 5.43 / 5.45 / 6.22 CPU s plain,
6.55 / 5.63 / 6.31 captioned, about +15 % (medians). ffmpeg's peak memory
stayed at 334 MB for a 30 s 1080p clip with ten cues.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import Caption
from reelgraph.plugins._media.caption_style import (
    CaptionStyle,
    Layout,
    contrast_behind,
    draw_cue,
)
from reelgraph.plugins.assembly._burn import _word_pieces, word_times
from reelgraph.plugins.assembly._segments import _BT709, Segment, _encode_cmd

if TYPE_CHECKING:
    from reelgraph.plugins.assembly._burn import Burned

__all__ = ["ClipCaptions", "burn_clips", "style_for_clips", "worst_contrast"]

#: WCAG 2.x SC 1.4.3 (AA), normal text: the accessibility gate's ``min_contrast``.
MIN_CONTRAST = 4.5
_OPACITY_STEP = 0.05
_BOX_PAD_PX = 10  # a box added for clips: padding at 1080, as slides' text boxes


def _backgrounds() -> list[tuple[int, int, int]]:
    greys = [(v, v, v) for v in range(256)]
    pure = [(r, g, b) for r in (0, 255) for g in (0, 255) for b in (0, 255)]
    return greys + pure


@functools.cache
def worst_contrast(style: CaptionStyle) -> float:
    """The lowest WCAG ratio ``contrast_behind`` gives ``style`` over any background (1-21).

    The backgrounds are every grey (0-255) and the eight full-intensity
    colours, each as a one-pixel picture behind a one-pixel box, the style's
    box blended over it.
    """
    from PIL import Image

    tiny = Layout(lines=(), size_px=1, origins=(), line_px=1, box=(0, 0, 1, 1))
    return min(
        contrast_behind(Image.new("RGB", (1, 1), rgb), style, tiny) for rgb in _backgrounds()
    )


def style_for_clips(style: CaptionStyle, limit: float = MIN_CONTRAST) -> CaptionStyle:
    """``style``, or ``style`` with a box strong enough to reach ``limit`` on any picture.

    The box is the style's colour if it has one, else black or white,
    whichever contrasts more with the text (and highlight) colours; its
    opacity is the lowest on a 5 % grid above the style's that holds.

    Raises:
        InvalidInputError: even an opaque box does not reach ``limit`` (a
            text colour too close to its box's); the message names the style.
    """
    if worst_contrast(style) >= limit:
        return style
    box = style.box
    if box is None:
        dark = replace(style, box="#000000", box_opacity=1.0)
        light = replace(style, box="#ffffff", box_opacity=1.0)
        box = "#000000" if worst_contrast(dark) >= worst_contrast(light) else "#ffffff"
    pad = max(style.box_pad_px, _BOX_PAD_PX)
    # opacities on the 5 % grid above the style's; bisected: over backgrounds of every
    # lightness, a box that contrasts with the text only helps as it grows more opaque
    grid = [round(k * _OPACITY_STEP, 2) for k in range(1, round(1 / _OPACITY_STEP) + 1)]
    grid = [o for o in grid if o > (style.box_opacity if style.box else 0.0)]

    def candidate(opacity: float) -> CaptionStyle:
        return replace(style, box=box, box_opacity=opacity, box_pad_px=pad)

    low, high = 0, len(grid)
    while low < high:
        middle = (low + high) // 2
        if worst_contrast(candidate(grid[middle])) >= limit:
            high = middle
        else:
            low = middle + 1
    if low < len(grid):
        return candidate(grid[low])
    raise InvalidInputError(
        f"caption_style {style.name!r}: its text colour {style.colour} cannot reach "
        f"{limit:g}:1 over moving pictures even on an opaque {box} box; choose a text "
        "colour that contrasts with its box (e.g. white on black, caption_style=clean)"
    )


@dataclass(frozen=True, slots=True)
class _Piece:
    """A cue (or one highlighted word of it) over frames ``[first, end)`` of one segment."""

    cue: Caption
    word: int | None
    first: int
    end: int

    @property
    def samples(self) -> list[int]:
        """The frames the contrast is measured on: first, middle and last."""
        return sorted({self.first, (self.first + self.end - 1) // 2, self.end - 1})


@dataclass(frozen=True, slots=True)
class _Layer:
    path: Path
    x: int
    y: int
    layout: Layout
    runs: list[tuple[Any, str]]


def draw_layer(
    size: tuple[int, int],
    text: str,
    style: CaptionStyle,
    language: str | None,
    word: int | None,
    path: Path,
) -> _Layer | None:
    """Draw a cue as an RGBA PNG at ``path``, cropped to what it covers; None if nothing shows.

    ``size``: the frame's ``(width, height)`` in pixels; the layer's
    ``x``/``y`` (even pixels) place it on the frame.

    Raises:
        InvalidInputError: no installed font has some character of ``text``.
    """
    import numpy as np
    from PIL import Image

    on_black, layout, runs = draw_cue(Image.new("RGB", size), text, style, language, word)
    on_white, _, _ = draw_cue(Image.new("RGB", size, (255,) * 3), text, style, language, word)
    black = np.asarray(on_black, dtype=np.float32)
    white = np.asarray(on_white, dtype=np.float32)
    alpha = 255.0 - (white - black).mean(axis=2)  # 0 (untouched) .. 255 (opaque)
    rows, cols = np.nonzero(alpha > 0.5)
    if not rows.size:
        return None
    x0, y0 = int(cols.min()) & ~1, int(rows.min()) & ~1
    x1, y1 = min(size[0], int(cols.max()) + 2 & ~1), min(size[1], int(rows.max()) + 2 & ~1)
    a = alpha[y0:y1, x0:x1]
    colour = black[y0:y1, x0:x1] * 255.0 / np.maximum(a, 1.0)[..., None]
    rgba = np.dstack([np.clip(colour, 0, 255), a]).round().astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(path, format="PNG", compress_level=1)
    return _Layer(path, x0, y0, layout, runs)


def _graph(
    cmd: list[str],
    layers: Sequence[tuple[_Layer, _Piece]],
    samples: Sequence[int],
    frames: int,
) -> None:
    """Rewrite ``cmd`` in place: the layers overlaid on their frames, the samples split off.

    The base graph is ``_encode_cmd``'s (``-vf`` for a clip, ``-filter_complex
    ... [v]`` for a crossfade), cut at the segment's ``frames``: its last
    frame is held without end (``tpad``) for ``-frames:v`` to cut, and with
    a second output ffmpeg 9 went on queueing those frames for the finished
    first one until memory ran out (measured: 22 GB, killed), so the graph
    itself ends.
    """
    cut = f",trim=end_frame={frames}[base]"
    if "-vf" in cmd:
        at = cmd.index("-vf")
        base = f"[0:v]{cmd[at + 1]}{cut}"
        del cmd[at : at + 2]
    else:
        at = cmd.index("-filter_complex")
        base = cmd[at + 1].removesuffix("[v]") + cut
        del cmd[at : at + 4]  # -filter_complex GRAPH -map [v]
    inputs = cmd[:at].count("-i")
    chain, last, extra = [base], "base", []
    if samples:
        picks = "+".join(f"eq(n,{n})" for n in samples)
        chain.append("[base]split[main][probe]")
        chain.append(
            f"[probe]select='{picks}',scale=in_color_matrix=bt709:in_range=tv,format=rgb24[seen]"
        )
        last = "main"
    for j, (layer, piece) in enumerate(layers):
        extra += ["-i", str(layer.path)]
        chain.append(
            f"[{inputs + j}:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[c{j}]"
        )
        chain.append(
            f"[{last}][c{j}]overlay=x={layer.x}:y={layer.y}:format=yuv420"
            f":enable='between(n,{piece.first},{piece.end - 1})'[o{j}]"
        )
        last = f"o{j}"
    chain.append(f"[{last}]format=yuv420p,{_BT709}[v]")
    cmd[at:at] = [*extra, "-filter_complex", ";".join(chain), "-map", "[v]"]


class ClipCaptions:
    """The encoder of one clip or crossfade segment with its cues burned in (``Segment.encode``).

    Called in the encoding worker with :func:`~._segments.encode_segment`'s
    arguments; draws the layers at the frame size, runs the one encode, and
    appends a record per layer to ``records`` (``_burn``'s form, plus
    ``on``: ``clip`` or ``crossfade``, and ``frames_sampled``).
    """

    def __init__(
        self,
        pieces: list[_Piece],
        style: CaptionStyle,
        language: str | None,
        stem: Path,
        records: list[dict[str, Any]],
    ) -> None:
        self.pieces, self.style, self.language = pieces, style, language
        self.stem, self.records = stem, records

    def __call__(
        self,
        ffmpeg: str,
        seg: Segment,
        size: tuple[int, int],
        fps: int,
        crf: int,
        preset: str,
        gop: int,
    ) -> None:
        import numpy as np

        drawn: dict[tuple[int, int | None], _Layer | None] = {}
        layers: list[tuple[_Layer, _Piece]] = []
        for piece in self.pieces:
            key = (piece.cue.index, piece.word)
            if key not in drawn:
                name = f"{self.stem.name}_{piece.cue.index:05d}_{-1 if piece.word is None else piece.word}.png"
                drawn[key] = draw_layer(
                    size,
                    piece.cue.text,
                    self.style,
                    self.language,
                    piece.word,
                    self.stem.with_name(name),
                )
            layer = drawn[key]
            if layer is not None:
                layers.append((layer, piece))
        samples = sorted({n for _, piece in layers for n in piece.samples})
        probe = self.stem.with_suffix(".rgb")
        cmd = _encode_cmd(ffmpeg, seg, size, fps, crf, preset, gop)
        _graph(cmd, layers, samples, seg.frames)
        if samples:
            cmd += ["-map", "[seen]", "-frames:v", str(len(samples)), "-fps_mode", "passthrough"]
            cmd += ["-f", "rawvideo", str(probe)]
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-6:])
            raise InvalidInputError(
                f"ffmpeg failed while burning captions on {seg.source} (scene {seg.scene}) "
                f"(exit {done.returncode}): {tail}"
            )
        width, height = size
        frames = np.fromfile(probe, dtype=np.uint8) if samples else np.empty(0, np.uint8)
        if frames.size != len(samples) * width * height * 3:
            raise InvalidInputError(
                f"burning captions on {seg.source} (scene {seg.scene}): expected "
                f"{len(samples)} sampled frames, got {frames.size // (width * height * 3)}"
            )
        seen = dict(zip(samples, frames.reshape(-1, height, width, 3), strict=True))
        self._record(layers, seen, "crossfade" if seg.into is not None else "clip", seg.scene)

    def _record(
        self,
        layers: Sequence[tuple[_Layer, _Piece]],
        seen: dict[int, Any],
        on: str,
        scene: int,
    ) -> None:
        from PIL import Image

        from reelgraph.plugins.visuals.slides import glyph_record

        for layer, piece in layers:
            ratios = [
                contrast_behind(Image.fromarray(seen[n]), self.style, layer.layout)
                for n in piece.samples
            ]
            self.records.append(
                {
                    "cue": piece.cue.index,
                    "word": piece.word,
                    "text": piece.cue.text,
                    "box": list(layer.layout.box),
                    "size_px": layer.layout.size_px,
                    "contrast": round(min(ratios), 2),
                    "glyphs": json.loads(glyph_record(layer.runs)),
                    "on": on,
                    "scene": scene,
                    "frames_sampled": len(ratios),
                }
            )


def burn_clips(
    burned: Burned,
    cues: Sequence[Caption],
    style: CaptionStyle,
    fps: int,
    tmp: Path,
    language: str | None,
    words: Sequence[tuple[float, str]] = (),
) -> Burned:
    """``burned`` with every clip and crossfade segment that shows a cue encoded with it burned in.

    ``burned.segments`` are in timeline order (segment ``k`` starts where
    ``k - 1`` ends, frames at ``fps``); the stills were captioned by
    :func:`~reelgraph.plugins.assembly._burn.burn_segments`. A clip or
    crossfade with cues gets a :class:`ClipCaptions` as its ``encode``,
    drawn with :func:`style_for_clips` (``burned.records`` gets its
    records as it is encoded); ``uncaptioned_frames`` drops by the cue
    frames now captioned. Cues are frame spans ``[round(start_s * fps),
    round(end_s * fps))``, as on stills.

    Raises:
        InvalidInputError: the style cannot reach 4.5:1 on clips (see
            :func:`style_for_clips`).
    """
    spans = [
        (round(c.start_s * fps), round(c.end_s * fps), c)
        for c in cues
        if round(c.end_s * fps) > round(c.start_s * fps)
    ]
    timed = word_times(cues, words) if style.highlight and words else {}
    moving: CaptionStyle | None = None
    out: list[Segment] = []
    captioned = 0
    start = 0
    for k, seg in enumerate(burned.segments):
        end = start + seg.total
        moves = seg.kind != "image" or seg.into is not None
        inside = [(max(a, start), min(b, end), c) for a, b, c in spans if a < end and b > start]
        if not moves or not inside or seg.grouped:
            out.append(seg)
            start = end
            continue
        moving = moving or style_for_clips(style)
        pieces = [
            _Piece(cue, word, p - start, q - start)
            for a, b, cue in inside
            for p, q, word in _word_pieces(a, b, timed.get(cue.index), fps)
        ]
        captioned += sum(b - a for a, b, _ in inside)
        encode = ClipCaptions(pieces, moving, language, tmp / f"cap_{k:04d}", burned.records)
        out.append(replace(seg, encode=encode))
        start = end
    return replace(
        burned, segments=out, uncaptioned_frames=max(0, burned.uncaptioned_frames - captioned)
    )
