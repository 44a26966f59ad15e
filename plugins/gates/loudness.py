"""The ``loudness`` quality gate: is the video's audio at the delivery loudness?

Stage ``video`` only (needs ``video``). The MP4's first audio stream is measured
with ffmpeg's ``ebur128=peak=true`` filter (EBU R128 / ITU-R BS.1770-4:
K-weighted, gated integrated loudness; true peak by 4x oversampling), in the
decode the ``black_silence`` gate's ``silencedetect`` shares
(:func:`~reelgraph.plugins._media.probe.audio_scan`). Two
results, both ``gate="loudness"``, told apart by ``details["check"]``:

- ``integrated``: passes when ``|I - target_lufs| <= tolerance_lu`` (unit LUFS);
- ``true_peak``: passes when the true peak ``<= max_true_peak_dbtp`` (unit dBTP).

Thresholds (``thresholds["loudness"]``), with their sources:
    target_lufs: -16.0 -- the common online/streaming target for speech
        (AES TD1004 recommends -16 to -20 LUFS for streaming; EBU R128's -23
        is for broadcast). ``targets["loudness_lufs"]`` sets it for a spec; an
        explicit threshold override wins.
    tolerance_lu: 1.0 -- EBU R128 allows +-1 LU where an exact target is not
        practicable (live programmes); reelgraph applies it to files.
    max_true_peak_dbtp: -1.0 -- EBU R128 / AES TD1004 maximum true peak.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video
from reelgraph.plugins._media.probe import audio_scan, finite_or_none
from reelgraph.plugins.gates._common import gate_selected, resolve_thresholds

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "check_quality"]

GATE = "loudness"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, float] = {
    "target_lufs": -16.0,
    "tolerance_lu": 1.0,
    "max_true_peak_dbtp": -1.0,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "target_lufs": (-70.0, -5.0),
    "tolerance_lu": (0.0, 20.0),
    "max_true_peak_dbtp": (-20.0, 0.0),
}
_REMEDY = (
    "normalise the audio to {target:g} LUFS with a true peak of at most {peak:g} dBTP "
    "(the ffmpeg assembler's loudness_lufs option: one measured gain and a true-peak "
    "limiter; or ffmpeg loudnorm in two passes)"
)


@hookimpl
def check_quality(
    video: Video | None,
    targets: dict[str, Any],
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Measure integrated loudness (LUFS) and true peak (dBTP) of ``video``'s audio.

    Defaults: target -16 LUFS +-1 LU (streaming speech, AES TD1004), true
    peak <= -1 dBTP (EBU R128). ``targets["loudness_lufs"]`` sets the target.
    Returns ``None`` without a video. A video without an audio stream fails
    both checks.

    Raises:
        InvalidInputError: a bad threshold override or ``loudness_lufs``
            target, or a video file ffmpeg cannot read.
    """
    if not gate_selected(GATE, gates) or video is None:
        return None
    limits = _limits(targets, thresholds)
    path = Path(video.path)
    if not _has_audio(path):
        return _no_audio(limits)
    measured = audio_scan(path).loudness
    results = [
        _integrated(measured.integrated_lufs, measured.range_lu, limits),
        _true_peak(measured.true_peak_dbtp, limits),
    ]
    ctx.log.info(
        "loudness gate",
        integrated_lufs=measured.integrated_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        passed=all(r.passed for r in results),
    )
    return results


def _limits(targets: dict[str, Any], thresholds: dict[str, dict[str, Any]]) -> dict[str, float]:
    defaults = dict(DEFAULTS)
    target = (targets or {}).get("loudness_lufs")
    if target is not None:
        low, high = _LIMITS["target_lufs"]
        ok = isinstance(target, int | float) and not isinstance(target, bool)
        if not ok or not math.isfinite(target) or not low <= target <= high:
            raise InvalidInputError(
                f"gate {GATE!r}: targets.loudness_lufs must be a number from {low:g} to "
                f"{high:g} LUFS, got {target!r}"
            )
        defaults["target_lufs"] = float(target)
    return resolve_thresholds(GATE, defaults, _LIMITS, thresholds)


def _has_audio(path: Path) -> bool:
    import av

    if not path.is_file():
        raise InvalidInputError(f"gate {GATE!r}: video file not found: {path}")
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (OSError, av.error.FFmpegError) as err:
        raise InvalidInputError(f"gate {GATE!r}: cannot read video {path}: {err}") from err


def _remedy(limits: dict[str, float]) -> str:
    return _REMEDY.format(target=limits["target_lufs"], peak=limits["max_true_peak_dbtp"])


def _integrated(lufs: float, lra: float, limits: dict[str, float]) -> GateResult:
    target, tolerance = limits["target_lufs"], limits["tolerance_lu"]
    passed = math.isfinite(lufs) and abs(lufs - target) <= tolerance
    low, high = target - tolerance, target + tolerance
    if passed:
        message = f"integrated loudness {lufs:.1f} LUFS is within {target:g} +-{tolerance:g} LU"
    else:
        side = "too quiet" if not math.isfinite(lufs) or lufs < low else "too loud"
        message = (
            f"integrated loudness {lufs:.1f} LUFS is {side}: outside {target:g} +-{tolerance:g} LU"
        )
    return GateResult(
        gate=GATE,
        passed=passed,
        measured=finite_or_none(lufs),
        threshold=target,
        unit="LUFS",
        message=message,
        remedy="" if passed else _remedy(limits),
        stage="video",
        details={
            "check": "integrated",
            "target_lufs": target,
            "tolerance_lu": tolerance,
            "allowed_lufs": [low, high],
            "loudness_range_lu": finite_or_none(lra),
            "method": "ffmpeg ebur128=peak=true (ITU-R BS.1770)",
        },
    )


def _true_peak(peak: float, limits: dict[str, float]) -> GateResult:
    ceiling = limits["max_true_peak_dbtp"]
    passed = peak <= ceiling  # -inf (digital silence) passes
    shown = "-inf" if peak == -math.inf else f"{peak:.1f}"
    relation = "at most" if passed else "above"
    return GateResult(
        gate=GATE,
        passed=passed,
        measured=finite_or_none(peak),
        threshold=ceiling,
        unit="dBTP",
        message=f"true peak {shown} dBTP is {relation} the {ceiling:g} dBTP ceiling",
        remedy="" if passed else _remedy(limits),
        stage="video",
        details={
            "check": "true_peak",
            "max_true_peak_dbtp": ceiling,
            "true_peak_dbtp": shown if peak == -math.inf else round(peak, 2),
            "method": "ffmpeg ebur128=peak=true (4x oversampled true peak)",
        },
    )


def _no_audio(limits: dict[str, float]) -> list[GateResult]:
    common = {
        "gate": GATE,
        "passed": False,
        "measured": None,
        "stage": "video",
        "remedy": "add a narration track to the video, then " + _remedy(limits),
    }
    return [
        GateResult(
            threshold=limits["target_lufs"],
            unit="LUFS",
            message="the video has no audio stream, so its loudness cannot be measured",
            details={"check": "integrated", "target_lufs": limits["target_lufs"]},
            **common,
        ),
        GateResult(
            threshold=limits["max_true_peak_dbtp"],
            unit="dBTP",
            message="the video has no audio stream, so its true peak cannot be measured",
            details={"check": "true_peak", "max_true_peak_dbtp": limits["max_true_peak_dbtp"]},
            **common,
        ),
    ]
