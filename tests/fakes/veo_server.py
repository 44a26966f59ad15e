"""A fake Gemini API (Veo) on loopback, for the real ``google-genai`` SDK to talk to.

It follows the published wire format (https://ai.google.dev/gemini-api/docs/video,
REST tab; the ``v1beta`` resources the SDK's converters read and write):

- every request carries ``x-goog-api-key``; a wrong key is HTTP 400
  ``INVALID_ARGUMENT`` with an ``ErrorInfo`` reason ``API_KEY_INVALID`` (what
  the Gemini API answers), errors being ``{"error": {"code", "message",
  "status", "details"?}}``;
- ``POST /v1beta/models/{model}:predictLongRunning`` (``instances[0]``:
  ``prompt``, ``image.bytesBase64Encoded`` / ``mimeType``; ``parameters``:
  ``aspectRatio`` 16:9 / 9:16, ``durationSeconds`` 4 / 6 / 8, ``resolution``,
  ``negativePrompt``, ``sampleCount``) answers ``{"name":
  "models/{model}/operations/{id}"}``;
- ``GET /v1beta/models/{model}/operations/{id}`` answers the operation,
  scripted per poll: ``running`` (``done`` absent), ``done`` (``response.
  generateVideoResponse.generatedSamples[0].video.uri``), ``inline`` (the
  video as ``encodedVideo``), ``error`` (``error.code`` / ``message``) or
  ``filtered`` (``raiMediaFilteredCount`` and reasons, no sample);
- ``GET /v1beta/files/{id}:download?alt=media`` needs the key and answers a
  302 to the stored media (:attr:`files`, ``"redirect"``) or the bytes
  themselves (``"direct"``).

:attr:`FakeClipServer.submit_errors` / ``poll_errors`` take HTTP statuses
(429 is ``RESOURCE_EXHAUSTED``). Scripting, media endpoints and counters
come from :class:`tests.fakes.runway_server.FakeClipServer`.
"""

from __future__ import annotations

import base64
import re
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.runway_server import FakeClipServer, Recorded

__all__ = ["FakeVeo"]

_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
_DOWNLOAD = re.compile(r"/v1beta/files/([0-9a-z]+):download")


def _error(code: int, message: str, details: list | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": _STATUS.get(code, "")}
    if details:
        error["details"] = details
    return {"error": error}


class FakeVeo(FakeClipServer):
    """The fake Gemini API for Veo (see the module docstring)."""

    vendor = "veo"
    default_script = ("done",)

    def __init__(self, mp4, *, key: str) -> None:
        super().__init__(mp4, key=key)
        self.files = "redirect"
        self.keys_seen: list[str] = []  # x-goog-api-key values on media/file requests

    @property
    def base_url(self) -> str:
        """What ``GOOGLE_GEMINI_BASE_URL`` is set to."""
        return self.url + "/"

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path.split("?", 1)[0]
        key = handler.headers.get("x-goog-api-key")
        if path.startswith("/media/") and key:
            with self.lock:
                self.keys_seen.append(key)
        match = _DOWNLOAD.fullmatch(path)
        if match is None:
            super()._handle(handler, method)
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append(Recorded(method, path, headers, None))
        if key != self.key:
            self._send(handler, 403, _error(403, "The caller does not have permission"))
            return
        task_id = next(t for t in self.tasks if t.replace("-", "") == match.group(1))
        if self.files == "direct":
            with self.lock:
                self.downloads.append(task_id)
            self._send(handler, 200, self.mp4, None, "video/mp4")
        else:
            self._send(handler, 302, b"", {"location": self.output_url(task_id)})

    def route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("x-goog-api-key") != self.key:
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
            return 400, _error(400, "API key not valid. Please pass a valid API key.", [info]), {}
        submit = re.fullmatch(r"/v1beta/models/([a-z0-9.-]+):predictLongRunning", path)
        if method == "POST" and submit:
            status = self._next_error(self.submit_errors)
            if status is not None:
                return status, _error(status, "Resource has been exhausted (e.g. check quota)."), {}
            problem = _check(body)
            if problem:
                return 400, _error(400, problem), {}
            task_id = self._new_task({**body, "_model": submit.group(1)})
            return 200, {"name": f"models/{submit.group(1)}/operations/{task_id}"}, {}
        poll = re.fullmatch(r"/v1beta/models/([a-z0-9.-]+)/operations/([0-9a-f-]+)", path)
        if method == "GET" and poll:
            status = self._next_error(self.poll_errors)
            if status is not None:
                return status, _error(status, "Resource has been exhausted (e.g. check quota)."), {}
            task_id = poll.group(2)
            if task_id not in self.tasks:
                return 404, _error(404, "Operation not found"), {}
            return 200, self._operation(poll.group(1), task_id, self._advance(task_id)), {}
        return 404, _error(404, f"no route {method} {path}"), {}

    def _operation(self, model: str, task_id: str, state: str) -> dict[str, Any]:
        operation: dict[str, Any] = {"name": f"models/{model}/operations/{task_id}"}
        if state == "running":
            return operation
        operation["done"] = True
        if state == "error":
            operation["error"] = {"code": 13, "message": "Video generation failed internally."}
            return operation
        generated: dict[str, Any] = {}
        if state == "done":
            uri = f"{self.url}/v1beta/files/{task_id.replace('-', '')}:download?alt=media"
            generated["generatedSamples"] = [{"video": {"uri": uri}}]
        elif state == "inline":
            with self.lock:
                self.downloads.append(task_id)
            encoded = base64.b64encode(self.mp4).decode("ascii")
            generated["generatedSamples"] = [
                {"video": {"encodedVideo": encoded, "encoding": "video/mp4"}}
            ]
        elif state == "filtered":
            generated["raiMediaFilteredCount"] = 1
            generated["raiMediaFilteredReasons"] = [
                "The video could not be generated because it may violate the usage guidelines."
            ]
        operation["response"] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": generated,
        }
        return operation


def _check(body: Any) -> str | None:
    """What the API would reject in a predictLongRunning body (a 400 message), else ``None``."""
    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
        return "Invalid JSON payload: instances is required."
    instance = body["instances"][0] if body["instances"] else {}
    parameters = body.get("parameters") or {}
    if not instance.get("prompt") and not instance.get("image"):
        return "A prompt or an image is required."
    image = instance.get("image")
    if image is not None:
        if image.get("mimeType") not in ("image/png", "image/jpeg"):
            return "image.mimeType must be image/png or image/jpeg."
        try:
            base64.b64decode(image.get("bytesBase64Encoded", ""), validate=True)
        except ValueError:
            return "image.bytesBase64Encoded is not base64."
    if parameters.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
        return "aspectRatio must be 16:9 or 9:16."
    if parameters.get("durationSeconds", 8) not in (4, 6, 8):
        return "durationSeconds must be 4, 6 or 8."
    return None
