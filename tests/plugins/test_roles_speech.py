"""Speech providers speak what the narrator prepared, while captions keep the sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.plugins.speech import espeak, piper
from reelgraph.run.context import NodeContext


def ctx(tmp_path: Path, name: str) -> NodeContext:
    return NodeContext.for_testing(tmp_path / name)


def test_espeak_speaks_ssml_and_keeps_the_sentence_for_captions(tmp_path: Path) -> None:
    plain = espeak.synthesize_speech(["Think."], "en-us", 140, {}, ctx(tmp_path, "a"), "en")
    paused = espeak.synthesize_speech(
        ["Think."], "en-us", 140, {}, ctx(tmp_path, "b"), "en",
        ['<speak>Think.<break time="800ms"/></speak>'],
    )  # fmt: skip
    (segment,) = paused.segments
    assert segment.text == "Think." and segment.words == []  # events point into the markup
    assert segment.duration_s - plain.segments[0].duration_s >= 0.6  # the break was spoken


def test_espeak_ssml_root_adds_no_pause(tmp_path: Path) -> None:
    sentence = "Small daily merges keep main releasable."
    plain = espeak.synthesize_speech([sentence], "en-us", 140, {}, ctx(tmp_path, "a"), "en")
    wrapped = espeak.synthesize_speech(
        [sentence], "en-us", 140, {}, ctx(tmp_path, "b"), "en", [f"<speak>{sentence}</speak>"]
    )
    # espeak-ng ends </speak> with a paragraph pause (~0.43 s): the root is unwrapped
    assert wrapped.duration_s == pytest.approx(plain.duration_s, abs=0.05)


def test_espeak_spells_a_say_as_characters(tmp_path: Path) -> None:
    word = espeak.synthesize_speech(
        ["NASA."], "en-us", 140, {}, ctx(tmp_path, "a"), "en", ["<speak>NASA.</speak>"]
    )
    spelled = espeak.synthesize_speech(
        ["NASA."], "en-us", 140, {}, ctx(tmp_path, "b"), "en",
        ['<speak><say-as interpret-as="characters">NASA</say-as>.</speak>'],
    )  # fmt: skip
    assert spelled.duration_s > word.duration_s + 0.3  # four letters take longer than one word


def test_speech_must_match_the_sentences(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"one entry per sentence \(2\), got 1"):
        espeak.synthesize_speech(
            ["A.", "B."], None, None, {}, ctx(tmp_path, "a"), "en", ["<speak>A.</speak>"]
        )
    with pytest.raises(InvalidInputError, match=r"speech\[0\] is empty"):
        espeak.synthesize_speech(["A."], None, None, {}, ctx(tmp_path, "b"), "en", ["  "])
    assert not list(tmp_path.rglob("*.wav"))  # refused before any audio


def test_piper_speaks_the_prepared_text(tmp_path: Path) -> None:
    short = piper.synthesize_speech(["Hi."], None, None, {}, ctx(tmp_path, "a"), "en")
    prepared = piper.synthesize_speech(
        ["Hi."], None, None, {}, ctx(tmp_path, "b"), "en",
        ["Hello to everyone listening in the room today."],
    )  # fmt: skip
    assert prepared.segments[0].text == "Hi."
    assert prepared.duration_s > short.duration_s + 1.0
    # SSML meant for another engine is read as its words, not its tags
    tagged = piper.synthesize_speech(
        ["Hi."], None, None, {}, ctx(tmp_path, "c"), "en",
        ['<speak>Hi<break time="300ms"/> there &amp; welcome.</speak>'],
    )  # fmt: skip
    words = piper.synthesize_speech(
        ["Hi there and welcome."], None, None, {}, ctx(tmp_path, "d"), "en"
    )
    assert tagged.duration_s == pytest.approx(words.duration_s, abs=0.35)
