"""The ``ffmpeg`` assembler: slides or clips (one or more per scene) + narration -> a captioned MP4.

Uses the static ffmpeg shipped in imageio-ffmpeg (no ffprobe; PyAV probes).

Output, under ``ctx.workdir`` (each written to a temporary name, then renamed):

- ``video.mp4``: H.264 High, yuv420p, BT.709, constant ``fps``; AAC-LC 48 kHz
  mono (``audio_channels`` option: 1 or 2) normalised to ``loudness_lufs``; a
  ``mov_text`` subtitle track with the script's language; ``+faststart`` (moov
  before mdat).
- ``video.srt`` and ``video.vtt``: the same cues as sidecar files.
- ``chapters.vtt`` and ``chapters.txt`` (and chapter markers in the MP4),
  when the sections give at least three chapters of 10 s or more
  (:mod:`~reelgraph.plugins.assembly.chapters`); ``thumbnail.jpg``
  (:mod:`~reelgraph.plugins.visuals.thumbnail`).

How, one private module per part:

- :mod:`~reelgraph.plugins.assembly._timeline`: scene ``i`` lasts its
  sentences' audio plus ``pause_s``, in whole frames; the narration track is
  the sentences back to back, each scene padded to its frame-rounded length,
  so picture and sound never drift.
- :mod:`~reelgraph.plugins.assembly._shots`: a scene's shots share its
  frames in proportion to their planned seconds; option ``transition:
  fade`` puts a crossfade of ``transition_s`` at every boundary between
  visuals without moving any boundary (length and A/V sync unchanged).
- :mod:`~reelgraph.plugins.assembly._segments`: a still slide is never
  encoded frame by frame: one short segment per scene, repeated by copying
  its packets to the scene's exact frame count.
- :mod:`~reelgraph.plugins.assembly._loudness` (option ``loudness_lufs``,
  default -16 LUFS, the common streaming speech target, AES TD1004: -16 to
  -20; ``None`` leaves the level as spoken): the track measured with ffmpeg's
  ``ebur128`` (EBU R128 / ITU-R BS.1770), limited when a linear gain would
  lift its true peak over -1.5 dBTP (espeak-ng speech, crest factor ~20 dB,
  always is at -16 LUFS), then one gain: the loudness gate's checks hold by
  construction. This replaced two ``loudnorm`` passes (loudnorm resamples to
  192 kHz): 114 s of one core for 22 minutes of narration.
- :mod:`~reelgraph.plugins.assembly._mix`: clips' own sound (option
  ``clip_audio``) and a music bed (option ``music``) ducked under the voice
  with ``sidechaincompress``, before the normalisation, so the final mix
  meets the loudness target.
- :mod:`~reelgraph.plugins.assembly._audio`: the track at 48 kHz, cut in its
  silences and AAC-encoded in chunks at once (``-aac_coder fast -aac_tns 0``:
  true peak within 0.1 dB of the normalised track, measured).

The segments, the audio's preparation and its chunks share ``workers``
threads (each runs an ffmpeg process); see ``bench/assemble_speed.py`` for the
assembler alone and ``bench/end_to_end.py`` for a whole run.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, FatalError, InvalidInputError
from reelgraph.models import Caption, Narration, Script, Video, Visual
from reelgraph.plugins._media.caption_fit import track_cues
from reelgraph.plugins._media.captions import (
    iso639_2,
    write_srt,
    write_vtt,
)
from reelgraph.plugins.assembly._audio import (
    AAC_RATE_HZ,
    Chunk,
    TrackJoin,
    chunks,
    encode_chunk,
    resample,
)
from reelgraph.plugins.assembly._loudness import normalise
from reelgraph.plugins.assembly._mix import Bed, ClipSound, has_audio, mix
from reelgraph.plugins.assembly._publish import write_extras
from reelgraph.plugins.assembly._segments import (
    KEYFRAME_INTERVAL_S,
    Segment,
    encode_group,
    encode_segment,
    join_segments,
    timescale,
)
from reelgraph.plugins.assembly._shots import Placed, group, place
from reelgraph.plugins.assembly._shots import segments as shot_segments
from reelgraph.plugins.assembly._timeline import (
    SAMPLE_WIDTH,
    Timing,
    first_rate,
    fit_pause,
    plan,
    track,
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
    "transition": "cut",  # between consecutive visuals: cut, or fade (a crossfade)
    "transition_s": 0.4,  # a crossfade's length, seconds (shorter between short shots)
    "clip_audio": "keep",  # a clip's own sound: keep (ducked under the voice) or drop
    "clip_audio_db": -14.0,  # clip sound's loudness relative to the voice's, LU
    "music": None,  # an audio file looped under the whole video, ducked under the voice
    "music_db": -10.0,  # the music's loudness relative to the voice's, LU, before ducking
    "captions": "soft",  # soft (a mov_text track), burned (drawn on the picture) or both
    "caption_style": "clean",  # a preset of caption_styles.yaml, or a mapping of its fields
    # a target video length, seconds: the pauses after scenes stretch or shrink (within
    # _timeline.PAUSE_RANGE_S) to come nearer it; None: pause_s as given
    "target_s": None,
}
_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip
# seconds of audio per AAC encoder run: the chunks share the workers with the segments
_AUDIO_CHUNK_S = 30.0


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
    fade_frames: int  # 0: cuts
    clip_audio_db: float | None  # None: clips' sound dropped
    music: Path | None
    music_db: float
    captions: str  # soft, burned or both
    caption_style: Any  # a preset name or a mapping (resolved in _build)
    target_s: float | None  # the pauses are fitted to this video length


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
    for key, allowed in (("transition", ("cut", "fade")), ("clip_audio", ("keep", "drop"))):
        if opts[key] not in allowed:
            raise InvalidInputError(f"options.{key} must be one of {allowed}, got {opts[key]!r}")
    if opts["captions"] not in ("soft", "burned", "both"):
        raise InvalidInputError(
            f"options.captions must be soft, burned or both, got {opts['captions']!r}"
        )
    fade_s = _number(opts, "transition_s", 0, 5) if opts["transition"] == "fade" else 0.0
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
        fade_frames=round(fade_s * fps),
        clip_audio_db=None
        if opts["clip_audio"] == "drop"
        else _number(opts, "clip_audio_db", -60, 0),
        music=_music(opts["music"]),
        music_db=_number(opts, "music_db", -60, 0),
        captions=opts["captions"],
        caption_style=opts["caption_style"],
        target_s=None if opts["target_s"] is None else _number(opts, "target_s", 1, 86400),
    )


def _music(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | os.PathLike):
        raise InvalidInputError(f"options.music must be an audio file's path, got {value!r}")
    path = Path(value).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"options.music: file not found: {path}; pass an audio file")
    return path


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
    if len(visuals) < scenes or len(narrations) != scenes:
        raise InvalidInputError(
            f"the script has {scenes} scenes but got {len(visuals)} visuals and "
            f"{len(narrations)} narrations; pass one narration per scene and one visual "
            "per scene or per shot"
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


# -- video segments ---------------------------------------------------------------


def _even(n: int) -> int:
    return n + (n % 2)  # yuv420p needs even dimensions


def _gop(s: _Settings) -> int:
    """Frames between keyframes: ``KEYFRAME_INTERVAL_S``, at most one segment."""
    return max(1, min(s.segment_frames, round(s.fps * KEYFRAME_INTERVAL_S)))


def _prepare_audio(
    ffmpeg: str,
    pcm: bytes,
    rate: int,
    bed: Bed,
    tmp: Path,
    s: _Settings,
    ctx: NodeContext,
) -> list[Chunk]:
    """The track with its bed, normalised to ``loudness_lufs``, at 48 kHz, cut into chunks.

    The bed (clips' sound, music) is ducked under the narration first
    (:func:`~reelgraph.plugins.assembly._mix.mix`). Normalised in memory
    (:func:`~reelgraph.plugins.assembly._loudness.normalise`,
    which resamples as it goes); chunks of about ``_AUDIO_CHUNK_S`` seconds,
    cut in silence (:func:`~reelgraph.plugins.assembly._audio.chunks`).
    """
    pieces = max(1, math.ceil(_seconds(pcm, rate) / _AUDIO_CHUNK_S))
    if bed:
        pcm = mix(ffmpeg, pcm, rate, bed, tmp, ctx.log)
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


def _jobs(segments: Sequence[Segment]) -> list[list[Segment]]:
    """One encode per segment; burned captions' pieces of one still (``grouped``) share one."""
    jobs: list[list[Segment]] = []
    for seg in segments:
        if seg.grouped and jobs and jobs[-1][0].grouped and jobs[-1][0].out == seg.out:
            jobs[-1].append(seg)
        else:
            jobs.append([seg])
    return jobs


def _encode_all(
    ffmpeg: str,
    pcm: bytes,
    rate: int,
    bed: Bed,
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
    chunks are encoded after the segments, so the workers finish together.
    This thread joins the picture as soon as its last segment is in, and the
    sound chunk by chunk as they are encoded (``_audio.TrackJoin``).
    ``meanwhile`` (the captions, chapters and thumbnail, which need no
    encoded frame) runs in this thread once the encodes have started, so
    only the joins' last pieces and the mux follow the last encode. Returns
    the number of progress steps.
    """
    with ThreadPoolExecutor(max_workers=s.workers, thread_name_prefix="reelgraph-ffmpeg") as pool:
        audio = pool.submit(_prepare_audio, ffmpeg, pcm, rate, bed, tmp, s, ctx)
        pending: dict[Future[Any], str] = {audio: "audio track normalised"}
        segment_jobs: set[Future[Any]] = set()  # not finished yet; chunks_left likewise
        scenes = segments[-1].scene + 1
        jobs = _jobs(segments)
        for k, group in enumerate(jobs):
            seg = group[0]
            encode = encode_group if seg.grouped else encode_segment
            work = group if seg.grouped else seg
            future = pool.submit(encode, ffmpeg, work, size, s.fps, s.crf, s.preset, _gop(s))
            pending[future] = (
                f"encoding scene {seg.scene + 1}/{scenes}"
                if len(jobs) == scenes
                else f"encoding segment {k + 1}/{len(jobs)} (scene {seg.scene + 1})"
            )
            segment_jobs.add(future)
        chunks_left: dict[Future[Any], Chunk] = {}  # an encode not finished yet: its chunk
        sound: TrackJoin | None = None  # the track, joined chunk by chunk as they are encoded
        total, done = len(jobs) + 3, 0  # + the audio's preparation and the two joins
        try:
            meanwhile()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    what = pending.pop(future)
                    future.result()
                    if future is audio:
                        parts = audio.result()
                        sound = TrackJoin(parts, tmp / "audio.m4a")
                        total += len(parts)
                        for part in parts:
                            job = pool.submit(
                                encode_chunk, ffmpeg, part, s.audio_channels, s.audio_bitrate_kbps
                            )
                            pending[job] = f"encoding audio part {part.index + 1}/{len(parts)}"
                            chunks_left[job] = part
                    done += 1
                    ctx.progress(done, total, what)
                    # joined here, while the workers go on (a job would queue behind the
                    # chunks): the picture once its last segment is in, the sound chunk
                    # by chunk, so little of it is left to copy after the last encode
                    if future in segment_jobs:
                        segment_jobs.discard(future)
                        if not segment_jobs:
                            join_segments(segments, tmp / "picture.mp4", s.fps)
                            done += 1
                            ctx.progress(done, total, "picture joined")
                    elif future in chunks_left:
                        assert sound is not None  # made when the chunks were
                        if sound.add(chunks_left.pop(future)):
                            done += 1
                            ctx.progress(done, total, "sound joined")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        finally:
            if sound is not None:
                sound.close()
    return total


def _bed(shots: Sequence[Placed], s: _Settings, rate: int) -> Bed:
    """What goes under the voice: the sound of every clip that has one (unless dropped), music."""
    sounds = []
    if s.clip_audio_db is not None:

        def at(frame: int) -> int:
            return (2 * frame * rate + s.fps) // (2 * s.fps)  # as the track's scene edges

        for shot in shots:
            if shot.visual.kind == "video" and has_audio(Path(shot.visual.path)):
                first = at(shot.first)
                sounds.append(
                    ClipSound(
                        Path(shot.visual.path),
                        first,
                        at(shot.first + shot.shown) - first,
                        at(shot.fade_in),
                        at(shot.fade_out),
                    )
                )
    return Bed(sounds, s.clip_audio_db or 0.0, s.music, s.music_db)


def _seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / SAMPLE_WIDTH / rate


def _mux(ffmpeg: str, tmp: Path, srt: Path | None, s: _Settings, language: str, title: str) -> None:
    """Join the picture and the AAC track by stream copy, add mov_text subtitles, faststart.

    Reads ``picture.mp4`` and ``audio.m4a`` in ``tmp`` (and ``chapters.ffmeta``
    when there, its chapters mapped with ``-map_chapters``); writes ``video.mp4``.
    """
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    cmd += ["-i", str(tmp / "picture.mp4")]
    cmd += ["-i", str(tmp / "audio.m4a")]
    if srt is not None:
        cmd += ["-f", "srt", "-i", str(srt)]
    if (tmp / "chapters.ffmeta").exists():
        cmd += ["-f", "ffmetadata", "-i", str(tmp / "chapters.ffmeta")]
        cmd += ["-map_chapters", "3" if srt is not None else "2"]
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
    """Join the visuals (one or more per scene) and one narration per scene into ``video.mp4``.

    Args:
        script: scene ``i`` is spoken by ``narrations[i]`` and shown by the
            visuals whose ``scene_index`` is ``i``.
        visuals: PNG stills (``kind="image"``) or clips (``kind="video"``), one
            per shot, in scene order; a scene's shots split its length in
            proportion to their ``duration_s`` (a still counts 1 s), clips
            trimmed or held on their last frame to their share. The frame
            size is ``visuals[0]``'s (rounded up to even pixels), others are
            scaled and letterboxed to it. A clip's own sound is mixed under
            the voice unless ``options.clip_audio`` is ``drop``.
        narrations: 16-bit mono WAV per sentence (other formats are converted).
        fps: 1-120 frames per second.
        pause_s: seconds of silence after each scene's speech (0-60).
        options: see :data:`DEFAULT_OPTIONS`.
        ctx: the node context; progress is reported per encoded segment.

    Returns:
        The video (duration = whole frames), with one caption cue per sentence
        or sentence piece (<= 2 lines of <= 42 characters).

    Raises:
        InvalidInputError: not one narration per scene, a scene without a
            visual or visuals out of scene order, a file (or ``options.music``)
            missing or undecodable, or a setting out of range.
        ConfigurationError: ffmpeg is missing.
        FatalError: ffmpeg failed while muxing, or the result failed its check.
    """
    workdir = Path(ctx.workdir)
    final = {ext: workdir / f"video.{ext}" for ext in ("mp4", "srt", "vtt")}
    extras = [workdir / file for file in _EXTRAS.values()]
    _remove_stale([*final.values(), *extras])  # a failed call leaves no stale video behind
    settings = _settings(fps, pause_s, options)
    script, visuals, narrations = _coerce(script, visuals, narrations)
    _check_inputs(script, visuals, narrations)
    ffmpeg = _ffmpeg_exe()
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix=".assemble-"))
    try:
        video = _build(script, visuals, narrations, settings, ffmpeg, tmp, ctx)
        for extra in extras:
            if (tmp / extra.name).exists():
                os.replace(tmp / extra.name, extra)
        for ext in ("srt", "vtt", "mp4"):  # the video last: it marks success
            os.replace(tmp / f"video.{ext}", final[ext])
    except BaseException:
        _remove_stale([*final.values(), *extras])
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    found = {name: workdir / file for name, file in _EXTRAS.items() if (workdir / file).exists()}
    return video.model_copy(
        update={"path": final["mp4"], "srt_path": final["srt"], "vtt_path": final["vtt"], **found}
    )


def _burned(
    segments: list[Segment],
    cues: list[Caption],
    words: list[tuple[float, str]],
    settings: _Settings,
    tmp: Path,
    language: str,
    ctx: NodeContext,
) -> tuple[list[Segment], Callable[[], None]]:
    """The segments with the cues to draw on the stills (:mod:`._burn`); what to do after.

    The encoders draw the stills; the returned function, called once they
    have, writes ``burned_captions.json`` and logs what was drawn.
    """
    from reelgraph.plugins._media.caption_style import resolve_style
    from reelgraph.plugins.assembly._burn import burn_segments, write_record
    from reelgraph.plugins.assembly._burn_clips import burn_clips

    style = resolve_style(settings.caption_style)
    burned = burn_segments(segments, cues, style, settings.fps, tmp, language, words=words)
    burned = burn_clips(burned, cues, style, settings.fps, tmp, language, words=words)

    def record() -> None:
        burned.draw_all()  # drawn by the encoders already: nothing left
        write_record(burned, style, tmp / _EXTRAS["burned_captions_path"])
        _log_burned(burned, style, len(cues), ctx)

    return burned.segments, record


def _plain_stills(
    segments: list[Segment], settings: _Settings, tmp: Path, language: str
) -> list[Segment]:
    """Each still one IDR frame, repeated by the shared skip frames, as burned captions' are.

    Burned captions' encoding (:func:`~._burn.burn_segments` with no cue):
    a still's 15-frame GOP cost x264 about 6 ms per P-frame that changes
    nothing, where one picture and the shared all-skip P-frames cost one
    frame's encode (README: 1.2 CPU s less per soft render, B18's measurement).
    """
    from reelgraph.plugins._media.caption_style import CaptionStyle
    from reelgraph.plugins.assembly._burn import burn_segments

    # no cue is drawn, so no style is read: a soft render never opens caption_styles.yaml
    unused = CaptionStyle(name="soft")
    return burn_segments(segments, [], unused, settings.fps, tmp, language).segments


def _nothing() -> None:
    """Nothing to do after the encodes (soft captions)."""


def _log_burned(burned: Any, style: Any, cues: int, ctx: NodeContext) -> None:
    ctx.log.info(
        "captions burned",
        style=style.name,
        stills_drawn=len(burned.stills),
        segments=len(burned.segments),
        lowest_contrast=None
        if burned.lowest_contrast is None
        else round(burned.lowest_contrast, 2),
        uncaptioned_frames=burned.uncaptioned_frames,
        word_highlight=f"{burned.highlighted_cues} of {cues} cues"
        if style.highlight
        else "off in this style",
    )


#: Files written beside the video when there is something to write, by Video field.
_EXTRAS = {
    "chapters_vtt_path": "chapters.vtt",
    "chapters_txt_path": "chapters.txt",
    "thumbnail_path": "thumbnail.jpg",
    "burned_captions_path": "burned_captions.json",
}


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
    rate = first_rate(narrations)
    timing = Timing(
        settings.fps, settings.pause_s, settings.min_scene_frames, settings.hold_for_reading
    )
    groups = group(visuals, len(script.scenes))
    firsts = [shots[0] for shots in groups]
    scenes = plan(firsts, narrations, timing, ffmpeg, rate, tmp, ctx.log, script.language)
    if settings.target_s is not None:
        pause_s = fit_pause(scenes, settings.fps, timing.pause_s, settings.target_s)
        if pause_s != timing.pause_s:
            before_s = sum(scene.frames for scene in scenes) / settings.fps
            timing = replace(timing, pause_s=pause_s)
            scenes = plan(firsts, narrations, timing, ffmpeg, rate, tmp, ctx.log, script.language)
            ctx.log.info(
                "pauses fitted to the target",
                target_s=settings.target_s,
                before_s=round(before_s, 2),
                after_s=round(sum(scene.frames for scene in scenes) / settings.fps, 2),
                pause_s=round(pause_s, 3),
            )
    total_frames = sum(scene.frames for scene in scenes)
    duration_s = total_frames / settings.fps
    shots = place(groups, [(sc.start_frame, sc.frames) for sc in scenes], settings.fade_frames)
    segments = shot_segments(shots, settings.segment_frames, tmp)
    sentences = [s for scene in scenes for s in scene.sentences]
    cues: list[Caption] = []
    after_encode: Callable[[], object] = _nothing
    size = (_even(visuals[0].width_px), _even(visuals[0].height_px))
    fitted = {  # lines fitted to the frame and the caption style (caption_fit.track_cues)
        "captions": settings.captions, "caption_style": settings.caption_style,
        "frame_px": size, "language": script.language, "log": ctx.log,
    }  # fmt: skip
    if settings.captions != "soft":  # burned: the track's cues drawn on the stills
        cues.extend(track_cues(sentences, duration_s, **fitted))
        words = [
            (sentence.start_s + word.start_s, token)
            for sentence in sentences
            for word in sentence.words
            for token in word.text.split()
        ]
        segments, after_encode = _burned(segments, cues, words, settings, tmp, script.language, ctx)
    else:
        segments = _plain_stills(segments, settings, tmp, script.language)
    pcm = track(scenes, settings.fps, rate)
    bed = _bed(shots, settings, rate)

    starts_s = [sc.start_frame / settings.fps for sc in scenes]

    def while_encoding() -> None:
        """Captions, chapters and thumbnail: they need the plan, not the encoded frames."""
        if settings.captions == "soft":
            cues.extend(track_cues(sentences, duration_s, **fitted))
        write_srt(cues, tmp / "video.srt")
        write_vtt(cues, tmp / "video.vtt")
        write_extras(script, visuals, starts_s, duration_s, size, tmp, ctx)

    steps = _encode_all(ffmpeg, pcm, rate, bed, segments, size, settings, tmp, ctx, while_encoding)
    after_encode()
    srt = tmp / "video.srt"
    language = iso639_2(script.language)
    soft = bool(cues) and settings.captions != "burned"
    _mux(ffmpeg, tmp, srt if soft else None, settings, language, script.title)
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
