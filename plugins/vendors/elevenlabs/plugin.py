"""The ``elevenlabs`` provider: ``synthesize_speech`` with exact captions from character timings.

One request per sentence, through the official SDK
(``client.text_to_speech.convert_with_timestamps``)::

    POST {base_url}/v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000
    xi-api-key: <key>
    {"text": "One sentence.", "model_id": "eleven_multilingual_v2"}

answered with JSON: ``audio_base64`` (the audio in the requested format) and
``alignment`` (``characters``, ``character_start_times_seconds``,
``character_end_times_seconds``) (API reference, "Create speech with timing",
https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps).
``pcm_*`` output is raw signed 16-bit little-endian mono samples at the named
rate, written as a WAV with the standard library, so a segment's duration is
exactly its samples over the rate and the alignment's times need no shift (an
MP3's encoder delay would move them); ``SpeechSegment.words`` are the
alignment's words (:mod:`._alignment`), which the caption builder anchors
its cues on.

Provider options (a node's ``options``):
    voice: the voice id when the node's ``voice`` is empty (default
        :data:`DEFAULT_VOICE_ID`, the voice of the SDK README's example).
    model: ``eleven_multilingual_v2`` (default), ``eleven_flash_v2_5``,
        ``eleven_turbo_v2_5``, ``eleven_v3``.
    output_format: ``pcm_16000``, ``pcm_22050``, ``pcm_24000`` (default) or
        ``pcm_44100`` (Pro plans and up, per the SDK's docstring).
    voice_settings: a mapping passed as the API's ``voice_settings``
        (``stability``, ``similarity_boost``, ``style``, ``speed``...).
    seed: an integer for best-effort determinism.
    base_url: the API's base URL (default ``$ELEVENLABS_BASE_URL``, else the
        SDK's ``https://api.elevenlabs.io``; the SDK itself reads no base-URL
        variable, so this one is reelgraph's, passed as ``base_url``).
    api_key: only from an input declared ``secret: true`` (``$inputs.NAME``);
        default ``$ELEVENLABS_API_KEY``, the SDK's variable.
    request_timeout_s: seconds one request may take (default 120).

Requests are sent with ``max_retries: 0`` (the SDK retries 429/5xx twice by
default, hidden from the kernel): the node's ``retry`` policy is the only
one. The provider answers only nodes that pin it (``provider:
elevenlabs``), so a key in the environment never makes an offline run pay.
A retried attempt or a resumed run does not buy a sentence twice: each paid
sentence (its WAV's sha256 and its word timings) is noted in the node's
journal and reused while the request and the file are unchanged.
Cost: characters sent x the model's price (``prices.yaml``, USD per 1M
characters), reported after each sentence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import ConfigurationError, InvalidInputError, ProviderError
from reelgraph.hookspecs import hookimpl
from reelgraph.models import Narration, SpeechSegment
from reelgraph.plugins.vendors._pricing import cost_usd, price_for
from reelgraph.plugins.vendors.elevenlabs import _errors
from reelgraph.plugins.vendors.elevenlabs._alignment import word_timings

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULT_MODEL", "DEFAULT_VOICE_ID", "INSTALL", "KEY_PATTERNS", "ElevenLabsSpeech"]

INSTALL = "pip install 'reelgraph[elevenlabs]'"
DEFAULT_MODEL = "eleven_multilingual_v2"
#: "George", the voice id of the elevenlabs-python README's text-to-speech example
DEFAULT_VOICE_ID = "JBFqnCBsd6RMkjVDRZzb"
DEFAULT_OUTPUT_FORMAT = "pcm_24000"
#: raw PCM formats and their rates (SDK docstring: "codec_sample_rate")
PCM_FORMATS = {"pcm_16000": 16_000, "pcm_22050": 22_050, "pcm_24000": 24_000, "pcm_44100": 44_100}
BASE_URL_ENV = "ELEVENLABS_BASE_URL"
DEFAULT_REQUEST_TIMEOUT_S = 120.0
#: ElevenLabs keys: "sk_" and 48 lowercase hex digits, the rule secret scanners use
#: ("ElevenLabs API Key", \bsk_[a-f0-9]{48}\b); older keys are 32 hex digits, too
#: plain to match by shape, so the key in use is also registered for redaction
KEY_PATTERNS = [("elevenlabs", r"sk_[0-9a-f]{48}")]
#: ISO 639-1 codes Multilingual v2 speaks (29 languages: "Supported languages",
#: https://elevenlabs.io/docs/overview/capabilities/forced-alignment and the models page)
# fmt: off
MULTILINGUAL_V2 = frozenset({
    "en", "ja", "zh", "de", "hi", "fr", "ko", "pt", "it", "es", "id", "nl", "tr", "fil", "tl",
    "pl", "sv", "bg", "ro", "ar", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk", "ru",
})
# fmt: on
#: Flash/Turbo v2.5 add Hungarian, Norwegian and Vietnamese (32 languages, models page)
V2_5 = MULTILINGUAL_V2 | {"hu", "no", "nb", "nn", "vi"}
#: models that take ``language_code`` (the SDK: "not supported for multilingual_v2 models")
_TAKES_LANGUAGE = ("eleven_flash_v2_5", "eleven_turbo_v2_5")


class ElevenLabsSpeech:
    """``synthesize_speech`` on ElevenLabs, with its kernel hooks; see the module docstring."""

    reelgraph_name = "elevenlabs"

    def __init__(self) -> None:
        self._clients: dict[tuple[str | None, str, float], Any] = {}
        self._lock = threading.Lock()

    @hookimpl
    def synthesize_speech(
        self,
        sentences: list[str],
        voice: str | None,
        rate_wpm: int | None,
        options: dict[str, Any],
        ctx: NodeContext,
        language: str | None,
        speech: Sequence[str],
    ) -> Narration | None:
        """Speak each sentence with one timed request (see the module docstring).

        Args:
            sentences: plain-text sentences; ``SpeechSegment.text`` keeps them.
            voice: an ElevenLabs voice id; ``None``: ``options.voice`` or the default.
            rate_wpm: ignored (logged): the API takes ``voice_settings.speed``.
            options: see the module docstring.
            ctx: files go to ``ctx.workdir/sentence-NNN.wav``.
            language: BCP 47 tag; with no voice named, a language the model
                does not speak is refused (the node pins this provider, so no
                other would be tried).
            speech: plain-text speech per sentence (sent instead of the
                sentence; SSML entries, made for espeak-ng, are not sent).

        Returns:
            One mono 16-bit WAV segment per sentence at the format's rate,
            ``duration_s`` = samples / rate (seconds), ``words`` from the
            alignment (seconds from the segment's start);
            ``Narration.voice`` is ``"elevenlabs:<voice id>"``. ``None`` when the
            node does not pin ``elevenlabs`` (the offline engines answer).

        Raises:
            InvalidInputError: blank sentences, ``speech`` of another length, an
                unknown output format, a language as above (before any request); an unknown voice
                or model (404/400/422); an answer without audio or alignment.
            ConfigurationError: no key, a rejected key, an exhausted quota.
            RateLimitedError, TransientError: 429, 5xx, timeouts.
        """
        from reelgraph.plugins._language import primary_subtag
        from reelgraph.plugins.speech._common import speak_sentences
        from reelgraph.plugins.speech.espeak import check_speech

        if ctx.provider != self.reelgraph_name:
            return None
        options = dict(options or {})
        model = str(options.get("model") or DEFAULT_MODEL)
        code = primary_subtag(language)
        if voice is None and code and code not in _languages(model):
            # pinned, so no other provider would be tried: say why (as piper does)
            raise InvalidInputError(
                f"elevenlabs: {model} does not speak {language!r}; pick a model that does "
                "(eleven_flash_v2_5 speaks 32 languages), name a voice, or use espeak"
            )
        texts = _check_sentences(sentences)
        prepared = iter(check_speech(speech, texts, "elevenlabs"))
        output_format = _output_format(options.get("output_format"))
        voice_id = str(voice or options.get("voice") or DEFAULT_VOICE_ID)
        if rate_wpm is not None:
            ctx.log.info(
                "elevenlabs: rate_wpm ignored; use options.voice_settings.speed", rate_wpm=rate_wpm
            )
        key = self._api_key(options)
        client = self._client(key, options)
        server = str(options.get("base_url") or os.environ.get(BASE_URL_ENV) or "default")
        params: dict[str, Any] = {"model_id": model, "output_format": output_format}
        if code and model.startswith(_TAKES_LANGUAGE):
            params["language_code"] = code
        for name in ("voice_settings", "seed"):
            if options.get(name) is not None:
                params[name] = options[name]
        price = price_for("elevenlabs", model)

        def speak(text: str, path: Path) -> SpeechSegment:
            entry = next(prepared)
            spoken = entry if entry is not None and not entry.lstrip().startswith("<") else text
            fingerprint = _fingerprint(server, voice_id, params, spoken)
            done = _reuse_paid(ctx, path, fingerprint, text)
            if done is not None:
                return done
            segment = self._speak_one(client, voice_id, params, text, spoken, path, key)
            ctx.report_usage(
                operation="text_to_speech",
                provider_name="elevenlabs",
                model=model,
                input_tokens=len(spoken),
                cost_usd=None if price is None else cost_usd(price, len(spoken)),
            )
            _remember_paid(ctx, path, fingerprint, segment)
            return segment

        return speak_sentences(texts, f"elevenlabs:{voice_id}", speak, ctx)

    # -- kernel hooks -------------------------------------------------------------

    @hookimpl
    def estimate_cost(
        self, hook: str, provider: str | None, arguments: dict[str, Any]
    ) -> float | None:
        """What ``synthesize_speech`` pinned to ``elevenlabs`` costs, in US dollars, before it runs.

        ElevenLabs bills characters, so this is exact: the characters of
        ``speech`` when given (else ``sentences``) x the model's price per 1M
        characters. ``None`` for other hooks and providers, and for a model
        without a price.
        """
        if provider != self.reelgraph_name or hook != "synthesize_speech":
            return None
        options = arguments.get("options") or {}
        price = price_for("elevenlabs", str(options.get("model") or DEFAULT_MODEL))
        if price is None:
            return None
        sentences = list(arguments.get("sentences") or [])
        speech = list(arguments.get("speech") or [])
        chars = 0
        for i, text in enumerate(sentences):
            entry = speech[i] if i < len(speech) else None
            sent = entry if isinstance(entry, str) and not entry.lstrip().startswith("<") else text
            chars += len(str(sent))
        return cost_usd(price, chars)

    @hookimpl
    def classify_error(self, error: BaseException) -> ProviderError | None:
        """The SDK's ``ApiError``, classified (see :mod:`._errors`); ``None`` for others."""
        return _errors.classify(error)

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (_errors.KEY_ENV, "ElevenLabs API key, or a secret input as options.api_key"),
            (BASE_URL_ENV, "another ElevenLabs API base URL: a proxy or a test server"),
            ("REELGRAPH_PRICES", "a price file overriding prices.yaml, in USD per 1M characters"),
        ]

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """ElevenLabs key shape (``sk_`` + 48 hex digits), for redaction."""
        return list(KEY_PATTERNS)

    # -- one request ---------------------------------------------------------------

    def _speak_one(
        self,
        client: Any,
        voice_id: str,
        params: dict[str, Any],
        text: str,
        spoken: str,
        path: Path,
        key: str,
    ) -> SpeechSegment:
        """One timed request; the PCM written as ``path``; words from the alignment."""
        from reelgraph.plugins.speech.espeak import _write_wav

        try:
            answer = client.text_to_speech.convert_with_timestamps(
                voice_id, text=spoken, request_options={"max_retries": 0}, **params
            )
        except Exception as err:
            classified = _errors.classify(err, secrets=(key,))
            if classified is None:
                raise
            raise classified from err
        rate = PCM_FORMATS[params["output_format"]]
        pcm = _pcm(answer)
        duration_s = len(pcm) // 2 / rate
        alignment = answer.alignment
        if alignment is None:
            raise InvalidInputError(
                f"elevenlabs: the answer for {text[:60]!r} has no alignment; the with-timestamps "
                "endpoint always sends one: check options.base_url"
            )
        words = word_timings(
            alignment.characters,
            alignment.character_start_times_seconds,
            alignment.character_end_times_seconds,
            duration_s,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_wav(path, pcm, rate)
        return SpeechSegment(
            text=text, path=path, duration_s=duration_s, sample_rate_hz=rate, words=words
        )

    # -- key and client ------------------------------------------------------------

    def _api_key(self, options: dict[str, Any]) -> str:
        """A secret ``api_key`` option, else ``$ELEVENLABS_API_KEY``; checked before any request."""
        from reelgraph.observe.secrets import redact, register_secret

        given = options.pop("api_key", None)
        if given is not None:
            key = str(given).strip()
            if not key or redact(key) == key:
                raise ConfigurationError(
                    "elevenlabs: options.api_key must come from an input declared secret: true "
                    f"($inputs.NAME), or leave it out and set {_errors.KEY_ENV}"
                )
            return key
        key = os.environ.get(_errors.KEY_ENV, "").strip()
        if not key:
            raise ConfigurationError(
                f"elevenlabs: no API key: set {_errors.KEY_ENV}, or pass api_key from an input "
                "declared secret: true"
            )
        register_secret(key, _errors.KEY_ENV)  # legacy 32-hex keys match no pattern
        return key

    def _client(self, key: str, options: Mapping[str, Any]) -> Any:
        try:
            from elevenlabs.client import ElevenLabs
        except ImportError as err:
            raise ConfigurationError(
                f"elevenlabs: the elevenlabs SDK is not installed: {INSTALL}"
            ) from err
        base_url = options.get("base_url") or os.environ.get(BASE_URL_ENV) or None
        timeout = float(options.get("request_timeout_s") or DEFAULT_REQUEST_TIMEOUT_S)
        cache_key = (base_url, key, timeout)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = ElevenLabs(api_key=key, base_url=base_url, timeout=timeout)
                self._clients[cache_key] = client
        return client


def _fingerprint(server: str, voice_id: str, params: dict[str, Any], spoken: str) -> str:
    """What a sentence's audio depends on (server, voice, model, settings, text), hashed."""
    data = json.dumps([server, voice_id, params, spoken], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _reuse_paid(ctx: NodeContext, path: Path, fingerprint: str, text: str) -> SpeechSegment | None:
    """The segment an earlier attempt paid for, when ``path`` still holds it.

    A retried node (a 429 on its fifth sentence) or a resumed run speaks again
    from the first sentence; a sentence already paid for is taken from the
    node's journal (the request's fingerprint, the WAV's sha256, the segment
    with its word timings) instead of being bought twice.
    """
    note = ctx.journal.get(f"paid:{path.name}")
    if note is None:
        return None
    data = json.loads(note)
    if data.get("fingerprint") != fingerprint or not path.is_file():
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != data.get("sha256"):
        return None
    ctx.log.info("sentence already paid for: reused", file=path.name)
    return SpeechSegment.model_validate({**data["segment"], "path": path, "text": text})


def _remember_paid(ctx: NodeContext, path: Path, fingerprint: str, segment: SpeechSegment) -> None:
    note = {
        "fingerprint": fingerprint,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "segment": segment.model_dump(mode="json", exclude={"path"}),
    }
    ctx.journal.record(f"paid:{path.name}", json.dumps(note))


def _languages(model: str) -> frozenset[str]:
    return V2_5 if model.startswith(("eleven_flash_v2_5", "eleven_turbo_v2_5")) else MULTILINGUAL_V2


def _check_sentences(sentences: Any) -> list[str]:
    if not isinstance(sentences, list | tuple):
        raise InvalidInputError(
            f"elevenlabs: sentences must be a list of strings, got {type(sentences).__name__}"
        )
    for i, text in enumerate(sentences):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(
                f"elevenlabs: sentences[{i}] is blank or not a string; the narration must hold "
                "only non-blank sentences"
            )
    return list(sentences)


def _output_format(value: Any) -> str:
    name = str(value or DEFAULT_OUTPUT_FORMAT)
    if name not in PCM_FORMATS:
        raise InvalidInputError(
            f"elevenlabs: options.output_format is {name!r}; use one of "
            f"{', '.join(PCM_FORMATS)} (raw PCM keeps the alignment's times exact)"
        )
    return name


def _pcm(answer: Any) -> bytes:
    """The answer's audio: base64 of raw 16-bit PCM, an even number of bytes, not empty."""
    try:
        pcm = base64.b64decode(answer.audio_base_64 or "", validate=True)
    except (ValueError, TypeError) as err:
        raise InvalidInputError(f"elevenlabs: audio_base64 is not base64 ({err})") from None
    if not pcm or len(pcm) % 2:
        raise InvalidInputError(
            f"elevenlabs: the answer holds {len(pcm)} bytes of audio, not 16-bit PCM samples"
        )
    return pcm
