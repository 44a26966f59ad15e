"""The assembler's bed on real media: a clip's own sound and a music bed, ducked under the voice.

Levels are read from the finished MP4: each source is a sine at its own
frequency (voice 300 Hz, clip 1 kHz, music 2 kHz), and a window's level of a
source is the amplitude of its frequency there (a single-bin DFT), in dBFS.
"""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import Visual
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.plugins.gates.loudness import check_quality as loudness_gate
from reelgraph.run.context import NodeContext
from tests.plugins.conftest import make_tone_wav

FPS = 30
PAUSE_S = 0.5
VOICE_HZ, CLIP_HZ, MUSIC_HZ = 300, 1000, 2000


def tone_clip(path: Path, seconds: float, hz: int | None) -> Visual:
    """A testsrc clip with a sine of ``hz`` as its sound (none when ``hz`` is None)."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc=size=320x180:rate=25:duration={seconds}"]
    if hz:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate=48000:duration={seconds}"]
        cmd += ["-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return Visual(
        scene_index=0,
        kind="video",
        path=path,
        width_px=320,
        height_px=180,
        alt_text="test pattern",
        duration_s=seconds,
    )


def ctx_for(workdir: Path) -> NodeContext:
    return NodeContext(
        run_id="t", node_id="video", hook="assemble_video", provider="ffmpeg", run_dir=workdir
    )


def run(media, visuals, narrations, workdir: Path, **options):
    return assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=FPS,
        pause_s=PAUSE_S,
        options={"hold_for_reading": False, **options},
        ctx=ctx_for(workdir),
    )


def decoded(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        x = np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)])
    return x, rate


def level_db(audio: tuple[np.ndarray, int], hz: float, start_s: float, end_s: float) -> float:
    """The amplitude of the ``hz`` sine between two times, dBFS (a one-bin DFT)."""
    x, rate = audio
    window = x[round(start_s * rate) : round(end_s * rate)]
    t = np.arange(window.size) / rate
    amplitude = 2 * abs(np.sum(window * np.exp(-2j * np.pi * hz * t))) / window.size
    return 20 * math.log10(max(amplitude, 1e-9))


# -- a clip's own sound ----------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_media(tmp_path_factory, make_media):
    """Scene 0: 2 s of voice over a clip with a 1 kHz tone; scene 1: the clip, no voice (2 s)."""
    media = make_media(tmp_path_factory.mktemp("clipsound"))
    a = tone_clip(media.root / "a.mp4", 2.5, CLIP_HZ)
    b = tone_clip(media.root / "b.mp4", 2.0, CLIP_HZ).model_copy(update={"scene_index": 1})
    narrations = [media.narration([("Voice over a clip with sound.", 2.0)], 0)]
    narrations.append(media.narration([], 1))
    return media, [a, b], narrations


def test_a_clip_keeps_its_sound_under_the_voice_ducked(clip_media, tmp_path):
    media, visuals, narrations = clip_media
    video = run(media, visuals, narrations, tmp_path / "keep")
    audio = decoded(video.path)
    voice = level_db(audio, VOICE_HZ, 0.5, 1.8)
    under_voice = level_db(audio, CLIP_HZ, 0.5, 1.8)
    alone = level_db(audio, CLIP_HZ, 3.1, 4.3)  # scene 1: no speech
    # the clip's sound is there, 14 LU under the voice where nobody speaks (+-3 dB:
    # K-weighting of 1 kHz against 300 Hz, the release)
    assert alone > -45
    assert voice - alone == pytest.approx(14, abs=3)
    # and ducked while the voice speaks
    assert alone - under_voice >= 10, (alone, under_voice)
    # the picture is the clips' (the sound changes nothing of the timeline)
    assert video.duration_s == pytest.approx((75 + 60) / FPS)


def test_clip_audio_drop_leaves_it_out(clip_media, tmp_path):
    media, visuals, narrations = clip_media
    video = run(media, visuals, narrations, tmp_path / "drop", clip_audio="drop")
    audio = decoded(video.path)
    assert level_db(audio, CLIP_HZ, 3.1, 4.3) < -80
    assert level_db(audio, VOICE_HZ, 0.5, 1.8) > -20


# -- a music bed ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def music_video(tmp_path_factory, make_media):
    """Speech 2 s, a scene without speech (2 s), speech 1 s; a 1.5 s 2 kHz music file, looped."""
    media = make_media(tmp_path_factory.mktemp("music"))
    music = media.root / "music.wav"
    make_tone_wav(music, 1.5, rate_hz=44_100, freq_hz=MUSIC_HZ, amplitude=12_000)
    narrations = [
        media.narration([("Music plays under this sentence.", 2.0)], 0),
        media.narration([], 1),
        media.narration([("And under this one.", 1.0)], 2),
    ]
    visuals = [media.image(i, (320, 180), (40, 60 + 40 * i, 200)) for i in range(3)]
    root = tmp_path_factory.mktemp("music_run")
    return run(media, visuals, narrations, root, music=str(music)), root


def test_music_is_looped_and_ducked_under_the_voice(music_video):
    video, _ = music_video
    audio = decoded(video.path)
    voice = level_db(audio, VOICE_HZ, 0.6, 1.9)
    during = level_db(audio, MUSIC_HZ, 0.6, 1.9)
    gap = level_db(audio, MUSIC_HZ, 3.0, 4.3)  # scene 1, past the 1.5 s file: looped
    depth = gap - during
    print(f"music ducking: {depth:.1f} dB; under the voice by {voice - during:.1f} dB in speech")
    assert depth >= 10
    # WCAG 2.x SC 1.4.7: background at least 20 dB under speech
    assert voice - during >= 20
    # in the pauses, music_db (-10 LU) under the voice: in amplitude 10 dB plus what
    # BS.1770's K-weighting adds at 2 kHz against 300 Hz (its shelf: about +3 dB)
    assert 10 <= voice - gap <= 15
    # faded in: quieter in its first 0.2 s than at full level in the gap
    assert level_db(audio, MUSIC_HZ, 0.0, 0.2) < gap - 6


def test_the_mix_with_music_passes_the_loudness_gate(music_video):
    video, root = music_video
    results = loudness_gate(
        video=video, targets={}, gates=["loudness"], thresholds={}, ctx=ctx_for(root)
    )
    assert results and all(r.passed for r in results), [r.message for r in results]
    integrated = next(r for r in results if r.details["check"] == "integrated")
    print(f"final mix: {integrated.measured} LUFS")
    assert integrated.measured == pytest.approx(-16.0, abs=0.5)


def test_an_undecodable_music_file_is_named_and_leaves_no_video(media, tmp_path):
    bad = tmp_path / "music.mp3"
    bad.write_text("not audio at all\n")
    narrations = [media.narration([("One.", 0.6)], 0)]
    visuals = [media.image(0, (320, 180), (40, 60, 200))]
    with pytest.raises(InvalidInputError, match=r"options.music: cannot decode .*music.mp3"):
        run(media, visuals, narrations, tmp_path / "run", music=str(bad))
    assert not (tmp_path / "run" / "video" / "video.mp4").exists()
    empty = tmp_path / "empty.wav"
    make_tone_wav(empty, 0.0)  # a header and no samples: no endless loop
    with pytest.raises(InvalidInputError, match=r"options.music: .*empty.wav has no audio"):
        run(media, visuals, narrations, tmp_path / "run", music=str(empty))
    with pytest.raises(InvalidInputError, match=r"options.music: file not found"):
        run(media, visuals, narrations, tmp_path / "run", music=str(tmp_path / "none.wav"))


def test_real_speech_ducks_the_bed_by_over_10_db(tmp_path):
    """espeak-ng speech, a pause, the same speech: the ducked bed is the mix minus the voice."""
    import imageio_ffmpeg
    import structlog

    from reelgraph.plugins.assembly._mix import Bed, mix
    from reelgraph.plugins.speech.espeak import synthesize_speech

    sentence = "Every backup needs a restore drill, once a quarter, with the whole team watching."
    narration = synthesize_speech(
        sentences=[sentence], voice=None, rate_wpm=None, options={},
        ctx=NodeContext.for_testing(tmp_path / "tts"),
    )  # fmt: skip
    with wave.open(str(narration.segments[0].path)) as wav:
        rate = wav.getframerate()
        speech = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    pause = np.zeros(2 * rate, dtype="<i2")
    voice = np.concatenate([speech, pause, speech, pause])
    music = tmp_path / "music.wav"
    make_tone_wav(music, 3.0, rate_hz=44_100, freq_hz=MUSIC_HZ, amplitude=12_000)
    out = mix(
        imageio_ffmpeg.get_ffmpeg_exe(), voice.tobytes(), rate, Bed(music=music), tmp_path,
        structlog.get_logger(),
    )  # fmt: skip
    x = voice.astype(np.float64) / 32768
    bed = np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768 - x  # no peak scaling here

    def rms_db(a: np.ndarray) -> float:
        return 20 * math.log10(float(np.sqrt(np.mean(a**2))) + 1e-12)

    k = speech.size
    in_speech = rms_db(bed[round(0.3 * rate) : k])
    in_pause = rms_db(bed[k + round(0.8 * rate) : k + round(1.9 * rate)])
    voice_db = rms_db(x[round(0.3 * rate) : k])
    print(
        f"espeak: bed {in_pause - in_speech:.1f} dB lower in speech, {voice_db - in_speech:.1f} dB under the voice"
    )
    assert in_pause - in_speech >= 10
    assert voice_db - in_speech >= 20
    assert voice_db - in_pause == pytest.approx(10, abs=3)  # music_db, K-weighted


def test_each_clip_is_heard_while_it_is_shown(media, tmp_path):
    """Two shots in a scene without speech (2 s): a 1 kHz clip, then a 1.5 kHz one, 1 s each."""
    first = tone_clip(media.root / "first.mp4", 1.0, CLIP_HZ)
    second = tone_clip(media.root / "second.mp4", 1.0, 1500)
    narrations = [media.narration([], 0)]
    for transition in ("cut", "fade"):
        video = run(
            media, [first, second], narrations, tmp_path / transition, transition=transition
        )
        audio = decoded(video.path)
        assert video.duration_s == pytest.approx(2.0)
        assert level_db(audio, CLIP_HZ, 0.1, 0.75) > -40
        assert level_db(audio, 1500, 0.1, 0.75) < -60, transition
        assert level_db(audio, 1500, 1.25, 1.9) > -40
        assert level_db(audio, CLIP_HZ, 1.25, 1.9) < -60, transition
    # with the crossfade both sound at the boundary, each about half way down
    at_boundary = [level_db(audio, hz, 0.95, 1.05) for hz in (CLIP_HZ, 1500)]
    assert all(-60 < level < level_db(audio, CLIP_HZ, 0.1, 0.75) for level in at_boundary)
