"""A fake ElevenLabs text-to-speech API on loopback, for the real ``elevenlabs`` SDK.

It follows the published wire format (API reference, "Create speech with
timing", https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps;
"Errors", https://elevenlabs.io/docs/api-reference/errors), not the SDK's
internals:

- ``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``
  with the key in the ``xi-api-key`` header and a JSON body (``text``,
  ``model_id``, ``language_code``, ``voice_settings``, ``seed``...);
- the answer is JSON: ``audio_base64`` (raw signed 16-bit little-endian mono
  PCM at the format's rate) and ``alignment`` / ``normalized_alignment``
  (``characters``, ``character_start_times_seconds``,
  ``character_end_times_seconds``);
- errors are ``{"detail": {"status": "<code>", "message": "..."}}``: 401
  ``invalid_api_key``, 401 ``quota_exceeded``, 429
  ``too_many_concurrent_requests`` (with ``Retry-After``), 404
  ``voice_not_found``, 500; a 422 carries a list of validation problems.

The speech is real: espeak-ng through the project's espeak plugin, resampled
by the bundled ffmpeg. The alignment is made from espeak's own word events:
each word's characters share the time from its start to the next word's,
spaces take the gap, so a word's first character starts exactly where
espeak said the word starts. :attr:`Call.alignment` keeps what was sent, so
a test checks the provider's word timings (and the captions) against it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Call", "FakeElevenLabs", "Fault"]

RATES = {"pcm_16000": 16_000, "pcm_22050": 22_050, "pcm_24000": 24_000, "pcm_44100": 44_100}
MODELS = {"eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3"}


@dataclass
class Fault:
    """What the server answers to one request instead of speech."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def rate_limited(cls, retry_after_s: int = 1) -> Fault:
        return cls(
            429,
            "too_many_concurrent_requests",
            "You have too many concurrent requests. Your subscription allows 2 concurrent "
            "requests.",
            {"retry-after": str(retry_after_s)},
        )

    @classmethod
    def quota_exceeded(cls) -> Fault:
        return cls(
            401,
            "quota_exceeded",
            "This request exceeds your quota of 10000. You have 12 credits remaining, while "
            "52 credits are required for this request.",
        )

    @classmethod
    def server_error(cls) -> Fault:
        return cls(500, "internal_error", "An internal error occurred.")


@dataclass
class Call:
    """One request the server received, and what it answered."""

    path: str
    voice_id: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float
    status: int = 0
    samples: int = 0
    rate_hz: int = 0
    alignment: dict[str, list[Any]] | None = None


class FakeElevenLabs:
    """A threaded HTTP server speaking ElevenLabs' timed text to speech on ``127.0.0.1``."""

    def __init__(
        self,
        api_key: str,
        voices: tuple[str, ...] = ("JBFqnCBsd6RMkjVDRZzb",),
        *,
        rate_wpm: int = 175,
    ) -> None:
        self.api_key = api_key
        #: espeak-ng's speaking rate, words per minute
        self.rate_wpm = rate_wpm
        self.voices = set(voices)
        self.calls: list[Call] = []
        self._faults: list[Fault | None] = []
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[bytes, dict[str, list[Any]]]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                owner._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *faults: Fault | None) -> None:
        """What the next requests get, in order: a fault, or ``None`` for speech."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def answered(self) -> list[Call]:
        return [c for c in self.calls if c.status == 200]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeElevenLabs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- handling -------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        url = urlsplit(handler.path)
        parts = url.path.strip("/").split("/")
        call = Call(
            url.path,
            parts[2] if len(parts) == 4 else "",
            {k: v[-1] for k, v in parse_qs(url.query).items()},
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
            fault = self._faults.pop(0) if self._faults else None
        status, payload, headers = self._answer(call, parts, fault)
        call.status = status
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.send_header("request-id", f"req{len(self.calls)}")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self, call: Call, parts: list[str], fault: Fault | None
    ) -> tuple[int, Any, dict[str, str]]:
        if (
            len(parts) != 4
            or parts[:2] != ["v1", "text-to-speech"]
            or parts[3] != "with-timestamps"
        ):
            return 404, {"detail": "Not Found"}, {}
        if call.headers.get("xi-api-key") != self.api_key:
            return _detail(401, "invalid_api_key", "Invalid API key")
        if fault is not None:
            return (*_detail(fault.status, fault.code, fault.message)[:2], fault.headers)
        if call.voice_id not in self.voices:
            return _detail(404, "voice_not_found", f"A voice with voice_id {call.voice_id} was not found.")  # fmt: skip
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            problem = {"loc": ["body", "text"], "msg": "Field required", "type": "missing"}
            return 422, {"detail": [problem]}, {}
        if body.get("model_id", "eleven_multilingual_v2") not in MODELS:
            return _detail(400, "model_not_found", f"Model {body['model_id']} does not exist.")
        output_format = call.query.get("output_format", "mp3_44100_128")
        if output_format not in RATES:
            return _detail(400, "invalid_output_format", "this fake sends only pcm_* formats")
        rate = RATES[output_format]
        pcm, alignment = self._speak(body["text"], rate)
        call.samples, call.rate_hz, call.alignment = len(pcm) // 2, rate, alignment
        answer = {
            "audio_base64": base64.b64encode(pcm).decode(),
            "alignment": alignment,
            "normalized_alignment": alignment,
        }
        return 200, answer, {}

    def _speak(self, text: str, rate: int) -> tuple[bytes, dict[str, list[Any]]]:
        """Raw PCM of ``text`` spoken by espeak-ng at ``rate``, and its character alignment."""
        if (text, rate) in self._cache:
            return self._cache[(text, rate)]
        import imageio_ffmpeg

        from reelgraph.plugins.speech.espeak import synthesize_to_wav

        with tempfile.TemporaryDirectory() as tmp:
            segment = synthesize_to_wav(text, Path(tmp) / "espeak.wav", "en-us", self.rate_wpm)
            cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
            cmd += ["-i", str(segment.path), "-ar", str(rate), "-ac", "1", "-f", "s16le", "-"]
            pcm = subprocess.run(cmd, check=True, capture_output=True).stdout
        duration_s = len(pcm) // 2 / rate
        alignment = _alignment(text, [(w.text, w.start_s) for w in segment.words], duration_s)
        self._cache[(text, rate)] = (pcm, alignment)
        return pcm, alignment


def _alignment(
    text: str, words: list[tuple[str, float]], duration_s: float
) -> dict[str, list[Any]]:
    """Character times from word starts: a word's characters share its span evenly."""
    anchors: list[tuple[int, float]] = []
    cursor = 0
    for word, start in words:
        at = text.find(word, cursor)
        if at >= 0:
            anchors.append((at, start))
            cursor = at + len(word)
    if not anchors or anchors[0][0] != 0:
        anchors.insert(0, (0, 0.0))
    anchors.append((len(text), duration_s))
    starts = [0.0] * len(text)
    ends = [0.0] * len(text)
    for (c0, t0), (c1, t1) in zip(anchors, anchors[1:], strict=False):
        span = max(c1 - c0, 1)
        for i in range(c0, c1):
            starts[i] = round(t0 + (t1 - t0) * (i - c0) / span, 3)
            ends[i] = round(t0 + (t1 - t0) * (i - c0 + 1) / span, 3)
    return {
        "characters": list(text),
        "character_start_times_seconds": starts,
        "character_end_times_seconds": ends,
    }


def _detail(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"detail": {"status": code, "message": message}}, {}
