"""Decoding, normalising and inlining media for clip providers (used by :mod:`._clips`).

:func:`probe_video` decodes a file with PyAV and counts its frames;
:func:`normalise_clip` writes the clip the assembler joins (the aspect's
frame, square pixels, 30 fps, yuv420p H.264, the shot's length, sound only
when asked) with the static ffmpeg of imageio-ffmpeg; :func:`image_data_uri`
inlines a storyboard frame for vendors that take data URIs.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reelgraph.errors import InvalidInputError
from reelgraph.models import frame_size

__all__ = ["FPS", "Probe", "image_data_uri", "normalise_clip", "probe_video"]

#: frames per second of every clip handed to the assembler (the hookspec's contract)
FPS = 30


@dataclass(frozen=True)
class Probe:
    """What decoding a video file found: frame count, seconds, pixels, sound."""

    frames: int
    duration_s: float
    width_px: int
    height_px: int
    fps: float
    has_audio: bool


def image_data_uri(path: Path, *, max_bytes: int = 3 * 1024 * 1024) -> str:
    """``data:image/...;base64,...`` for an image file, re-encoded as JPEG when too big.

    Vendors that take images inline (Runway: "base64 data URI", at most
    5 MB encoded, per docs.dev.runwayml.com/assets/inputs) get the PNG as it
    is when it fits ``max_bytes`` (bytes before encoding), else a JPEG
    (quality 90) of the same picture.

    Raises:
        InvalidInputError: the file is missing or not an image.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InvalidInputError(f"storyboard frame {path}: cannot read it ({err})") from err
    if data.startswith(b"\x89PNG") and len(data) <= max_bytes:
        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=90)
    except (UnidentifiedImageError, OSError) as err:
        raise InvalidInputError(f"storyboard frame {path}: not an image ({err})") from err
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# -- decode and normalise ---------------------------------------------------------


def probe_video(path: Path, what: str) -> Probe:
    """Decode ``path`` with PyAV: every video frame is decoded and counted.

    Raises:
        InvalidInputError: not a video, no video stream, or no frame decodes
            (``what`` names the clip in the message).
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidInputError(f"{what}: the file has no video stream; it is not a clip")
            stream = container.streams.video[0]
            has_audio = bool(container.streams.audio)
            frames = 0
            last = 0.0
            for frame in container.decode(stream):
                frames += 1
                if frame.time is not None:
                    last = max(last, float(frame.time))
            rate = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
            width, height = stream.codec_context.width, stream.codec_context.height
    except InvalidInputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise InvalidInputError(f"{what}: not a decodable video ({err})") from err
    if frames == 0:
        raise InvalidInputError(f"{what}: no video frame decodes; the file is not a clip")
    duration = last + (1.0 / rate if rate else 0.0)
    return Probe(frames, duration, width, height, rate, has_audio)


def normalise_clip(
    source: Path,
    target: Path,
    *,
    aspect: str,
    duration_s: float,
    keep_audio: bool,
    what: str,
    filters: str = "",
) -> Probe:
    """Write ``target``: ``source`` fitted to the aspect, 30 fps, H.264, ``duration_s`` long.

    The picture is scaled to fit the aspect's frame (``ASPECT_SIZES``:
    1920x1080 for 16:9) and padded with black, pixels made square
    (``setsar=1``), resampled to 30 fps, then trimmed to ``duration_s`` or its
    last frame held (``tpad=stop_mode=clone``) until then; H.264 High in
    yuv420p with ``+faststart`` (the web-safe MP4 of FIELD.md). Sound is
    kept (AAC-LC 48 kHz, padded with silence or cut to length) only when
    ``keep_audio``; else it is dropped. ``filters`` (an ffmpeg filter chain)
    run first on the source picture (the offline Ken Burns move). Written
    to a temporary name and renamed, so no half-written clip is left.

    Returns:
        The probe of the written clip (decoded to check it).

    Raises:
        InvalidInputError: ffmpeg cannot read the source, or the result does
            not decode.
        ConfigurationError: ffmpeg is missing.
    """
    from reelgraph.plugins._media.probe import ffmpeg_exe

    width, height = frame_size(aspect)
    chain = [
        filters,
        f"scale={width}:{height}:force_original_aspect_ratio=decrease",
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
        "setsar=1",
        f"fps={FPS}",
        f"tpad=stop_mode=clone:stop_duration={duration_s:.3f}",
        f"trim=duration={duration_s:.3f}",
        "setpts=PTS-STARTPTS",
        "format=yuv420p",
    ]
    video = ",".join(part for part in chain if part)
    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(source), "-vf", video]
    if keep_audio:
        args += ["-af", f"apad,atrim=duration={duration_s:.3f}", "-c:a", "aac", "-ar", "48000"]
    else:
        args += ["-an"]
    partial = target.with_name(target.stem + ".part.mp4")
    args += [
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-r",
        str(FPS),
        "-t",
        f"{duration_s:.3f}",
        "-movflags",
        "+faststart",
        str(partial),
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise InvalidInputError(f"{what}: ffmpeg could not normalise the clip ({tail[0]})")
    os.replace(partial, target)
    return probe_video(target, what)
