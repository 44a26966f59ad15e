"""The assembler's timeline: scenes in whole video frames, sentences placed in them, the track.

Scene ``i`` lasts its sentences' WAV audio plus ``pause_s``, rounded to whole
frames (``min_scene_s`` when it has no speech). The audio track is the
sentences back to back, each scene padded with silence to its frame-rounded
length, so picture and sound never drift. A sentence spoken faster than its
captions can be read gets a silence after it (a reading hold).

Used by :mod:`reelgraph.plugins.assembly.ffmpeg`.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import Narration, Visual, WordTiming
from reelgraph.plugins._media.captions import TimedSentence, required_seconds

__all__ = [
    "PAUSE_RANGE_S",
    "SAMPLE_WIDTH",
    "Clip",
    "Scene",
    "Timing",
    "first_rate",
    "fit_pause",
    "plan",
    "track",
]

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
# longest silence a reading hold may leave between two sentences, counting the quiet
# ends of their own audio: under the black_silence gate's max_silence_s (2 s)
_MAX_GAP_S = 1.8
# samples quieter than this (-70 dBFS) stay under the gate's -50 dBFS after up to +20 dB
# of loudness gain: they count as the quiet ends of a sentence's audio
_QUIET_SAMPLE = 10


@dataclass(frozen=True, slots=True)
class Timing:
    """How scenes are timed: ``fps``; ``pause_s`` after each scene's speech;
    ``min_scene_frames`` for a scene without speech; reading holds or not."""

    fps: int
    pause_s: float
    min_scene_frames: int
    hold_for_reading: bool


@dataclass(slots=True)
class Clip:
    """One sentence's audio: a 16-bit mono WAV at the track's rate."""

    text: str
    path: Path
    frames: int  # audio samples
    words: list[WordTiming]
    #: samples of silence after the speech so that its captions can be read
    hold: int = 0


@dataclass(slots=True)
class Scene:
    index: int
    visual: Visual
    clips: list[Clip]
    start_frame: int = 0  # video frames
    frames: int = 0
    sentences: list[TimedSentence] = field(default_factory=list)


def _wav_params(path: Path) -> tuple[int, int, int, int]:
    """``(channels, sample_width_bytes, rate_hz, samples)``, or raise wave.Error/EOFError."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()


#: Pauses after a scene a length target may choose, seconds: at least a breath
#: between scenes, and at most what keeps a scene change's silence (the quiet
#: ends of both sentences, a reading hold, the pause) under _MAX_GAP_S.
PAUSE_RANGE_S = (0.25, 1.2)
#: A timeline this close to its target is left as it is, seconds.
_NEAR_TARGET_S = 1.0


def fit_pause(scenes: Sequence[Scene], fps: int, pause_s: float, target_s: float) -> float:
    """The pause after each spoken scene that brings the video nearest ``target_s``.

    The writer can only estimate how long its script will be spoken (for
    English, 130 words a minute came to 0.83-1.16 of espeak's real time over
    nine README-sized documents), so a video can miss a length target by
    more than the duration gate's +-5 s. The pauses after scenes are the
    assembler's own knob: each spoken scene's pause moves by the same amount,
    within :data:`PAUSE_RANGE_S`.

    Args:
        scenes: the planned timeline (:func:`plan`) with ``pause_s``.
        fps: frames per second of the timeline.
        pause_s: the pause the timeline was planned with, seconds.
        target_s: the wanted video length, seconds.

    Returns:
        The pause to plan again with, seconds; ``pause_s`` itself when the
        timeline is within 1 s of the target or has no spoken scene.
    """
    total_s = sum(scene.frames for scene in scenes) / fps
    spoken = sum(1 for scene in scenes if scene.clips)
    if not spoken or abs(total_s - target_s) <= _NEAR_TARGET_S:
        return pause_s
    low, high = PAUSE_RANGE_S
    wanted = pause_s + (target_s - total_s) / spoken
    return min(max(wanted, min(low, pause_s)), max(high, pause_s))


def first_rate(narrations: Sequence[Narration]) -> int:
    for narration in narrations:
        for segment in narration.segments:
            try:
                return _wav_params(Path(segment.path))[2]
            except (wave.Error, EOFError):
                continue
    return 48_000


def _load_clip(
    ffmpeg: str, path: Path, text: str, words: list[WordTiming], rate: int, tmp: Path, key: str
) -> Clip:
    """A sentence as 16-bit mono PCM at ``rate``; other formats are converted by ffmpeg."""
    try:
        channels, width, wav_rate, samples = _wav_params(path)
        if (channels, width, wav_rate) == (1, SAMPLE_WIDTH, rate):
            return Clip(text, path, samples, words)
    except (wave.Error, EOFError):
        pass  # not PCM the stdlib can read (float, extensible...): let ffmpeg convert it
    out = tmp / f"speech_{key}.wav"
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(path)]
    cmd += ["-vn", "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise InvalidInputError(
            f"ffmpeg failed while converting {path} to {rate} Hz mono 16-bit PCM "
            f"(exit {done.returncode}): {tail}"
        )
    return Clip(text, out, _wav_params(out)[3], words)


def _samples_at(frame: int, fps: int, rate: int) -> int:
    """Audio sample index at a video frame boundary (integer rounding, no drift)."""
    return (2 * frame * rate + fps) // (2 * fps)


def _place_sentences(scene: Scene, fps: int, rate: int) -> None:
    """Time each sentence on the video timeline: back to back from the scene's start."""
    at = _samples_at(scene.start_frame, fps, rate)
    for clip in scene.clips:
        if clip.text.strip() and clip.frames:
            end = (at + clip.frames) / rate
            scene.sentences.append(TimedSentence(clip.text, at / rate, end, tuple(clip.words)))
        at += clip.frames + clip.hold


def _hold_for_reading(
    clips: Sequence[Clip],
    language: str | None,
    pause_s: float,
    rate: int,
    quiet_after: int = 0,
) -> int:
    """Give each sentence spoken faster than its captions can be read a silence after it.

    A cue must stay up for its characters at the language's reading speed
    (:func:`required_seconds`); a sentence whose speech is shorter than that
    gets the difference as silence, so the caption builder can hold its cues
    and the captions gate passes by construction. The last sentence of a
    scene already has ``pause_s`` after it, then ``quiet_after`` samples of
    silence before the next speech (the frame rounding and the next scene's
    quiet start: :func:`_quiet_after`). The silence between two sentences
    (the quiet end of one, the hold, the pause, the quiet start of the next)
    stays under ``_MAX_GAP_S``, so the ``black_silence`` gate's 2 s holds
    too: where both cannot be met, the silence limit wins. A hold never
    lengthens a silence that the engine's own audio and ``pause_s`` already
    make longer. Returns how many sentences were held.
    """
    held = 0
    for n, clip in enumerate(clips):
        if not clip.text.strip() or not clip.frames:
            continue
        last = n == len(clips) - 1
        after = round(pause_s * rate) if last else 0
        short = round(required_seconds(clip.text, language) * rate) - clip.frames - after
        if short <= 0:
            continue  # readable as spoken: no need to read its audio
        following = quiet_after if last else _quiet_ends(clips[n + 1])[0]
        quiet = _quiet_ends(clip)[1] + after + following
        room = round(_MAX_GAP_S * rate) - quiet
        if room > 0:
            clip.hold = min(short, room)
            held += 1
    return held


def _quiet_after(next_clips: Sequence[Clip] | None, timing: Timing, rate: int) -> int:
    """Samples of silence after a scene's pause before the next speech starts.

    One video frame for rounding the scene to whole frames (it adds at most
    half a frame of silence, plus a sample from :func:`_samples_at`), and then
    the next scene's quiet start: its first sentence's leading near-silence,
    or a whole ``min_scene_frames`` when the next scene has no speech. The
    end of the video (``next_clips`` None) adds no silence inside the narration.
    """
    frame = -(-rate // timing.fps)
    if next_clips is None:
        return frame
    for clip in next_clips:
        if clip.frames:
            return frame + _quiet_ends(clip)[0]
    return frame + _samples_at(timing.min_scene_frames, timing.fps, rate)


def _quiet_ends(clip: Clip) -> tuple[int, int]:
    """Samples of near-silence (under ``_QUIET_SAMPLE``) at the start and end of a sentence."""
    import numpy as np

    with wave.open(str(clip.path), "rb") as wav:
        pcm = np.frombuffer(wav.readframes(clip.frames), dtype="<i2")
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) >= _QUIET_SAMPLE)
    if loud.size == 0:
        return pcm.size, 0
    return int(loud[0]), int(pcm.size - 1 - loud[-1])


def plan(
    visuals: Sequence[Visual],
    narrations: Sequence[Narration],
    timing: Timing,
    ffmpeg: str,
    rate: int,
    tmp: Path,
    log: Any,
    language: str | None = None,
) -> list[Scene]:
    """Lay the scenes on the timeline: whole frames per scene, times per sentence.

    Scene ``i`` lasts its sentences' audio (at ``rate`` Hz, converted by ffmpeg
    into ``tmp`` when it is not 16-bit mono at that rate), their reading holds
    and ``timing.pause_s``, rounded to whole frames; ``timing.min_scene_frames``
    without speech. ``log``: a structlog logger.

    Raises:
        InvalidInputError: ffmpeg cannot convert a sentence's audio.
    """
    fps, scenes, start = timing.fps, [], 0
    loaded = [
        [
            _load_clip(ffmpeg, Path(seg.path), seg.text, seg.words, rate, tmp, f"{i}_{j}")
            for j, seg in enumerate(narration.segments)
        ]
        for i, narration in enumerate(narrations)
    ]
    for i, (visual, narration) in enumerate(zip(visuals, narrations, strict=True)):
        clips = loaded[i]
        held = 0
        if timing.hold_for_reading:
            following = _quiet_after(loaded[i + 1] if i + 1 < len(loaded) else None, timing, rate)
            held = _hold_for_reading(clips, language, timing.pause_s, rate, following)
        if held:
            log.info("sentences held for reading speed", scene=i, sentences=held)
        speech_s = sum(c.frames for c in clips) / rate
        if abs(speech_s - narration.duration_s) > 1 / fps:
            log.warning(
                "narration duration differs from its audio; using the audio",
                scene=i,
                declared_s=narration.duration_s,
                audio_s=speech_s,
            )
        if speech_s > 0:
            held_s = sum(c.hold for c in clips) / rate
            frames = max(1, round((speech_s + held_s + timing.pause_s) * fps))
        else:
            frames = timing.min_scene_frames
        scene = Scene(i, visual, clips, start, frames)
        _place_sentences(scene, fps, rate)
        scenes.append(scene)
        start += frames
    return scenes


def track(scenes: Sequence[Scene], fps: int, rate: int) -> bytearray:
    """Sentences back to back, each scene padded or cut to its frame-rounded length.

    16-bit little-endian mono PCM at ``rate``, in memory (the narration of a
    README-sized document is a few MB).
    """
    pcm = bytearray()
    for scene in scenes:
        span = _samples_at(scene.start_frame + scene.frames, fps, rate)
        span -= _samples_at(scene.start_frame, fps, rate)
        written = 0
        for clip in scene.clips:
            take = min(clip.frames, span - written)
            if take <= 0:
                break
            with wave.open(str(clip.path), "rb") as wav:
                pcm += wav.readframes(take)
            written += take
            hold = min(clip.hold, span - written)
            pcm += b"\0" * (SAMPLE_WIDTH * hold)
            written += hold
        pcm += b"\0" * (SAMPLE_WIDTH * (span - written))
    return pcm
