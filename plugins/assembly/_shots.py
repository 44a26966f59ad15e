"""The assembler's shots: several visuals per scene, their share of it, crossfades between them.

The visual designer may give a scene several shots; the clips node maps over
shots, so the assembler gets one visual per shot, grouped by scene in order
(:func:`group`). The scene's length is its narration's (see
:mod:`~reelgraph.plugins.assembly._timeline`); :func:`place` splits it across
its shots in proportion to their planned durations (a clip's ``duration_s``,
the shot's, per the ``generate_clip`` contract; a still counts 1 s), in whole
frames, so the picture's length, the captions and the narration do not move.

With ``transition: fade`` every boundary between consecutive shots becomes a
crossfade of about ``transition_s`` seconds centred on it (shorter when a
shot is short, a cut when under 2 frames): the outgoing shot runs on half a
transition past its share, the incoming one starts half a transition early,
and the segment between is encoded with ffmpeg's ``xfade``. Total length and
every boundary stay where the cut would be: A/V sync is unchanged.

:func:`segments` turns the placed shots into
:class:`~reelgraph.plugins.assembly._segments.Segment` jobs in timeline
order: a still's body stays one short segment repeated by packet copy (the
fast path of document-to-video), a clip's body is encoded from the frame
where its share starts, and each crossfade is one segment encoded in full.

Used by :mod:`reelgraph.plugins.assembly.ffmpeg`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelgraph.errors import InvalidInputError
from reelgraph.models import Visual
from reelgraph.plugins.assembly._segments import Segment

__all__ = ["Placed", "group", "place", "segments"]

# A crossfade needs at least this many frames (one of each side); shorter is a cut.
_MIN_FADE_FRAMES = 2
# The planned duration of a still, whose Visual has none: equal shares among stills.
_STILL_WEIGHT_S = 1.0


@dataclass(frozen=True, slots=True)
class Placed:
    """One shot on the timeline, in video frames.

    Its share is ``[start, start + frames)``. ``fade_in`` frames of crossfade
    lead into it, ``fade_in_before`` of them before ``start``; ``fade_out``
    frames lead out of it, ``fade_out_before`` of them before its share's
    end. The shot's own frame 0 (a clip's first) is shown at
    ``start - fade_in_before``.
    """

    scene: int
    visual: Visual
    start: int
    frames: int
    fade_in: int = 0
    fade_in_before: int = 0
    fade_out: int = 0
    fade_out_before: int = 0

    @property
    def first(self) -> int:
        """The timeline frame where the shot starts to show (fading in)."""
        return self.start - self.fade_in_before

    @property
    def shown(self) -> int:
        """Frames from :attr:`first` to the last frame it shows (fading out)."""
        return self.fade_in_before + self.frames + self.fade_out - self.fade_out_before


def group(visuals: Sequence[Visual], scenes: int) -> list[list[Visual]]:
    """The visuals of each scene, in order: one per shot, ``scene_index`` ascending.

    One visual per scene is the single-shot case (``render_shot`` sets each
    slide's ``scene_index`` to its scene's).

    Raises:
        InvalidInputError: a ``scene_index`` out of range or out of order, or
            a scene without a visual.
    """
    groups: list[list[Visual]] = [[] for _ in range(scenes)]
    last = 0
    for i, visual in enumerate(visuals):
        index = visual.scene_index
        if not 0 <= index < scenes:
            raise InvalidInputError(
                f"visuals[{i}].scene_index is {index} but the script has {scenes} scenes; "
                "give each visual the index of the scene it illustrates"
            )
        if index < last:
            raise InvalidInputError(
                f"visuals[{i}].scene_index {index} comes after scene {last}; "
                "pass the visuals (one per shot) in scene order"
            )
        groups[index].append(visual)
        last = index
    missing = [i for i, g in enumerate(groups) if not g]
    if missing:
        raise InvalidInputError(
            f"the script has {scenes} scenes but got {len(visuals)} visuals, none for "
            f"scene(s) {missing}; pass at least one visual (shot) per scene"
        )
    return groups


def _weight(visual: Visual) -> float:
    seconds = visual.duration_s
    return seconds if seconds is not None and seconds > 0 else _STILL_WEIGHT_S


def place(
    groups: Sequence[Sequence[Visual]],
    scene_frames: Sequence[tuple[int, int]],
    fade_frames: int,
) -> list[Placed]:
    """Split each scene's frames across its shots and put a crossfade at every boundary.

    ``scene_frames``: per scene, ``(start_frame, frames)`` on the timeline.
    Shares are proportional to the shots' planned seconds, rounded on the
    running sum (so they add up to the scene exactly); a shot left with no
    frame (a scene shorter than its shots) is dropped. ``fade_frames``: the
    crossfade's length (0: cuts); at a boundary it is at most half of either
    neighbour's share, and a cut under ``_MIN_FADE_FRAMES``.
    """
    shots: list[Placed] = []
    for scene, (visuals, (start, frames)) in enumerate(zip(groups, scene_frames, strict=True)):
        weights = [_weight(v) for v in visuals]
        total, running, edge = sum(weights), 0.0, start
        for visual, weight in zip(visuals, weights, strict=True):
            running += weight
            end = start + round(frames * running / total)
            if end > edge:
                shots.append(Placed(scene, visual, edge, end - edge))
            edge = end
    for k in range(len(shots) - 1):
        a, b = shots[k], shots[k + 1]
        fade = min(fade_frames, a.frames // 2, b.frames // 2)
        if fade < _MIN_FADE_FRAMES:
            continue
        before = fade // 2
        shots[k] = _with(a, fade_out=fade, fade_out_before=before)
        shots[k + 1] = _with(b, fade_in=fade, fade_in_before=before)
    return shots


def _with(shot: Placed, **changes: int) -> Placed:
    from dataclasses import replace

    return replace(shot, **changes)


def segments(shots: Sequence[Placed], still_frames: int, tmp: Path) -> list[Segment]:
    """The encode jobs of the placed shots, in timeline order.

    Every segment shares its H.264 parameter sets with the others, so they
    join by packet copy. A shot's body (its shown frames less its crossfades) is one segment: a
    still's is ``still_frames`` long and repeated to the body's length, a
    clip's is encoded from the frame after its fade-in. A crossfade is one
    segment from the outgoing shot (at the frame it has reached) into the
    incoming one's first frames.
    """
    jobs: list[Segment] = []
    # stills only: every segment (fades too) with the quick search, for the same PPS
    quick = all(s.visual.kind == "image" for s in shots)
    for k, shot in enumerate(shots):
        source, kind = Path(shot.visual.path).resolve(), shot.visual.kind
        body = shot.shown - shot.fade_in - shot.fade_out
        if body > 0:
            encoded = min(body, still_frames) if kind == "image" else body
            out = tmp / f"shot_{k:04d}.mp4"
            jobs.append(
                Segment(
                    shot.scene,
                    source,
                    kind,
                    encoded,
                    body,
                    out,
                    skip=shot.fade_in,
                    quick_still=quick,
                )
            )
        if shot.fade_out:
            nxt = shots[k + 1]
            jobs.append(
                Segment(
                    shot.scene,
                    source,
                    kind,
                    shot.fade_out,
                    shot.fade_out,
                    tmp / f"fade_{k:04d}.mp4",
                    skip=shot.shown - shot.fade_out,
                    into=Path(nxt.visual.path).resolve(),
                    into_kind=nxt.visual.kind,
                    quick_still=quick,
                )
            )
    return jobs
