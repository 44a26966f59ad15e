"""The ``ffmpeg`` assembler: slides or clips + narration -> a captioned MP4.

Uses the static ffmpeg shipped in imageio-ffmpeg (no ffprobe; PyAV probes).

Why it is fast: a still slide is never encoded frame by frame. Each slide is
encoded once as a short segment that is repeated, by copying its packets, to
the scene's exact frame count (:mod:`~reelgraph.plugins.assembly._segments`);
only the audio is encoded besides, beside the segments. See
``bench/assemble_speed.py`` for the assembler alone and
``bench/end_to_end.py`` for a whole run.

Output, under ``ctx.workdir`` (each written to a temporary name, then renamed):

- ``video.mp4``: H.264 High, yuv420p, BT.709, constant ``fps``; AAC-LC 48 kHz
  mono (``audio_channels`` option: 1 or 2) normalised to ``loudness_lufs``; a
  ``mov_text`` subtitle track with the script's language; ``+faststart`` (moov
  before mdat).
- ``video.srt`` and ``video.vtt``: the same cues as sidecar files.

Timeline: scene ``i`` lasts its sentences' WAV audio plus ``pause_s``, rounded
to whole frames (``min_scene_s`` when it has no speech). The audio track is the
sentences back to back, each scene padded with silence to its frame-rounded
length, so picture and sound never drift.

Loudness (option ``loudness_lufs``, default -16 LUFS; ``None`` leaves the level
as spoken): EBU R128 / ITU-R BS.1770 integrated loudness, -16 LUFS being the
common streaming speech target (AES TD1004: -16 to -20), true peak at most
-1 dBTP. The assembler builds the narration PCM in memory, measures it once
(pyloudnorm's BS.1770-4 meter; true peak by 4x oversampling) and applies one
linear gain. When that gain would push the true peak over -1.5 dBTP (espeak-ng
speech, crest factor ~20 dB, always does at -16 LUFS), the track first goes
through ffmpeg's look-ahead ``alimiter`` (usually once) until its
peak-to-loudness ratio allows the gain: the loudness gate's checks hold by
construction (:mod:`~reelgraph.plugins.assembly._loudness`). The AAC encoder
(``-aac_coder fast -aac_tns 0``) keeps the true peak within 0.1 dB of the
normalised track (measured; see :func:`~reelgraph.plugins.assembly._audio.encode_chunk`),
and the track is encoded in chunks at once (:mod:`~reelgraph.plugins.assembly._audio`).
This replaced two ``loudnorm`` passes (loudnorm resamples to 192 kHz): 114 s
of one core for 22 minutes of narration.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, FatalError, InvalidInputError
from reelgraph.models import Caption, Narration, Script, Video, Visual, WordTiming
from reelgraph.plugins._media.captions import (
    TimedSentence,
    build_cues,
    iso639_2,
    required_seconds,
    write_srt,
    write_vtt,
)
from reelgraph.plugins.assembly._audio import (
    AAC_RATE_HZ,
    Chunk,
    chunks,
    encode_chunk,
    join_chunks,
    resample,
)
from reelgraph.plugins.assembly._loudness import normalise
from reelgraph.plugins.assembly._segments import (
    KEYFRAME_INTERVAL_S,
    Segment,
    encode_segment,
    join_segments,
    timescale,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULT_OPTIONS", "KEYFRAME_INTERVAL_S", "assemble_video"]

#: Provider options and their defaults.
DEFAULT_OPTIONS: dict[str, Any] = {
    "crf": 20,  # x264 constant rate factor (0-51; ~18-23 is visually good)
    "preset": "medium",  # x264 speed/size trade-off
    "segment_s": 0.5,  # length of the repeated still segment, seconds (>= one GOP)
    "min_scene_s": 2.0,  # length of a scene without speech, seconds
    "audio_channels": 1,  # 1 = mono, 2 = stereo (speech is mono)
    "audio_bitrate_kbps": 96,  # AAC-LC bitrate
    "workers": 2,  # segments encoded at once (the target machine has 2 cores)
    "loudness_lufs": -16.0,  # integrated loudness target (EBU R128); None = as spoken
    # silence after a sentence spoken faster than its captions can be read (false: none)
    "hold_for_reading": True,
}
_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip
_SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
# seconds of audio per AAC encoder run: the chunks share the workers with the segments
_AUDIO_CHUNK_S = 30.0
# longest silence a reading hold may leave between two sentences, counting the quiet
# ends of their own audio: under the black_silence gate's max_silence_s (2 s)
_MAX_GAP_S = 1.8
# samples quieter than this (-70 dBFS) stay under the gate's -50 dBFS after up to +20 dB
# of loudness gain: they count as the quiet ends of a sentence's audio
_QUIET_SAMPLE = 10


# -- settings and validation -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Settings:
    fps: int
    pause_s: float
    crf: int
    preset: str
    segment_frames: int
    min_scene_frames: int
    audio_channels: int
    audio_bitrate_kbps: int
    workers: int
    loudness_lufs: float | None
    hold_for_reading: bool


def _number(options: dict[str, Any], key: str, low: float, high: float) -> float:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInputError(
            f"options.{key} must be a number from {low} to {high}, got {value!r}"
        )
    return float(value)


def _settings(fps: Any, pause_s: Any, options: dict[str, Any] | None) -> _Settings:
    if isinstance(fps, float) and fps.is_integer():
        fps = int(fps)  # 30.0 from a config file is 30
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
        raise InvalidInputError(f"fps must be a whole number from 1 to 120, got {fps!r}")
    if isinstance(pause_s, bool) or not isinstance(pause_s, int | float):
        raise InvalidInputError(f"pause_s must be a number of seconds, got {pause_s!r}")
    if not math.isfinite(pause_s) or not 0 <= pause_s <= 60:
        raise InvalidInputError(f"pause_s must be from 0 to 60 seconds, got {pause_s!r}")
    unknown = sorted(set(options or {}) - set(DEFAULT_OPTIONS))
    if unknown:
        known = ", ".join(DEFAULT_OPTIONS)
        raise InvalidInputError(f"unknown ffmpeg option(s) {unknown}; known options: {known}")
    opts = {**DEFAULT_OPTIONS, **(options or {})}
    if opts["preset"] not in _PRESETS:
        raise InvalidInputError(f"options.preset must be one of {_PRESETS}, got {opts['preset']!r}")
    if opts["audio_channels"] not in (1, 2):
        raise InvalidInputError(
            f"options.audio_channels must be 1 or 2, got {opts['audio_channels']!r}"
        )
    segment_s = _number(opts, "segment_s", 0.1, 10)
    if not isinstance(opts["hold_for_reading"], bool):
        raise InvalidInputError(
            f"options.hold_for_reading must be true or false, got {opts['hold_for_reading']!r}"
        )
    return _Settings(
        fps=fps,
        pause_s=float(pause_s),
        crf=int(_number(opts, "crf", 0, 51)),
        preset=opts["preset"],
        segment_frames=max(1, round(segment_s * fps)),
        min_scene_frames=max(1, round(_number(opts, "min_scene_s", 0.1, 600) * fps)),
        audio_channels=int(opts["audio_channels"]),
        audio_bitrate_kbps=int(_number(opts, "audio_bitrate_kbps", 32, 512)),
        workers=int(_number(opts, "workers", 1, 16)),
        loudness_lufs=None
        if opts["loudness_lufs"] is None
        else _number(opts, "loudness_lufs", -70, -5),
        hold_for_reading=opts["hold_for_reading"],
    )


def _coerce(
    script: Any, visuals: Any, narrations: Any
) -> tuple[Script, list[Visual], list[Narration]]:
    """Accept models or their plain-dict form (e.g. from a spec's ``with``)."""
    from pydantic import ValidationError

    try:
        return (
            Script.model_validate(script),
            [Visual.model_validate(v) for v in visuals],
            [Narration.model_validate(n) for n in narrations],
        )
    except (ValidationError, TypeError) as err:
        raise InvalidInputError(f"assemble_video got malformed input: {err}") from err


def _check_inputs(
    script: Script, visuals: Sequence[Visual], narrations: Sequence[Narration]
) -> None:
    scenes = len(script.scenes)
    if len(visuals) != scenes or len(narrations) != scenes:
        raise InvalidInputError(
            f"the script has {scenes} scenes but got {len(visuals)} visuals and "
            f"{len(narrations)} narrations; pass one visual and one narration per scene"
        )
    if not scenes:
        raise InvalidInputError("the script has no scenes; nothing to assemble")
    for i, visual in enumerate(visuals):
        if not Path(visual.path).is_file():
            raise InvalidInputError(f"visuals[{i}].path: file not found: {visual.path}")
    for i, narration in enumerate(narrations):
        for j, segment in enumerate(narration.segments):
            if not Path(segment.path).is_file():
                raise InvalidInputError(
                    f"narrations[{i}].segments[{j}].path: file not found: {segment.path}"
                )


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as err:
        raise ConfigurationError(
            f"ffmpeg is not available ({err}); install it with `pip install imageio-ffmpeg`"
        ) from err


def _run(cmd: list[str], what: str, error: type[Exception] = FatalError) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise error(f"ffmpeg failed while {what} (exit {done.returncode}): {tail}")


# -- timeline and audio ---------------------------------------------------------


@dataclass(slots=True)
class _Clip:
    """One sentence's audio: a 16-bit mono WAV at the track's rate."""

    text: str
    path: Path
    frames: int  # audio samples
    words: list[WordTiming]
    #: samples of silence after the speech so that its captions can be read
    hold: int = 0


@dataclass(slots=True)
class _Scene:
    index: int
    visual: Visual
    clips: list[_Clip]
    start_frame: int = 0  # video frames
    frames: int = 0
    sentences: list[TimedSentence] = field(default_factory=list)


def _wav_params(path: Path) -> tuple[int, int, int, int]:
    """``(channels, sample_width_bytes, rate_hz, samples)``, or raise wave.Error/EOFError."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()


def _first_rate(narrations: Sequence[Narration]) -> int:
    for narration in narrations:
        for segment in narration.segments:
            try:
                return _wav_params(Path(segment.path))[2]
            except (wave.Error, EOFError):
                continue
    return 48_000


def _load_clip(
    ffmpeg: str, path: Path, text: str, words: list[WordTiming], rate: int, tmp: Path, key: str
) -> _Clip:
    """A sentence as 16-bit mono PCM at ``rate``; other formats are converted by ffmpeg."""
    try:
        channels, width, wav_rate, samples = _wav_params(path)
        if (channels, width, wav_rate) == (1, _SAMPLE_WIDTH, rate):
            return _Clip(text, path, samples, words)
    except (wave.Error, EOFError):
        pass  # not PCM the stdlib can read (float, extensible...): let ffmpeg convert it
    out = tmp / f"speech_{key}.wav"
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(path)]
    cmd += ["-vn", "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(out)]
    _run(cmd, f"converting {path} to {rate} Hz mono 16-bit PCM", InvalidInputError)
    return _Clip(text, out, _wav_params(out)[3], words)


def _samples_at(frame: int, fps: int, rate: int) -> int:
    """Audio sample index at a video frame boundary (integer rounding, no drift)."""
    return (2 * frame * rate + fps) // (2 * fps)


def _place_sentences(scene: _Scene, fps: int, rate: int) -> None:
    """Time each sentence on the video timeline: back to back from the scene's start."""
    at = _samples_at(scene.start_frame, fps, rate)
    for clip in scene.clips:
        if clip.text.strip() and clip.frames:
            end = (at + clip.frames) / rate
            scene.sentences.append(TimedSentence(clip.text, at / rate, end, tuple(clip.words)))
        at += clip.frames + clip.hold


def _hold_for_reading(
    clips: Sequence[_Clip], language: str | None, pause_s: float, rate: int
) -> int:
    """Give each sentence spoken faster than its captions can be read a silence after it.

    A cue must stay up for its characters at the language's reading speed
    (:func:`required_seconds`); a sentence whose speech is shorter than that
    gets the difference as silence, so the caption builder can hold its cues
    and the captions gate passes by construction. The last sentence of a
    scene already has ``pause_s`` after it. The silence between two
    sentences (the quiet end of one, the hold, the quiet start of the next)
    stays under ``_MAX_GAP_S``, so the ``black_silence`` gate's 2 s holds
    too: where both cannot be met, the silence limit wins. Returns how many
    sentences were held.
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
        quiet = _quiet_ends(clip)[1] + after + (0 if last else _quiet_ends(clips[n + 1])[0])
        room = round(_MAX_GAP_S * rate) - quiet
        if room > 0:
            clip.hold = min(short, room)
            held += 1
    return held


def _quiet_ends(clip: _Clip) -> tuple[int, int]:
    """Samples of near-silence (under ``_QUIET_SAMPLE``) at the start and end of a sentence."""
    import numpy as np

    with wave.open(str(clip.path), "rb") as wav:
        pcm = np.frombuffer(wav.readframes(clip.frames), dtype="<i2")
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) >= _QUIET_SAMPLE)
    if loud.size == 0:
        return pcm.size, 0
    return int(loud[0]), int(pcm.size - 1 - loud[-1])


def _plan(
    visuals: Sequence[Visual],
    narrations: Sequence[Narration],
    settings: _Settings,
    ffmpeg: str,
    rate: int,
    tmp: Path,
    ctx: NodeContext,
    language: str | None = None,
) -> list[_Scene]:
    """Lay the scenes on the timeline: whole frames per scene, times per sentence."""
    fps, scenes, start = settings.fps, [], 0
    for i, (visual, narration) in enumerate(zip(visuals, narrations, strict=True)):
        clips = [
            _load_clip(ffmpeg, Path(seg.path), seg.text, seg.words, rate, tmp, f"{i}_{j}")
            for j, seg in enumerate(narration.segments)
        ]
        held = 0
        if settings.hold_for_reading:
            held = _hold_for_reading(clips, language, settings.pause_s, rate)
        if held:
            ctx.log.info("sentences held for reading speed", scene=i, sentences=held)
        speech_s = sum(c.frames for c in clips) / rate
        if abs(speech_s - narration.duration_s) > 1 / fps:
            ctx.log.warning(
                "narration duration differs from its audio; using the audio",
                scene=i,
                declared_s=narration.duration_s,
                audio_s=speech_s,
            )
        if speech_s > 0:
            held_s = sum(c.hold for c in clips) / rate
            frames = max(1, round((speech_s + held_s + settings.pause_s) * fps))
        else:
            frames = settings.min_scene_frames
        scene = _Scene(i, visual, clips, start, frames)
        _place_sentences(scene, fps, rate)
        scenes.append(scene)
        start += frames
    return scenes


def _track(scenes: Sequence[_Scene], fps: int, rate: int) -> bytearray:
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
            pcm += b"\0" * (_SAMPLE_WIDTH * hold)
            written += hold
        pcm += b"\0" * (_SAMPLE_WIDTH * (span - written))
    return pcm


# -- video segments ---------------------------------------------------------------


def _segments(scenes: Sequence[_Scene], settings: _Settings, tmp: Path) -> list[Segment]:
    """One segment per scene, in timeline order: a still encodes a short one, a clip all of it."""
    segments = []
    for scene in scenes:
        kind, frames = scene.visual.kind, scene.frames
        if kind == "image":
            frames = min(frames, settings.segment_frames)
        source, out = Path(scene.visual.path).resolve(), tmp / f"scene_{scene.index:04d}.mp4"
        segments.append(Segment(scene.index, source, kind, frames, scene.frames, out))
    return segments


def _even(n: int) -> int:
    return n + (n % 2)  # yuv420p needs even dimensions


def _gop(s: _Settings) -> int:
    """Frames between keyframes: ``KEYFRAME_INTERVAL_S``, at most one segment."""
    return max(1, min(s.segment_frames, round(s.fps * KEYFRAME_INTERVAL_S)))


def _prepare_audio(
    ffmpeg: str, pcm: bytes, rate: int, duration_s: float, tmp: Path, s: _Settings, ctx: NodeContext
) -> list[Chunk]:
    """The track normalised to ``loudness_lufs``, at 48 kHz, cut into chunks to encode at once.

    Normalised in memory (:func:`~reelgraph.plugins.assembly._loudness.normalise`,
    which resamples as it goes); chunks of about ``_AUDIO_CHUNK_S`` seconds,
    cut in silence (:func:`~reelgraph.plugins.assembly._audio.chunks`).
    """
    pieces = max(1, math.ceil(duration_s / _AUDIO_CHUNK_S))
    if s.loudness_lufs is None:
        return chunks(resample(ffmpeg, pcm, rate), pieces, tmp)
    pcm, levels = normalise(ffmpeg, pcm, rate, s.loudness_lufs, AAC_RATE_HZ)
    if levels is not None:
        ctx.log.info(
            "audio normalised",
            input_lufs=round(levels.input_lufs, 2),
            input_peak_dbfs=round(levels.input_peak_dbfs, 2),
            gain_db=round(levels.gain_db, 2),
            limited=levels.limited,
            limiter_passes=levels.passes,
            output_lufs=round(levels.output_lufs, 2),
            output_true_peak_dbtp=round(levels.output_true_peak_dbtp, 2),
        )
    return chunks(pcm, pieces, tmp)


def _encode_all(
    ffmpeg: str,
    pcm: bytes,
    rate: int,
    segments: Sequence[Segment],
    size: tuple[int, int],
    s: _Settings,
    tmp: Path,
    ctx: NodeContext,
    meanwhile: Callable[[], object],
) -> int:
    """Encode and join the picture and the sound concurrently; report progress from this thread.

    Writes ``picture.mp4`` and ``audio.m4a`` in ``tmp``. The audio is prepared
    first (normalised, cut into chunks) while the segments are encoded; its
    chunks are encoded after the segments, so the workers finish together,
    and each stream is joined in this thread as soon as its last piece is
    in. ``meanwhile`` (the captions) runs in this thread once the encodes
    have started. Returns the number of progress steps.
    """
    with ThreadPoolExecutor(max_workers=s.workers, thread_name_prefix="reelgraph-ffmpeg") as pool:
        audio = pool.submit(_prepare_audio, ffmpeg, pcm, rate, _seconds(pcm, rate), tmp, s, ctx)
        pending: dict[Future[Any], str] = {audio: "audio track normalised"}
        segment_jobs: set[Future[Any]] = set()  # not finished yet; chunks_left likewise
        for seg in segments:
            future = pool.submit(encode_segment, ffmpeg, seg, size, s.fps, s.crf, s.preset, _gop(s))
            pending[future] = f"encoding scene {seg.scene + 1}/{len(segments)}"
            segment_jobs.add(future)
        chunks_left: set[Future[Any]] = set()
        total, done = len(segments) + 3, 0  # + the audio's preparation and the two joins
        try:
            meanwhile()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    what = pending.pop(future)
                    future.result()
                    if future is audio:
                        parts = audio.result()
                        total += len(parts)
                        for part in parts:
                            job = pool.submit(
                                encode_chunk, ffmpeg, part, s.audio_channels, s.audio_bitrate_kbps
                            )
                            pending[job] = f"encoding audio part {part.index + 1}/{len(parts)}"
                            chunks_left.add(job)
                    done += 1
                    ctx.progress(done, total, what)
                    # a stream whose last piece is in is joined here, while the workers
                    # go on (a job would queue behind the chunks)
                    if future in segment_jobs:
                        segment_jobs.discard(future)
                        if not segment_jobs:
                            join_segments(segments, tmp / "picture.mp4", s.fps)
                            done += 1
                            ctx.progress(done, total, "picture joined")
                    elif future in chunks_left:
                        chunks_left.discard(future)
                        if not chunks_left:
                            join_chunks(audio.result(), tmp / "audio.m4a")
                            done += 1
                            ctx.progress(done, total, "sound joined")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return total


def _seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / _SAMPLE_WIDTH / rate


def _mux(ffmpeg: str, tmp: Path, srt: Path | None, s: _Settings, language: str, title: str) -> None:
    """Join the picture and the AAC track by stream copy, add mov_text subtitles, faststart.

    Reads ``picture.mp4`` and ``audio.m4a`` in ``tmp``; writes ``video.mp4``.
    """
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    cmd += ["-i", str(tmp / "picture.mp4")]
    cmd += ["-i", str(tmp / "audio.m4a")]
    if srt is not None:
        cmd += ["-f", "srt", "-i", str(srt)]
    cmd += ["-map", "0:v:0", "-map", "1:a:0"] + (["-map", "2:s:0"] if srt else [])
    cmd += ["-c:v", "copy", "-c:a", "copy"]
    if srt is not None:
        cmd += ["-c:s", "mov_text", "-metadata:s:s:0", f"language={language}"]
    cmd += ["-metadata:s:a:0", f"language={language}", "-metadata", f"title={title}"]
    cmd += ["-video_track_timescale", str(timescale(s.fps)), "-movflags", "+faststart"]
    _run([*cmd, "-f", "mp4", str(tmp / "video.mp4")], "muxing the final video")


def _verify(path: Path, frames: int, fps: int) -> None:
    """Check the muxed file with PyAV: the exact frame count, and an audio track."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        if video.frames != frames or not container.streams.audio:
            raise FatalError(
                f"muxed video has {video.frames} frames (expected {frames} at {fps} fps) "
                f"and {len(container.streams.audio)} audio streams"
            )


# -- the hook ---------------------------------------------------------------------


def _remove_stale(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@hookimpl
def assemble_video(
    script: Script,
    visuals: list[Visual],
    narrations: list[Narration],
    fps: int,
    pause_s: float,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Video:
    """Join one visual and one narration per scene into ``video.mp4`` + captions.

    Args:
        script: scene ``i`` pairs ``visuals[i]`` with ``narrations[i]``.
        visuals: PNG stills (``kind="image"``) or clips (``kind="video"``); the
            frame size is ``visuals[0]``'s (rounded up to even pixels), others
            are scaled and letterboxed to it.
        narrations: 16-bit mono WAV per sentence (other formats are converted).
        fps: 1-120 frames per second.
        pause_s: seconds of silence after each scene's speech (0-60).
        options: see :data:`DEFAULT_OPTIONS`.
        ctx: the node context; progress is reported per encoded segment.

    Returns:
        The video (duration = whole frames), with one caption cue per sentence
        or sentence piece (<= 2 lines of <= 42 characters).

    Raises:
        InvalidInputError: list lengths differ from the script's scenes, a file
            is missing or unreadable, or a setting is out of range.
        ConfigurationError: ffmpeg is missing.
        FatalError: ffmpeg failed while muxing, or the result failed its check.
    """
    workdir = Path(ctx.workdir)
    final = {ext: workdir / f"video.{ext}" for ext in ("mp4", "srt", "vtt")}
    _remove_stale(list(final.values()))  # a failed call leaves no stale video behind
    settings = _settings(fps, pause_s, options)
    script, visuals, narrations = _coerce(script, visuals, narrations)
    _check_inputs(script, visuals, narrations)
    ffmpeg = _ffmpeg_exe()
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix=".assemble-"))
    try:
        video = _build(script, visuals, narrations, settings, ffmpeg, tmp, ctx)
        for ext in ("srt", "vtt", "mp4"):  # the video last: it marks success
            os.replace(tmp / f"video.{ext}", final[ext])
    except BaseException:
        _remove_stale(list(final.values()))
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return video.model_copy(
        update={"path": final["mp4"], "srt_path": final["srt"], "vtt_path": final["vtt"]}
    )


def _build(
    script: Script,
    visuals: Sequence[Visual],
    narrations: Sequence[Narration],
    settings: _Settings,
    ffmpeg: str,
    tmp: Path,
    ctx: NodeContext,
) -> Video:
    """Write ``video.mp4``, ``video.srt`` and ``video.vtt`` into ``tmp``."""
    rate = _first_rate(narrations)
    scenes = _plan(visuals, narrations, settings, ffmpeg, rate, tmp, ctx, script.language)
    total_frames = sum(scene.frames for scene in scenes)
    duration_s = total_frames / settings.fps
    segments = _segments(scenes, settings, tmp)
    pcm = _track(scenes, settings.fps, rate)
    size = (_even(visuals[0].width_px), _even(visuals[0].height_px))
    sentences = [s for scene in scenes for s in scene.sentences]
    cues: list[Caption] = []

    def write_captions() -> None:
        cues.extend(build_cues(sentences, duration_s, language=script.language))
        write_srt(cues, tmp / "video.srt")
        write_vtt(cues, tmp / "video.vtt")

    steps = _encode_all(ffmpeg, pcm, rate, segments, size, settings, tmp, ctx, write_captions)
    srt = tmp / "video.srt"
    language = iso639_2(script.language)
    _mux(ffmpeg, tmp, srt if cues else None, settings, language, script.title)
    _verify(tmp / "video.mp4", total_frames, settings.fps)
    ctx.progress(steps, steps, "video muxed")
    return Video(
        path=tmp / "video.mp4",
        srt_path=srt,
        vtt_path=tmp / "video.vtt",
        duration_s=duration_s,
        width_px=size[0],
        height_px=size[1],
        fps=float(settings.fps),
        captions=cues,
        language=script.language,
    )
