"""The voice follows the script's language (real espeak-ng audio, real translations)."""

from __future__ import annotations

import gettext
import os
import subprocess
import sys
import wave
from array import array
from pathlib import Path

import pytest

import reelgraph.plugins.speech.espeak as espeak
from reelgraph.errors import InvalidInputError
from reelgraph.run.context import NodeContext

# Real sentences nobody on the project wrote: apt's own translations
# (/usr/share/locale/<locale>/LC_MESSAGES/apt.mo), looked up by their English msgid.
MSGIDS = ["All packages are up to date.", "Done", "Reading package lists"]


def translated(locale: str) -> str:
    path = Path(f"/usr/share/locale/{locale}/LC_MESSAGES/apt.mo")
    if not path.is_file():
        pytest.skip(f"no apt translation for {locale} on this machine")
    with path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    for msgid in MSGIDS:
        text = catalog.gettext(msgid)
        if text != msgid:
            return text
    pytest.skip(f"apt.mo for {locale} translates none of {MSGIDS}")


def samples(path: Path) -> array:
    with wave.open(str(path), "rb") as wav:
        return array("h", wav.readframes(wav.getnframes()))


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr", "fr"),
        ("de", "de"),
        ("es", "es"),
        ("zh", "cmn"),
        ("zh-Hans", "cmn"),
        ("zh-CN", "cmn"),
        ("zh-HK", "yue"),
        ("ja", "ja"),
        ("ko", "ko"),
        ("pt-BR", "pt-br"),
        ("pt", "pt"),
        ("fr-CA", "fr"),  # no Canadian voice: the language's own
        ("en", "en-us"),
        ("en-GB", "en-gb"),
        ("iw", "he"),  # deprecated tag, standardised
        ("km", None),  # Khmer: espeak-ng has no voice
        ("und", None),
    ],
)
def test_bcp47_tags_map_to_listed_voices(tag: str, expected: str | None) -> None:
    assert espeak.voice_for_language(tag) == expected
    if expected is not None:
        assert expected in espeak.espeak_languages()


def test_not_a_language_tag_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="BCP 47"):
        espeak.voice_for_language("not a tag!")


@pytest.mark.parametrize(
    ("tag", "locale", "voice"),
    [("fr", "fr", "fr"), ("de", "de", "de"), ("es", "es", "es"), ("zh", "zh_CN", "cmn"),
     ("ja", "ja", "ja")],
)  # fmt: skip
def test_language_picks_the_voice_and_it_speaks(
    tmp_path: Path, tag: str, locale: str, voice: str
) -> None:
    text = translated(locale)
    ctx = NodeContext.for_testing(tmp_path / tag)
    narration = espeak.synthesize_speech([text], None, None, {}, ctx, tag)
    assert narration.voice == f"espeak:{voice}"
    (segment,) = narration.segments
    assert segment.text == text  # captions keep the sentence as written
    spoken = samples(segment.path)
    assert segment.duration_s > 0.3 and max(map(abs, spoken)) > 1000
    # the same text through the English voice sounds different
    english = espeak.synthesize_to_wav(text, tmp_path / f"{tag}-en.wav", voice="en-us")
    assert samples(english.path) != spoken


def test_a_named_voice_wins_over_the_language(tmp_path: Path) -> None:
    ctx = NodeContext.for_testing(tmp_path)
    narration = espeak.synthesize_speech(["Hello."], "en-gb", None, {}, ctx, "fr")
    assert narration.voice == "espeak:en-gb"


def test_undetermined_language_gets_the_default_voice(tmp_path: Path) -> None:
    ctx = NodeContext.for_testing(tmp_path)
    assert espeak.synthesize_speech([], None, None, {}, ctx, "und").voice == "espeak:en-us"


def test_unsupported_language_stops_before_any_audio(tmp_path: Path) -> None:
    ctx = NodeContext.for_testing(tmp_path)
    with pytest.raises(InvalidInputError, match=r"no voice for language 'km'.*voice"):
        espeak.synthesize_speech(["One.", "Two."], None, None, {}, ctx, "km")
    with pytest.raises(InvalidInputError, match="no voice for language 'km'"):
        espeak.synthesize_speech([], None, None, {}, ctx, "km")  # the spec's voice check
    assert not list(tmp_path.rglob("*.wav"))


def test_cli_stops_with_exit_2_and_no_audio_for_an_unsupported_language(tmp_path: Path) -> None:
    """The shipped spec, a tiny document, ``-i language=km``: exit 2, nothing spoken."""
    doc = tmp_path / "notes.md"
    doc.write_text(
        "# Notes\n\nThe mirror answered in time. Nothing else changed today.\n\n"
        "## Next\n\nCheck the mirror again tomorrow morning.\n",
        encoding="utf-8",
    )
    home, out = tmp_path / "home", tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "run", "document-to-video",
         "-i", f"document={doc}", "-i", "language=km", "-o", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "REELGRAPH_HOME": str(home)},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "no voice for language 'km'" in result.stderr
    assert not list(home.rglob("*.wav")) and not list(tmp_path.rglob("*.wav"))
    assert not (out / "video.mp4").exists()


def test_a_sentence_too_fast_for_its_captions_is_spoken_again_slower(tmp_path) -> None:
    """The narration rate adapts per sentence: at 400 wpm this sentence lasts far less
    than its captions need at 17 characters/s, so espeak speaks it again slower."""
    from reelgraph.plugins._media.captions import required_seconds
    from reelgraph.plugins.speech import espeak

    text = (
        "This second sentence is deliberately long so that it cannot fit into a single "
        "caption of two lines, and so it must be split."
    )
    fast = espeak.synthesize_to_wav(text, tmp_path / "fast.wav", "en-us", 400, "en")
    readable = espeak._readable(text, tmp_path / "readable.wav", "en-us", 400, "en")
    need_s = required_seconds(text, "en") - espeak._HOLD_S
    assert fast.duration_s < need_s
    assert readable.duration_s >= need_s - 0.5  # espeak's rate is not exactly linear
    # a sentence spoken slowly enough is left alone
    calm = espeak._readable(text, tmp_path / "calm.wav", "en-us", 140, "en")
    assert calm.duration_s == pytest.approx(  # not spoken again: the same length
        espeak.synthesize_to_wav(text, tmp_path / "calm2.wav", "en-us", 140, "en").duration_s,
        abs=0.05,
    )
