"""Offline motion: the ``slides`` provider's ``generate_clip``, a Ken Burns move over the frame.

No key, no network: the shot's storyboard frame (``first_frame``, the
``render_shot`` slide of its scene; else the scene's frame in
``options.frames``; else a title slide drawn here from the shot's subject and
storyboard text) is turned into a clip with ffmpeg's ``zoompan`` filter, a
slow zoom of :data:`ZOOM` (8 %) over the shot, into the centre on even
scenes and out of it on odd ones, so consecutive shots do not all push the
same way. The picture is scaled up 2x before ``zoompan`` (which places its
crop on whole pixels) so the move does not judder, then normalised exactly as
the vendors' clips are (:func:`reelgraph.plugins.vendors._clips.normalise_clip`:
the aspect's frame, square pixels, 30 fps, yuv420p H.264, the shot's length,
no sound).

Registered under the ``slides`` provider (``plugins/visuals/slides.py``
re-exports :func:`generate_clip`), so ``provider: slides`` answers
``generate_clip`` with no key, and a vendor node can fall back to it
(``on_error: [{provider: slides}]``).

Options: ``zoom`` (the zoom over the shot, 0-0.5, default 0.08), ``theme``
and the other slide options (for a frame drawn here).

Measured (2 cores shared with other work, noisy): a 5 s 1920x1080 clip takes
about 2.7 s of ffmpeg CPU time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import InvalidInputError, hookimpl
from reelgraph.models import Scene, Shot, Visual, frame_size

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["ZOOM", "generate_clip", "ken_burns_filter"]

#: how far the move zooms over a shot: 8 % (gentle; a documentary's slow push is 5-15 %)
ZOOM = 0.08
_NAME = "slides"
#: the options ``render_shot`` of ``slides`` takes (the rest are the vendors')
_SLIDE_OPTIONS = ("theme", "background", "foreground", "accent", "font", "language")


def ken_burns_filter(
    width_px: int, height_px: int, frames: int, *, zoom: float, zoom_in: bool
) -> str:
    """The ffmpeg filter chain of a centred zoom over ``frames`` frames at 30 fps.

    The still is fitted (scaled, padded with black) into twice the output's
    size first (``zoompan`` crops on whole pixels: at 2x the steps are half a
    pixel of the output; its crop keeps the input's shape, so the input must
    already have the output's), and
    ``zoompan`` writes ``frames`` frames of ``width_px`` x ``height_px``,
    the zoom going from 1 to ``1 + zoom`` (or back, when not ``zoom_in``)
    linearly with the output frame number ``on``.
    """
    last = max(frames - 1, 1)
    z = f"1+{zoom:.4f}*on/{last}" if zoom_in else f"1+{zoom:.4f}*(1-on/{last})"
    return (
        f"scale={width_px * 2}:{height_px * 2}:force_original_aspect_ratio=decrease,"
        f"pad={width_px * 2}:{height_px * 2}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,"
        f"zoompan=z='{z}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
        f":d={frames}:s={width_px}x{height_px}:fps=30"
    )


@hookimpl
def generate_clip(
    shot: Shot,
    first_frame: Visual | None,
    aspect: str,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Visual | None:
    """The shot's clip: its storyboard frame with a gentle Ken Burns move, ``shot.duration_s`` long.

    Returns ``None`` in a node without a pinned provider when the plan chose
    another provider for this shot (``options.plan``; see
    :func:`reelgraph.plugins.vendors._clips.clip_inputs`): a slide shot the
    plan left to ``slides`` is made here.

    Returns:
        A ``Visual`` of kind ``video``: H.264, yuv420p, the aspect's frame
        size, 30 fps, ``duration_s`` the shot's, no sound; ``alt_text``
        the frame's (or the shot's storyboard text).

    Raises:
        InvalidInputError: an unknown aspect, a ``zoom`` outside 0-0.5, a
            frame that is not an image, a shot that needs sound (a still has
            none: choose a vendor with native audio).
    """
    from reelgraph.plugins.vendors._clips import FPS, clip_inputs, normalise_clip

    item = clip_inputs(shot, first_frame, options, _NAME)
    pinned = getattr(ctx, "provider", None)
    if pinned is None and item.chosen not in (None, _NAME):
        return None
    shot, frame, options = item.shot, item.first_frame, item.options
    where = f"slides shot {shot.id}"
    try:
        width, height = frame_size(aspect)
    except ValueError as err:
        raise InvalidInputError(f"{where}: {err}") from None
    if shot.needs_audio:
        raise InvalidInputError(
            f"{where}: the shot needs sound and a slide has none; choose a provider with audio"
        )
    zoom = float(options.get("zoom", ZOOM))
    if not 0 <= zoom <= 0.5:
        raise InvalidInputError(f"{where}: options.zoom {zoom} is outside 0-0.5")
    if frame is None:
        frame = _draw_frame(shot, aspect, options, ctx)
    frames = max(round(shot.duration_s * FPS), 1)
    chain = ken_burns_filter(width, height, frames, zoom=zoom, zoom_in=shot.scene_index % 2 == 0)
    target = Path(ctx.workdir) / f"{shot.id}.mp4"
    made = normalise_clip(
        Path(frame.path),
        target,
        aspect=aspect,
        duration_s=shot.duration_s,
        keep_audio=False,
        what=f"{where} (Ken Burns)",
        filters=chain,
    )
    return Visual(
        scene_index=shot.scene_index,
        kind="video",
        path=target,
        width_px=made.width_px,
        height_px=made.height_px,
        alt_text=frame.alt_text,
        duration_s=shot.duration_s,
    )


def _draw_frame(shot: Shot, aspect: str, options: dict[str, Any], ctx: NodeContext) -> Visual:
    """A title slide of the shot (its subject over its storyboard text), drawn by ``slides``."""
    from reelgraph.plugins.visuals.slides import render_shot

    scene = Scene(
        index=shot.scene_index,
        kind="title",
        title=shot.subject or shot.storyboard_frame,
        bullets=[shot.storyboard_frame] if shot.subject else [],
    )
    slide_options = {k: v for k, v in options.items() if k in _SLIDE_OPTIONS}
    return render_shot(scene=scene, aspect=aspect, options=slide_options, ctx=ctx)
