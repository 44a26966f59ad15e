"""The assembler's timeline: reading holds never make a silence the black_silence gate fails.

Real WAV files on disk, the real ``plan`` and ``track``; no ffmpeg is run (the
clips are already 16-bit mono at the track's rate).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from reelgraph.models import Narration, SpeechSegment, Visual
from reelgraph.plugins.assembly._timeline import (
    _MAX_GAP_S,
    _QUIET_SAMPLE,
    PAUSE_RANGE_S,
    Clip,
    Scene,
    Timing,
    fit_pause,
    plan,
    track,
)

RATE = 24_000
# a sentence whose captions need ~8 s of reading time: spoken in 0.4 s it wants a long hold
LONG = (
    "The kernel schedules every node of the graph as soon as its inputs are ready, "
    "and plugins register their hooks through entry points so others can extend it."
)


def _wav(path: Path, lead_s: float, speech_s: float, tail_s: float) -> Path:
    """Near-silence (zeros), a 440 Hz tone at -12 dBFS, near-silence again."""
    t = np.arange(round(speech_s * RATE)) / RATE
    tone = (0.25 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    tone[np.abs(tone) < _QUIET_SAMPLE] = _QUIET_SAMPLE  # no quiet samples inside the speech
    pcm = np.concatenate([
        np.zeros(round(lead_s * RATE), "<i2"), tone, np.zeros(round(tail_s * RATE), "<i2")
    ])  # fmt: skip
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    return path


def _narration(segments: list[tuple[Path, str]]) -> Narration:
    speech = []
    for path, text in segments:
        with wave.open(str(path), "rb") as wav:
            seconds = wav.getnframes() / RATE
        speech.append(SpeechSegment(text=text, path=path, duration_s=seconds, sample_rate_hz=RATE))
    return Narration(segments=speech, voice="en-us", duration_s=sum(s.duration_s for s in speech))


def _visual(i: int, tmp: Path) -> Visual:
    return Visual(scene_index=i, path=tmp / f"{i}.png", width_px=64, height_px=36, alt_text="x")


def _longest_inner_silence_s(pcm: bytearray) -> float:
    """Longest run of samples under _QUIET_SAMPLE between the first and last loud sample."""
    samples = np.abs(np.frombuffer(bytes(pcm), "<i2").astype(np.int32))
    loud = np.flatnonzero(samples >= _QUIET_SAMPLE)
    gaps = np.diff(loud) - 1
    return float(gaps.max()) / RATE if gaps.size else 0.0


def _render(
    tmp: Path, scenes: list[list[tuple[float, float, float, str]]], pause_s: float, fps: int
):
    narrations = []
    for i, scene in enumerate(scenes):
        segments = [
            (_wav(tmp / f"s{i}_{j}.wav", lead, speech, tail), text)
            for j, (lead, speech, tail, text) in enumerate(scene)
        ]
        narrations.append(_narration(segments))
    visuals = [_visual(i, tmp) for i in range(len(scenes))]
    timing = Timing(fps=fps, pause_s=pause_s, min_scene_frames=2 * fps, hold_for_reading=True)
    laid = plan(visuals, narrations, timing, "ffmpeg", RATE, tmp, structlog.get_logger(), "en")
    return laid, track(laid, fps, RATE)


def test_the_hold_before_a_scene_change_counts_the_next_scenes_quiet_start(tmp_path):
    # colorama's corpus render: a short last sentence wanting a long hold, then a
    # scene whose first sentence opens with 0.4 s of quiet; the silence was 2.07 s
    scenes = [
        [(0.05, 1.0, 0.05, "Intro."), (0.05, 0.4, 0.2, LONG)],
        [(0.4, 1.0, 0.05, "Next scene."), (0.05, 1.0, 0.05, "End.")],
    ]
    laid, pcm = _render(tmp_path, scenes, pause_s=0.5, fps=25)
    assert laid[0].clips[1].hold > 0  # the hold still happens
    assert _longest_inner_silence_s(pcm) <= _MAX_GAP_S


def test_no_hold_before_a_scene_without_speech(tmp_path):
    scenes = [[(0.05, 0.4, 0.1, LONG)], [], [(0.05, 1.0, 0.05, "After.")]]
    laid, _ = _render(tmp_path, scenes, pause_s=0.5, fps=25)
    assert laid[0].clips[0].hold == 0  # the silent scene is already 2 s of silence


def test_the_last_sentence_of_the_video_is_held_up_to_the_limit(tmp_path):
    laid, _ = _render(tmp_path, [[(0.05, 0.4, 0.1, LONG)]], pause_s=0.5, fps=25)
    # nothing speaks after it: the hold may use all of _MAX_GAP_S less its own quiet
    # end, the pause and one frame of rounding
    expected = round(_MAX_GAP_S * RATE) - round(0.1 * RATE) - round(0.5 * RATE) - RATE // 25
    assert laid[0].clips[0].hold == expected


_clip = st.tuples(
    st.sampled_from([0.0, 0.05, 0.3, 0.6]),  # quiet lead, s
    st.sampled_from([0.3, 0.8, 2.0]),  # speech, s
    st.sampled_from([0.0, 0.1, 0.4]),  # quiet tail, s
    st.sampled_from(["Yes.", "A short one here.", LONG]),
)


@settings(max_examples=25, deadline=None)
@given(
    scenes=st.lists(st.lists(_clip, min_size=1, max_size=3), min_size=2, max_size=3),
    pause_s=st.sampled_from([0.0, 0.3, 0.5]),
    fps=st.sampled_from([24, 25, 30]),
)
def test_holds_never_make_a_silence_over_the_limit(tmp_path_factory, scenes, pause_s, fps):
    # every clip's own quiet plus the pause stays under the limit here, so any longer
    # silence in the track would be a hold's doing
    laid, pcm = _render(tmp_path_factory.mktemp("t"), scenes, pause_s, fps)
    assert _longest_inner_silence_s(pcm) <= _MAX_GAP_S
    assert any(c.hold for s in laid for c in s.clips) or all(
        t != LONG for scene in scenes for *_, t in scene
    )


# -- a length target: the pauses after scenes ---------------------------------------


def _timeline(seconds: list[float], fps: int = 30) -> list[Scene]:
    spoken = Clip(text="x", path=Path("x.wav"), frames=1, words=[])
    return [
        Scene(index=i, visual=None, clips=[spoken], frames=round(s * fps))  # type: ignore[arg-type]
        for i, s in enumerate(seconds)
    ]


def test_pauses_shrink_or_stretch_toward_the_target_within_their_range() -> None:
    scenes = _timeline([10.0] * 8)  # 80 s planned with 0.75 s pauses
    assert fit_pause(scenes, 30, 0.75, 78.0) == pytest.approx(0.5)  # 2 s over: 8 x 0.25 s
    assert fit_pause(scenes, 30, 0.75, 82.0) == pytest.approx(1.0)
    low, high = PAUSE_RANGE_S
    assert fit_pause(scenes, 30, 0.75, 60.0) == low  # far over: as short as a pause may be
    assert fit_pause(scenes, 30, 0.75, 120.0) == high  # silences stay under the gate's 2 s
    assert fit_pause(scenes, 30, 0.75, 80.8) == 0.75  # within 1 s: left alone
    assert fit_pause(scenes, 30, 2.0, 120.0) == 2.0  # a longer pause the user chose stays


def test_scenes_without_speech_keep_their_length() -> None:
    silent = [Scene(index=0, visual=None, clips=[], frames=300)]  # type: ignore[arg-type]
    assert fit_pause(silent, 30, 0.75, 5.0) == 0.75
