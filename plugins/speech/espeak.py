"""Offline speech: the ``espeak`` provider of ``synthesize_speech``.

Drives libespeak-ng through ctypes. The shared library and its voice data come
from the ``espeakng-loader`` wheel, so nothing needs installing system-wide and
nothing touches the network.

Facts this module relies on (from espeak-ng's ``speak_lib.h``, API revision 12,
and measured on the project's machine, see FIELD.md "Offline speech"):

- ``espeak_Initialize`` in ``AUDIO_OUTPUT_SYNCHRONOUS`` mode returns the sample
  rate, 22050 Hz; audio is mono signed 16-bit PCM handed to a callback.
- Each callback also gets an event array terminated by an event of type 0.
  Word events (type 1) carry ``text_position`` (1-based, in characters),
  ``length`` (characters) and ``sample`` (the sample index from the start of
  the message), so word timings are the engine's, not estimates.
- The engine is a process-wide singleton and is not thread-safe: every call
  goes through one lock, and the engine is created lazily on first use.

Voices by language: the engine lists its voices (``espeak_ListVoices``) and
:func:`voice_for_language` maps a BCP 47 tag onto one of their language tags
(``zh``/``zh-Hans``/``zh-CN`` → ``cmn``, ``zh-HK`` → ``yue``, ``pt-BR`` →
``pt-br``, ``fr-CA`` → ``fr``, ``en`` → ``en-us``); no hand-kept table.

Text is normalised for speech first (:mod:`._normalize`); the segment keeps the
sentence as written, and word events are mapped back onto its words.

Public surface: :func:`synthesize_to_wav` (one sentence to one WAV file),
:func:`voice_for_language`, and the ``synthesize_speech`` hook, which calls
:func:`synthesize_to_wav` once per sentence.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import os
import re
import sys
import tempfile
import threading
import wave
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, FatalError, InvalidInputError
from reelgraph.models import Narration, SpeechSegment, WordTiming
from reelgraph.plugins.speech._common import speak_sentences
from reelgraph.plugins.speech._latin_runs import mark_latin_runs
from reelgraph.plugins.speech._normalize import normalize

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOICE",
    "MAX_RATE_WPM",
    "MIN_RATE_WPM",
    "english_voices",
    "espeak_languages",
    "synthesize_speech",
    "synthesize_to_wav",
    "voice_for_language",
]

#: The voice used when a node names none.
DEFAULT_VOICE = "en-us"
#: Words per minute used when a node names no rate (espeak's own default is 175).
DEFAULT_RATE_WPM = 165
#: The rate range espeak accepts: ``espeakRATE_MINIMUM`` / ``espeakRATE_MAXIMUM``.
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450

# Constants from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
# Without this option espeak_Initialize calls exit() when its data is missing,
# which would take the whole kernel down; with it, it returns instead.
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1  # espeakCHARS_UTF8
_SSML = 0x10  # espeakSSML: only for a narrator's prepared speech, never for plain sentences
_RATE = 1  # espeakRATE
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EE_OK = 0


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (40 bytes on 64-bit Linux: six ints, a pointer, a union)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    """``espeak_VOICE``: ``languages`` is a priority byte + name, repeated."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # not c_char_p: the list holds NUL bytes
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Engine:
    """The loaded library. Every method must be called with ``_LOCK`` held."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as err:
            raise ConfigurationError(
                "espeak: the espeakng-loader package is not installed; "
                "run `pip install espeakng-loader`"
            ) from err
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as err:
            raise ConfigurationError(
                f"espeak: cannot load libespeak-ng ({err}); reinstall espeakng-loader"
            ) from err
        _declare(lib)
        data_path = espeakng_loader.get_data_path()
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path).encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise ConfigurationError(
                f"espeak: espeak_Initialize failed (returned {rate}) with data at {data_path}; "
                "reinstall espeakng-loader"
            )
        self.lib = lib
        self.sample_rate_hz: int = rate
        self._pcm = bytearray()
        self._words: list[tuple[int, int]] = []
        self._error: BaseException | None = None
        self._tags: list[str] | None = None
        # Keep the ctypes callback alive as long as the engine: the library holds
        # only a raw pointer to it.
        self._callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav: Any, numsamples: int, events: Any) -> int:
        try:
            if wav and numsamples > 0:
                self._pcm += ctypes.string_at(wav, numsamples * 2)
            i = 0
            while events[i].type != _EVENT_LIST_TERMINATED:
                event = events[i]
                if event.type == _EVENT_WORD:
                    self._words.append((event.text_position, event.sample))
                i += 1
        except BaseException as err:  # an exception must not unwind through C
            self._error = err
            return 1  # abort synthesis
        return 0

    def select_voice(self, voice: str) -> None:
        """Select ``voice`` by name (``"English (America)"``, ``"en-us+f3"``) or language tag.

        Raises:
            InvalidInputError: espeak knows no such voice.
        """
        if self.lib.espeak_SetVoiceByName(voice.encode()) == _EE_OK:
            return
        # Some language tags (e.g. "en-gb") are not found by name, only by
        # language. espeak's language match is by prefix ("en-zz" would give
        # "en", "no-such-voice" Norwegian), so only exact known tags go there.
        if voice.lower() in self.language_tags():
            name = ctypes.create_string_buffer(voice.lower().encode())
            spec = _Voice(languages=ctypes.cast(name, ctypes.c_void_p).value)
            if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) == _EE_OK:
                return
        raise InvalidInputError(
            f"espeak: unknown voice {voice!r}; use a voice name or language tag such as "
            f"{', '.join(repr(v) for v in self.english_voices()[:6])}"
        )

    def synthesize(
        self, text: str, voice: str, rate_wpm: int, ssml: bool = False
    ) -> tuple[bytes, list[tuple[int, int]]]:
        """Speak ``text`` (SSML with ``ssml``); return (PCM bytes, [(text_position, sample)])."""
        self.select_voice(voice)
        self.lib.espeak_SetParameter(_RATE, rate_wpm, 0)
        self._pcm = bytearray()
        self._words = []
        self._error = None
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(
            encoded,
            len(encoded) + 1,
            0,
            _POS_CHARACTER,
            0,
            _CHARS_UTF8 | (_SSML if ssml else 0),
            None,
            None,
        )
        self.lib.espeak_Synchronize()
        if self._error is not None:
            raise FatalError(f"espeak: the audio callback failed: {self._error}") from self._error
        if status != _EE_OK:
            raise FatalError(f"espeak: espeak_Synth returned error {status} for {text[:60]!r}")
        return bytes(self._pcm), list(self._words)

    def language_tags(self) -> list[str]:
        """Every language tag of every installed voice, lower-case, in espeak's order."""
        if self._tags is None:
            voices = self.lib.espeak_ListVoices(None)
            tags: list[str] = []
            i = 0
            while voices[i]:
                tags.extend(_parse_languages(voices[i].contents.languages))
                i += 1
            self._tags = list(dict.fromkeys(tags))
        return self._tags

    def english_voices(self) -> list[str]:
        """Language tags of the installed English voices, ``en-us`` first."""
        tags = [tag for tag in self.language_tags() if tag == "en" or tag.startswith("en-")]
        return sorted(tags, key=lambda tag: (tag != DEFAULT_VOICE, tag))


def _parse_languages(address: int | None) -> list[str]:
    """Read an ``espeak_VOICE.languages`` list: (priority byte, NUL-ended name)*, then NUL."""
    tags: list[str] = []
    while address and ctypes.string_at(address, 1) != b"\x00":
        name = ctypes.string_at(address + 1)
        tags.append(name.decode(errors="replace").lower())
        address += len(name) + 2
    return tags


def _declare(lib: ctypes.CDLL) -> None:
    """Declare argument and return types (prototypes from speak_lib.h)."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
    lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = ctypes.c_int


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The process-wide engine, created on first use. Call with ``_LOCK`` held."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def english_voices() -> list[str]:
    """Language tags of the installed English espeak voices (``"en-us"``, ``"en-gb"``...)."""
    with _LOCK:
        return _engine().english_voices()


def espeak_languages() -> list[str]:
    """Every language tag the installed espeak-ng voices declare, lower-case."""
    with _LOCK:
        return list(_engine().language_tags())


def voice_for_language(language: str) -> str | None:
    """The espeak voice (a language tag) that speaks BCP 47 ``language``, or ``None``.

    Tried in order: language-region (``pt-br``), language-script, the bare
    language (``fr`` for ``fr-CA``). Chinese goes to ``cmn`` (Mandarin), or
    ``yue`` (Cantonese) for Hong Kong and Macau; bare ``en`` to ``en-us``.
    ``None`` when espeak has no voice for it (e.g. ``km``, Khmer).

    Raises:
        InvalidInputError: ``language`` is not a BCP 47 tag.
    """
    import langcodes

    try:
        tag = langcodes.Language.get(langcodes.standardize_tag(language))
    except (langcodes.tag_parser.LanguageTagError, ValueError) as err:
        raise InvalidInputError(
            f"espeak: language {language!r} is not a BCP 47 tag such as 'en', 'fr' or 'pt-BR'"
        ) from err
    base = (tag.language or "").lower()
    if not base or base == "und":
        return None
    territory = (tag.territory or "").lower()
    if base == "zh":
        base = "yue" if territory in {"hk", "mo"} else "cmn"
    if base == "en" and not territory:
        return DEFAULT_VOICE
    available = set(espeak_languages())
    for candidate in (f"{base}-{territory}", f"{base}-{(tag.script or '').lower()}", base):
        if candidate in available:
            return candidate
    return None


def _voice_or_stop(language: str) -> str:
    """The voice for ``language``; stops with InvalidInputError naming the fix when none.

    ``und`` (undetermined), ``mul`` (several) and ``zxx`` (no linguistic
    content) name no language: they get the default voice.
    """
    if language.strip().lower().split("-")[0] in {"und", "mul", "zxx"}:
        return DEFAULT_VOICE
    voice = voice_for_language(language)
    if voice is None:
        raise InvalidInputError(
            f"espeak: espeak-ng has no voice for language {language!r}, so no narration "
            "was made; name a voice that speaks it (the spec's `voice` input, e.g. "
            "-i voice=PATH.onnx for a piper voice, with the piper extra of reelgraph "
            "installed), or install a synthesize_speech provider for that language"
        )
    return voice


# -- validation ---------------------------------------------------------------


def _check_rate(rate_wpm: Any) -> int:
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int):
        raise InvalidInputError(
            f"espeak: rate_wpm must be a whole number of words per minute, got {rate_wpm!r}"
        )
    if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
        raise InvalidInputError(
            f"espeak: rate_wpm {rate_wpm} is out of range; espeak speaks "
            f"{MIN_RATE_WPM}-{MAX_RATE_WPM} words per minute (default {DEFAULT_RATE_WPM})"
        )
    return rate_wpm


def _check_voice(voice: Any) -> str:
    if not isinstance(voice, str) or not voice.strip() or "\x00" in voice:
        raise InvalidInputError(
            f"espeak: voice must be a voice name such as {DEFAULT_VOICE!r}, got {voice!r}"
        )
    return voice.strip()


def _check_text(text: Any, where: str) -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"espeak: {where} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInputError(
            f"espeak: {where} is empty; the script's narration must hold only non-blank sentences"
        )
    if "\x00" in text:
        raise InvalidInputError(f"espeak: {where} contains a NUL character; remove it")
    return text


# -- timing and files -----------------------------------------------------------


def _word_timings(
    text: str, words: Sequence[tuple[int, int]], sample_rate_hz: int, num_samples: int
) -> list[WordTiming]:
    """Turn word events into one :class:`WordTiming` per timed whitespace token.

    espeak reports a number such as "123" as several words at odd positions and
    sometimes merges a short function word into its neighbour ("of the"), so
    events are mapped to the sentence's whitespace-separated tokens: each token
    takes the time of the first event inside it, and a token without an event
    joins the timed token before it. Joining the texts with spaces gives back the
    sentence (whitespace normalised).
    """
    spans = [match.span() for match in re.finditer(r"\S+", text)]
    starts = [start for start, _ in spans]
    timed: list[tuple[int, int]] = []  # (token index, sample)
    for text_position, sample in words:
        token = max(bisect.bisect_right(starts, text_position - 1) - 1, 0)
        if timed and token <= timed[-1][0]:
            continue
        previous = timed[-1][1] if timed else 0
        timed.append((token, min(max(sample, previous), num_samples)))
    if timed:
        timed[0] = (0, timed[0][1])  # leading untimed tokens belong to the first word
    result = []
    for k, (token, sample) in enumerate(timed):
        end = spans[timed[k + 1][0]][0] if k + 1 < len(timed) else len(text)
        piece = " ".join(text[spans[token][0] : end].split())
        result.append(WordTiming(text=piece, start_s=sample / sample_rate_hz))
    return result


def _write_wav(path: Path, pcm: bytes, sample_rate_hz: int) -> None:
    """Write mono 16-bit PCM to ``path`` atomically (temp file + ``os.replace``)."""
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples = array("h", pcm)
        samples.byteswap()
        pcm = samples.tobytes()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle, wave.open(handle, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate_hz)
            wav.writeframes(pcm)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def synthesize_to_wav(
    text: str,
    path: str | os.PathLike[str],
    voice: str = DEFAULT_VOICE,
    rate_wpm: int = DEFAULT_RATE_WPM,
    language: str | None = None,
    ssml: str | None = None,
    latin_voice: str | None = None,
) -> SpeechSegment:
    """Speak one sentence into a WAV file.

    Args:
        text: plain text (UTF-8; never read as SSML or phoneme codes). It is
            normalised for speech (``language`` rules, see ``_normalize``);
            the segment's ``text`` and word timings refer to ``text`` as given.
        path: the WAV file to write (parent directories are created). Written
            atomically: a temp file in the same directory, then ``os.replace``.
        voice: an espeak voice name or language tag (``"en-us"``, ``"en-gb"``,
            ``"English (America)"``, ``"en-us+f3"``).
        rate_wpm: words per minute, 80-450 (espeakRATE_MINIMUM/MAXIMUM).
        language: BCP 47 tag of the text, for normalisation; ``None``: the
            voice's language when it is a tag (``"fr"``), else English.
        ssml: what to speak instead, as espeak-ng SSML (a narrator's
            prepared speech, already normalised; ``espeakSSML`` flag, FIELD.md
            and espeak-ng ``docs/markup.md``); ``text`` stays the segment's
            text. Its word events point into the markup, so the segment then
            has no word timings (the caption builder times the sentence's
            words itself, as for piper).
        latin_voice: an espeak voice (``"en-us"``) for each run of Latin
            words inside the text, in the same utterance (SSML ``<voice>``,
            :mod:`._latin_runs`); word timings are kept. For the Japanese
            voice, which spells Latin words out letter by letter.

    Returns:
        The segment: PCM mono 16-bit at the engine's rate (22050 Hz), exactly as
        espeak produced it (no trimming); ``duration_s`` = samples / rate; word
        start times in seconds from the segment start, from espeak's word events.

    Raises:
        InvalidInputError: blank text, unknown voice, rate out of range.
        ConfigurationError: espeakng-loader is missing or its data is broken.
        FatalError: the engine reported an error.
    """
    text = _check_text(text, "text")
    voice = _check_voice(voice)
    rate_wpm = _check_rate(rate_wpm)
    spoken = normalize(text, language or _language_of(voice))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    words: list[tuple[int, int]] = []
    with _LOCK:
        engine = _engine()
        marked = mark_latin_runs(spoken.text, latin_voice) if latin_voice and not ssml else None
        if ssml is not None:
            pcm, _ = engine.synthesize(_unwrap(_check_text(ssml, "speech")), voice, rate_wpm, True)
        elif marked is not None:
            pcm, events = engine.synthesize(marked.ssml, voice, rate_wpm, True)
            words = [(marked.source_index(position - 1) + 1, sample) for position, sample in events]
        else:
            pcm, words = engine.synthesize(spoken.text, voice, rate_wpm)
        sample_rate_hz = engine.sample_rate_hz
    num_samples = len(pcm) // 2
    _write_wav(target, pcm, sample_rate_hz)
    if ssml is not None:
        return SpeechSegment(
            text=text,
            path=target,
            duration_s=num_samples / sample_rate_hz,
            sample_rate_hz=sample_rate_hz,
            words=[],
        )
    # word events point into the spoken text: move them onto the written one
    words = [(spoken.source_index(position - 1) + 1, sample) for position, sample in words]
    return SpeechSegment(
        text=text,
        path=target,
        duration_s=num_samples / sample_rate_hz,
        sample_rate_hz=sample_rate_hz,
        words=_word_timings(text, words, sample_rate_hz, num_samples),
    )


def _unwrap(ssml: str) -> str:
    """SSML without its ``<speak>`` root: espeak-ng ends a ``</speak>`` with a paragraph
    pause (0.43 s of silence after every sentence, measured at 140 wpm), while the
    same markup without the root is parsed alike (espeakSSML) and ends as plain text does."""
    return _SPEAK_ROOT.sub("", ssml)


_SPEAK_ROOT = re.compile(r"^\s*<speak\b[^>]*>|</speak>\s*$")


def _language_of(voice: str) -> str | None:
    """The language a voice name or tag stands for, for normalisation (``None``: unknown)."""
    tag = voice.split("+")[0].lower()
    if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", tag):
        return tag
    return "en" if voice.lower().startswith("english") else None


# -- the hook -------------------------------------------------------------------------


def synthesize_speech(
    sentences: list[str],
    voice: str | None,
    rate_wpm: int | None,
    options: dict[str, Any],
    ctx: NodeContext,
    language: str | None = None,
    speech: Sequence[str] = (),
) -> Narration:
    """Speak each sentence into ``ctx.workdir/sentence-NNN.wav`` (see the hookspec).

    ``speech``, when given, is what is spoken for each sentence: SSML when
    an entry starts with ``<speak``, else plain text.

    ``voice`` wins when given; else the voice for ``language`` (a BCP 47 tag,
    :func:`voice_for_language`); else ``"en-us"``. ``rate_wpm`` defaults to
    165. Everything is checked before any audio is made: a language espeak
    cannot speak, an unknown voice or a blank sentence raises
    InvalidInputError (naming the fix, or the sentence's index), and no WAV is
    written. ``Narration.voice`` is ``"espeak:<voice>"``. No options are
    defined; unknown ones are logged and ignored.

    English passages of a non-English document in the Latin script (an
    untranslated answer in the Debian FAQ's French chapter) or in Chinese,
    Japanese or Korean are read by espeak's English voice when the voice was
    chosen for ``language`` (no ``voice`` given) and the sentence has no
    prepared speech: the French voice read "You can boot" with French
    vowels, the Japanese one spelled English out. Which sentences:
    :func:`~reelgraph.plugins._language.passage_languages` (30 letters or
    more, detected as English with 0.9 or more; neighbours that are English
    rather than the document's language, "Yes."); which scripts:
    :func:`_passages`. Inside a Japanese sentence, runs of Latin words
    ("Free Software Foundation") are read by the English voice in the same
    utterance (:mod:`._latin_runs`; the Japanese voice spells them out). A Latin-script caption cue follows English caption
    rules in any document (:func:`~reelgraph.plugins._media.captions.cue_rules`);
    one log line counts the sentences.
    """
    chosen = voice is None and bool(language)
    if voice is None and language:
        voice = _voice_or_stop(language)
    voice = _check_voice(DEFAULT_VOICE if voice is None else voice)
    rate_wpm = _check_rate(DEFAULT_RATE_WPM if rate_wpm is None else rate_wpm)
    if not isinstance(sentences, list | tuple):
        raise InvalidInputError(
            f"espeak: sentences must be a list of strings, got {type(sentences).__name__}"
        )
    texts = [_check_text(s, f"sentences[{i}]") for i, s in enumerate(sentences)]
    spoken = check_speech(speech, texts, "espeak")
    if options:
        ctx.log.warning("espeak ignores options", options=sorted(options))
    with _LOCK:  # reject an unknown voice before any audio, so a bad spec fails early
        _engine().select_voice(voice)
    name = f"espeak:{voice}"
    if not texts:
        return Narration(segments=[], voice=name, duration_s=0.0)
    passages = _passages(texts, spoken, language) if chosen else [None] * len(texts)
    if any(passages):
        ctx.log.info(
            "sentences read in another language's voice",
            voices=sorted({v for v in passages if v}),
            sentences=sum(1 for v in passages if v),
        )
    plan = iter(zip(spoken, passages, strict=True))  # speak_sentences speaks them in order
    latin = _latin_voice(voice) if chosen else None

    def speak(text: str, path: Path) -> SpeechSegment:
        prepared, other = next(plan)
        if other is None:
            return _readable(text, path, voice, rate_wpm, language, prepared, latin_voice=latin)
        return _readable(text, path, other, rate_wpm, language, spoken_language=other)

    return speak_sentences(texts, name, speak, ctx)


def _passages(texts: list[str], spoken: list[str | None], language: str | None) -> list[str | None]:
    """Per sentence, the espeak voice of the other language it is clearly written in
    (English), when espeak has one and no prepared speech is given for it; else ``None``.

    Only for a document in the Latin script or in Han, kana or Hangul (CLDR's
    likely script, langcodes; :data:`_SWITCH_SCRIPTS`). A voice of another
    script already reads Latin-alphabet words by English rules (espeak-ng
    switches language by alphabet: the Russian voice reading "You can boot
    the Debian installation system..." sounds like the English one). The
    Japanese voice spells them out letter by letter instead: the Japanese
    FAQ's 24-word English sentence took 41.9 s at 165 words a minute against
    11.0 s in the English voice (the Mandarin and Korean voices switch, at
    10.9 and 10.7 s, but read its numbers in their own language). In those
    documents only sentences in the Latin script alone switch, and their
    captions follow English rules (line length, wrapping and reading speed:
    :func:`~reelgraph.plugins._media.captions.cue_rules`), which English
    speech at a natural rate meets.
    """
    import langcodes

    from reelgraph.plugins._language import passage_languages

    try:
        script = langcodes.Language.get(langcodes.standardize_tag(language or "")).maximize().script
    except (langcodes.tag_parser.LanguageTagError, ValueError):
        script = None
    if script not in _SWITCH_SCRIPTS:
        return [None] * len(texts)
    voices: list[str | None] = []
    for other, prepared in zip(passage_languages(texts, language), spoken, strict=True):
        voices.append(voice_for_language(other) if other and prepared is None else None)
    return voices


def _latin_voice(voice: str) -> str | None:
    """The voice for runs of Latin words inside a sentence: English for espeak's
    Japanese voice, which spells them out (:mod:`._latin_runs`); else ``None`` (the
    Mandarin and Korean voices switch to English rules by themselves)."""
    return DEFAULT_VOICE if (_language_of(voice) or "").split("-")[0] == "ja" else None


#: Scripts (ISO 15924) of the documents whose English passages switch voice:
#: Latin, Japanese (Han + kana), Simplified and Traditional Han, Korean.
_SWITCH_SCRIPTS = frozenset({"Latn", "Jpan", "Hans", "Hant", "Kore"})


def check_speech(speech: Sequence[str] | None, texts: list[str], engine: str) -> list[str | None]:
    """One prepared speech entry per sentence (``None``: speak the sentence), checked.

    Raises:
        InvalidInputError: ``speech`` is given with another length, or an entry is blank.
    """
    if not speech:
        return [None] * len(texts)
    if isinstance(speech, str) or len(speech) != len(texts):
        raise InvalidInputError(
            f"{engine}: speech must hold one entry per sentence ({len(texts)}), got "
            f"{1 if isinstance(speech, str) else len(speech)}; prepare_narration sets it "
            "for each scene's narration"
        )
    return [_check_text(s, f"speech[{i}]") for i, s in enumerate(speech)]


#: a sentence may be this much shorter than its captions need: the assembler's
#: reading hold (silence after it) covers up to about this much
_HOLD_S = 1.0


def _readable(
    text: str,
    path: Path,
    voice: str,
    rate_wpm: int,
    language: str | None,
    speech: str | None = None,
    spoken_language: str | None = None,
    latin_voice: str | None = None,
) -> SpeechSegment:
    """Speak ``text`` (or its prepared ``speech``); again slower when too fast for its captions.

    ``language`` sets the captions' reading speed; ``spoken_language`` (default
    ``language``) the text's normalisation for speech (an English passage in
    a French document: English numbers and abbreviations); ``latin_voice``
    reads runs of Latin words inside the sentence (:func:`synthesize_to_wav`).

    Captions must stay up for their characters at the language's reading
    speed (:func:`~reelgraph.plugins._media.captions.required_seconds`;
    Japanese is read at about 4 characters a second, and espeak speaks it
    faster). When the speech falls more than ``_HOLD_S`` short of that, the
    sentence is synthesised again at the rate that would fill it, down to
    ``MIN_RATE_WPM``, so the narration rate adapts per sentence instead of
    the captions failing.
    """
    from reelgraph.plugins._media.captions import required_seconds

    ssml = speech if speech is not None and speech.lstrip().startswith("<speak") else None
    plain = speech if speech is not None and ssml is None else None

    normalised_as = spoken_language or language

    def speak(rate: int) -> SpeechSegment:
        if plain is None:
            return synthesize_to_wav(text, path, voice, rate, normalised_as, ssml, latin_voice)
        segment = synthesize_to_wav(plain, path, voice, rate, normalised_as)
        return segment.model_copy(update={"text": text, "words": []})  # captions: the sentence

    segment = speak(rate_wpm)
    need_s = required_seconds(text, language) - _HOLD_S
    if segment.duration_s <= 0 or segment.duration_s >= need_s or rate_wpm <= MIN_RATE_WPM:
        return segment
    slower = max(MIN_RATE_WPM, int(rate_wpm * segment.duration_s / need_s))
    return speak(slower)


@hookimpl(specname="synthesize_speech", trylast=True)
def _synthesize_speech_hook(
    sentences: list[str],
    voice: str | None,
    rate_wpm: int | None,
    language: str | None,
    options: dict[str, Any],
    ctx: NodeContext,
    speech: list[str],
) -> Narration:
    """The hook: :func:`synthesize_speech` with every parameter passed.

    ``trylast``: when a node pins no provider, a better engine that answers
    for the language (piper) is asked first and espeak speaks the rest. The
    plain function keeps ``language`` optional for direct callers (pluggy
    passes only parameters without a default).
    """
    return synthesize_speech(sentences, voice, rate_wpm, options, ctx, language, speech)
