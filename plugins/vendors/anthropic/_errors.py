"""What the ``anthropic`` SDK's exceptions amount to, for the kernel's retry policy.

The Claude API's errors (https://platform.claude.com/docs/en/api/errors) are
a status and a body ``{"type": "error", "error": {"type", "message"},
"request_id"}``; the SDK raises one exception class per status
(``anthropic._exceptions``: ``AuthenticationError`` 401,
``PermissionDeniedError`` 403, ``RateLimitError`` 429,
``InternalServerError`` for >= 500 with ``OverloadedError`` 529...), and
``APITimeoutError`` / ``APIConnectionError`` when no response came back.
The SDK runs on ``httpx2``, so the kernel's httpx-level rules never see its
transport errors (FIELD.md "LLM vendors"): they are classified here.

=======================================  ==================================
429 ``rate_limit_error``                 RateLimitedError, ``retry_after_s``
                                         from ``retry-after-ms`` (as the SDK
                                         reads it) or ``retry-after``
500 ``api_error``, 529                   TransientError
``overloaded_error``, other 5xx, 408,
409
timeouts, connection failures            TransientError
401 ``authentication_error``, 403        ConfigurationError naming
``permission_error``, 402 billing        ``ANTHROPIC_API_KEY``
404 ``not_found_error`` (a model name)   ConfigurationError
400 ``invalid_request_error``, 413,      InvalidInputError
other 4xx
=======================================  ==================================

Messages name the vendor, the status and the API's error type and message,
never the key: the message goes through :func:`reelgraph.observe.secrets.redact`
and the request's ``x-api-key`` value is blanked out of it.
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph.errors import (
    ConfigurationError,
    FatalError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from reelgraph.observe.classify import parse_retry_after
from reelgraph.observe.secrets import redact

__all__ = ["KEY_ENV", "classify", "retry_after_s_of", "scrub"]

#: the environment variable the key comes from (the SDK's own)
KEY_ENV = "ANTHROPIC_API_KEY"
#: the most characters of the API's error message quoted
_DETAIL_CHARS = 200


def classify(error: BaseException) -> ProviderError | None:
    """The reelgraph error an ``anthropic`` SDK exception amounts to, or ``None``.

    ``None`` for anything that is not an ``anthropic.AnthropicError`` (and
    whenever the SDK was never imported: then none of its errors exist).
    The returned error's ``__cause__`` is ``error``.
    """
    sdk = sys.modules.get("anthropic")
    if sdk is None or not isinstance(error, sdk.AnthropicError):
        return None
    classified = _classify(sdk, error)
    if classified is not None:
        classified.__cause__ = error
    return classified


def _classify(sdk: Any, error: Any) -> ProviderError | None:
    if isinstance(error, sdk.APITimeoutError):
        return TransientError(f"anthropic: the request timed out{_where(error)}")
    if isinstance(error, sdk.APIConnectionError):
        return TransientError(f"anthropic: cannot reach the API{_where(error)}: {_detail(error)}")
    if isinstance(error, sdk.APIStatusError):
        return _from_status(error)
    if isinstance(error, sdk.APIResponseValidationError):
        return FatalError(f"anthropic: the API's answer is not a Message{_where(error)}")
    credentials = getattr(sdk, "CredentialsError", None)
    if credentials is not None and isinstance(error, credentials):
        return ConfigurationError(f"anthropic: no usable credentials; set {KEY_ENV}")
    return None


def _from_status(error: Any) -> ProviderError:
    status = int(error.status_code)
    kind = getattr(error, "type", None) or "error"  # error.type (anthropic >= 2)
    head = f"anthropic: HTTP {status} {kind}{_where(error)}: {_detail(error)}"
    request_id = getattr(error, "request_id", None)
    if request_id:
        head += f" (request-id {request_id})"
    if status == 429:
        retry_after_s = retry_after_s_of(error.response.headers)
        hint = f"; retry after {retry_after_s:g} s" if retry_after_s is not None else ""
        return RateLimitedError(head + hint, retry_after_s=retry_after_s)
    if status >= 500 or status in (408, 409):
        return TransientError(head)
    if status == 401:
        return ConfigurationError(f"{head}; the API rejected the key: check {KEY_ENV}")
    if status in (402, 403):
        return ConfigurationError(
            f"{head}; check that the key in {KEY_ENV} may use this model, and the account's billing"
        )
    if status == 404:
        return ConfigurationError(f"{head}; check the model name (options.model) and the base URL")
    return InvalidInputError(head)


def retry_after_s_of(headers: Any) -> float | None:
    """Seconds a 429 asks to wait: ``retry-after-ms`` first, then ``retry-after``.

    ``retry-after-ms`` (milliseconds) is not in RFC 9110; the anthropic SDK
    reads it before ``retry-after`` (``anthropic/_base_client.py``,
    ``_parse_retry_after_header``), so it is honoured here the same way.
    ``retry-after`` is delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
    """
    millis = headers.get("retry-after-ms") if headers is not None else None
    if millis is not None:
        try:
            seconds = float(millis) / 1000
        except ValueError:
            seconds = -1.0
        if 0 <= seconds < float("inf"):
            return seconds
    return parse_retry_after(headers.get("retry-after") if headers is not None else None)


def _where(error: Any) -> str:
    """`` from POST http://host/v1/messages`` (no query string: keys sometimes travel there)."""
    request = getattr(error, "request", None)
    url = getattr(request, "url", None)
    if url is None:
        return ""
    try:
        base = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"
    except AttributeError:
        return ""
    return f" from {request.method} {base}"


def _detail(error: Any) -> str:
    message = getattr(error, "api_message", None) or getattr(error, "message", None) or str(error)
    return scrub(" ".join(str(message).split()), error)[:_DETAIL_CHARS]


def scrub(text: str, error: Any = None) -> str:
    """``text`` without the request's key (even one the redactor does not know) and redacted."""
    request = getattr(error, "request", None)
    headers = getattr(request, "headers", None)
    key = headers.get("x-api-key") if headers is not None else None
    if key and len(key) >= 4:
        text = text.replace(key, "[REDACTED:x-api-key]")
    return redact(text)
