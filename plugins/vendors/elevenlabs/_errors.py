"""What the ``elevenlabs`` SDK's exceptions amount to, for the kernel's retry policy.

The SDK (Fern-generated, on ``httpx``) raises ``elevenlabs.core.api_error.ApiError``
(``status_code``, ``headers``, ``body``) and its subclasses
(``UnprocessableEntityError`` 422, ...) for every answer outside 2xx; transport
failures are ``httpx`` exceptions, which the kernel's own rules classify
(this module returns ``None`` for them). The API's error body is
``{"detail": {"status": "<code>", "message": "..."}}`` (newer answers also
carry ``type`` and ``code``; a 422 carries a list of validation problems)
(API reference, "Errors", https://elevenlabs.io/docs/api-reference/errors):

===========================================  ===================================
401 ``quota_exceeded``                       ConfigurationError: the account has
(also any status whose code says quota)      no characters left; never retried
401 ``invalid_api_key`` and other 401/403    ConfigurationError naming
                                             ``ELEVENLABS_API_KEY``; never retried
429 (``too_many_concurrent_requests``,       RateLimitedError, ``retry_after_s``
``system_busy``)                             from ``Retry-After``
408, 409, 425, >= 500                        TransientError
404 (``voice_not_found``), 400, 422          InvalidInputError (a voice or model
                                             the account does not have)
===========================================  ===================================

Messages start with ``elevenlabs:``, name the status, the API's code and
message, and the fix; the key in use is blanked out and the text goes
through the kernel's redaction.
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)

__all__ = ["KEY_ENV", "classify"]

#: the SDK's own environment variable for the key (``ElevenLabs(api_key=os.getenv(...))``)
KEY_ENV = "ELEVENLABS_API_KEY"
_MESSAGE_CHARS = 300


def classify(error: BaseException, *, secrets: tuple[str, ...] = ()) -> ProviderError | None:
    """The reelgraph error an ``elevenlabs`` ``ApiError`` amounts to; ``None`` for any other.

    Args:
        error: any exception.
        secrets: values to blank out of the message besides what the kernel
            redacts (the key in use).

    Returns:
        A new :class:`~reelgraph.errors.ProviderError` (module table) whose
        ``__cause__`` is ``error``; ``error`` itself when it already is one;
        ``None`` when the SDK is not loaded or ``error`` is not its ``ApiError``.
    """
    if isinstance(error, ProviderError):
        return error
    module = sys.modules.get("elevenlabs.core.api_error")
    if module is None or not isinstance(error, module.ApiError):
        return None
    status = int(error.status_code or 0)
    code, message = _detail(error.body)
    said = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    found = _by_status(status, code, said, error.headers)
    text = _clean(str(found), secrets)
    extra = {"retry_after_s": found.retry_after_s} if isinstance(found, TransientError) else {}
    classified = type(found)(text, **extra)
    classified.__cause__ = error
    return classified


def _by_status(status: int, code: str, said: str, headers: Any) -> ProviderError:
    if "quota" in code:
        return ConfigurationError(
            f"elevenlabs: {said}; the account has no characters left for this request: "
            "check the plan and usage at elevenlabs.io, or shorten the narration"
        )
    if status in (401, 403):
        return ConfigurationError(
            f"elevenlabs: {said}; set {KEY_ENV}, or the api_key option from an input declared "
            "secret: true, to a valid key with text-to-speech access"
        )
    if status == 429:
        from reelgraph.observe.classify import retry_after_from_headers

        return RateLimitedError(
            f"elevenlabs: {said}; too many requests at once for the plan (lower the node's "
            "concurrency)",
            retry_after_s=retry_after_from_headers(headers or {}),
        )
    if status in (408, 409, 425) or status >= 500:
        return TransientError(f"elevenlabs: {said}")
    if status == 404:
        return InvalidInputError(
            f"elevenlabs: {said}; check the voice id (voice or options.voice) and options.model"
        )
    return InvalidInputError(f"elevenlabs: {said}")


def _detail(body: Any) -> tuple[str, str]:
    """The API's error code and message from a response body (any shape), shortened."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        code = str(detail.get("status") or detail.get("code") or "")
        message = str(detail.get("message") or "")
    elif isinstance(detail, list):  # a 422: validation problems
        code = "validation_error"
        message = "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item)
            for item in detail[:3]
        )
    else:
        code, message = "", str(detail or "")
    message = " ".join(message.split())
    return code, message[:_MESSAGE_CHARS]


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    from reelgraph.observe.secrets import redact

    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, f"[REDACTED:{KEY_ENV}]")
    return redact(text)
