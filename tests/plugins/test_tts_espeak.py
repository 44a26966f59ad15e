"""The espeak plugin against the real libespeak-ng (espeakng-loader), no mocks."""

from __future__ import annotations

import ctypes
import math
import wave
from array import array
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reelgraph.plugins.speech.espeak as espeak
from reelgraph import hookspecs
from reelgraph.errors import InvalidInputError
from reelgraph.models import Narration, SpeechSegment
from reelgraph.run.context import NodeContext

TEN_WORDS = "The quick brown fox jumps over the lazy sleeping dog."
OTHER = "Offline speech keeps the whole pipeline free of network calls."


def read_wav(path: Path) -> tuple[wave._wave_params, array]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = array("h", wav.readframes(params.nframes))
    return params, samples


def rms(samples: array) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


def speak(sentences: list[str], ctx: NodeContext, voice=None, rate_wpm=None) -> Narration:
    return espeak.synthesize_speech(
        sentences=sentences, voice=voice, rate_wpm=rate_wpm, options={}, ctx=ctx
    )


# -- the hook -------------------------------------------------------------------


def test_two_sentences_make_two_decodable_wavs(tmp_path: Path) -> None:
    progress: list[tuple[float, float | None]] = []
    ctx = NodeContext(
        run_id="r",
        node_id="speech",
        hook="synthesize_speech",
        provider="espeak",
        run_dir=tmp_path,
        item_index=3,
        progress=lambda node, item, done, total, msg: progress.append((done, total)),
    )
    narration = speak([TEN_WORDS, OTHER], ctx)

    assert narration.voice == "espeak:en-us"
    assert [s.path.name for s in narration.segments] == ["sentence-000.wav", "sentence-001.wav"]
    assert all(s.path.parent == tmp_path / "speech" / "3" for s in narration.segments)
    assert progress == [(1, 2), (2, 2)]
    for segment, text in zip(narration.segments, [TEN_WORDS, OTHER], strict=True):
        params, samples = read_wav(segment.path)
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
        assert segment.sample_rate_hz == 22050
        assert segment.text == text
        assert segment.duration_s == params.nframes / 22050
        assert rms(samples) > 500, "speech should not be near-silent"
    # A 10-word sentence at 165 wpm lasts about 10 / 165 * 60 = 3.6 s.
    assert 2.5 <= narration.segments[0].duration_s <= 6.0
    assert narration.duration_s == pytest.approx(sum(s.duration_s for s in narration.segments))
    assert not [p for p in (tmp_path / "speech" / "3").iterdir() if p.suffix != ".wav"]


def test_faster_rate_gives_shorter_audio(tmp_path: Path) -> None:
    slow = espeak.synthesize_to_wav(TEN_WORDS, tmp_path / "slow.wav", rate_wpm=120)
    fast = espeak.synthesize_to_wav(TEN_WORDS, tmp_path / "fast.wav", rate_wpm=300)
    assert fast.duration_s < 0.7 * slow.duration_s


def test_word_timings_are_ordered_and_inside_the_segment(tmp_path: Path) -> None:
    segment = espeak.synthesize_to_wav(TEN_WORDS, tmp_path / "w.wav")
    starts = [w.start_s for w in segment.words]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert starts[0] < 0.2 and starts[-1] < segment.duration_s
    assert abs(len(segment.words) - len(TEN_WORDS.split())) <= 2
    assert " ".join(w.text for w in segment.words) == TEN_WORDS
    # "dog." is the last word and starts well after the middle of the sentence.
    assert segment.words[-1].text == "dog." and starts[-1] > segment.duration_s / 2


def test_word_text_uses_character_positions_for_non_ascii(tmp_path: Path) -> None:
    text = "Café naïve résumé costs 123 dollars today."
    segment = espeak.synthesize_to_wav(text, tmp_path / "u.wav")
    words = [w.text for w in segment.words]
    # espeak speaks "123" as three words; it must still be one timed token.
    assert words == ["Café", "naïve", "résumé", "costs", "123", "dollars", "today."]


def test_language_tags_and_voice_names_are_accepted(tmp_path: Path) -> None:
    text = "The car park is far, the water is hot."  # rhotic vs non-rhotic
    us = espeak.synthesize_to_wav(text, tmp_path / "us.wav", voice="en-us")
    gb = espeak.synthesize_to_wav(text, tmp_path / "gb.wav", voice="en-gb")
    named = espeak.synthesize_to_wav(text, tmp_path / "n.wav", voice="English (America)")
    # Same voice: same length within espeak's carried-over phase (see below).
    assert abs(named.duration_s - us.duration_s) < 0.005
    assert abs(gb.duration_s - us.duration_s) > 0.05, "en-gb should be a different voice"
    voices = espeak.english_voices()
    assert voices[0] == "en-us" and "en-gb" in voices
    assert all(v == "en" or v.startswith("en-") for v in voices)


def test_empty_sentence_list_gives_empty_narration(tmp_path: Path) -> None:
    narration = speak([], NodeContext.for_testing(tmp_path))
    assert narration.segments == [] and narration.duration_s == 0
    assert not list(tmp_path.rglob("*.wav"))


def test_hook_is_registered_under_its_entry_point(tmp_path: Path) -> None:
    (entry,) = [e for e in metadata.entry_points(group="reelgraph") if e.name == "espeak"]
    assert entry.value == "reelgraph.plugins.speech.espeak"
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(entry.load(), name="espeak")
    pm.check_pending()
    narration = pm.hook.synthesize_speech(
        sentences=["Hello there."],
        voice="en-us",
        rate_wpm=200,
        language=None,
        options={},
        speech=[],
        ctx=NodeContext.for_testing(tmp_path),
    )
    assert isinstance(narration, Narration) and len(narration.segments) == 1


def test_event_struct_matches_speak_lib_h() -> None:
    # speak_lib.h: six 4-byte ints, void *user_data, then a union of an int, a
    # char * and char[8]. On 64-bit Linux: user_data at 24, id at 32, 40 bytes.
    pointer = ctypes.sizeof(ctypes.c_void_p)
    event = espeak._Event
    assert (event.text_position.offset, event.sample.offset) == (8, 20)
    assert event.user_data.offset == 24
    assert event.id.offset == 24 + pointer
    assert ctypes.sizeof(event) == 24 + pointer + 8
    if pointer == 8:
        assert ctypes.sizeof(event) == 40


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("voice", ["no-such-voice", "en-zz", " "])
def test_unknown_voice_is_invalid_input(tmp_path: Path, voice: str) -> None:
    # espeak's own language lookup matches by prefix ("no-such-voice" would
    # give Norwegian); the plugin accepts only names and exact language tags.
    with pytest.raises(InvalidInputError, match="voice"):
        speak([TEN_WORDS], NodeContext.for_testing(tmp_path), voice=voice)
    with pytest.raises(InvalidInputError, match="voice"):
        speak([], NodeContext.for_testing(tmp_path), voice=voice)
    assert not list(tmp_path.rglob("*.wav"))


def test_unknown_voice_message_lists_english_voices(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"unknown voice 'zz'.*'en-us', .*'en-gb'"):
        espeak.synthesize_to_wav("Hi.", tmp_path / "x.wav", voice="zz")


@pytest.mark.parametrize("rate", [79, 451, 0, -165, 165.0, "fast", True])
def test_rate_out_of_range_or_not_an_int_is_invalid_input(tmp_path: Path, rate: object) -> None:
    with pytest.raises(InvalidInputError, match="rate_wpm"):
        speak([TEN_WORDS], NodeContext.for_testing(tmp_path), rate_wpm=rate)


@pytest.mark.parametrize("rate", [80, 450])
def test_rate_limits_are_inclusive(tmp_path: Path, rate: int) -> None:
    assert speak(["Edge."], NodeContext.for_testing(tmp_path), rate_wpm=rate).duration_s > 0


@pytest.mark.parametrize("bad", ["", "   \n", "nul\x00byte"])
def test_blank_or_nul_sentence_names_its_index(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInputError, match=r"sentences\[1\]"):
        speak([TEN_WORDS, bad], NodeContext.for_testing(tmp_path))
    assert not list(tmp_path.rglob("*.wav")), "nothing is written before input is checked"


def test_markup_is_spoken_as_text_not_ssml(tmp_path: Path) -> None:
    # With the SSML flag, <break time="3s"/> would add 3 s of silence.
    plain = espeak.synthesize_to_wav("Wait here.", tmp_path / "a.wav")
    tagged = espeak.synthesize_to_wav('Wait <break time="3s"/> here.', tmp_path / "b.wav")
    assert tagged.duration_s < plain.duration_s + 2.5


# -- concurrency and speed -----------------------------------------------------------------


def test_concurrent_calls_match_sequential_ones(tmp_path: Path) -> None:
    # espeak-ng keeps oscillator state (pitch flutter, wave phase) from one
    # sentence to the next, so the same sentence after a different one (another
    # voice or rate) differs by up to ~300 samples (14 ms, seen on CI).
    # Unserialised calls mix buffers (lengths off by whole words) or crash;
    # 25 ms (550 samples) separates the two.
    tolerance = 550
    jobs = [
        (TEN_WORDS, "en-us", 165),
        (OTHER, "en-gb", 300),
        ("Short one.", "en-us", 90),
        (TEN_WORDS + " " + OTHER, "en-us+f3", 220),
    ] * 2

    def run(i: int, prefix: str) -> SpeechSegment:
        text, voice, rate = jobs[i]
        return espeak.synthesize_to_wav(text, tmp_path / f"{prefix}-{i}.wav", voice, rate)

    alone = [run(i, "alone") for i in range(len(jobs))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(run, range(len(jobs)), ["together"] * len(jobs)))
    for a, b in zip(alone, together, strict=True):
        frames_a, frames_b = read_wav(a.path)[0].nframes, read_wav(b.path)[0].nframes
        assert abs(frames_a - frames_b) <= tolerance
        assert [w.text for w in a.words] == [w.text for w in b.words]
        for wa, wb in zip(a.words, b.words, strict=True):
            assert abs(wa.start_s - wb.start_s) <= tolerance / 22050


def test_sequential_calls_vary_by_at_most_a_few_samples(tmp_path: Path) -> None:
    lengths = {
        read_wav(espeak.synthesize_to_wav(OTHER, tmp_path / f"s{i}.wav").path)[0].nframes
        for i in range(10)
    }
    assert max(lengths) - min(lengths) <= 110


# -- property ------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ éüß 0123456789 .,;:!?'\"-()<>[]&/%$€😀\n\t")),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_TEXT)
def test_any_text_gives_consistent_segment(tmp_path: Path, text: str) -> None:
    segment = espeak.synthesize_to_wav(text, tmp_path / "p.wav")
    assert isinstance(segment, SpeechSegment)
    params, _ = read_wav(segment.path)
    assert segment.duration_s == params.nframes / 22050
    starts = [w.start_s for w in segment.words]
    assert starts == sorted(starts)
    assert all(0 <= s <= segment.duration_s for s in starts)
    if segment.words:
        assert " ".join(w.text for w in segment.words) == " ".join(text.split())
