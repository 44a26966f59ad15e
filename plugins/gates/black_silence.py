"""The ``black_silence`` quality gate: no long black picture, no long silence in the narration.

Stage ``video`` only (needs ``video``). ffmpeg decodes the first audio stream
for ``silencedetect`` (in the same decode as the ``loudness`` gate's meter:
``probe.audio_scan``, whichever gate runs first) while one pass over the MP4's packets
(``probe.scan_keyframes``) reads its length and keyframes: when keyframes come
at least every ``max_black_s`` (the ``ffmpeg`` assembler writes one every
0.5 s), black is sampled at the keyframes, each distinct keyframe decoded once
(a held slide repeats one keyframe); otherwise ffmpeg's ``blackdetect``
decodes every frame. Two results, both ``gate="black_silence"``, told apart by
``details["check"]``:

- ``black_frames``: the longest run of black frames (seconds) must not exceed
  ``max_black_s``. A frame is black when at least ``black_pic_th`` of its
  pixels are darker than ``black_pix_th`` of the luma range.
- ``silence``: the longest silence inside the narration (seconds, audio below
  ``silence_noise_db`` dBFS) must not exceed ``max_silence_s``. Silence in
  the first and last ``edge_s`` seconds does not count (a silence is clipped
  to ``[edge_s, duration - edge_s]``), so a lead-in or the final pause is
  fine, but a late start is not. The assembler's pauses between scenes
  (0.75 s by default) never reach the limit. A video without audio fails
  (measured: its whole length between the edges).

``measured`` is the longest segment (0 when none was detected); its start time
and every detected segment are in ``details``. Segments shorter than 0.1 s
(black) or 0.25 s (silence) are not detected.

Thresholds (``thresholds["black_silence"]``), with their sources:
    max_black_s: 0.5 -- an unintended black gap of more than half a second
        reads as a broken video (reelgraph's choice; slides never fade to black).
    black_pic_th: 0.98 -- ffmpeg blackdetect's default.
    black_pix_th: 0.05 (luma below 16 + 0.05 * 219 = 27 of 235, about RGB
        13/255) -- half ffmpeg's 0.10 default: measured, the slides plugin's
        dark theme (background #0f172a, luma ~35) has 99.5-99.8 % of its pixels
        under the 0.10 threshold (luma 38), so every dark slide would count
        as black; pure black frames (luma 16) are caught by either.
    max_silence_s: 2.0 -- dead air beyond ~2 s in narrated content reads as
        a fault (reelgraph's choice, 2.7x the 0.75 s scene pause).
    silence_noise_db: -50.0 -- dBFS; the level ffmpeg's silencedetect
        documentation uses; below any speech, above AAC coding noise.
    edge_s: 0.5 -- seconds at each end where silence is ignored.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video
from reelgraph.plugins._media.probe import (
    SILENCE_MIN_S,
    SILENCE_NOISE_DB,
    Interval,
    audio_scan,
    blackdetect,
    scan_keyframes,
    silences,
)
from reelgraph.plugins.gates._common import gate_selected, resolve_thresholds

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "check_quality"]

GATE = "black_silence"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, float] = {
    "max_black_s": 0.5,
    "black_pix_th": 0.05,
    "black_pic_th": 0.98,
    "max_silence_s": 2.0,
    "silence_noise_db": SILENCE_NOISE_DB,  # -50.0
    "edge_s": 0.5,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "max_black_s": (0.0, 3600.0),
    "black_pix_th": (0.0, 1.0),
    "black_pic_th": (0.0, 1.0),
    "max_silence_s": (0.0, 3600.0),
    "silence_noise_db": (-120.0, 0.0),
    "edge_s": (0.0, 60.0),
}
_DETECT_BLACK_S = 0.1  # shortest black run reported (so short ones are measured too)
_DETECT_SILENCE_S = SILENCE_MIN_S  # shortest silence reported: 0.25 s


@hookimpl
def check_quality(
    video: Video | None,
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Longest black segment (<= 0.5 s) and longest silence inside the narration (<= 2 s).

    Defaults and sources in the module docstring (blackdetect pix_th 0.05,
    pic_th 0.98; silencedetect -50 dB; 0.5 s edges ignored for silence).
    Returns ``None`` without a video.

    Raises:
        InvalidInputError: a bad threshold override, or a file that is missing
            or ffmpeg cannot decode.
    """
    if not gate_selected(GATE, gates) or video is None:
        return None
    limits = resolve_thresholds(GATE, DEFAULTS, _LIMITS, thresholds)
    path = Path(video.path)
    if not path.is_file():
        raise InvalidInputError(f"gate {GATE!r}: video file not found: {path}")
    black_min_s = min(_DETECT_BLACK_S, limits["max_black_s"]) or 0.01
    pix_th, pic_th = limits["black_pix_th"], limits["black_pic_th"]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelgraph-silence") as pool:
        # ffmpeg decodes the audio for silencedetect (or the loudness gate's decode
        # is awaited) while this thread reads the packets
        silence_log = pool.submit(
            _silence_log, path, limits["silence_noise_db"], limits["max_silence_s"]
        )
        try:
            scan = scan_keyframes(path, pix_th=pix_th, pic_th=pic_th)
        except InvalidInputError as err:
            raise InvalidInputError(f"gate {GATE!r}: {err}") from err
        # Decoding every 1080p frame is the cost of this gate (16 s for 6 minutes);
        # when keyframes come at least as often as the black limit, decoding only
        # them samples black finely enough (to within one keyframe interval), and
        # each distinct keyframe is decoded once: 22 minutes of slides, 15.3 CPU s
        # for ffmpeg on every keyframe -> 2.6 CPU s (measured, bench/end_to_end.py's docs).
        interval = scan.max_keyframe_interval_s
        sampled = interval is not None and interval <= limits["max_black_s"]
        if sampled:
            black = scan.black_runs(black_min_s)
        else:
            black = blackdetect(path, black_min_s=black_min_s, pix_th=pix_th, pic_th=pic_th)
        log = silence_log.result()
    silence = silences(log, scan.duration_s) if scan.has_audio else [Interval(0.0, scan.duration_s)]
    results = [
        _black_result(black, limits),
        _silence_result(silence, scan.duration_s, scan.has_audio, limits),
    ]
    results[0].details["sampled_every_s"] = round(interval, 3) if sampled and interval else None
    ctx.log.info(
        "black_silence gate",
        longest_black_s=results[0].measured,
        longest_silence_s=results[1].measured,
        passed=all(r.passed for r in results),
    )
    return results


def _silence_log(path: Path, noise_db: float, max_silence_s: float) -> str:
    """silencedetect's log for ``path``, or ``""`` when it has no audio stream."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return ""
    except (OSError, av.error.FFmpegError) as err:
        raise InvalidInputError(f"gate {GATE!r}: cannot read video {path}: {err}") from err
    min_s = min(_DETECT_SILENCE_S, max_silence_s) or 0.01
    return audio_scan(path, noise_db=noise_db, silence_min_s=min_s).silence_log


def _segments(intervals: list[Interval]) -> list[dict[str, float]]:
    return [
        {
            "start_s": round(i.start_s, 3),
            "end_s": round(i.end_s, 3),
            "duration_s": round(i.duration_s, 3),
        }
        for i in intervals
    ]


def _black_result(black: list[Interval], limits: dict[str, float]) -> GateResult:
    limit = limits["max_black_s"]
    longest = max(black, key=lambda i: i.duration_s, default=None)
    length = round(longest.duration_s, 3) if longest else 0.0
    passed = length <= limit
    if longest is None:
        message = "no black frames (no black run of 0.1 s or more)"
    else:
        message = (
            f"longest black segment {length:.2f} s at {longest.start_s:.2f} s is "
            f"{'within' if passed else 'over'} the {limit:g} s limit"
        )
    remedy = ""
    if longest is not None and not passed:
        remedy = (
            f"replace the black frames at {longest.start_s:.2f}-{longest.end_s:.2f} s "
            "with a visual (check the shot for that scene renders, and the assembler's input)"
        )
    return GateResult(
        gate=GATE,
        passed=passed,
        measured=length,
        threshold=limit,
        unit="s",
        message=message,
        remedy=remedy,
        stage="video",
        details={
            "check": "black_frames",
            "longest_start_s": round(longest.start_s, 3) if longest else None,
            "segments": _segments(black),
            "method": f"ffmpeg blackdetect's rule, pix_th={limits['black_pix_th']:g} "
            f"pic_th={limits['black_pic_th']:g}",
        },
    )


def _silence_result(
    silence: list[Interval], duration: float, has_audio: bool, limits: dict[str, float]
) -> GateResult:
    limit, edge = limits["max_silence_s"], limits["edge_s"]
    low, high = edge, max(edge, duration - edge)
    inside = [
        Interval(max(i.start_s, low), min(i.end_s, high))
        for i in silence
        if min(i.end_s, high) > max(i.start_s, low)
    ]
    longest = max(inside, key=lambda i: i.duration_s, default=None)
    length = round(longest.duration_s, 3) if longest else 0.0
    passed = has_audio and length <= limit  # no audio track: nothing is narrated
    if not has_audio:
        message = f"the video has no audio stream: {length:.2f} s of silence"
    elif longest is None:
        message = f"no silence of 0.25 s or more inside the narration (below {limits['silence_noise_db']:g} dB)"
    else:
        message = (
            f"longest silence inside the narration {length:.2f} s at {longest.start_s:.2f} s "
            f"is {'within' if passed else 'over'} the {limit:g} s limit"
        )
    remedy = ""
    if not has_audio:
        remedy = "add the narration audio track to the video"
    elif longest is not None and not passed:
        remedy = (
            f"shorten the silence at {longest.start_s:.2f}-{longest.end_s:.2f} s "
            "(check that the scene has narration and the pause settings)"
        )
    return GateResult(
        gate=GATE,
        passed=passed,
        measured=length,
        threshold=limit,
        unit="s",
        message=message,
        remedy=remedy,
        stage="video",
        details={
            "check": "silence",
            "longest_start_s": round(longest.start_s, 3) if longest else None,
            "segments": _segments(silence),
            "ignored_edges_s": edge,
            "has_audio": has_audio,
            "method": f"ffmpeg silencedetect noise={limits['silence_noise_db']:g}dB",
        },
    )
