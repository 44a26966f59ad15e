"""OpenAI speech for the ``openai`` provider: ``synthesize_speech`` on ``/v1/audio/speech``.

One request per sentence, through the official SDK::

    POST {base_url}/audio/speech
    {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "One sentence.",
     "response_format": "wav", "speed": 1.0, "instructions": "..."}

and the answer is the audio itself (API reference
https://platform.openai.com/docs/api-reference/audio/createSpeech; guide
https://platform.openai.com/docs/guides/text-to-speech). The endpoint returns
no timings, so each sentence is its own request: a segment's duration is
exactly the samples the API returned for that sentence, never a
words-per-minute guess. The WAV the API streams may carry placeholder chunk
sizes, so it is decoded with PyAV (s16, mono) and written again as a plain
PCM WAV.

Provider options (a node's ``options``), besides the key and client options
of :mod:`.plugin` (``base_url``, ``api_key``, ``request_timeout_s``):
    model: ``gpt-4o-mini-tts`` (default), ``tts-1``, ``tts-1-hd``, or a
        dated snapshot.
    voice: the voice when the node's ``voice`` is empty (default ``alloy``).
        Built-in voices: alloy, ash, ballad, coral, echo, fable, onyx, nova,
        sage, shimmer, verse, marin, cedar (API reference, ``voice``).
    speed: 0.25-4.0 (default 1.0; the API's ``speed``). ``rate_wpm`` is not
        mapped onto it: the API states no words-per-minute rate, so a
        ``rate_wpm`` is logged and ignored.
    instructions: how to speak (tone, pace), for ``gpt-4o-mini-tts`` only.

The provider answers only nodes that pin it (``provider: openai``): a node
that names no provider stays with the offline engines, so a key in the
environment never makes an offline run spend money. Languages: the guide's
"Supported languages" list (those of Whisper, :data:`LANGUAGES`); with no
voice named, another language is refused before any request (the hookspec's
``None`` would leave a pinned node with no answer at all).

A retried attempt or a resumed run does not buy a sentence twice: each paid
sentence is noted in the node's journal (:func:`reuse_paid_segment`).

Cost: ``tts-1`` / ``tts-1-hd`` bill input characters; ``gpt-4o-mini-tts``
bills input text tokens and output audio tokens, which the endpoint does not
report: audio tokens are counted from the returned duration at the rate
OpenAI's own estimate implies (:data:`AUDIO_TOKENS_PER_S`). Prices come
from ``prices.yaml`` (:mod:`reelgraph.plugins.vendors._pricing`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError
from reelgraph.hookspecs import hookimpl
from reelgraph.models import Narration, SpeechSegment
from reelgraph.plugins.vendors._pricing import Price, cost_usd, price_for

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "AUDIO_TOKENS_PER_S",
    "DEFAULT_SPEECH_MODEL",
    "DEFAULT_VOICE",
    "LANGUAGES",
    "OpenAISpeech",
]

DEFAULT_SPEECH_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
#: built-in voices (API reference, createSpeech ``voice``)
# fmt: off
VOICES = frozenset({
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
    "verse", "marin", "cedar",
})
# fmt: on
#: the voices tts-1 and tts-1-hd speak (the others are gpt-4o-mini-tts only)
CLASSIC_VOICES = frozenset(
    ["alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"]
)
#: models billed per input character (prices.yaml ``input`` is then USD per 1M characters)
PER_CHARACTER_MODELS = ("tts-1", "tts-1-hd")
#: ISO 639-1 codes of the text-to-speech guide's "Supported languages" (Whisper's list)
# fmt: off
LANGUAGES = frozenset({
    "af", "ar", "hy", "az", "be", "bs", "bg", "ca", "zh", "hr", "cs", "da", "nl", "en", "et",
    "fi", "fr", "gl", "de", "el", "he", "hi", "hu", "is", "id", "it", "ja", "kn", "kk", "ko",
    "lv", "lt", "mk", "ms", "mr", "mi", "ne", "no", "nb", "nn", "fa", "pl", "pt", "ro", "ru",
    "sr", "sk", "sl", "es", "sw", "sv", "tl", "fil", "ta", "th", "tr", "uk", "ur", "vi", "cy",
})
# fmt: on
#: gpt-4o-mini-tts audio output tokens per second of speech: OpenAI's pricing page
#: estimates $0.015 a minute at $12 per 1M audio tokens, i.e. 1,250 tokens a minute
#: (https://platform.openai.com/docs/pricing, "Text to speech"; quoted in
#: community.openai.com/t/1151816)
AUDIO_TOKENS_PER_S = 0.015 / 12.0 * 1_000_000 / 60.0
#: a cost *bound* before synthesis assumes speech no faster than this many
#: characters a second at speed 1.0 (slow narration runs ~12; half of it
#: leaves room for pauses); used only for the budget, never for timings
BOUND_CHARS_PER_S = 6.0
MIN_SPEED, MAX_SPEED = 0.25, 4.0
#: the API's limit on ``input`` (API reference: "maximum length is 4096 characters")
MAX_INPUT_CHARS = 4096


class OpenAISpeech:
    """``synthesize_speech`` and its cost estimate, mixed into :class:`.plugin.OpenAIPlugin`.

    Uses the plugin's ``_api_key``, ``_client`` (one SDK client per key and
    base URL, ``max_retries=0``) and error classification.
    """

    reelgraph_name = "openai"
    _api_key: Any
    _client: Any

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
        """Speak each sentence with one ``/v1/audio/speech`` request (see the module docstring).

        Args:
            sentences: plain-text sentences; ``SpeechSegment.text`` keeps them.
            voice: an OpenAI voice name (``"coral"``); ``None``: ``options.voice``
                or ``alloy``.
            rate_wpm: ignored (logged): use ``options.speed``.
            options: model, voice, speed, instructions; base_url, api_key,
                request_timeout_s.
            ctx: files go to ``ctx.workdir/sentence-NNN.wav``.
            language: BCP 47 tag; with no voice named, a language outside
                :data:`LANGUAGES` is refused (the node pins this provider,
                so no other would be tried).
            speech: plain-text speech per sentence (SSML entries, made for
                espeak-ng, are not sent: the sentence is spoken instead).

        Returns:
            One 24 kHz mono 16-bit WAV segment per sentence, its
            ``duration_s`` = samples / rate (seconds), no word timings;
            ``Narration.voice`` is ``"openai:<voice>"``. ``None`` when the node
            does not pin ``openai`` (the offline engines answer).

        Raises:
            InvalidInputError: blank sentences, ``speech`` of another length,
                a sentence over 4096 characters, a language as above, an
                unknown voice or a speed
                out of range (all before any request), audio that does not decode.
            ConfigurationError: no key, a rejected key (401), no quota.
            RateLimitedError, TransientError: 429, 5xx, timeouts.
        """
        from reelgraph.plugins._language import primary_subtag
        from reelgraph.plugins.speech._common import speak_sentences
        from reelgraph.plugins.speech.espeak import check_speech

        if ctx.provider != self.reelgraph_name:
            return None
        if voice is None and language and primary_subtag(language) not in LANGUAGES:
            # pinned, so no other provider would be tried: say why (as piper does)
            raise InvalidInputError(
                f"openai speech: OpenAI's voices do not speak {language!r} (the text-to-speech "
                "guide's supported languages); name a voice to try anyway, or use espeak"
            )
        options = dict(options or {})
        texts = _check_sentences(sentences)
        prepared = iter(check_speech(speech, texts, "openai"))
        model = str(options.get("model") or DEFAULT_SPEECH_MODEL)
        chosen = str(voice or options.get("voice") or DEFAULT_VOICE)
        speed = _speed(options.get("speed"))
        instructions = options.get("instructions")
        if rate_wpm is not None:
            ctx.log.info("openai speech: rate_wpm ignored; use options.speed", rate_wpm=rate_wpm)
        key = self._api_key(options)
        client = self._client(key, options)
        _check_voice(chosen, model, client)
        params: dict[str, Any] = {"model": model, "voice": chosen, "response_format": "wav"}
        if speed is not None:
            params["speed"] = speed
        if instructions:
            params["instructions"] = str(instructions)
        price = price_for("openai", model)

        def speak(text: str, path: Path) -> SpeechSegment:
            spoken = _plain(next(prepared)) or text
            fingerprint = _fingerprint(client.base_url, params, spoken)
            done = reuse_paid_segment(ctx, path, fingerprint, text)
            if done is not None:
                return done
            segment = _speak_one(client, params, text, spoken, path, key)
            _report(ctx, model, price, spoken, segment.duration_s)
            remember_paid_segment(ctx, path, fingerprint, segment)
            return segment

        return speak_sentences(texts, f"openai:{chosen}", speak, ctx)

    @hookimpl(specname="estimate_cost", tryfirst=True)
    def estimate_speech_cost(
        self, hook: str, provider: str | None, arguments: dict[str, Any]
    ) -> float | None:
        """The most ``synthesize_speech`` pinned to ``openai`` can cost, in US dollars.

        Characters are counted from ``speech`` when given, else ``sentences``;
        ``tts-1``/``tts-1-hd`` bill them at the row's ``input`` (USD per 1M
        characters). ``gpt-4o-mini-tts`` bills them as at most one input token
        each, plus audio tokens for speech no faster than
        :data:`BOUND_CHARS_PER_S` at the requested speed. ``None`` for other
        hooks and providers, and for a model without a price (unknown, not
        free: ``price_for`` logs the missing row).
        """
        if provider != self.reelgraph_name or hook != "synthesize_speech":
            return None
        options = arguments.get("options") or {}
        model = str(options.get("model") or DEFAULT_SPEECH_MODEL)
        price = price_for("openai", model)
        if price is None:
            return None
        texts = arguments.get("speech") or arguments.get("sentences") or []
        chars = sum(len(str(text)) for text in texts)
        speed = _speed(options.get("speed")) or 1.0
        bound_s = chars / (BOUND_CHARS_PER_S * speed)
        return _cost(price, model, chars, bound_s)


def _fingerprint(base_url: Any, params: dict[str, Any], spoken: str) -> str:
    """What a sentence's audio depends on (server, model, voice, settings, text), hashed."""
    import hashlib
    import json

    data = json.dumps([str(base_url), params, spoken], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def reuse_paid_segment(
    ctx: NodeContext, path: Path, fingerprint: str, text: str
) -> SpeechSegment | None:
    """The segment an earlier attempt of this node paid for, when ``path`` still holds it.

    A retried node (a 429 on its fifth sentence) or a resumed run speaks again
    from the first sentence; sentences already paid for are taken from the
    node's journal (fingerprint of the request, sha256 of the WAV, the
    segment) instead of being bought twice. ``None`` when there is no such
    note, the request differs, or the file changed.
    """
    import hashlib
    import json

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


def remember_paid_segment(
    ctx: NodeContext, path: Path, fingerprint: str, segment: SpeechSegment
) -> None:
    """Note a paid sentence in the node's journal (see :func:`reuse_paid_segment`)."""
    import hashlib
    import json

    note = {
        "fingerprint": fingerprint,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "segment": segment.model_dump(mode="json", exclude={"path"}),
    }
    ctx.journal.record(f"paid:{path.name}", json.dumps(note))


def _check_sentences(sentences: Any) -> list[str]:
    if not isinstance(sentences, list | tuple):
        raise InvalidInputError(
            f"openai speech: sentences must be a list of strings, got {type(sentences).__name__}"
        )
    texts = []
    for i, text in enumerate(sentences):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(
                f"openai speech: sentences[{i}] is blank or not a string; the narration must "
                "hold only non-blank sentences"
            )
        if len(text) > MAX_INPUT_CHARS:
            raise InvalidInputError(
                f"openai speech: sentences[{i}] has {len(text)} characters; the API takes at "
                f"most {MAX_INPUT_CHARS} per request: split the sentence"
            )
        texts.append(text)
    return texts


def _plain(entry: str | None) -> str | None:
    """A prepared speech entry to send, or ``None`` for SSML (espeak-ng markup) and no entry."""
    if entry is None or entry.lstrip().startswith("<"):
        return None
    return entry


def _speed(value: Any) -> float | None:
    if value is None:
        return None
    try:
        speed = float(value)
    except (TypeError, ValueError):
        speed = float("nan")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidInputError(
            f"openai speech: options.speed is {value!r}; use a number from {MIN_SPEED} to "
            f"{MAX_SPEED} (1.0 is the voice's own pace)"
        )
    return speed


def _check_voice(voice: str, model: str, client: Any) -> None:
    """Refuse an unknown voice before a request, on OpenAI itself (compatible servers have others)."""
    if client.base_url.host != "api.openai.com":
        return
    known = CLASSIC_VOICES if model.startswith(PER_CHARACTER_MODELS) else VOICES
    if voice not in known:
        raise InvalidInputError(
            f"openai speech: voice {voice!r} is not a voice of {model}; use one of "
            f"{', '.join(sorted(known))}"
        )


def _speak_one(
    client: Any, params: dict[str, Any], text: str, spoken: str, path: Path, key: str
) -> SpeechSegment:
    """One request; the answer decoded and written as ``path`` (16-bit mono WAV)."""
    import openai

    from reelgraph.plugins.speech.espeak import _write_wav
    from reelgraph.plugins.vendors.openai import _errors

    try:
        response = client.audio.speech.create(input=spoken, **params)
        data = response.content
    except openai.OpenAIError as err:
        classified = _errors.classify(err, secrets=(key,))
        raise (classified or err) from err
    pcm, rate = decode_pcm16_mono(data, f"openai speech ({params['model']})")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_wav(path, pcm, rate)
    return SpeechSegment(
        text=text, path=path, duration_s=len(pcm) // 2 / rate, sample_rate_hz=rate, words=[]
    )


def decode_pcm16_mono(data: bytes, who: str) -> tuple[bytes, int]:
    """Decode an audio file (WAV, MP3...) to mono signed 16-bit little-endian PCM with PyAV.

    Returns:
        ``(pcm, sample_rate_hz)`` at the file's own rate.

    Raises:
        InvalidInputError: the bytes do not decode to any audio samples.
    """
    import av

    chunks: list[bytes] = []
    rate = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.audio[0]
            rate = int(stream.rate or stream.codec_context.sample_rate or 0)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(bytes(out.planes[0])[: out.samples * 2])
            for out in resampler.resample(None):
                chunks.append(bytes(out.planes[0])[: out.samples * 2])
    except (av.FFmpegError, IndexError, ValueError) as err:
        raise InvalidInputError(
            f"{who}: the answer is not audio PyAV can decode ({len(data)} bytes: "
            f"{type(err).__name__})"
        ) from None
    pcm = b"".join(chunks)
    if not pcm or rate <= 0:
        raise InvalidInputError(f"{who}: the answer holds no audio samples ({len(data)} bytes)")
    return pcm, rate


def _cost(price: Price, model: str, chars: int, duration_s: float) -> float:
    """US dollars for ``chars`` input characters that made ``duration_s`` seconds of audio."""
    if model.startswith(PER_CHARACTER_MODELS):
        return cost_usd(price, chars)
    audio_tokens = round(duration_s * AUDIO_TOKENS_PER_S)
    return cost_usd(price, chars, 0, audio_tokens)


def _report(
    ctx: NodeContext, model: str, price: Price | None, spoken: str, duration_s: float
) -> None:
    """Usage on the span (characters in, audio tokens out) and the cost, once the audio is in."""
    per_character = model.startswith(PER_CHARACTER_MODELS)
    audio_tokens = None if per_character else round(duration_s * AUDIO_TOKENS_PER_S)
    ctx.report_usage(
        operation="text_to_speech",
        provider_name="openai",
        model=model,
        input_tokens=len(spoken),
        output_tokens=audio_tokens,
        cost_usd=None if price is None else _cost(price, model, len(spoken), duration_s),
    )
