"""The ``conformance`` quality gate: is the MP4 a web-safe delivery file?

Stage ``video`` only (needs ``video``). Streams are probed with PyAV; faststart
and the container brand are read from the file's top-level ISO BMFF boxes
(ISO/IEC 14496-12). One result, ``gate="conformance"``: ``measured`` is the
number of failed properties (unit ``checks``, threshold 0); every failed
property is named in the message and listed in ``details["failures"]`` with
what was expected and what was found; ``details["found"]`` has every value.

Properties and defaults (web/streaming delivery guidance as collected in
FIELD.md: H.264 High, ``yuv420p``, constant frame rate, ``+faststart``,
AAC-LC 48 kHz, ``mov_text`` soft subtitles -- what browsers and streaming
platforms play without re-encoding):

=============== ========================================================
container       ``mp4``: the first box is ``ftyp`` and its major brand is
                not QuickTime's ``qt  ``
video_codec     ``h264``
video_profile   ``High``
pix_fmt         ``yuv420p`` (4:2:0, 8 bit: what hardware decoders play)
resolution      ``targets["width_px"]`` x ``targets["height_px"]`` (or the frame size
                of ``targets["aspect"]``, e.g. ``"9:16"`` = 1080x1920)
                (default 1920x1080)
fps             ``targets["fps"]`` (default 30), within ``fps_tolerance``
faststart       ``moov`` before ``mdat`` (progressive playback)
audio_codec     ``aac``
audio_profile   ``LC``
sample_rate     ``targets["sample_rate_hz"]`` (default 48000 Hz)
subtitles       a ``mov_text`` subtitle stream (``require_subtitles``; not
                required when the captions are burned into the picture)
=============== ========================================================

Thresholds (``thresholds["conformance"]``): ``fps_tolerance`` (0.01 fps),
``container``, ``video_codec``, ``video_profile``, ``pix_fmt``,
``audio_codec``, ``audio_profile``, ``subtitle_codec`` (strings, as PyAV names
them), ``faststart`` and ``require_subtitles`` (booleans).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import GateResult, Video, frame_size
from reelgraph.plugins._media.probe import top_level_boxes
from reelgraph.plugins.gates._common import gate_selected

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "check_quality"]

GATE = "conformance"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, Any] = {
    "fps_tolerance": 0.01,
    "container": "mp4",
    "video_codec": "h264",
    "video_profile": "High",
    "pix_fmt": "yuv420p",
    "audio_codec": "aac",
    "audio_profile": "LC",
    "subtitle_codec": "mov_text",
    "faststart": True,
    "require_subtitles": True,
}
#: Defaults for what ``targets`` may set.
TARGET_DEFAULTS: dict[str, int] = {
    "width_px": 1920,
    "height_px": 1080,
    "fps": 30,
    "sample_rate_hz": 48_000,
}
_TARGET_LIMITS = {"width_px": 16_384, "height_px": 16_384, "fps": 240, "sample_rate_hz": 384_000}


@hookimpl
def check_quality(
    video: Video | None,
    targets: dict[str, Any],
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check ``video`` against the web-safe delivery profile (see the module docstring).

    Defaults: MP4 (ftyp brand not ``qt``), H.264 High, yuv420p, targets' size
    (1920x1080) and fps (30 +-0.01), faststart, AAC-LC at the targets' rate
    (48000 Hz), a mov_text subtitle stream. Returns ``None`` without a video.

    Raises:
        InvalidInputError: a bad threshold override or target, or a file that
            is missing or that PyAV cannot read.
    """
    if not gate_selected(GATE, gates) or video is None:
        return None
    limits = _limits(thresholds)
    if video.burned_captions_path is not None:  # captions in the picture: a track is optional
        limits["require_subtitles"] = False
    want = _targets(targets)
    path = Path(video.path)
    found = _probe(path)
    failures = _compare(found, want, limits)
    ctx.log.info("conformance gate", failed=[f["property"] for f in failures])
    expected = _expected(want, limits)
    details = {"failures": failures, "found": found, "expected": expected}
    if not failures:
        message = (
            f"web-safe MP4: {found['video_codec']} {found['video_profile']} "
            f"{found['pix_fmt']} {found['resolution']} at {found['fps']} fps, "
            f"{found['audio_codec']} {found['sample_rate']} Hz, faststart, subtitles"
        )
        remedy = ""
    else:
        listed = "; ".join(
            f"{f['property']} {f['found']} (expected {f['expected']})" for f in failures
        )
        message = f"not a web-safe MP4: {listed}"
        remedy = (
            "re-encode or remux with the web-safe settings: ffmpeg -c:v libx264 -profile:v "
            "high -pix_fmt yuv420p -r <fps> -s <WxH> -c:a aac -ar <rate> -c:s mov_text "
            "-movflags +faststart"
        )
    return [
        GateResult(
            gate=GATE,
            passed=not failures,
            measured=float(len(failures)),
            threshold=0.0,
            unit="checks",
            message=message,
            remedy=remedy,
            stage="video",
            details=details,
        )
    ]


def _limits(thresholds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    given = (thresholds or {}).get(GATE) or {}
    if not isinstance(given, dict):
        raise InvalidInputError(f"thresholds.{GATE} must be a mapping, got {given!r}")
    values = dict(DEFAULTS)
    for key, value in given.items():
        if key not in DEFAULTS:
            known = ", ".join(sorted(DEFAULTS))
            raise InvalidInputError(
                f"thresholds.{GATE}: unknown threshold {key!r} for gate {GATE!r}; known: {known}"
            )
        default = DEFAULTS[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
            kind = "true or false"
        elif isinstance(default, str):
            ok = isinstance(value, str) and bool(value.strip())
            kind = "a non-empty string"
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value) and 0 <= value <= 10
            kind = "a number from 0 to 10"
        if not ok:
            raise InvalidInputError(f"thresholds.{GATE}.{key} must be {kind}, got {value!r}")
        values[key] = value
    return values


def _targets(targets: dict[str, Any]) -> dict[str, float]:
    targets = dict(targets or {})
    aspect = targets.get("aspect")
    if aspect is not None and targets.get("width_px") is None and targets.get("height_px") is None:
        # the spec's aspect input ("9:16") stands for its frame size
        try:
            targets["width_px"], targets["height_px"] = frame_size(aspect)
        except ValueError as err:
            raise InvalidInputError(f"gate {GATE!r}: targets.aspect: {err}") from None
    want: dict[str, float] = {}
    for key, default in TARGET_DEFAULTS.items():
        value = targets.get(key)
        value = default if value is None else value
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not 0 < value <= _TARGET_LIMITS[key]:
            raise InvalidInputError(
                f"gate {GATE!r}: targets.{key} must be a positive number up to "
                f"{_TARGET_LIMITS[key]}, got {value!r}"
            )
        want[key] = value
    return want


def _brand(path: Path) -> tuple[str, str]:
    """``(container, faststart)`` from the top-level boxes."""
    boxes = top_level_boxes(path)
    kinds = [kind for kind, _, _ in boxes]
    if not boxes or kinds[0] != "ftyp":
        container = "not ISO BMFF (no leading ftyp box)"
    else:
        brand = boxes[0][2][:4].decode("latin-1")
        container = "mov" if brand == "qt  " else "mp4"
        container += f" (brand {brand.strip()})"
    if "moov" not in kinds or "mdat" not in kinds:
        return container, "no moov or no mdat box"
    before = kinds.index("moov") < kinds.index("mdat")
    return container, "moov before mdat" if before else "moov after mdat"


def _probe(path: Path) -> dict[str, Any]:
    """Every checked property as found in the file (``None`` where a stream is missing)."""
    import av

    if not path.is_file():
        raise InvalidInputError(f"gate {GATE!r}: video file not found: {path}")
    found: dict[str, Any] = dict.fromkeys(
        ["video_codec", "video_profile", "pix_fmt", "resolution", "fps", "audio_codec"]
        + ["audio_profile", "sample_rate", "subtitles"]
    )
    found["container"], found["faststart"] = _brand(path)
    try:
        with av.open(str(path)) as container:
            if container.streams.video:
                v = container.streams.video[0]
                rate = v.average_rate or v.guessed_rate
                found["video_codec"] = v.codec_context.name
                found["video_profile"] = v.codec_context.profile
                found["pix_fmt"] = v.codec_context.pix_fmt
                found["resolution"] = f"{v.codec_context.width}x{v.codec_context.height}"
                found["fps"] = round(float(Fraction(rate)), 3) if rate else None
            if container.streams.audio:
                a = container.streams.audio[0]
                found["audio_codec"] = a.codec_context.name
                found["audio_profile"] = a.codec_context.profile
                found["sample_rate"] = a.codec_context.sample_rate
            found["subtitles"] = [s.codec_context.name for s in container.streams.subtitles]
    except (OSError, av.error.FFmpegError) as err:
        raise InvalidInputError(f"gate {GATE!r}: cannot read video {path}: {err}") from err
    return found


def _expected(want: dict[str, float], limits: dict[str, Any]) -> dict[str, Any]:
    return {
        "container": limits["container"],
        "video_codec": limits["video_codec"],
        "video_profile": limits["video_profile"],
        "pix_fmt": limits["pix_fmt"],
        "resolution": f"{want['width_px']:g}x{want['height_px']:g}",
        "fps": f"{want['fps']:g} +-{limits['fps_tolerance']:g}",
        "faststart": "moov before mdat" if limits["faststart"] else "any",
        "audio_codec": limits["audio_codec"],
        "audio_profile": limits["audio_profile"],
        "sample_rate": want["sample_rate_hz"],
        "subtitles": limits["subtitle_codec"] if limits["require_subtitles"] else "any",
    }


def _compare(
    found: dict[str, Any], want: dict[str, float], limits: dict[str, Any]
) -> list[dict[str, Any]]:
    expected = _expected(want, limits)
    ok = {
        "container": str(found["container"]).split(" ")[0] == limits["container"],
        "video_codec": found["video_codec"] == limits["video_codec"],
        "video_profile": found["video_profile"] == limits["video_profile"],
        "pix_fmt": found["pix_fmt"] == limits["pix_fmt"],
        "resolution": found["resolution"] == expected["resolution"],
        "fps": found["fps"] is not None
        and abs(found["fps"] - want["fps"]) <= limits["fps_tolerance"],
        "faststart": found["faststart"] == "moov before mdat" or not limits["faststart"],
        "audio_codec": found["audio_codec"] == limits["audio_codec"],
        "audio_profile": found["audio_profile"] == limits["audio_profile"],
        "sample_rate": found["sample_rate"] == want["sample_rate_hz"],
        "subtitles": not limits["require_subtitles"]
        or limits["subtitle_codec"] in (found["subtitles"] or []),
    }
    return [
        {
            "property": key,
            "expected": expected[key],
            "found": "none" if found[key] in (None, []) else found[key],
        }
        for key, passed in ok.items()
        if not passed
    ]
