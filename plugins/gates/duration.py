"""The ``duration`` quality gate: is the video (or the script) as long as asked?

Target: ``targets["duration_s"]`` in seconds; without it the gate returns ``None``.

- Stage ``video``: the MP4 is demuxed with PyAV and its length taken from the
  packets' own timestamps (end of the last packet of any stream), not from
  ``Video.duration_s``; passes when ``|measured - target| <= tolerance_s``.
- Stage ``script`` (a script and no video): the spoken length is estimated
  with the ``extractive`` writer's own function
  (:func:`reelgraph.plugins.writers.estimate.estimate_s`: words at 160 wpm,
  Chinese and Japanese by characters at espeak's measured rates, + 1 s per
  scene), so a script the writer fitted passes here and a script that is too
  long fails before any audio is made. The writer can only
  shorten: "too long" is an error whose remedy it acts on ("too long: shorten
  by about N s"); "too short" is a warning at this stage.

Thresholds (``thresholds["duration"]``):
    tolerance_s: 5.0 -- the product brief's promise of the target +-5 s
        (``estimate.TOLERANCE_S``, which the writer refuses a target by).
    words_per_minute: 160 -- ``extractive.DEFAULT_OPTIONS`` (a common
        narration rate); set it to the writer's option when that differs.
    scene_overhead_s: 1.0 -- ``extractive.DEFAULT_OPTIONS`` (the pause an
        assembler adds per scene).

This module also holds the helpers the other gates of this package share:
:func:`gate_selected`, :func:`resolve_thresholds` and :func:`probe_duration_s`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Script, Video
from reelgraph.plugins._language import writes_without_spaces
from reelgraph.plugins.gates._common import gate_selected, probe_duration_s, resolve_thresholds
from reelgraph.plugins.writers.estimate import TOLERANCE_S, estimate_s
from reelgraph.plugins.writers.extractive import DEFAULT_OPTIONS as _WRITER_OPTIONS

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "DEFAULTS",
    "check_quality",
    "estimate_script_s",
    "gate_selected",
    "probe_duration_s",
    "resolve_thresholds",
]

GATE = "duration"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, float] = {
    "tolerance_s": TOLERANCE_S,
    "words_per_minute": float(_WRITER_OPTIONS["words_per_minute"]),
    "scene_overhead_s": float(_WRITER_OPTIONS["scene_overhead_s"]),
}
_LIMITS: dict[str, tuple[float, float]] = {
    "tolerance_s": (0.0, 3600.0),
    "words_per_minute": (60.0, 400.0),
    "scene_overhead_s": (0.0, 30.0),
}


def estimate_script_s(script: Script, words_per_minute: float, scene_overhead_s: float) -> float:
    """Estimated spoken seconds of ``script`` in its language, + ``scene_overhead_s`` per scene.

    The ``extractive`` writer's own estimate (:func:`.estimate.estimate_s`:
    words at ``words_per_minute``; Chinese and Japanese by characters), so a
    script it fitted to a target passes here.
    """
    return estimate_s(
        (sentence for scene in script.scenes for sentence in scene.narration),
        len(script.scenes),
        script.language,
        words_per_minute,
        scene_overhead_s,
    )


# -- the gate -------------------------------------------------------------------


@hookimpl
def check_quality(
    script: Script | None,
    video: Video | None,
    targets: dict[str, Any],
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Compare the video's (or the script's estimated) length with ``targets["duration_s"]``.

    Defaults: ``tolerance_s`` 5 s (product brief: target +-5 s);
    ``words_per_minute`` 160 and ``scene_overhead_s`` 1 s (the extractive
    writer's estimate). Returns ``None`` without a target, or without a video
    or script.
    """
    if not gate_selected(GATE, gates):
        return None
    target = (targets or {}).get("duration_s")
    if target is None or (video is None and script is None):
        return None
    if isinstance(target, bool) or not isinstance(target, int | float) or target <= 0:
        raise InvalidInputError(
            f"gate {GATE!r}: targets.duration_s must be a positive number of seconds, "
            f"got {target!r}"
        )
    limits = resolve_thresholds(GATE, DEFAULTS, _LIMITS, thresholds)
    if video is not None:
        result = _video_result(video, float(target), limits)
    else:
        assert script is not None
        result = _script_result(script, float(target), limits)
    ctx.log.info("duration gate", passed=result.passed, measured_s=result.measured)
    return [result]


def _video_result(video: Video, target: float, limits: dict[str, float]) -> GateResult:
    measured = probe_duration_s(Path(video.path))
    tolerance = limits["tolerance_s"]
    diff = measured - target
    details = {
        "target_s": target,
        "declared_s": video.duration_s,
        "difference_s": round(diff, 3),
        "method": "PyAV demux: end of the last packet",
    }
    common = {
        "gate": GATE,
        "measured": round(measured, 3),
        "threshold": tolerance,
        "unit": "s",
        "stage": "video",
        "details": details,
    }
    if abs(diff) <= tolerance:
        message = f"video lasts {measured:.1f} s, within {tolerance:g} s of the {target:g} s target"
        return GateResult(passed=True, message=message, **common)
    over = math.ceil(abs(diff))
    if diff > 0:
        message = f"video lasts {measured:.1f} s, {diff:.1f} s over the {target:g} s target"
        remedy = f"too long: shorten by about {over} s (measured {measured:.0f} s)"
    else:
        message = f"video lasts {measured:.1f} s, {-diff:.1f} s under the {target:g} s target"
        remedy = (
            f"too short: about {over} s under the target; add material to the document, "
            "slow the speech rate or lower duration_s"
        )
    return GateResult(passed=False, message=message, remedy=remedy, **common)


def _script_result(script: Script, target: float, limits: dict[str, float]) -> GateResult:
    wpm, overhead = limits["words_per_minute"], limits["scene_overhead_s"]
    estimate = estimate_script_s(script, wpm, overhead)
    tolerance = limits["tolerance_s"]
    diff = estimate - target
    details = {
        "target_s": target,
        "difference_s": round(diff, 3),
        "words": sum(len(s.split()) for scene in script.scenes for s in scene.narration),
        "scenes": len(script.scenes),
        "method": f"estimate: words / {wpm:g} wpm * 60 + {overhead:g} s per scene"
        + (
            " (Chinese and Japanese by characters)"
            if writes_without_spaces(script.language)
            else ""
        ),
    }
    common = {
        "gate": GATE,
        "measured": round(estimate, 3),
        "threshold": tolerance,
        "unit": "s",
        "stage": "script",
        "details": details,
    }
    if abs(diff) <= tolerance:
        message = (
            f"script is estimated at {estimate:.1f} s, within {tolerance:g} s "
            f"of the {target:g} s target"
        )
        return GateResult(passed=True, message=message, **common)
    over = math.ceil(abs(diff))
    if diff > 0:
        message = (
            f"script is estimated at {estimate:.1f} s, {diff:.1f} s over the {target:g} s target"
        )
        remedy = f"too long: shorten by about {over} s (estimated {estimate:.0f} s)"
        return GateResult(passed=False, message=message, remedy=remedy, **common)
    # The extractive writer only drops material, so this is advice, not feedback.
    message = (
        f"script is estimated at {estimate:.1f} s, {-diff:.1f} s under the {target:g} s target"
    )
    remedy = (
        f"too short: about {over} s under the target; the writer cannot add material, "
        "so extend the document or lower duration_s"
    )
    return GateResult(passed=False, severity="warning", message=message, remedy=remedy, **common)
