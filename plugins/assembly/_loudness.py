"""Loudness normalisation of the narration track: measure, limit once, one gain.

EBU R128 / ITU-R BS.1770 integrated loudness and true peak from ffmpeg's
``ebur128`` filter, the meter the ``loudness`` gate reads the finished video
with (:func:`~reelgraph.plugins._media.probe.ebur128`); ffmpeg's look-ahead
``alimiter`` when a linear gain alone would lift the true peak over the
ceiling. Used by the ``ffmpeg`` assembler (:mod:`reelgraph.plugins.assembly.ffmpeg`).

The idea (see :func:`normalise`): what a limiter must achieve is a
peak-to-loudness ratio (PLR, true peak minus integrated loudness), not a
loudness. Any limited track whose PLR is at most ``ceiling - target`` reaches
the target by one linear gain afterwards, and that gain moves its loudness
and its true peak by the same decibels, so neither needs measuring again. The
limiter runs on the track oversampled 2x so that it holds true peaks rather
than sample peaks (measured on espeak and piper speech: true peak within
0.6 dB of the limit at any drive, against up to 2 dB of inter-sample overs at
the track's own rate); the PLR then falls steadily as the limiter is driven
harder, and one pass usually suffices. The pass measures its own output in
the same ffmpeg run (``asplit`` into ``ebur128``).

Measuring with ffmpeg rather than pyloudnorm and scipy in this process saves
their import (0.9 CPU s, once per process) and a pass over the samples in
Python; ffmpeg prints its summary to 0.1 dB, so the track lands within
0.05 LU of the target and the true-peak margin is 0.45 dB, not 0.5.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from typing import Any

from reelgraph.errors import FatalError
from reelgraph.plugins._media.probe import Loudness, ebur128_summary
from reelgraph.plugins.assembly._audio import resample

__all__ = ["Levels", "limit_peaks", "measure", "normalise", "to_pcm16"]

# The true-peak ceiling is 0.5 dB under the -1 dBTP delivery limit (EBU R128, AES
# TD1004), for the AAC encoder (<= 0.1 dB overshoot with the fast coder and no TNS,
# measured: _audio.encode_chunk), the meter's rounding and the oversampling's under-read.
_CEILING_DBTP = -1.5
_LIMITER_ATTACK_MS = 5  # alimiter look-ahead (its default)
_LIMITER_RELEASE_MS = 50  # alimiter release (its default)
_LIMITER_OVERSAMPLING = 2  # the limiter runs at twice the track's rate (see the module doc)
# Each dB the limiter takes off the peaks lowers the PLR by 0.5-0.8 dB on speech (the
# rest is loudness the limiting removes; measured on espeak-ng and piper narrations
# of three READMEs, drives of 4-16 dB): the first pass assumes 0.7 and aims
# _PLR_MARGIN_DB under the PLR needed; later passes use the slope they measured.
_PLR_PER_DRIVE_DB = 0.7
_PLR_MARGIN_DB = 0.5
_MIN_SLOPE = 0.2  # a measured slope below this (the limiter saturating) is not trusted
_MAX_LIMITER_PASSES = 6


@dataclass(frozen=True, slots=True)
class Levels:
    """What the normalisation measured and did (logged by the assembler)."""

    input_lufs: float
    input_peak_dbfs: float  # the largest sample as spoken
    gain_db: float  # linear gain in all (into the limiter, and after it)
    limited: bool  # the peak limiter ran (the linear gain alone would exceed the ceiling)
    output_lufs: float
    output_true_peak_dbtp: float
    passes: int  # limiter passes (0: linear gain only)


def _ffmpeg_meter(
    cmd: list[str], samples: bytes, what: str, *, peak: bool
) -> tuple[bytes, Loudness]:
    """Run ``cmd`` with ``samples`` on stdin; its stdout and its ebur128 summary."""
    done = subprocess.run(cmd, input=samples, capture_output=True)
    log = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-6:])
        raise FatalError(f"ffmpeg failed while {what} (exit {done.returncode}): {tail}")
    return done.stdout, ebur128_summary(log, what, peak=peak)


def _head(ffmpeg: str, sample_format: str, rate: int) -> list[str]:
    # info: where ebur128 logs its summary
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
    return [*cmd, "-f", sample_format, "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]


def measure(ffmpeg: str, pcm: bytes, rate: int, *, peak: bool) -> Loudness:
    """EBU R128 loudness of 16-bit mono PCM at ``rate`` Hz (ffmpeg ``ebur128``).

    ``peak``: measure the true peak too (4x oversampled at 48 kHz; three
    times the work), else it is ``nan``.

    Raises:
        FatalError: ffmpeg failed or printed no summary.
    """
    meter = "ebur128=framelog=quiet" + (":peak=true" if peak else "")
    cmd = [*_head(ffmpeg, "s16le", rate), "-af", meter, "-f", "null", "-"]
    return _ffmpeg_meter(cmd, pcm, "measuring the audio track", peak=peak)[1]


def limit_peaks(
    ffmpeg: str, x: Any, rate: int, gain_db: float, limit_dbfs: float, out_rate: int = 0
) -> tuple[Any, Loudness]:
    """``x`` raised by ``gain_db`` through ffmpeg's look-ahead ``alimiter`` at ``limit_dbfs``.

    ``x``: 1-D float32 samples at ``rate`` Hz, full scale 1.0 (``limit_dbfs``
    from -24 to 0, alimiter's range). Returns the same span at ``out_rate``
    (default ``rate``), and its loudness and true peak measured in the same
    ffmpeg run. The limiter runs at ``_LIMITER_OVERSAMPLING`` times the rate
    (``aresample`` up, then to ``out_rate``), so it holds the peaks between
    the track's samples too. float32 samples in and out through pipes (no
    file); ``latency=true`` compensates the look-ahead, so the output is
    sample-aligned with the input; ``level=false`` keeps the limiter from
    adding make-up gain.

    Raises:
        FatalError: ffmpeg failed.
    """
    import numpy as np

    out_rate = out_rate or rate
    graph = (
        f"[0:a]volume={gain_db:.4f}dB,aresample={rate * _LIMITER_OVERSAMPLING},"
        f"alimiter=limit={10 ** (limit_dbfs / 20):.6f}:attack={_LIMITER_ATTACK_MS}"
        f":release={_LIMITER_RELEASE_MS}:level=false:latency=true,aresample={out_rate},"
        "asplit=2[out][meter];[meter]ebur128=peak=true:framelog=quiet,anullsink"
    )
    cmd = [*_head(ffmpeg, "f32le", rate), "-filter_complex", graph]
    cmd += ["-map", "[out]", "-f", "f32le", "pipe:1"]
    raw, measured = _ffmpeg_meter(
        cmd, x.astype("<f4").tobytes(), "limiting the audio track", peak=True
    )
    y = np.frombuffer(raw, dtype="<f4")
    size = round(x.size * out_rate / rate)
    y = y[:size] if y.size >= size else np.pad(y, (0, size - y.size))
    return y, measured


def normalise(
    ffmpeg: str, pcm: bytes, rate: int, target: float, out_rate: int = 0
) -> tuple[bytes, Levels | None]:
    """16-bit PCM at ``target`` LUFS integrated with true peak <= ``_CEILING_DBTP``.

    ``pcm``: 16-bit mono at ``rate`` Hz; returned at ``out_rate`` (default
    ``rate``): the limiter's run resamples too, so the meter reads the
    samples delivered. One measurement of the track as spoken
    (:func:`measure`); when the
    linear gain ``target - measured`` keeps the true peak under the ceiling,
    that gain is all. Otherwise (espeak-ng speech has a crest factor of about
    20 dB: at -16 LUFS its peaks would reach +3 dBTP) the track goes through
    :func:`limit_peaks`, driven ``drive`` dB into the limit, until its PLR is
    at most ``_CEILING_DBTP - target``; then one linear gain puts it on the
    target, where its true peak is at most the ceiling by construction: a
    gain of ``g`` dB moves the true peak by exactly ``g`` dB, and the
    integrated loudness too (BS.1770's relative gate moves with the signal;
    the -70 LUFS absolute gate only drops blocks 50 dB under the target,
    which the relative gate drops anyway). Each pass is one ffmpeg run.
    Out of passes (``_MAX_LIMITER_PASSES``), the true peak is put on the
    ceiling and the track stays under the target. Returns the PCM only
    resampled and ``None`` for silence or audio too short to measure (< 400 ms).

    Raises:
        FatalError: ffmpeg failed.
    """
    import numpy as np

    out_rate = out_rate or rate
    lufs = measure(ffmpeg, pcm, rate, peak=False).integrated_lufs
    if not math.isfinite(lufs) or lufs <= -70:
        # below BS.1770's absolute gate there is nothing to normalise
        return resample(ffmpeg, pcm, rate, out_rate), None
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    sample_peak = 20 * math.log10(float(np.abs(x).max()) or 1e-10)
    gain = target - lufs
    # the true peak is at least the sample peak: measure it only when it may allow the gain
    if sample_peak + gain <= _CEILING_DBTP:
        peak = measure(ffmpeg, pcm, rate, peak=True).true_peak_dbtp
        if peak + gain <= _CEILING_DBTP:
            out = resample(ffmpeg, pcm, rate, out_rate, gain)
            return out, Levels(lufs, sample_peak, gain, False, target, peak + gain, 0)
    needed = _CEILING_DBTP - target  # the largest PLR the final gain can take
    drive = (sample_peak - lufs - needed + _PLR_MARGIN_DB) / _PLR_PER_DRIVE_DB
    tried: list[tuple[float, float]] = []  # (drive, PLR reached)
    passes = 0
    while True:
        passes += 1
        # the track's largest sample lands `drive` dB over the limit (the ceiling)
        raised = _CEILING_DBTP + drive - sample_peak
        y, out = limit_peaks(ffmpeg, x, rate, raised, _CEILING_DBTP, out_rate)
        plr = out.true_peak_dbtp - out.integrated_lufs
        if plr <= needed or passes == _MAX_LIMITER_PASSES:
            break
        tried.append((drive, plr))
        drive += (plr - needed + _PLR_MARGIN_DB) / _slope(tried)
    # Out of passes, the true peak goes on the ceiling at the cost of as much loudness.
    trim = target - out.integrated_lufs if plr <= needed else _CEILING_DBTP - out.true_peak_dbtp
    y = y * np.float32(10 ** (trim / 20))
    used = _CEILING_DBTP + drive - sample_peak + trim
    return to_pcm16(y), Levels(
        lufs,
        sample_peak,
        used,
        True,
        out.integrated_lufs + trim,
        out.true_peak_dbtp + trim,
        passes,
    )


def _slope(tried: list[tuple[float, float]]) -> float:
    """PLR dB lost per dB of drive: measured between the last two passes, else assumed."""
    if len(tried) >= 2:
        (d0, p0), (d1, p1) = tried[-2], tried[-1]
        if d1 != d0 and (p0 - p1) / (d1 - d0) >= _MIN_SLOPE:
            return (p0 - p1) / (d1 - d0)
    return _PLR_PER_DRIVE_DB


def to_pcm16(y: Any) -> bytes:
    """float samples (full scale 1.0) -> 16-bit little-endian PCM, rounded and clipped."""
    import numpy as np

    return np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes()
