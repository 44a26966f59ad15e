"""The ffmpeg assembler on real PNGs, sine-tone WAVs and testsrc clips; checked with PyAV."""

from __future__ import annotations

import math
import struct
from array import array
from importlib import metadata
from pathlib import Path

import av
import pluggy
import pytest
import srt
import webvtt

import reelgraph.plugins.assembly.ffmpeg as ffmpeg_assembler
from reelgraph import hookspecs
from reelgraph.errors import InvalidInputError
from reelgraph.models import Video
from reelgraph.plugins.assembly._loudness import normalise
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.run.context import NodeContext
from tests.package_text import package_description

FPS = 30
PAUSE_S = 0.5
RED, GREEN, BLUE = (200, 40, 40), (40, 160, 60), (40, 60, 200)
LONG = (
    "This second sentence is deliberately long so that it cannot fit into a single "
    "caption of two lines, and so it must be split."
)
# (text, seconds) per sentence, per scene; scene 2 has no speech.
SENTENCES = [
    [("Welcome to the reelgraph test video.", 1.2), (LONG, 2.4)],
    [("Short one.", 0.5)],
    [],
]


def scene_frames(seconds: list[float]) -> int:
    """Frames a scene should last: speech + pause rounded to frames, else 2 s."""
    return round((sum(seconds) + PAUSE_S) * FPS) if seconds else 2 * FPS


EXPECTED_FRAMES = [scene_frames([s for _, s in scene]) for scene in SENTENCES]


def run(media, visuals, narrations, workdir: Path, **kw) -> tuple[Video, list]:
    events: list[tuple] = []
    ctx = NodeContext(
        run_id="t",
        node_id="assemble",
        hook="assemble_video",
        provider="ffmpeg",
        run_dir=workdir,
        progress=lambda *args: events.append(args),
    )
    # the sentences of these tests are timed by hand, faster than captions can be read:
    # no reading holds, so the timeline is exactly theirs (holds: test_fast_speech_...)
    options = {"hold_for_reading": False, **kw.pop("options", {})}
    args = {"fps": FPS, "pause_s": PAUSE_S, "options": options} | kw
    video = assemble_video(
        script=media.script(narrations), visuals=visuals, narrations=narrations, ctx=ctx, **args
    )
    return video, events


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory, make_media) -> tuple[Video, list]:
    media = make_media(tmp_path_factory.mktemp("media"))
    visuals = [
        media.image(0, (1920, 1080), RED),
        media.image(1, (1024, 768), GREEN),  # 4:3: pillarboxed into 16:9
        media.image(2, (1920, 1080), BLUE),
    ]
    narrations = [media.narration(s, i) for i, s in enumerate(SENTENCES)]
    return run(media, visuals, narrations, tmp_path_factory.mktemp("run"))


def top_level_boxes(path: Path) -> list[str]:
    """ISO BMFF top-level box types in file order (ISO/IEC 14496-12, section 4.2)."""
    boxes, data = [], path.read_bytes()
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:
            size = len(data) - at
        boxes.append(kind.decode("latin-1"))
        at += size
    return boxes


def audio_rms(path: Path, start_s: float, end_s: float) -> float:
    """RMS of the decoded (mono, float) audio between two times, in full-scale units."""
    values = array("f")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            t0 = float(frame.pts * stream.time_base)
            plane = array("f", bytes(frame.planes[0]))[: frame.samples]
            for k, v in enumerate(plane):
                if start_s <= t0 + k / frame.sample_rate < end_s:
                    values.append(v)
    return math.sqrt(sum(v * v for v in values) / max(len(values), 1))


def frame_at(path: Path, t_s: float):
    """The decoded frame shown at ``t_s`` seconds, as a PIL image."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts * stream.time_base >= t_s:
                return frame.to_image()
    raise AssertionError(f"no frame at {t_s} s")


def mean_difference(a, b) -> float:
    """Mean absolute difference of two images, 0-255 per channel."""
    from PIL import ImageChops, ImageStat

    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def close(rgb: tuple[int, ...], want: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=False))


# -- the MP4 ------------------------------------------------------------------------


def test_streams_are_web_safe_h264_aac_and_mov_text(assembled):
    video, _ = assembled
    with av.open(str(video.path)) as container:
        assert len(container.streams.video) == 1
        v = container.streams.video[0]
        assert v.codec_context.name == "h264"
        assert v.codec_context.profile == "High"
        assert v.codec_context.pix_fmt == "yuv420p"
        assert (v.codec_context.width, v.codec_context.height) == (1920, 1080)
        assert v.average_rate == FPS
        a = container.streams.audio[0]
        assert a.codec_context.name == "aac"
        assert a.codec_context.profile == "LC"
        assert a.codec_context.sample_rate == 48_000
        assert a.codec_context.layout.nb_channels == 1
        (s,) = container.streams.subtitles
        assert s.codec_context.name == "mov_text"
        assert s.metadata.get("language") == "eng"
    assert (video.width_px, video.height_px, video.fps) == (1920, 1080, FPS)


def test_constant_frame_rate_and_duration_match_the_narration(assembled):
    video, _ = assembled
    total = sum(EXPECTED_FRAMES)
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.pts is not None]
        pts = [p.pts for p in packets]
        keyframes = [k for k, p in enumerate(packets) if p.is_keyframe]
        container_s = container.duration / 1_000_000
    assert len(pts) == total
    # A keyframe every half second inside each 1 s segment, restarting with each
    # scene (the last repeat is cut short).
    gop = round(FPS * ffmpeg_assembler.KEYFRAME_INTERVAL_S)
    starts = [sum(EXPECTED_FRAMES[:i]) for i in range(len(EXPECTED_FRAMES))]
    expected_keys = [
        s + k for s, n in zip(starts, EXPECTED_FRAMES, strict=True) for k in range(0, n, gop)
    ]
    assert keyframes == expected_keys
    steps = {b - a for a, b in zip(sorted(pts), sorted(pts)[1:], strict=False)}
    assert len(steps) == 1  # every frame lasts exactly 1/fps
    assert abs(container_s - total / FPS) <= 1 / FPS
    assert video.duration_s == pytest.approx(total / FPS)
    spoken = sum(s for scene in SENTENCES for _, s in scene) + PAUSE_S * 2 + 2.0
    assert abs(video.duration_s - spoken) <= 0.5


def test_faststart_puts_moov_before_mdat(assembled):
    boxes = top_level_boxes(assembled[0].path)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_audio_is_speech_where_sentences_are_and_silence_in_pauses(assembled):
    path = assembled[0].path
    scene1_start = EXPECTED_FRAMES[0] / FPS
    scene2_start = scene1_start + EXPECTED_FRAMES[1] / FPS
    loud = [(0.1, 1.1), (1.3, 3.5), (scene1_start + 0.1, scene1_start + 0.4)]
    quiet = [(3.7, scene1_start - 0.05), (scene1_start + 0.6, scene2_start - 0.05)]
    quiet.append((scene2_start + 0.1, scene2_start + 1.9))
    for start, end in loud:
        assert audio_rms(path, start, end) > 0.1, (start, end)  # the tone is ~0.24 full scale
    for start, end in quiet:
        assert audio_rms(path, start, end) < 0.01, (start, end)


def test_each_scene_shows_its_slide_scaled_to_the_frame(assembled):
    path = assembled[0].path
    starts = [sum(EXPECTED_FRAMES[:i]) / FPS for i in range(3)]
    red = frame_at(path, starts[0] + 1.0)
    green = frame_at(path, starts[1] + 0.5)
    blue = frame_at(path, starts[2] + 1.5)
    assert close(red.getpixel((960, 700)), RED)
    assert close(green.getpixel((960, 700)), GREEN)
    assert close(green.getpixel((100, 540)), (0, 0, 0))  # pillarbox bar of the 4:3 slide
    assert close(blue.getpixel((960, 700)), BLUE)


def test_progress_is_reported_per_segment_and_ends_complete(assembled):
    _, events = assembled
    messages = [e[4] for e in events]
    assert any(m == "encoding scene 1/3" for m in messages)
    assert any(m == "encoding scene 3/3" for m in messages)
    done = [e[2] for e in events]
    assert done == sorted(done)
    assert events[-1][2] == events[-1][3]


# -- captions ---------------------------------------------------------------------


def test_captions_are_timed_to_the_sentences(assembled):
    video, _ = assembled
    cues = video.captions
    assert cues[0].start_s == 0.0
    assert cues[0].text.replace("\n", " ") == SENTENCES[0][0][0]
    long_cues = [c for c in cues if 1.2 <= c.start_s < 3.6]
    assert len(long_cues) >= 2  # the long sentence is split
    assert long_cues[0].start_s == pytest.approx(1.2)
    assert " ".join(c.text.replace("\n", " ") for c in long_cues) == LONG
    short = next(c for c in cues if c.text == "Short one.")
    assert short.start_s == pytest.approx(EXPECTED_FRAMES[0] / FPS)
    assert short.end_s - short.start_s == pytest.approx(1.0)  # 0.5 s sentence held 1 s


def test_sidecar_files_parse_and_match_the_cues(assembled):
    video, _ = assembled
    subs = list(srt.parse(video.srt_path.read_text(encoding="utf-8")))
    vtt = webvtt.read(str(video.vtt_path))
    assert len(subs) == len(vtt) == len(video.captions) >= 4
    previous_end = 0.0
    for sub, cue, caption in zip(subs, vtt, video.captions, strict=True):
        assert sub.start.total_seconds() == pytest.approx(caption.start_s)
        assert cue.start_in_seconds + cue.start_time.milliseconds / 1000 == pytest.approx(
            caption.start_s
        )
        assert sub.content == cue.text == caption.text
        assert previous_end <= caption.start_s < caption.end_s <= video.duration_s
        lines = caption.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        previous_end = caption.end_s


def test_soft_subtitle_track_carries_the_cues(assembled):
    video, _ = assembled
    with av.open(str(video.path)) as container:
        stream = container.streams.subtitles[0]
        texts = [bytes(p)[2:].decode("utf-8") for p in container.demux(stream) if p.size > 2]
    assert texts == [c.text for c in video.captions]


# -- other inputs -------------------------------------------------------------------


def test_video_clips_are_trimmed_or_held_on_their_last_frame(media, tmp_path):
    narrations = [
        media.narration([("A clip longer than its scene.", 0.5)], 0),
        media.narration([("A clip shorter than its scene.", 1.5)], 1),
    ]
    visuals = [media.clip(0, 2.0), media.clip(1, 0.6)]
    video, _ = run(media, visuals, narrations, tmp_path / "run")
    frames = [round((0.5 + PAUSE_S) * FPS), round((1.5 + PAUSE_S) * FPS)]
    with av.open(str(video.path)) as container:
        assert container.streams.video[0].frames == sum(frames)
    # Scene 1 holds the clip's last frame (0.6 s in) until its end (2.0 s in).
    start = frames[0] / FPS
    held = frame_at(video.path, start + 0.7)
    last = frame_at(video.path, start + 1.9)
    assert mean_difference(held, last) < 2
    moving = frame_at(video.path, start + 0.1)
    assert mean_difference(moving, held) > 5  # testsrc moves: a real clip, not a still


def test_wavs_of_other_rates_and_channels_are_converted(media, tmp_path):
    narrations = [
        media.narration([("Forty-four point one kilohertz stereo.", 0.8)], 0, rate_hz=44_100, channels=2),
        media.narration([("Twenty-two kilohertz mono.", 0.6)], 1),
    ]  # fmt: skip
    visuals = [media.image(0, (640, 360), RED), media.image(1, (640, 360), BLUE)]
    video, _ = run(media, visuals, narrations, tmp_path / "run")
    assert (video.width_px, video.height_px) == (640, 360)
    assert video.duration_s == pytest.approx((round(1.3 * FPS) + round(1.1 * FPS)) / FPS)
    assert audio_rms(video.path, 0.1, 0.7) > 0.1


# -- bad input ---------------------------------------------------------------------


def test_segments_join_by_copy_only_with_the_same_h264_parameters(media, tmp_path):
    """The join repeats a still's segment to the scene's length, and refuses segments
    whose parameter sets differ (a copy join of those would not decode)."""
    from reelgraph.errors import FatalError
    from reelgraph.plugins.assembly._segments import Segment, encode_segment, join_segments

    ffmpeg = ffmpeg_assembler._ffmpeg_exe()
    red = Path(media.image(0, (320, 180), RED).path)
    segments = [
        Segment(0, red, "image", 15, 40, tmp_path / "a.mp4"),
        Segment(1, red, "image", 15, 7, tmp_path / "b.mp4"),
    ]
    for seg in segments:
        encode_segment(ffmpeg, seg, (320, 180), FPS, 20, "medium", 15)
    assert join_segments(segments, tmp_path / "joined.mp4", FPS) == 47
    with av.open(str(tmp_path / "joined.mp4")) as container:
        frames = list(container.decode(video=0))
        keyframes = [n for n, f in enumerate(frames) if f.key_frame]
    assert len(frames) == 47 and keyframes == [0, 15, 30, 40]
    other = Segment(1, red, "image", 15, 15, tmp_path / "c.mp4")
    encode_segment(ffmpeg, other, (640, 360), FPS, 20, "medium", 15)
    with pytest.raises(FatalError, match="scene 1 was encoded with other H.264 parameters"):
        join_segments([segments[0], other], tmp_path / "bad.mp4", FPS)


def tone_track(rate: int, parts: list[tuple[float, float]]) -> bytes:
    """16-bit mono PCM: ``(seconds, Hz)`` pieces back to back, a 0 Hz piece being silence."""
    import numpy as np

    pieces = []
    for seconds, hz in parts:
        t = np.arange(round(seconds * rate)) / rate
        pieces.append(0.3 * np.sin(2 * np.pi * hz * t) if hz else np.zeros(t.size))
    return (np.concatenate(pieces) * 32767).round().astype("<i2").tobytes()


def decoded(path: Path):
    import numpy as np

    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])


def test_audio_encoded_in_chunks_joins_to_the_same_track_as_one_encode(tmp_path):
    """Cut only in silence and on whole AAC frames, the joined chunks decode to the
    source as exactly as a single encode does, aligned to the sample."""
    import numpy as np

    from reelgraph.plugins.assembly._audio import AAC_RATE_HZ, chunks, encode_chunk, join_chunks

    ffmpeg = ffmpeg_assembler._ffmpeg_exe()
    pcm = tone_track(AAC_RATE_HZ, [(1.3, 440), (0.75, 0), (1.1, 660), (0.75, 0), (0.9, 550)])
    parts = chunks(pcm, 3, tmp_path)
    pauses = [(1.3, 2.05), (3.15, 3.9)]  # seconds
    assert len(parts) == 3 and b"".join(p.pcm for p in parts) == pcm
    for part, (start_s, end_s) in zip(parts[1:], pauses, strict=True):
        assert part.start % 1024 == 0  # whole AAC frames
        assert start_s * AAC_RATE_HZ + 4096 <= part.start <= end_s * AAC_RATE_HZ - 4096
    for part in parts:
        encode_chunk(ffmpeg, part, 1, 96)
    join_chunks(parts, tmp_path / "joined.m4a")
    whole = chunks(pcm, 1, tmp_path / "one")[0]
    (tmp_path / "one").mkdir()
    encode_chunk(ffmpeg, whole, 1, 96)
    source = np.frombuffer(pcm, dtype="<i2") / 32768.0
    joined, single = decoded(tmp_path / "joined.m4a"), decoded(whole.out)
    assert joined.size == single.size >= source.size
    error = np.sqrt(np.mean((joined[: source.size] - source) ** 2))
    assert error <= 1.2 * np.sqrt(np.mean((single[: source.size] - source) ** 2))
    for part in parts[1:]:  # the cuts decode to digital silence
        assert np.abs(joined[part.start - 2048 : part.start + 2048]).max() < 1e-4


def test_audio_without_pauses_is_one_chunk(tmp_path):
    from reelgraph.plugins.assembly._audio import AAC_RATE_HZ, chunks

    pcm = tone_track(AAC_RATE_HZ, [(3.0, 440)])
    assert [p.start for p in chunks(pcm, 4, tmp_path)] == [0]


def test_a_long_narration_encoded_in_chunks_stays_in_place_and_normalised(
    make_media, tmp_path, monkeypatch
):
    """Cut in each pause: the speech and the pauses of the video are where the timeline says."""
    from reelgraph.plugins._media.probe import ebur128

    monkeypatch.setattr(ffmpeg_assembler, "_AUDIO_CHUNK_S", 2.0)
    media = make_media(tmp_path / "media")
    narrations = [media.narration([("One.", 1.0), ("Two.", 0.8)], i) for i in range(3)]
    visuals = [media.image(i, (320, 180), RED) for i in range(3)]
    video, events = run(media, visuals, narrations, tmp_path / "run")
    parts = [e[4] for e in events if e[4].startswith("encoding audio part")]
    assert len(parts) >= 3  # cut in the pauses after the scenes
    scene_s = scene_frames([1.0, 0.8]) / FPS
    for i in range(3):
        start = i * scene_s
        assert audio_rms(video.path, start + 0.05, start + 1.75) > 0.1
        assert audio_rms(video.path, start + 1.85, start + scene_s - 0.05) < 0.01
    measured = ebur128(video.path)
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert measured.true_peak_dbtp <= -1.0


def test_mismatched_lists_raise_and_leave_no_video(media, tmp_path):
    narrations = [media.narration([("One.", 0.3)], 0), media.narration([("Two.", 0.3)], 1)]
    visuals = [media.image(0, (320, 180), RED)]
    workdir = tmp_path / "run" / "assemble"
    workdir.mkdir(parents=True)
    (workdir / "video.mp4").write_bytes(b"stale output of an earlier attempt")
    with pytest.raises(InvalidInputError, match=r"2 scenes but got 1 visuals and 2 narrations"):
        run(media, visuals, narrations, tmp_path / "run")
    assert not (workdir / "video.mp4").exists()


def test_missing_file_is_named(media, tmp_path):
    narrations = [media.narration([("One.", 0.3)], 0)]
    visual = media.image(0, (320, 180), RED)
    gone = visual.model_copy(update={"path": tmp_path / "nowhere.png"})
    with pytest.raises(InvalidInputError, match="nowhere.png"):
        run(media, [gone], narrations, tmp_path / "run")


def test_unreadable_image_fails_without_leaving_files(media, tmp_path):
    narrations = [media.narration([("One.", 0.3)], 0)]
    bogus = tmp_path / "not_an_image.png"
    bogus.write_text("this is not a PNG")
    visual = media.image(0, (320, 180), RED).model_copy(update={"path": bogus})
    with pytest.raises(InvalidInputError, match="not_an_image.png"):
        run(media, [visual], narrations, tmp_path / "run")
    assert list((tmp_path / "run" / "assemble").iterdir()) == []


@pytest.mark.parametrize("fps", [0, 121, 29.97, True])
def test_fps_out_of_range_is_rejected(media, tmp_path, fps):
    narrations = [media.narration([("One.", 0.3)], 0)]
    with pytest.raises(InvalidInputError, match="fps"):
        run(media, [media.image(0, (320, 180), RED)], narrations, tmp_path / "run", fps=fps)


def test_unknown_option_is_rejected(media, tmp_path):
    narrations = [media.narration([("One.", 0.3)], 0)]
    with pytest.raises(InvalidInputError, match="crf_typo"):
        run(media, [media.image(0, (320, 180), RED)], narrations, tmp_path / "run",
            options={"crf_typo": 3})  # fmt: skip


def test_registered_under_its_entry_point_and_callable_through_pluggy(media, tmp_path):
    (entry,) = [e for e in metadata.entry_points(group="reelgraph") if e.name == "ffmpeg"]
    assert entry.value == "reelgraph.plugins.assembly.ffmpeg"
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(entry.load(), name="ffmpeg")
    pm.check_pending()
    narrations = [media.narration([("Through pluggy.", 0.4)], 0)]
    video = pm.hook.assemble_video(
        script=media.script(narrations).model_dump(),  # plain dicts are accepted too
        visuals=[media.image(0, (320, 180), RED).model_dump()],
        narrations=[n.model_dump() for n in narrations],
        fps=24,
        pause_s=0.25,
        options={"segment_s": 0.5, "hold_for_reading": False},  # the timeline as given
        ctx=NodeContext.for_testing(tmp_path),
    )
    assert isinstance(video, Video) and video.path.is_file()
    with av.open(str(video.path)) as container:
        assert container.streams.video[0].frames == round(0.65 * 24)


# -- loudness -------------------------------------------------------------------------


def test_audio_is_normalised_to_minus_16_lufs_with_true_peak_under_minus_1(assembled):
    from reelgraph.plugins._media.probe import ebur128

    measured = ebur128(assembled[0].path)
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert measured.true_peak_dbtp <= -1.0


def test_espeak_speech_is_normalised_too(make_media, tmp_path):
    """Real TTS speech (peaky: ~-21 LUFS with -1.7 dBTP peaks as spoken) lands on target."""
    from reelgraph.plugins._media.probe import ebur128
    from reelgraph.plugins.speech.espeak import synthesize_speech

    media = make_media(tmp_path / "media")
    sentences = [
        ["Quality gates measure the real artifact.", "Plosives like p, t and k peak sharply!"],
        ["The integrated loudness should be close to minus sixteen LUFS."],
    ]
    narrations = [
        synthesize_speech(
            sentences=s, voice=None, rate_wpm=None, options={},
            ctx=NodeContext.for_testing(tmp_path / f"tts{i}"),
        )
        for i, s in enumerate(sentences)
    ]  # fmt: skip
    visuals = [media.image(i, (640, 360), RED) for i in range(2)]
    video, _ = run(media, visuals, narrations, tmp_path / "run", pause_s=0.75)
    measured = ebur128(video.path)
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert measured.true_peak_dbtp <= -1.0


def test_loudness_option_sets_the_target_or_disables_normalisation(media, tmp_path):
    from reelgraph.plugins._media.probe import ebur128

    narrations = [media.narration([("Quiet tone.", 2.0)], 0, amplitude=2000)]
    visuals = [media.image(0, (320, 180), RED)]
    as_spoken, _ = run(media, visuals, narrations, tmp_path / "off",
                       options={"loudness_lufs": None})  # fmt: skip
    quiet = ebur128(as_spoken.path).integrated_lufs
    assert quiet < -24.0  # amplitude 2000/32768 is about -27 LUFS
    louder, _ = run(media, visuals, narrations, tmp_path / "on", options={"loudness_lufs": -20})
    assert ebur128(louder.path).integrated_lufs == pytest.approx(-20.0, abs=1.0)


@pytest.mark.parametrize("value", [0, -80, "loud", True])
def test_bad_loudness_target_is_rejected(media, tmp_path, value):
    narrations = [media.narration([("One.", 0.3)], 0)]
    with pytest.raises(InvalidInputError, match="loudness_lufs"):
        run(media, [media.image(0, (320, 180), RED)], narrations, tmp_path / "run",
            options={"loudness_lufs": value})  # fmt: skip


def test_silent_track_is_left_silent(media, tmp_path):
    """Nothing to normalise below loudnorm's -70 LUFS gate: the track stays digital silence."""
    from reelgraph.plugins._media.probe import ebur128

    narrations = [media.narration([], 0)]
    video, _ = run(media, [media.image(0, (320, 180), RED)], narrations, tmp_path / "run")
    measured = ebur128(video.path)
    assert measured.integrated_lufs <= -70.0
    assert audio_rms(video.path, 0.0, 2.0) == 0.0


def real_sentences(count: int) -> list[str]:
    """Plain sentences from an installed package's README (h11's), not text written here."""
    import re

    text = " ".join(package_description("h11").split())
    sentences = re.findall(r"[A-Z][A-Za-z ,'-]{30,160}[.!?]", text)
    assert len(sentences) >= count, "h11's description changed: pick another package"
    return sentences[:count]


def scaled_copy(narration, factor: float, root: Path):
    """The narration with every WAV scaled by ``factor`` (clipped to 16 bits, like a hot take)."""
    import wave

    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    segments = []
    for j, segment in enumerate(narration.segments):
        with wave.open(str(segment.path), "rb") as wav:
            params, pcm = wav.getparams(), wav.readframes(wav.getnframes())
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * factor
        out = root / f"scaled_{j}.wav"
        with wave.open(str(out), "wb") as wav:
            wav.setparams(params)
            wav.writeframes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())
        segments.append(segment.model_copy(update={"path": out}))
    return narration.model_copy(update={"segments": segments})


@pytest.fixture(scope="module")
def espeak_narrations(tmp_path_factory: pytest.TempPathFactory):
    from reelgraph.plugins.speech.espeak import synthesize_speech

    root = tmp_path_factory.mktemp("espeak")
    sentences = real_sentences(4)
    return [
        synthesize_speech(
            sentences=sentences[2 * i : 2 * i + 2], voice=None, rate_wpm=None, options={},
            ctx=NodeContext.for_testing(root / f"tts{i}"),
        )
        for i in range(2)
    ]  # fmt: skip


# (factor, what): espeak as spoken is ~-21 LUFS with peaks near -1.5 dBTP; x0.1 is a
# quiet take (~-41 LUFS, the limiter has ~25 dB of gain to cap); x3 clipped is a hot
# take (~-12 LUFS, full-scale peaks: a linear cut of ~4 dB).
@pytest.mark.parametrize(("factor", "what"), [(0.1, "quiet"), (3.0, "loud")])
def test_real_speech_quiet_or_loud_lands_on_minus_16_lufs_under_minus_1_dbtp(
    make_media, espeak_narrations, tmp_path, factor, what
):
    """Measured independently of the assembler: ffmpeg ebur128 on the final AAC track."""
    from reelgraph.plugins._media.probe import ebur128

    media = make_media(tmp_path / "media")
    narrations = [
        scaled_copy(n, factor, tmp_path / f"{what}{i}") for i, n in enumerate(espeak_narrations)
    ]
    before = ebur128(narrations[0].segments[0].path).integrated_lufs
    assert (before < -30) if what == "quiet" else (before > -16)
    visuals = [media.image(i, (640, 360), RED) for i in range(2)]
    video, _ = run(media, visuals, narrations, tmp_path / "run", pause_s=0.75)
    measured = ebur128(video.path)
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert measured.true_peak_dbtp <= -1.0


def test_linear_gain_alone_when_the_peaks_allow_it_else_the_limiter(espeak_narrations, tmp_path):
    """A hot take only needs a cut (no limiter); espeak as spoken needs the limiter.

    Checked with the gate's meter (ffmpeg ebur128, to 0.1 dB) on a WAV of the result,
    and with pyloudnorm and scipy's oversampling (another implementation, ~0.1 LU apart).
    """
    import wave

    import numpy as np

    from reelgraph.plugins._media.probe import ebur128, pcm_loudness

    with wave.open(str(espeak_narrations[0].segments[0].path), "rb") as wav:
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    ffmpeg = ffmpeg_assembler._ffmpeg_exe()
    hot = np.clip(np.frombuffer(pcm, dtype="<i2").astype(np.float64) * 3, -32768, 32767)

    def measured_at(out_rate: int, samples: bytes):
        with wave.open(str(tmp_path / "out.wav"), "wb") as wav:
            wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(out_rate)
            wav.writeframes(samples)
        return ebur128(tmp_path / "out.wav")

    out, levels = normalise(ffmpeg, hot.astype("<i2").tobytes(), rate, -16.0, 48_000)
    assert levels is not None and not levels.limited and levels.gain_db < 0
    assert abs(len(out) // 2 - len(pcm) // 2 * 48_000 / rate) <= 1  # resampled as it is scaled
    # ebur128 prints 0.1 dB: the gain was computed from one rounded reading, checked by another
    assert measured_at(48_000, out).integrated_lufs == pytest.approx(-16.0, abs=0.15)
    out, levels = normalise(ffmpeg, pcm, rate, -16.0)
    assert levels is not None and levels.limited and 1 <= levels.passes <= 2
    measured = measured_at(rate, out)
    # on the target by construction (a final linear gain), and what it says it did
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=0.15)
    assert measured.true_peak_dbtp <= -1.5 + 0.1
    assert levels.output_true_peak_dbtp == pytest.approx(measured.true_peak_dbtp, abs=0.1)
    lufs, peak = pcm_loudness(np.frombuffer(out, dtype="<i2") / 32768.0, rate)
    assert lufs == pytest.approx(-16.0, abs=0.25) and peak <= -1.4


def test_the_limiter_holds_true_peaks_not_only_samples(espeak_narrations):
    """Oversampled 2x, alimiter keeps the true peak within 0.6 dB of its limit even
    driven 12 dB into it (at the track's own rate inter-sample overs reach ~2 dB)."""
    import wave

    import numpy as np

    from reelgraph.plugins._media.probe import integrated_lufs, true_peak_dbtp
    from reelgraph.plugins.assembly._loudness import limit_peaks

    pcm = b""
    for narration in espeak_narrations:
        for segment in narration.segments:
            with wave.open(str(segment.path), "rb") as wav:
                rate, pcm = wav.getframerate(), pcm + wav.readframes(wav.getnframes())
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    raised = 12.0 - true_peak_dbtp(x, rate) - 3.0  # peaks 12 dB over a -3 dBFS limit
    y, measured = limit_peaks(ffmpeg_assembler._ffmpeg_exe(), x, rate, raised, -3.0)
    assert y.shape == x.shape
    assert -3.5 <= true_peak_dbtp(y, rate) <= -3.0 + 0.6
    # and it measured its own output as pyloudnorm and scipy's 8x oversampling do
    assert measured.true_peak_dbtp == pytest.approx(true_peak_dbtp(y, rate), abs=0.3)
    assert measured.integrated_lufs == pytest.approx(integrated_lufs(y, rate), abs=0.3)


def test_the_aac_encode_keeps_the_true_peak_of_the_normalised_track(tmp_path):
    """What the gate measures (ebur128 on the AAC) is what the normaliser made, within
    0.2 dB, so the true-peak margin under -1 dBTP holds after encoding.

    The fixture is 0.256 s (12 AAC frames, on the frame grid of the whole track) of
    espeak-ng reading attrs' README, as the assembler normalised it (-16 LUFS, true
    peak -2.5 dBTP): ffmpeg's AAC encoder with temporal noise shaping (its default)
    raises its true peak to -1.1 dBTP.
    """
    import wave

    from reelgraph.plugins._media.probe import ebur128
    from reelgraph.plugins.assembly._audio import Chunk, encode_chunk

    source = Path(__file__).parents[1] / "fixtures" / "audio" / "tns_overshoot.wav"
    with wave.open(str(source), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    chunk = Chunk(0, 0, pcm, tmp_path / "encoded.m4a")
    encode_chunk(ffmpeg_assembler._ffmpeg_exe(), chunk, 1, 96)
    before, after = ebur128(source), ebur128(chunk.out)
    assert before.true_peak_dbtp <= -2.0
    assert after.true_peak_dbtp <= before.true_peak_dbtp + 0.2


def test_pcm_loudness_agrees_with_ffmpeg_ebur128(espeak_narrations):
    """pyloudnorm's BS.1770-4 meter and ffmpeg's ebur128 read the same speech alike."""
    import wave

    import numpy as np

    from reelgraph.plugins._media.probe import ebur128, pcm_loudness

    path = espeak_narrations[1].segments[0].path
    with wave.open(str(path), "rb") as wav:
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    lufs, peak = pcm_loudness(np.frombuffer(pcm, dtype="<i2") / 32768.0, rate)
    reference = ebur128(path)
    assert lufs == pytest.approx(reference.integrated_lufs, abs=0.3)
    assert peak == pytest.approx(reference.true_peak_dbtp, abs=0.5)


def test_fast_speech_is_held_so_every_cue_can_be_read(media, tmp_path):
    """Sentences spoken faster than 17 characters/s get silence after them, so the
    captions meet the reading speed and minimum duration by construction."""
    from reelgraph.plugins._media.captions import cue_problems, required_seconds

    # about 20 characters/s, as a fast voice speaks: 0.3 s and 0.9 s short of readable
    welcome = "Welcome to the reelgraph test video."
    sentences = [[(welcome, 1.8), (LONG, 6.3)], [("Short one.", 0.5)]]
    visuals = [media.image(0, (1920, 1080), RED), media.image(1, (1920, 1080), GREEN)]
    narrations = [media.narration(s, i) for i, s in enumerate(sentences)]

    held, _ = run(media, visuals, narrations, tmp_path / "held", options={"hold_for_reading": True})
    assert cue_problems(held.captions, "en") == []
    # scene 0 grew from its speech to what reading needs; "Short one." has its pause
    scene0 = required_seconds(welcome, "en") + max(6.3, required_seconds(LONG, "en") - PAUSE_S)
    assert held.duration_s == pytest.approx(scene0 + PAUSE_S + 0.5 + PAUSE_S, abs=0.1)

    unheld, _ = run(
        media, visuals, narrations, tmp_path / "unheld", options={"hold_for_reading": False}
    )
    assert cue_problems(unheld.captions, "en")  # the same speech without holds is too fast


def test_a_reading_hold_never_leaves_a_silence_the_silence_gate_fails(media, tmp_path):
    """Japanese reads at 4 characters/s: 60 characters spoken in 2 s would need 13 s
    more. The hold stops where the gap between sentences would pass 1.8 s, under
    the black_silence gate's 2 s: the silence limit wins over the reading speed."""
    long_ja = "日本語の文章は一秒に四文字ほどの速さで読まれるので、字幕を長く表示する必要がありますが、沈黙は二秒を超えてはいけません。"
    sentences = [[(long_ja, 2.0), ("短い文です。", 2.0)]]
    visuals = [media.image(0, (1920, 1080), RED)]
    narrations = [media.narration(s, i) for i, s in enumerate(sentences)]
    ctx_options = {"hold_for_reading": True}
    ctx = NodeContext(
        run_id="t",
        node_id="assemble",
        hook="assemble_video",
        provider="ffmpeg",
        run_dir=tmp_path,
        progress=lambda *args: None,
    )
    video = assemble_video(
        script=media.script(narrations, language="ja"),
        visuals=visuals,
        narrations=narrations,
        fps=FPS,
        pause_s=PAUSE_S,
        options=ctx_options,
        ctx=ctx,
    )
    # the test tones have no quiet ends: the hold is the whole gap, 1.8 s
    assert video.duration_s == pytest.approx(2.0 + 1.8 + 2.0 + PAUSE_S, abs=0.1)
    assert audio_rms(video.path, 2.1, 3.7) < 0.01  # the hold is silence
    assert audio_rms(video.path, 3.9, 5.7) > 0.1  # and the second sentence follows it


def test_a_length_target_moves_the_pauses_after_scenes(media, tmp_path):
    # the writer's length is an estimate; the assembler lands nearer the target by
    # stretching or shrinking each spoken scene's pause (within PAUSE_RANGE_S)
    from reelgraph.plugins.assembly._timeline import PAUSE_RANGE_S

    narrations = [media.narration([("One.", 1.0)], i) for i in range(3)]
    visuals = [media.image(i, (320, 180), RED) for i in range(3)]
    as_given, _ = run(media, visuals, narrations, tmp_path / "given")
    planned_s = as_given.duration_s
    assert planned_s == pytest.approx(3 * (1.0 + PAUSE_S), abs=0.1)
    longer, _ = run(media, visuals, narrations, tmp_path / "long",
                    options={"target_s": planned_s + 1.2})  # fmt: skip
    assert longer.duration_s == pytest.approx(planned_s + 1.2, abs=2 / FPS)
    far, _ = run(media, visuals, narrations, tmp_path / "far", options={"target_s": 60})
    high = PAUSE_RANGE_S[1]
    assert far.duration_s == pytest.approx(3 * (1.0 + high), abs=0.1)  # no longer than allowed
