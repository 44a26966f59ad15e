"""A fake Kling AI API on loopback, for the ``kling`` provider's httpx client to talk to.

It follows Kling's published wire format (https://app.klingai.com/global/dev/document-api,
mirrored in github.com/inference-sh/grid ``api/klingai/docs/``), not the plugin's code:

- every request carries ``Authorization: Bearer <JWT>``; the fake *verifies*
  it with PyJWT: HS256 signature with the secret key, ``iss`` equal to the
  access key, ``exp`` and ``nbf`` present and valid (else HTTP 401 with code
  1000 / 1002 / 1003 / 1004, as documented);
- every answer is the envelope ``{"code", "message", "request_id", "data"}``;
- ``POST /v1/videos/text2video`` (``model_name``, ``prompt``, ``mode`` std/pro,
  ``aspect_ratio``, ``duration`` "5"/"10") and ``POST /v1/videos/image2video``
  (``image``: a URL or base64 without a ``data:`` prefix) answer
  ``data.task_id`` with ``task_status: "submitted"``; a bad body is HTTP 400
  code 1201;
- ``GET /v1/videos/{text2video|image2video}/{task_id}`` answers the task:
  ``submitted``, ``processing``, ``succeed`` (``task_result.videos[].url``) or
  ``failed`` (``task_status_msg``); an unknown id is 404 code 1203;
- :attr:`FakeClipServer.submit_errors` / ``poll_errors`` take *Kling codes*
  here: 1303 (HTTP 429, "parallel task over resource pack limit"), 1302 (429),
  5000 (500)...

Scripting, media endpoints and counters come from
:class:`tests.fakes.runway_server.FakeClipServer`.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

import jwt

from tests.fakes.runway_server import FakeClipServer

__all__ = ["CODES", "FakeKling"]

#: code -> (HTTP status, message), from Kling's error code table
CODES = {
    1000: (401, "Authentication failed"),
    1002: (401, "Authorization is invalid"),
    1003: (401, "Authorization is not yet valid"),
    1004: (401, "Authorization has expired"),
    1102: (429, "Resource pack depleted or expired"),
    1201: (400, "Parameter value invalid"),
    1203: (404, "Requested resource does not exist"),
    1302: (429, "The API request is too fast, exceeding the platform's rate limit"),
    1303: (429, "parallel task over resource pack limit"),
    5000: (500, "Server internal error"),
}
_MODELS = {"kling-v2-6", "kling-v2-5-turbo", "kling-v2-1-master", "kling-v2-master"}


class FakeKling(FakeClipServer):
    """The fake Kling API (see the module docstring)."""

    vendor = "kling"
    default_script = ("succeed",)

    def __init__(self, mp4, *, access_key: str, secret_key: str) -> None:
        super().__init__(mp4, key=secret_key)
        self.access_key = access_key
        self.secret_key = secret_key
        self.tokens: list[dict[str, Any]] = []  # verified claims, one per request

    @property
    def base_url(self) -> str:
        """What ``KLING_BASE_URL`` is set to."""
        return self.url

    def _envelope(
        self, code: int, data: Any = None, message: str = "SUCCEED"
    ) -> tuple[int, Any, dict[str, str]]:
        status = CODES[code][0] if code else 200
        body = {"code": code, "message": message if not code else CODES[code][1],
                "request_id": str(uuid.uuid4()), "data": data}  # fmt: skip
        return status, body, {}

    def _auth(self, headers: dict[str, str]) -> int:
        """0 when the bearer JWT verifies, else the documented error code."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return 1002
        try:
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=["HS256"],
                issuer=self.access_key,
                options={"require": ["iss", "exp", "nbf"]},
            )
        except jwt.ExpiredSignatureError:
            return 1004
        except jwt.ImmatureSignatureError:
            return 1003
        except jwt.InvalidTokenError:
            return 1000
        with self.lock:
            self.tokens.append(claims)
        return 0

    def route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        code = self._auth(headers)
        if code:
            return self._envelope(code)
        match = re.fullmatch(r"/v1/videos/(text2video|image2video)(?:/([0-9a-f-]+))?", path)
        if match is None:
            return self._envelope(1203)
        kind, task_id = match.groups()
        if method == "POST" and task_id is None:
            error = self._next_error(self.submit_errors)
            if error is not None:
                return self._envelope(error)
            if _check(kind, body):
                return self._envelope(1201)
            task_id = self._new_task({**body, "_kind": kind})
            return self._envelope(0, self._task(task_id, "submitted"))
        if method == "GET" and task_id is not None:
            error = self._next_error(self.poll_errors)
            if error is not None:
                return self._envelope(error)
            if task_id not in self.tasks or self.tasks[task_id]["body"]["_kind"] != kind:
                return self._envelope(1203)
            return self._envelope(0, self._task(task_id, self._advance(task_id)))
        return self._envelope(1203)

    def _task(self, task_id: str, status: str) -> dict[str, Any]:
        body = self.tasks[task_id]["body"]
        task: dict[str, Any] = {
            "task_id": task_id,
            "task_status": status,
            "task_info": {},
            "created_at": 1765000000000,
            "updated_at": 1765000000000,
        }
        if status == "succeed":
            task["task_result"] = {
                "videos": [
                    {"id": task_id, "url": self.output_url(task_id), "duration": body["duration"]}
                ]
            }
            task["final_unit_deduction"] = "1" if body.get("mode") == "std" else "2"
        if status == "failed":
            task["task_status_msg"] = "Failure to pass the risk control system"
        return task


def _check(kind: str, body: Any) -> bool:
    """True when the API would reject the body (code 1201)."""
    if not isinstance(body, dict) or body.get("model_name", "kling-v1") not in _MODELS | {
        "kling-v1"
    }:
        return True
    if body.get("mode", "std") not in ("std", "pro") or body.get("duration", "5") not in (
        "5",
        "10",
    ):
        return True
    if kind == "text2video":
        return not body.get("prompt") or body.get("aspect_ratio", "16:9") not in (
            "16:9",
            "9:16",
            "1:1",
        )
    image = body.get("image")
    if not isinstance(image, str) or not image:
        return True
    if image.startswith(("https://", "http://")):
        return False
    if image.startswith("data:"):
        return True  # documented: base64 without the data: prefix
    try:
        raw = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        return True
    return not raw.startswith((b"\x89PNG", b"\xff\xd8")) or len(raw) > 10 * 1024 * 1024
