"""Kling clips over httpx with a JWT bearer token (``generate_clip``).

Protocol (Kling AI API, https://app.klingai.com/global/dev/document-api, as
mirrored in github.com/inference-sh/grid ``api/klingai/docs/00-general.md``,
``03-video-text2video.md`` and ``04-video-image2video.md``):

- **auth**: every request carries ``Authorization: Bearer <JWT>``, the token
  signed HS256 with the secret key, claims ``iss`` = the access key, ``exp``
  = now + 1800 s (tokens are valid 30 minutes), ``nbf`` = now - 5 s (clock
  skew); signed with PyJWT and renewed 5 minutes before it expires;
- **envelope**: every answer is ``{"code", "message", "request_id", "data"}``;
  ``code`` 0 is success. Errors come with an HTTP status *and* a code:
  1000-1004 (401) authentication, 1100-1102 (429) account in arrears or
  resource pack used up, 1103 (403) no permission, 1200-1203 (400/404) bad
  parameters or model, 1300-1301 (400) content policy, **1302 (429) rate
  limit, 1303 (429) parallel tasks over the resource pack's concurrency
  limit** ("exponential backoff, initial delay >= 1 second"), 1304 (429) IP
  whitelist, 5000-5002 (5xx) server errors;
- ``POST /v1/videos/text2video`` (``model_name``, ``prompt``,
  ``negative_prompt``, ``mode`` ``std`` / ``pro``, ``aspect_ratio`` 16:9,
  9:16, 1:1, ``duration`` ``"5"`` or ``"10"``) and ``POST
  /v1/videos/image2video`` (the same with ``image``: a URL or base64 *without*
  a ``data:`` prefix, jpg/png up to 10 MB, at least 300 px; no
  ``aspect_ratio``: the image's) answer ``data.task_id`` with
  ``task_status: "submitted"``;
- ``GET /v1/videos/{text2video|image2video}/{task_id}`` answers
  ``data.task_status``: ``submitted``, ``processing``, ``succeed``
  (``task_result.videos[].url``, kept 30 days) or ``failed``
  (``task_status_msg``).
- Cadence: a typical task takes 2-5 minutes (tools.yaml, ``kling-latency``):
  we poll from 10 s, backing off to 30 s, for at most 15 minutes.

Keys: ``KLING_ACCESS_KEY`` and ``KLING_SECRET_KEY`` (or ``options.access_key``
/ ``options.secret_key`` from secret inputs); base URL ``KLING_BASE_URL``
(default :data:`DEFAULT_BASE_URL`). The keys never leave this module except
as the token's signature and ``iss`` claim, and appear in no message.

Options: ``model`` (a tool catalog model, ``kling-v2-6 (std)`` by default,
or ``kling-v2-6 (pro)``; a bare ``kling-v2-6`` is std; other Kling models
need ``price_usd_per_s``), ``first_frame_url`` (the storyboard frame at a
public URL instead of inline base64), ``timeout_s``, ``poll_s``,
``price_usd_per_s``, ``max_bytes``, ``max_hold_s``, ``access_key``,
``secret_key``, ``base_url``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

import httpx

from reelgraph import hookimpl
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from reelgraph.plugins.vendors._clips import (
    ClipLimits,
    ClipRequest,
    ClipVendor,
    TaskState,
    image_data_uri,
)

__all__ = [
    "ACCESS_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "INSTALL",
    "MODEL_NAMES",
    "SECRET_ENV",
    "KlingAPIError",
    "KlingClips",
    "jwt_token",
]

INSTALL = "pip install 'reelgraph[kling]'"
ACCESS_ENV = "KLING_ACCESS_KEY"
SECRET_ENV = "KLING_SECRET_KEY"
BASE_URL_ENV = "KLING_BASE_URL"
#: the global API domain of Kling's developer documentation (00-general.md)
DEFAULT_BASE_URL = "https://api-singapore.klingai.com"
#: token lifetime and clock-skew allowance, seconds (the documented sample)
TOKEN_TTL_S = 1800
TOKEN_SKEW_S = 5
#: a token is renewed this long before it expires, seconds
TOKEN_REFRESH_S = 300

_ASPECTS = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}
_BOTH = frozenset({"text_to_video", "image_to_video"})
#: video models of the text2video and image2video endpoints (both take
#: ``mode`` std/pro and ``duration`` 5 or 10 s)
MODEL_NAMES = ("kling-v2-6", "kling-v2-5-turbo", "kling-v2-1-master", "kling-v2-master")
_MODEL = re.compile(r"(?P<name>[a-z0-9.-]+)(?:\s*\((?P<mode>std|pro)\))?")
_STATES = {
    "submitted": "queued",
    "processing": "running",
    "succeed": "succeeded",
    "failed": "failed",
}
#: 1302 rate limit, 1303 concurrency limit: wait at least 1 s (00-general.md)
_RATE_CODES = {1302, 1303}
_AUTH_CODES = {1000, 1001, 1002, 1003, 1004}
_ACCOUNT_CODES = {1100, 1101, 1102, 1103, 1304}
_INPUT_CODES = {1200, 1201, 1202, 1203, 1300, 1301}
#: a JWT (three base64url parts, header and claims starting ``{"``), for redaction
JWT_PATTERN = r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"


class KlingAPIError(Exception):
    """An answer of Kling's API that is not success.

    Attributes:
        status: the HTTP status (200 when the envelope alone reports it).
        code: the envelope's ``code`` (``None`` when the body had none).
        message: the envelope's ``message`` (the vendor's words).
    """

    def __init__(self, status: int, code: int | None, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        shown = f"code {code}" if code is not None else "no code"
        super().__init__(f"kling: HTTP {status}, {shown}: {message}")


def jwt_token(access_key: str, secret_key: str, now: float | None = None) -> str:
    """The bearer token: HS256, ``iss`` = access key, ``exp`` now + 1800 s, ``nbf`` now - 5 s."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims = {"iss": access_key, "exp": issued + TOKEN_TTL_S, "nbf": issued - TOKEN_SKEW_S}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


def split_model(model: str) -> tuple[str, str]:
    """``"kling-v2-6 (pro)"`` -> ``("kling-v2-6", "pro")``; a bare name is std.

    Raises:
        InvalidInputError: not a Kling video model.
    """
    match = _MODEL.fullmatch(model.strip())
    if match is None or match["name"] not in MODEL_NAMES:
        known = ", ".join(f"{name} (std|pro)" for name in MODEL_NAMES)
        raise InvalidInputError(
            f"kling: unknown model {model!r} (options.model); use one of {known}"
        )
    return match["name"], match["mode"] or "std"


class KlingClips(ClipVendor):
    """The ``kling`` provider: ``generate_clip`` on Kling's video task API."""

    name = "kling"
    vendor = "Kling AI"
    default_model = "kling-v2-6 (std)"
    key_variable = ACCESS_ENV
    poll_s = 10.0
    poll_backoff = 1.5
    poll_max_s = 30.0
    timeout_s = 900.0
    sdk_module = __name__

    def limits(self, model: str) -> ClipLimits:
        split_model(model)
        return ClipLimits(model, _BOTH, (5.0, 10.0), frozenset(_ASPECTS), _ASPECTS)

    def price_usd_per_s(self, model: str, options: dict[str, Any]) -> float:
        """US dollars per second: ``options.price_usd_per_s``, else the catalog's entry
        for ``"<model> (<std|pro>)"`` (tools.yaml cites Kling's pricing page).

        Raises:
            ConfigurationError: no price known for the model.
        """
        name, mode = split_model(model)
        return super().price_usd_per_s(f"{name} ({mode})", options)

    # -- HTTP ------------------------------------------------------------------------

    def __init__(self) -> None:
        super().__init__()
        self._tokens: dict[tuple[str, str], tuple[float, str]] = {}
        self._tokens_lock = threading.Lock()

    @staticmethod
    def credentials(options: dict[str, Any]) -> tuple[str, str, str]:
        """``(access key, secret key, base URL)`` from the options or the environment.

        Raises:
            ConfigurationError: a key is missing (named; no value shown).
        """
        access = options.get("access_key") or os.environ.get(ACCESS_ENV)
        secret = options.get("secret_key") or os.environ.get(SECRET_ENV)
        if not access or not secret:
            missing = " and ".join(
                n for n, v in ((ACCESS_ENV, access), (SECRET_ENV, secret)) if not v
            )
            raise ConfigurationError(
                f"kling: no key; set {missing} (or pass secret inputs as "
                "options.access_key / options.secret_key)"
            )
        base = str(options.get("base_url") or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        return str(access), str(secret), base.rstrip("/")

    def client(self, options: dict[str, Any]) -> httpx.Client:
        """An httpx client on the base URL (the token is added per request).

        Raises:
            ConfigurationError: a key is missing.
        """
        base = self.credentials(options)[2]
        return httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, connect=10.0))

    def shared_client(self, options: dict[str, Any]) -> httpx.Client:
        """One httpx client (one connection pool) per key pair and base URL."""
        cache_key = self.credentials(options)
        with self._clients_lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = self._clients[cache_key] = self.client(options)
        return client

    def token(self, access: str, secret: str) -> str:
        """A signed token, reused until 5 minutes before it expires (30 minutes)."""
        now = time.time()
        with self._tokens_lock:
            made = self._tokens.get((access, secret))
            if made is None or now - made[0] > TOKEN_TTL_S - TOKEN_REFRESH_S:
                made = self._tokens[(access, secret)] = (now, jwt_token(access, secret, now))
        return made[1]

    def _call(self, method: str, path: str, options: dict[str, Any], body: Any = None) -> Any:
        """One request, signed; the envelope's ``data`` on success.

        Raises:
            ConfigurationError: a key is missing.
            KlingAPIError: an HTTP error or a non-zero ``code``.
        """
        access, secret, _ = self.credentials(options)
        headers = {"Authorization": f"Bearer {self.token(access, secret)}"}
        response = self.shared_client(options).request(method, path, json=body, headers=headers)
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            text = response.text[:200].strip() or "empty body"
            raise KlingAPIError(response.status_code, None, f"not a JSON envelope: {text}")
        code = envelope.get("code")
        if response.is_error or code != 0:
            message = str(envelope.get("message") or "no message")
            raise KlingAPIError(
                response.status_code, code if isinstance(code, int) else None, message
            )
        return envelope.get("data") or {}

    @staticmethod
    def _endpoint(request: ClipRequest) -> str:
        return "image2video" if request.mode == "image_to_video" else "text2video"

    def submit(self, request: ClipRequest, ctx: Any) -> str:
        # priced before anything is paid for (an unpriced model stops here, not after)
        self.price_usd_per_s(request.model, request.options)
        name, mode = split_model(request.model)
        body: dict[str, Any] = {
            "model_name": name,
            "prompt": request.shot.prompt,
            "mode": mode,
            "duration": str(int(request.duration_s)),
        }
        if request.shot.negative_prompt:
            body["negative_prompt"] = request.shot.negative_prompt
        if request.mode == "image_to_video":
            url = request.options.get("first_frame_url")
            if url:
                body["image"] = str(url)
            else:
                # base64 without the data: prefix, at most 10 MB (image2video docs)
                uri = image_data_uri(request.first_frame, max_bytes=7 * 1024 * 1024)  # type: ignore[arg-type]
                body["image"] = uri.split(",", 1)[1]
        else:
            body["aspect_ratio"] = request.ratio
        data = self._call("POST", f"/v1/videos/{self._endpoint(request)}", request.options, body)
        task_id = data.get("task_id")
        if not task_id:
            raise TransientError("kling: the API accepted the task without a task_id")
        return str(task_id)

    def poll(self, task_id: str, request: ClipRequest, ctx: Any) -> TaskState:
        path = f"/v1/videos/{self._endpoint(request)}/{task_id}"
        data = self._call("GET", path, request.options)
        raw = str(data.get("task_status") or "")
        status = _STATES.get(raw)
        if status == "succeeded":
            videos = (data.get("task_result") or {}).get("videos") or []
            url = videos[0].get("url") if videos and isinstance(videos[0], dict) else None
            return TaskState("succeeded", url=url)
        if status == "failed" or status is None:
            reason = data.get("task_status_msg") or f"task_status {raw!r}"
            return TaskState("failed", reason=str(reason))
        return TaskState(status)  # type: ignore[arg-type]

    # -- errors and knowledge for the kernel --------------------------------------------

    def classify(self, error: BaseException) -> ProviderError | None:
        """Kling's codes: 1302/1303 rate limited (wait >= 1 s), 1000-1004 a rejected
        token (naming the key variables), 1100-1103 and 1304 account problems,
        1200-1301 bad input or content policy, 5000-5002 and other 5xx transient."""
        if not isinstance(error, KlingAPIError):
            return None
        code, status = error.code, error.status
        words = f"kling: {error.message} (code {code}, HTTP {status})"
        found: ProviderError
        if code in _RATE_CODES or (code is None and status == 429):
            found = RateLimitedError(words, retry_after_s=1.0)
        elif code in _AUTH_CODES or status == 401:
            found = ConfigurationError(
                f"{words}: the token was rejected; check {ACCESS_ENV} and {SECRET_ENV}"
            )
        elif code in _ACCOUNT_CODES or status == 403:
            found = ConfigurationError(f"{words}: fix the Kling account (balance, resource pack)")
        elif code in _INPUT_CODES or 400 <= status < 500:
            found = InvalidInputError(words)
        else:
            found = TransientError(words)
        found.__cause__ = error
        return found

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """A signed JWT (the bearer token carries the access key as ``iss``)."""
        return [("kling-jwt", JWT_PATTERN)]

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (ACCESS_ENV, "Kling access key, the token's issuer; or options.access_key"),
            (SECRET_ENV, "Kling secret key, signs the token; or options.secret_key"),
            (BASE_URL_ENV, f"another Kling API base URL; default {DEFAULT_BASE_URL}"),
        ]
