"""A fake OpenAI speech API (``POST /v1/audio/speech``) on loopback, for the real ``openai`` SDK.

It follows the published wire format (API reference, "Create speech",
https://platform.openai.com/docs/api-reference/audio/createSpeech), not the
SDK's internals:

- ``Authorization: Bearer <key>``; a JSON body with ``model``, ``input`` (at
  most 4096 characters), ``voice``, optional ``response_format`` (``mp3``
  default, ``wav``, ``pcm``...), ``speed`` (0.25-4.0) and ``instructions``;
- the answer is the audio itself (``content-type: audio/wav`` for ``wav``,
  24 kHz mono 16-bit as the API's output), spoken for real: espeak-ng through
  the project's espeak plugin, resampled to 24 kHz by the bundled ffmpeg;
- errors as the Chat Completions fake sends them (``{"error": {message,
  type, param, code}}``, https://platform.openai.com/docs/guides/error-codes):
  401 ``invalid_api_key`` with the key masked, 429 with ``retry-after``, 500.

Composed from :mod:`tests.fakes.openai_server` (its :class:`Step` scripts
failures here too); that module is left as it is. Each answered request
records the number of samples it returned (:attr:`Recorded.samples`), so a
test compares segment durations with what the server really sent.
``wav_placeholder_sizes`` makes the server write ``0xFFFFFFFF`` RIFF and data
sizes, as a WAV written while streaming does when its length is unknown.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import Step, _bearer, _error

__all__ = ["FakeOpenAISpeech", "SpeechRequest", "Step"]

RATE_HZ = 24_000


@dataclass
class SpeechRequest:
    """One request the server received, and what it answered."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    samples: int = 0
    at: float = 0.0


class FakeOpenAISpeech:
    """A threaded HTTP server speaking ``/v1/audio/speech`` on ``127.0.0.1``."""

    def __init__(self, api_key: str, *, wav_placeholder_sizes: bool = False) -> None:
        self.api_key = api_key
        self.wav_placeholder_sizes = wav_placeholder_sizes
        #: bytes sent instead of speech (e.g. something that is not audio)
        self.audio_override: bytes | None = None
        self.requests: list[SpeechRequest] = []
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                owner._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *steps: Step) -> None:
        """What the next requests get instead of audio (an error), in order."""
        with self._lock:
            self._steps.extend(steps)

    @property
    def answered(self) -> list[SpeechRequest]:
        return [r for r in self.requests if r.status == 200]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAISpeech:
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
        request = SpeechRequest(
            handler.path,
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
            step = self._steps.pop(0) if self._steps else None
        status, payload, headers, content_type = self._answer(request, step)
        request.status = status
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", content_type)
        handler.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self, request: SpeechRequest, step: Step | None
    ) -> tuple[int, Any, dict[str, str], str]:
        if not request.path.endswith("/v1/audio/speech"):
            return (*_error(404, "invalid_request_error", f"Unknown URL {request.path}"), "application/json")  # fmt: skip
        key = _bearer(request.headers)
        if key != self.api_key:
            masked = f"{key[:3]}*****{key[-4:]}" if key and len(key) > 8 else "(none)"
            return (
                *_error(
                    401,
                    "invalid_request_error",
                    f"Incorrect API key provided: {masked}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_api_key",
                ),
                "application/json",
            )
        problem = _check_body(request.body)
        if problem:
            return (*_error(400, "invalid_request_error", problem), "application/json")
        if step is not None and step.error is not None:
            return step.status, {"error": step.error}, step.headers, "application/json"
        if self.audio_override is not None:
            return 200, self.audio_override, {}, "audio/wav"
        wav = self._speak(str(request.body["input"]))
        with wave.open(io.BytesIO(wav)) as reader:
            request.samples = reader.getnframes()
        if self.wav_placeholder_sizes:
            wav = wav[:4] + struct.pack("<I", 0xFFFFFFFF) + wav[8:40] + b"\xff\xff\xff\xff" + wav[44:]  # fmt: skip
        return 200, wav, {"x-request-id": "req_fake"}, "audio/wav"

    def _speak(self, text: str) -> bytes:
        """``text`` spoken by espeak-ng, as a 24 kHz mono 16-bit WAV (cached per text)."""
        if text in self._cache:
            return self._cache[text]
        import imageio_ffmpeg

        from reelgraph.plugins.speech.espeak import synthesize_to_wav

        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "espeak.wav"
            synthesize_to_wav(text, source, "en-us", 175)
            target = Path(tmp) / "out.wav"
            cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
            cmd += ["-i", str(source), "-ar", str(RATE_HZ), "-ac", "1", "-c:a", "pcm_s16le"]
            cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", str(target)]
            subprocess.run(cmd, check=True, capture_output=True)
            data = target.read_bytes()
        self._cache[text] = data
        return data


def _check_body(body: Any) -> str:
    """The API's 400s for a speech request ("" when it is acceptable)."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    for name in ("model", "input", "voice"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"Missing required parameter: '{name}'."
    if len(body["input"]) > 4096:
        return "Invalid 'input': string too long. Expected a string with maximum length 4096."
    if body.get("response_format", "mp3") != "wav":
        return "this fake speaks only response_format 'wav'"
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        return "Invalid 'speed': expected a number from 0.25 to 4.0."
    if body.get("instructions") and body["model"].startswith("tts-1"):
        return "instructions are not supported for tts-1 models"
    return ""
