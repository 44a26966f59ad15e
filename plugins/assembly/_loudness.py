"""Loudness normalisation of the narration track, in memory: one measurement, one gain, a limiter.

EBU R128 / ITU-R BS.1770 loudness from :func:`~reelgraph.plugins._media.probe.pcm_loudness`
(pyloudnorm, exact screened true-peak oversampling); ffmpeg's ``alimiter`` when
the gain alone would lift the true peak over the ceiling. Used by the ``ffmpeg``
assembler (:mod:`reelgraph.plugins.assembly.ffmpeg`).
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from typing import Any

from reelgraph.errors import FatalError
from reelgraph.plugins._media.probe import pcm_loudness

__all__ = ["Levels", "limit_peaks", "normalise", "to_pcm16"]

# The true-peak ceiling (see normalise) is 0.5 dB under the
# -1 dBTP delivery limit, for the AAC encoder (<= 0.1 dB overshoot, measured) and the
# oversampling's under-read; the limiter starts lower still (_LIMITER_MARGIN_DB)
# because its limit is on samples and inter-sample peaks overshoot it.
_CEILING_DBTP = -1.5
# limit this far under the ceiling: room for the inter-sample overs of a 5 ms look-ahead
# (measured: 4 passes to converge on piper speech where 0.5 dB took all 8)
_LIMITER_MARGIN_DB = 2.0
_LIMITER_ATTACK_MS = 5  # alimiter look-ahead (its default)
_LIMITER_RELEASE_MS = 50  # alimiter release (its default)
_LOUDNESS_TOLERANCE_LU = 0.15  # how close the limited track must come to the target
_MAX_LIMITER_PASSES = 8


@dataclass(frozen=True, slots=True)
class Levels:
    """What the normalisation measured and did (logged by the assembler)."""

    input_lufs: float
    input_true_peak_dbtp: float
    gain_db: float
    limited: bool  # the peak limiter ran (the linear gain alone would exceed the ceiling)
    output_lufs: float
    output_true_peak_dbtp: float
    passes: int  # limiter passes (0: linear gain only)


def limit_peaks(ffmpeg: str, x: Any, rate: int, gain_db: float, limit_dbfs: float) -> Any:
    """``x`` raised by ``gain_db`` through ffmpeg's look-ahead ``alimiter`` at ``limit_dbfs``.

    float32 samples in and out through pipes (no file); ``latency=true``
    compensates the look-ahead, so the output is sample-aligned with the input;
    ``level=false`` keeps the limiter from adding make-up gain.
    """
    import numpy as np

    chain = (
        f"volume={gain_db:.4f}dB,alimiter=limit={10 ** (limit_dbfs / 20):.6f}"
        f":attack={_LIMITER_ATTACK_MS}:release={_LIMITER_RELEASE_MS}:level=false:latency=true"
    )
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "f32le"]
    cmd += ["-ar", str(rate), "-ac", "1", "-i", "pipe:0", "-af", chain, "-f", "f32le", "pipe:1"]
    done = subprocess.run(cmd, input=x.astype("<f4").tobytes(), capture_output=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode(errors="replace").strip().splitlines()[-6:])
        raise FatalError(
            f"ffmpeg failed while limiting the audio track (exit {done.returncode}): {tail}"
        )
    y = np.frombuffer(done.stdout, dtype="<f4")
    return y[: x.size] if y.size >= x.size else np.pad(y, (0, x.size - y.size))


def normalise(ffmpeg: str, pcm: bytes, rate: int, target: float) -> tuple[bytes, Levels | None]:
    """16-bit PCM at ``target`` LUFS integrated with true peak <= ``_CEILING_DBTP``.

    One measurement of the track as spoken (:func:`pcm_loudness`), then one
    linear gain ``target - measured``. When that gain would lift the true peak
    over the ceiling (espeak-ng speech has a crest factor of ~19 dB: at -16
    LUFS its peaks would reach about +3 dBTP), the gain goes through ffmpeg's
    ``alimiter`` instead; limiting lowers the loudness a little, so the gain is
    corrected by the secant method on the re-measured loudness until it is
    within ``_LOUDNESS_TOLERANCE_LU`` of the target and the true peak is under
    the ceiling (2-4 passes on espeak speech; each pass is one ffmpeg filter
    run over the PCM plus one measurement, no encode). Returns the PCM unchanged
    and ``None`` for silence or audio too short to measure (< 400 ms).
    """
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    lufs, peak = pcm_loudness(x, rate)
    if not math.isfinite(lufs) or lufs <= -70:
        return pcm, None  # below BS.1770's absolute gate there is nothing to normalise
    gain = target - lufs
    if peak + gain <= _CEILING_DBTP:
        y = x * np.float32(10 ** (gain / 20))
        levels = Levels(lufs, peak, gain, False, target, peak + gain, 0)
        return to_pcm16(y), levels
    limit = _CEILING_DBTP - _LIMITER_MARGIN_DB
    tried: list[tuple[float, float]] = []  # (gain, loudness reached) at the current limit
    passes = 0
    while True:
        passes += 1
        used = gain
        y = limit_peaks(ffmpeg, x, rate, used, limit)
        out_lufs, out_peak = pcm_loudness(y, rate)
        if passes == _MAX_LIMITER_PASSES:
            break
        if out_peak > _CEILING_DBTP:
            # inter-sample overs: lower the limit; loudness points at the old limit no longer apply
            limit -= out_peak - _CEILING_DBTP + 0.1
            tried.clear()
            continue
        if abs(out_lufs - target) <= _LOUDNESS_TOLERANCE_LU:
            break
        tried.append((used, out_lufs))
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            gain = g1 + (target - l1) * (g1 - g0) / (l1 - l0)
        else:
            gain += target - out_lufs
    if out_peak > _CEILING_DBTP:
        # Out of passes with the peak still over: a linear trim puts it on the ceiling
        # (a trim scales the true peak exactly), at the cost of as much loudness.
        trim = _CEILING_DBTP - out_peak
        y = y * np.float32(10 ** (trim / 20))
        used, out_lufs, out_peak = used + trim, out_lufs + trim, _CEILING_DBTP
    return to_pcm16(y), Levels(lufs, peak, used, True, out_lufs, out_peak, passes)


def to_pcm16(y: Any) -> bytes:
    import numpy as np

    return np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes()
