"""The assembler's bed: clips' own sound and a music track, ducked under the narration.

What goes under the voice (both optional):

- **clip sound**: a clip with an audio stream (Veo 3 and Kling 2.6 generate
  sound; the tool catalog's ``native_audio``) is heard while it is shown,
  faded in and out with its crossfades, at ``clip_audio_db`` LU under the
  narration's loudness (option ``clip_audio: drop`` leaves it out);
- **music**: one audio file, looped (``-stream_loop -1``) or cut to the
  video's length, faded in over ``_MUSIC_FADE_IN_S`` and out over
  ``_MUSIC_FADE_OUT_S``, at ``music_db`` LU under the narration.

The bed is then ducked by the voice with ffmpeg's ``sidechaincompress``
(https://ffmpeg.org/ffmpeg-filters.html#sidechaincompress: the first input
is compressed, the second drives it): the voice, brought to about
``_KEY_LUFS`` by the filter's ``level_sc``, keys a compressor of ratio
``_RATIO`` above ``_THRESHOLD_DB``, so the bed drops while someone speaks
and comes back in the pauses (``_RELEASE_MS``). Measured on espeak-ng speech
(``tests/plugins/test_assembly_mix.py``): the bed 15 dB lower in speech than
in a pause, 27 dB under the voice (RMS); on a steady tone narration, 14 dB
lower. With the default ``music_db`` the bed sits 10 LU under the voice in
the pauses and over 20 dB under it in speech: WCAG 2.x success criterion
1.4.7 (Low or No Background Audio, https://www.w3.org/WAI/WCAG21/Understanding/low-or-no-background-audio.html)
asks for background sound at least 20 dB under speech.

The voice plus the ducked bed is handed to the loudness normalisation as the
narration alone was (:func:`~reelgraph.plugins.assembly._loudness.normalise`),
so the final mix meets the loudness target and the true-peak ceiling the
``loudness`` gate checks, by the same construction. Everything runs on 32-bit
float mono samples at the narration's rate; each step is one ffmpeg run.

Used by :mod:`reelgraph.plugins.assembly.ffmpeg`.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelgraph.errors import FatalError, InvalidInputError
from reelgraph.plugins._media.probe import ebur128_summary
from reelgraph.plugins.assembly._loudness import to_pcm16

__all__ = ["Bed", "ClipSound", "has_audio", "load_music", "mix"]

_MUSIC_FADE_IN_S = 1.0
_MUSIC_FADE_OUT_S = 2.0
_CLIP_EDGE_S = 0.01  # a cut's fade on a clip's sound: 10 ms, so a cut makes no click
# The ducking compressor (see the module doc). The key is the voice at about -20 LUFS;
# speech at that loudness has an RMS near -20 dBFS, 12 dB over the threshold: a 6:1
# ratio takes 10 dB off the bed, more on louder syllables (15 dB on average, measured;
# thresholds -30 to -36 dB and ratios 4-10 gave 12-23 dB on the same espeak sentence).
_KEY_LUFS = -20.0
_THRESHOLD_DB = -32.0
_RATIO = 6
_ATTACK_MS = 20  # the filter's default
_RELEASE_MS = 400  # the bed returns over a pause's first half second
_SILENT_LUFS = -70.0  # BS.1770's absolute gate: quieter is nothing to level against


@dataclass(frozen=True, slots=True)
class ClipSound:
    """A clip's sound on the timeline: from the clip's start, placed at sample ``at``.

    ``length`` samples are taken (the clip's shown span), faded in over
    ``fade_in`` and out over ``fade_out`` samples.
    """

    path: Path
    at: int
    length: int
    fade_in: int
    fade_out: int


@dataclass(frozen=True, slots=True)
class Bed:
    """What goes under the voice: clip sounds and music, each in LU relative to the voice."""

    clips: Sequence[ClipSound] = ()
    clip_db: float = -14.0
    music: Path | None = None
    music_db: float = -10.0

    def __bool__(self) -> bool:
        return bool(self.clips) or self.music is not None


def has_audio(path: Path) -> bool:
    """Whether a media file has an audio stream (PyAV); ``False`` when it cannot be read."""
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (OSError, av.error.FFmpegError):
        return False


def _run(cmd: list[str], what: str, data: bytes | None = None, error: type = FatalError) -> Any:
    done = subprocess.run(cmd, input=data, capture_output=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode(errors="replace").strip().splitlines()[-4:])
        raise error(f"ffmpeg failed while {what} (exit {done.returncode}): {tail}")
    return done


def _head(ffmpeg: str) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]


def load_music(ffmpeg: str, path: Path, rate: int, samples: int) -> tuple[Any, float]:
    """The music file as float mono at ``rate``: looped or cut to ``samples``, faded in and out.

    One ffmpeg run decodes at most ``samples`` of it and measures what it
    decoded (``asplit`` into ``ebur128``); a shorter file is then repeated
    in memory (not with ``-stream_loop``, which never ends on a file with no
    samples), and faded in over ``_MUSIC_FADE_IN_S`` and out over
    ``_MUSIC_FADE_OUT_S`` (linear, as ffmpeg ``afade``'s default curve), each
    at most a quarter of the video. Returns the samples and the file's
    integrated loudness (LUFS; ``-inf`` if silent).

    Raises:
        InvalidInputError: the file is missing or ffmpeg decodes no audio
            from it (the message names ``options.music``).
    """
    import numpy as np

    if not Path(path).is_file():
        raise InvalidInputError(f"options.music: file not found: {path}; pass an audio file")
    graph = (
        f"[0:a]aformat=channel_layouts=mono,aresample={rate},"
        "asplit=2[out][meter];[meter]ebur128=framelog=quiet,anullsink"
    )
    cmd = [*_head(ffmpeg), "-i", str(path), "-filter_complex", graph, "-map", "[out]"]
    cmd += ["-t", f"{samples / rate:.6f}", "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]
    what = f"decoding the music {path}"
    try:
        done = _run(cmd, what, error=InvalidInputError)
        lufs = ebur128_summary(done.stderr.decode(errors="replace"), what, peak=False)
    except (InvalidInputError, FatalError) as err:
        raise InvalidInputError(f"options.music: cannot decode {path} as audio ({err})") from err
    once = np.frombuffer(done.stdout, dtype="<f4")
    if once.size == 0:
        raise InvalidInputError(f"options.music: {path} has no audio; pass an audio file")
    x = np.tile(once, -(-samples // once.size))[:samples].copy()
    fade_in = min(round(_MUSIC_FADE_IN_S * rate), samples // 4)
    fade_out = min(round(_MUSIC_FADE_OUT_S * rate), samples // 4)
    x[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    x[samples - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return x, lufs.integrated_lufs


def _clip_sounds(ffmpeg: str, clips: Sequence[ClipSound], rate: int, samples: int) -> Any:
    """Every clip's sound placed on a silent track of ``samples`` (float mono at ``rate``)."""
    import numpy as np

    track = np.zeros(samples, dtype=np.float32)
    for clip in clips:
        cmd = [*_head(ffmpeg), "-i", str(clip.path), "-vn", "-sn", "-dn"]
        cmd += ["-af", f"aformat=channel_layouts=mono,aresample={rate}"]
        cmd += ["-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]
        raw = _run(cmd, f"decoding the sound of {clip.path}", error=InvalidInputError).stdout
        decoded = np.frombuffer(raw, dtype="<f4")[: clip.length]
        x = np.zeros(clip.length, dtype=np.float32)
        x[: decoded.size] = decoded  # a clip's sound shorter than its picture: silence after
        edge = round(_CLIP_EDGE_S * rate)
        fade_in = min(clip.length, max(edge, clip.fade_in))
        fade_out = min(clip.length, max(edge, clip.fade_out))
        x[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
        x[clip.length - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
        start, end = max(0, clip.at), min(samples, clip.at + clip.length)
        if end > start:
            track[start:end] += x[start - clip.at : end - clip.at]
    return track


def _lufs(ffmpeg: str, x: Any, rate: int) -> float:
    cmd = [*_head(ffmpeg), "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
    cmd += ["-af", "ebur128=framelog=quiet", "-f", "null", "-"]
    done = _run(cmd, "measuring the audio", x.astype("<f4").tobytes())
    return ebur128_summary(
        done.stderr.decode(errors="replace"), "the audio", peak=False
    ).integrated_lufs


def _duck(ffmpeg: str, bed: Any, voice: Any, voice_lufs: float, rate: int, tmp: Path) -> Any:
    """``bed`` compressed by ``voice`` through ``sidechaincompress`` (see the module doc)."""
    import numpy as np

    key_gain = 10 ** ((_KEY_LUFS - voice_lufs) / 20)
    key_gain = min(64.0, max(0.015625, key_gain))  # the filter's level_sc range
    side = tmp / "duck_key.f32"
    side.write_bytes(voice.astype("<f4").tobytes())
    raw = ["-f", "f32le", "-ar", str(rate), "-ac", "1"]
    cmd = [*_head(ffmpeg), *raw, "-i", "pipe:0", *raw, "-i", str(side)]
    graph = (
        f"[0:a][1:a]sidechaincompress=threshold={10 ** (_THRESHOLD_DB / 20):.6f}"
        f":ratio={_RATIO}:attack={_ATTACK_MS}:release={_RELEASE_MS}"
        f":level_sc={key_gain:.6f}:detection=rms:link=average[out]"
    )
    cmd += ["-filter_complex", graph, "-map", "[out]", "-f", "f32le", "pipe:1"]
    try:
        out = _run(cmd, "ducking the bed under the voice", bed.astype("<f4").tobytes()).stdout
    finally:
        side.unlink(missing_ok=True)
    y = np.frombuffer(out, dtype="<f4")
    return y[: bed.size] if y.size >= bed.size else np.pad(y, (0, bed.size - y.size))


def mix(ffmpeg: str, pcm: bytes, rate: int, bed: Bed, tmp: Path, log: Any) -> bytes:
    """The narration (16-bit mono PCM at ``rate``) with the bed ducked under it, same format.

    Each bed part is levelled to its LU under the voice's integrated loudness
    (-16 LUFS when the narration is silent), summed, ducked by the voice
    and added to it; the sum is scaled down only if it would clip. The
    caller normalises the result to the delivery loudness. ``log``: a
    structlog logger; the levels are logged.

    Raises:
        InvalidInputError: the music or a clip's sound cannot be decoded.
        FatalError: ffmpeg failed otherwise.
    """
    import numpy as np

    voice = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    samples = voice.size
    voice_lufs = _lufs(ffmpeg, voice, rate) if samples else -math.inf
    reference = voice_lufs if math.isfinite(voice_lufs) and voice_lufs > _SILENT_LUFS else -16.0
    under = np.zeros(samples, dtype=np.float32)
    levels: dict[str, float] = {"voice_lufs": round(reference, 2)}
    parts: list[tuple[str, Any, float, float]] = []
    if bed.music is not None:
        music, lufs = load_music(ffmpeg, bed.music, rate, samples)
        parts.append(("music", music, lufs, bed.music_db))
    if bed.clips:
        sounds = _clip_sounds(ffmpeg, bed.clips, rate, samples)
        parts.append(("clip_sound", sounds, _lufs(ffmpeg, sounds, rate), bed.clip_db))
    for name, x, lufs, relative in parts:
        if math.isfinite(lufs) and lufs > _SILENT_LUFS:
            gain = reference + relative - lufs
            under += x * np.float32(10 ** (gain / 20))
            levels[f"{name}_gain_db"] = round(gain, 2)
    if math.isfinite(voice_lufs) and voice_lufs > _SILENT_LUFS and under.any():
        under = _duck(ffmpeg, under, voice, voice_lufs, rate, tmp)
    out = voice + under
    peak = float(np.abs(out).max()) if out.size else 0.0
    if peak > 1.0:
        out /= np.float32(peak)  # the loudness normalisation sets the level afterwards
    log.info("bed mixed under the narration", **levels, parts=[p[0] for p in parts])
    return to_pcm16(out)
