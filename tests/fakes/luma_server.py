"""A fake Luma Dream Machine API on loopback, for the real ``lumaai`` SDK to talk to.

It follows the published wire format (https://docs.lumalabs.ai/, the API's
OpenAPI document github.com/lumalabs/lumaai-api ``openapi.yaml``), under the
real prefix ``/dream-machine/v1``:

- every request carries ``Authorization: Bearer <key>`` (else 401
  ``{"detail": ...}``);
- ``POST /generations/video`` (``model`` ``ray-2`` / ``ray-flash-2``,
  ``prompt``, ``aspect_ratio``, ``duration`` ``"5s"`` / ``"9s"``,
  ``resolution``, ``keyframes.frame0`` ``{"type": "image", "url"}``) answers
  201 with the generation object (``id``, ``state: "queued"``,
  ``created_at``, ``model``, ``generation_type``, ``request``); a bad body is
  a 400 ``{"detail": ...}``;
- ``GET /generations/{id}`` answers the generation: ``queued``, ``dreaming``,
  ``completed`` (``assets.video``) or ``failed`` (``failure_reason``).

A keyframe URL on a loopback address (a presigned URL of moto's S3 server in
a test) is fetched as Luma would fetch it: an answer other than 200, or bytes
that are not a PNG or a JPEG, is a 400 ``{"detail": ...}``; what was fetched
is kept (:attr:`FakeLuma.frames`). A URL elsewhere (``https://cdn.example.com``)
is taken as given, not fetched.

Scripting, media endpoints and counters come from
:class:`tests.fakes.runway_server.FakeClipServer`.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.runway_server import FakeClipServer

__all__ = ["PREFIX", "FakeLuma"]

PREFIX = "/dream-machine/v1"
_ASPECTS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}


class FakeLuma(FakeClipServer):
    """The fake Luma API (see the module docstring)."""

    vendor = "luma"
    default_script = ("completed",)

    def __init__(self, mp4: Any, *, key: str = "test-key-0123456789") -> None:
        super().__init__(mp4, key=key)
        #: the keyframe images fetched from loopback URLs: (url, content type, bytes)
        self.frames: list[tuple[str, str, bytes]] = []

    @property
    def base_url(self) -> str:
        """What ``LUMAAI_BASE_URL`` is set to."""
        return self.url + PREFIX

    def route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"detail": "Invalid API key"}, {}
        if method == "POST" and path == PREFIX + "/generations/video":
            status = self._next_error(self.submit_errors)
            if status is not None:
                return status, {"detail": "Too many requests"}, {"retry-after": "0"}
            problem = _check(body) or self._fetch_keyframe(body)
            if problem:
                return 400, {"detail": problem}, {}
            task_id = self._new_task(body)
            return 201, self._generation(task_id, "queued"), {}
        match = re.fullmatch(PREFIX + r"/generations/([0-9a-f-]+)", path)
        if method == "GET" and match:
            status = self._next_error(self.poll_errors)
            if status is not None:
                return status, {"detail": "Too many requests"}, {"retry-after": "0"}
            task_id = match.group(1)
            if task_id not in self.tasks:
                return 404, {"detail": "Generation not found"}, {}
            return 200, self._generation(task_id, self._advance(task_id)), {}
        return 404, {"detail": f"no route {method} {path}"}, {}

    def _fetch_keyframe(self, body: dict[str, Any]) -> str | None:
        """Fetch a loopback keyframe URL as Luma would; a 400 detail when it is unusable."""
        frame0 = (body.get("keyframes") or {}).get("frame0")
        if not frame0 or urlsplit(frame0["url"]).hostname not in ("127.0.0.1", "localhost"):
            return None
        try:
            with urllib.request.urlopen(frame0["url"], timeout=10) as answer:  # noqa: S310
                data, kind = answer.read(), answer.headers.get("content-type", "")
        except urllib.error.HTTPError as err:
            return f"keyframes.frame0: could not fetch the image (HTTP {err.code})"
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
            return "keyframes.frame0: the URL does not serve a PNG or JPEG image"
        with self.lock:
            self.frames.append((frame0["url"], kind, data))
        return None

    def _generation(self, task_id: str, state: str) -> dict[str, Any]:
        body = self.tasks[task_id]["body"]
        generation: dict[str, Any] = {
            "id": task_id,
            "generation_type": "video",
            "state": state,
            "failure_reason": None,
            "created_at": "2026-12-05T12:00:00.000Z",
            "assets": None,
            "model": body["model"],
            "request": {**body, "generation_type": "video"},
        }
        if state == "completed":
            generation["assets"] = {"video": self.output_url(task_id)}
        if state == "failed":
            generation["failure_reason"] = (
                "400: prompt not allowed because advanced moderation failed"
            )
        return generation


def _check(body: Any) -> str | None:
    """What the API would reject in a generation request (a 400 detail), else ``None``."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if body.get("model") not in ("ray-2", "ray-flash-2"):
        return f"invalid model {body.get('model')!r}"
    if body.get("aspect_ratio", "16:9") not in _ASPECTS:
        return "invalid aspect_ratio"
    if body.get("duration", "5s") not in ("5s", "9s"):
        return "duration must be 5s or 9s"
    frame0 = (body.get("keyframes") or {}).get("frame0")
    if frame0 is not None:
        url = str(frame0.get("url", ""))
        loopback = urlsplit(url).hostname in ("127.0.0.1", "localhost")
        if frame0.get("type") != "image" or not (url.startswith("https://") or loopback):
            return "keyframes.frame0 must be an image with an https url"
    elif not body.get("prompt"):
        return "prompt is required"
    return None
