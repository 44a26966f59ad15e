"""The ``music`` check: a music bed given to a run decodes, before anything is paid for.

A ``check_quality`` implementation (gate ``music``) that a spec runs right
after its inputs are bound, with the file in ``targets["music"]``; the
nodes that cost money (``clips``) name it in ``needs:``, so a music file
that is not audio stops the run before the first clip is submitted, with
an error that names the input. The ``ffmpeg`` assembler's ``music`` option
then loops, fades and ducks it (:mod:`reelgraph.plugins.assembly._mix`).

The file is decoded in full by ffmpeg's ``ebur128`` filter (EBU R128 /
ITU-R BS.1770), so a truncated file fails here rather than during assembly,
and its loudness is reported. No music (``targets["music"]`` unset): no
result.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import FatalError, InvalidInputError
from reelgraph.models import GateResult

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["GATE", "check_quality"]

GATE = "music"


@hookimpl
def check_quality(
    targets: dict[str, Any],
    gates: list[str] | None,
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Decode the music file ``targets["music"]`` in full; its length (seconds) and loudness (LUFS).

    Returns ``None`` unless gate ``music`` is selected (or every gate is)
    and ``targets["music"]`` names a file.

    Raises:
        InvalidInputError: the file is missing, has no audio stream, or does
            not decode; the message names the input (``input music: ...``).
    """
    if gates is not None and GATE not in gates:
        return None
    given = (targets or {}).get("music")
    if given is None or given == "":
        return None
    path = Path(str(given)).expanduser()
    seconds = _audio_seconds(path)
    if seconds <= 0:
        raise InvalidInputError(f"input music: {path} has no audio samples; pass an audio file")
    from reelgraph.plugins._media.probe import ebur128

    try:
        loudness = ebur128(path)
    except (InvalidInputError, FatalError) as err:
        raise InvalidInputError(
            f"input music: {path} does not decode as audio ({err}); pass a WAV, FLAC, MP3, "
            "AAC or Ogg file"
        ) from err
    lufs = loudness.integrated_lufs
    ctx.log.info("music checked", seconds=round(seconds, 2), integrated_lufs=lufs)
    audible = math.isfinite(lufs) and lufs > -70
    return [
        GateResult(
            gate=GATE,
            passed=True,
            severity="info",
            measured=round(seconds, 3),
            unit="s",
            message=(
                f"music {path.name}: {seconds:.1f} s of audio at {lufs:.1f} LUFS; looped or "
                "cut to the video, ducked under the voice"
                if audible
                else f"music {path.name}: {seconds:.1f} s of audio, silent"
            ),
            details={"path": str(path), "integrated_lufs": lufs if audible else None},
        )
    ]


def _audio_seconds(path: Path) -> float:
    """Seconds of the first audio stream (PyAV header), or raise naming the input."""
    import av

    if not path.is_file():
        raise InvalidInputError(f"input music: file not found: {path}; pass an audio file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InvalidInputError(
                    f"input music: {path} has no audio stream; pass an audio file"
                )
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return (container.duration or 0) / 1_000_000
    except (OSError, av.error.FFmpegError) as err:
        raise InvalidInputError(
            f"input music: {path} is not a media file ffmpeg can read ({err}); pass an audio file"
        ) from err
