"""Turn httpx-level exceptions and HTTP statuses into reelgraph's error classes.

The kernel retries by error class (:mod:`reelgraph.errors`): transient and
rate-limited failures may pass on another attempt; invalid input and
configuration errors never will. Plugins that call vendors with httpx can let
those exceptions escape; :func:`classify_error` says what each one amounts to,
and :func:`raise_for_status` raises the classified error for an
``httpx.Response`` directly. What a vendor's SDK means beyond HTTP (a 429 that
is an empty account, not a rate limit; its own retry header) is that vendor's
plugin's to say, through the ``classify_error`` hook, which the kernel asks
before these rules.

HTTP status codes (RFC 9110 section 15):

=====================================  =========================================
429                                    :class:`RateLimitedError` with
                                       ``retry_after_s`` from ``Retry-After``
408, 409, 425, 5xx                     :class:`TransientError`
401, 402, 403, 407                     :class:`ConfigurationError`
any other 4xx (400, 404, 413, 422...)  :class:`InvalidInputError`
1xx-3xx reaching an error path         :class:`FatalError`
=====================================  =========================================

409 Conflict is transient because APIs use it for concurrent updates and lock
timeouts; 408 Request Timeout invites a new request (RFC 9110 section
15.5.9); 425 Too Early invites a retry by definition (RFC 8470 section 5.2).
402 Payment Required and 407 Proxy Authentication Required, like 401/403, need
the account or the setup fixed, not the input.

Without a status: timeouts, connection failures and dropped or malformed
responses (httpx ``TimeoutException``, ``NetworkError``,
``RemoteProtocolError``, ``ProxyError``, ``DecodingError``; the builtin
``TimeoutError`` and ``ConnectionError``) are transient, also when they are
the cause (``raise ... from``) of the exception a client library raised. An
unsupported URL scheme, an invalid URL or a request httpx refuses to send
(``LocalProtocolError``, typically an API key with a newline in it) is a
configuration error; too many redirects is fatal. Anything else
(``ValueError``, ``KeyError``...) is not a remote-call error:
:func:`classify_error` returns ``None``.

Exceptions are recognised without importing their library, by their
attributes (``status_code``, ``response``, ``request``) and the class names
in their MRO, so the kernel works with httpx, its forks and the client
libraries built on them alike.

Messages name the status, the method and the URL *without* its query string,
user info or fragment (keys sometimes travel there), and at most
:data:`BODY_CHARS` characters of the response body (the API's own error
message when the body is JSON). Values of credential headers sent with the
request (``Authorization``, ``x-api-key``, ...) and of credential-like query
parameters are blanked out of the message, and the message goes through
``reelgraph.observe.secrets.redact``.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from reelgraph.errors import (
    ConfigurationError,
    FatalError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BODY_CHARS",
    "classify_error",
    "parse_retry_after",
    "header_value",
    "raise_for_status",
    "retry_after_from_headers",
]

#: The most characters of a response body an error message quotes.
BODY_CHARS = 200

_TRANSIENT_STATUS = frozenset({408, 409, 425})
_CONFIG_STATUS = frozenset({401, 402, 403, 407})
# Class names (anywhere in the MRO) of httpx errors raised when no response came
# back; forks of httpx keep them.
_TRANSIENT_NAMES = frozenset(
    {"TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError", "DecodingError"}
)
#: how deep the ``__cause__`` / ``__context__`` chain is searched for a transport error
_CHAIN_DEPTH = 4
_CONFIG_NAMES = frozenset({"UnsupportedProtocol", "InvalidURL", "LocalProtocolError"})
_FATAL_NAMES = frozenset({"TooManyRedirects"})
# Generic transport failures come last: a subclass named above wins.
_TRANSPORT_NAMES = frozenset({"TransportError"})

_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "xi-api-key",
        "x-goog-api-key",
        "cookie",
    }
)
_SECRET_PARAM = re.compile(r"key|token|secret|sig|auth|pass|credential", re.IGNORECASE)
_SECRET_MIN_CHARS = 4
_MARKER = "[REDACTED]"  # as reelgraph.observe.secrets marks what it finds
_DIGITS = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


# --- Retry-After --------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value.

    RFC 9110 section 10.2.3: the value is either delay-seconds (``"120"``) or
    an HTTP-date (``"Fri, 31 Dec 1999 23:59:59 GMT"``; the obsolete RFC 850
    and asctime forms are accepted too, as section 5.6.7 asks of recipients).
    Decimal seconds (``"1.5"``) are accepted as well, since some servers send
    them.

    Args:
        value: the header's value, or ``None`` when absent.
        now: the current time for HTTP-dates (``datetime.now(UTC)`` by default;
            a naive value is taken as UTC).

    Returns:
        Seconds (``float``) from ``now``; ``0.0`` for a negative delay or a
        date in the past; ``None`` when the value is absent or not parseable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        seconds = float(text)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime  # ~20 ms to import; dates are rare

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python < 3.10 returned None for garbage
        return None
    # An HTTP-date is always GMT; asctime carries no zone, so it parses naive.
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, now: datetime | None = None
) -> float | None:
    """Seconds to wait according to a response's ``Retry-After`` header, or ``None``.

    See :func:`parse_retry_after`. The header name matches
    case-insensitively, so an ``httpx.Headers`` or a plain ``dict`` will do.
    A vendor's own header (milliseconds under another name) is its plugin's
    to read, in its ``classify_error`` hook.
    """
    if not headers:
        return None
    return parse_retry_after(header_value(headers, "retry-after"), now=now)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case) in ``headers``, matched case-insensitively."""
    try:
        value = headers.get(name)
    except Exception:
        value = None
    if value is None:
        value = next((v for k, v in _items(headers) if k.lower() == name), None)
    return value if isinstance(value, str) else None


def _items(headers: Any) -> Iterable[tuple[str, str]]:
    try:
        return [(str(k), str(v)) for k, v in headers.items()]
    except Exception:
        return []


# --- classification -----------------------------------------------------------


@dataclass
class _Exchange:
    """What an exception tells about the HTTP exchange behind it."""

    status: int | None = None
    method: str | None = None
    url: str | None = None
    headers: Any = None
    body: str | None = None
    secrets: list[str] = field(default_factory=list)


def classify_error(exc: BaseException) -> ProviderError | None:
    """The reelgraph error a remote-call exception amounts to.

    Args:
        exc: any exception a hook raised or caught.

    Returns:
        ``exc`` itself when it already is a :class:`ProviderError`; a new
        :class:`RateLimitedError`, :class:`TransientError`,
        :class:`ConfigurationError`, :class:`InvalidInputError` or
        :class:`FatalError` for an HTTP, transport or SDK error (see the
        module docstring for the rules); ``None`` for anything else, which
        the kernel treats as not retryable. The new error's ``__cause__`` is
        ``exc``, as if raised with ``raise classified from exc``.

    Example::

        try:
            response = client.post(url, json=payload)
            response.raise_for_status()
        except Exception as err:
            classified = classify_error(err)
            if classified is None:
                raise
            raise classified from err
    """
    if isinstance(exc, ProviderError):
        return exc
    exchange = _exchange_from(exc)
    error: ProviderError | None
    if exchange.status is not None:
        error = _from_status(exchange)
    else:
        error = _from_transport(exc, exchange)
    if error is not None:
        error.__cause__ = exc
    return error


def raise_for_status(response: httpx.Response) -> None:
    """Raise the classified reelgraph error when ``response`` is a 4xx or 5xx.

    The reelgraph counterpart of ``httpx.Response.raise_for_status`` for plugin
    authors: a 429 raises :class:`RateLimitedError` with ``retry_after_s``, a
    503 :class:`TransientError`, a 401 :class:`ConfigurationError` and so on
    (see the module docstring). The raised error's ``__cause__`` is the
    ``httpx.HTTPStatusError`` httpx would have raised. Other statuses return.
    """
    if response.status_code < 400:
        return
    import httpx

    exchange = _exchange_from_response(response)
    error = _from_status(exchange)
    request = _attr(response, "request")
    if request is None:
        raise error
    cause = httpx.HTTPStatusError(
        f"HTTP {response.status_code} for {exchange.method} {exchange.url}",
        request=request,
        response=response,
    )
    raise error from cause


def _from_status(exchange: _Exchange) -> ProviderError:
    status = exchange.status or 0
    # Blank secrets out before shortening: a cut key would no longer match.
    detail = _body_detail(_clean(exchange.body or "", exchange.secrets))
    if status == 429:
        retry_after_s = retry_after_from_headers(exchange.headers)
        hint = f"retry after {retry_after_s:g} s" if retry_after_s is not None else None
        return RateLimitedError(_message(exchange, detail, hint), retry_after_s=retry_after_s)
    if status in _TRANSIENT_STATUS or 500 <= status <= 599:
        return TransientError(_message(exchange, detail, None))
    if status in (401, 407):
        return ConfigurationError(_message(exchange, detail, "check the API key"))
    if status in _CONFIG_STATUS:
        hint = "check the API key and the account's access and billing"
        return ConfigurationError(_message(exchange, detail, hint))
    if 400 <= status <= 499:
        return InvalidInputError(_message(exchange, detail, None))
    return FatalError(_message(exchange, detail, "an unexpected status on an error path"))


def _chain_names(exc: BaseException) -> set[str]:
    """Class names in the MRO of ``exc`` and of the exceptions it was raised from."""
    names: set[str] = set()
    current: BaseException | None = exc
    for _ in range(_CHAIN_DEPTH):
        if current is None:
            break
        names.update(cls.__name__ for cls in type(current).__mro__)
        current = current.__cause__ or current.__context__
    return names


def _from_transport(exc: BaseException, exchange: _Exchange) -> ProviderError | None:
    # a client library's own "timed out" error raised from httpx's ReadTimeout is
    # known by its cause
    names = _chain_names(exc)
    where = f" ({exchange.method} {exchange.url})" if exchange.url else ""
    kind = type(exc).__name__
    if names & _CONFIG_NAMES:
        # LocalProtocolError texts can quote the offending header value (the key).
        hint = "check the base URL and that API keys hold no spaces or newlines"
        return ConfigurationError(_clean(f"{kind}{where}: the request cannot be sent; {hint}", []))
    detail = _truncate(" ".join(_clean(str(exc), exchange.secrets).split()))
    text = f"{kind}{where}: {detail}" if detail else f"{kind}{where}"
    if names & _FATAL_NAMES:
        return FatalError(text)
    if names & _TRANSIENT_NAMES or names & _TRANSPORT_NAMES:
        return TransientError(text)
    if isinstance(exc, TimeoutError | ConnectionError):
        return TransientError(text)
    return None


def _message(exchange: _Exchange, detail: str, hint: str | None) -> str:
    status = exchange.status or 0
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    head = f"HTTP {status} {reason}".rstrip()
    if exchange.url:
        head += f" from {exchange.method or 'request'} {exchange.url}"
    text = f"{head}: {detail}" if detail else head
    if hint:
        text += f" ({hint})"
    return _clean(text, exchange.secrets)


# --- reading exceptions and responses -----------------------------------------


def _exchange_from(exc: BaseException) -> _Exchange:
    """Status, request line, headers and body, from httpx, SDK or requests errors."""
    response = _attr(exc, "response")
    exchange = _exchange_from_response(response) if _status_of(response) else _Exchange()
    status = _status_of(exc)
    if status is not None:  # client libraries' status errors carry it directly
        exchange.status = status
    if exchange.status is not None:
        if exchange.headers is None:
            exchange.headers = _attr(exc, "headers")
        if exchange.body is None:
            exchange.body = _text_of(_attr(exc, "body"))
    if exchange.url is None:
        _read_request(exchange, _attr(exc, "request"))
    return exchange


def _exchange_from_response(response: Any) -> _Exchange:
    exchange = _Exchange(status=_status_of(response), headers=_attr(response, "headers"))
    try:
        exchange.body = response.text
    except Exception:  # a streamed response that was not read
        exchange.body = None
    _read_request(exchange, _attr(response, "request"))
    return exchange


def _read_request(exchange: _Exchange, request: Any) -> None:
    if request is None:
        return
    method = _attr(request, "method")
    exchange.method = method.decode() if isinstance(method, bytes) else method
    url = _attr(request, "url")
    if url is not None:
        exchange.url, query_secrets = _public_url(str(url))
        exchange.secrets.extend(query_secrets)
    exchange.secrets.extend(_header_secrets(_attr(request, "headers")))


def _status_of(obj: Any) -> int | None:
    status = _attr(obj, "status_code")
    if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
        return status
    return None


def _attr(obj: Any, name: str) -> Any:
    """``getattr`` that also survives properties raising (httpx's unset ``.request``)."""
    if obj is None:
        return None
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _public_url(url: str) -> tuple[str, list[str]]:
    """The URL without user info, query or fragment; and the secret values they held."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>", []
    secrets = [v for v in (parts.username, parts.password) if v]
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if _SECRET_PARAM.search(name) or len(value) >= 20:
            secrets.append(value)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")), secrets


def _header_secrets(headers: Any) -> list[str]:
    secrets = []
    for name, value in _items(headers):
        if name.lower() not in _SECRET_HEADERS:
            continue
        secrets.append(value)
        scheme, _, credentials = value.partition(" ")
        if credentials and scheme.isalpha():  # "Bearer abc..." -> also "abc..."
            secrets.append(credentials.strip())
    return secrets


def _text_of(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    if isinstance(body, str):
        return body
    try:
        return json.dumps(body)
    except (TypeError, ValueError):
        return str(body)


def _parsed(body: str | None) -> Any:
    if not body or body.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _body_detail(body: str | None) -> str:
    """The API's error message when the body is JSON, else the body; shortened.

    Shapes: the common envelope ``{"error": {"message", and one of "code",
    "type", "status"}}`` (with or without a top-level ``"type": "error"``),
    ``{"error": "text"}``, and FastAPI-style ``{"detail": ...}``.
    """
    data = _parsed(body)
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            kind = error.get("code") or error.get("type") or error.get("status")
            label = f"[{kind}] " if isinstance(kind, str) and kind else ""
            return _truncate(label + " ".join(error["message"].split()))
        if isinstance(error, str):
            return _truncate(" ".join(error.split()))
    return _truncate(" ".join((body or "").split()))


def _truncate(text: str, limit: int = BODY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(text: str, secrets: list[str]) -> str:
    """Blank out known secret values, then apply ``reelgraph.observe.secrets.redact`` if present."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _SECRET_MIN_CHARS:
            text = text.replace(secret, _MARKER)
    redact = _redactor()
    return redact(text) if redact is not None else text


def _redactor() -> Any:
    # kernel/secrets.py is optional for this module; import it late so the two
    # modules never import each other at load time.
    try:
        module = importlib.import_module("reelgraph.observe.secrets")
    except ImportError:
        return None
    return getattr(module, "redact", None)
