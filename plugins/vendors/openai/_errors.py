"""What the ``openai`` SDK's exceptions amount to, for the kernel's retry policy.

The SDK (Stainless-generated, on ``httpx2``) raises its own classes
(https://github.com/openai/openai-python#handling-errors): ``APIStatusError``
subclasses per status (``AuthenticationError`` 401, ``PermissionDeniedError``
403, ``NotFoundError`` 404, ``RateLimitError`` 429, ``InternalServerError``
>= 500...), ``APITimeoutError`` and ``APIConnectionError`` when no response
came back. The shared OpenAI rules (:mod:`reelgraph.plugins.vendors._openai_rules`,
on top of the kernel's HTTP rules) classify them; this module adds what a
user of *this provider* needs to fix it:

==========================================  ===================================
401 (``invalid_api_key``)                   ConfigurationError naming
                                            ``OPENAI_API_KEY``; never retried
429 ``insufficient_quota`` and the other    ConfigurationError ("check the plan
billing codes                               and billing"); never retried
429 otherwise (``rate_limit_exceeded``)     RateLimitedError, ``retry_after_s``
                                            from ``retry-after-ms`` else
                                            ``Retry-After``
403                                         ConfigurationError (no access to
                                            the model, or an unsupported region)
404                                         ConfigurationError (unknown model or
                                            wrong ``OPENAI_BASE_URL``), not the
                                            kernel's InvalidInputError
408, 409, 425, >= 500; timeouts,            TransientError
connection failures
400, 422, other 4xx                         InvalidInputError
an ``OpenAIError`` of the client itself     ConfigurationError
==========================================  ===================================

(Error codes: https://platform.openai.com/docs/guides/error-codes.) Messages
start with ``openai:``, name the status, the API's error code and message,
and the fix; they go through the kernel's redaction and never contain a key
(the API itself quotes a rejected key masked).
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    TransientError,
)
from reelgraph.plugins.vendors import _openai_rules

__all__ = ["KEY_ENV", "classify"]

#: the SDK's standard environment variable for the key
KEY_ENV = "OPENAI_API_KEY"


def classify(error: BaseException, *, secrets: tuple[str, ...] = ()) -> ProviderError | None:
    """The reelgraph error an ``openai`` SDK exception amounts to; ``None`` for any other.

    Args:
        error: any exception.
        secrets: values to blank out of the message besides what the kernel
            redacts (the key in use).

    Returns:
        A new :class:`~reelgraph.errors.ProviderError` (see the module table)
        whose ``__cause__`` is ``error``; ``error`` itself when it already is
        one; ``None`` when the SDK is not loaded or ``error`` is not its.
    """
    if isinstance(error, ProviderError):
        return error
    openai = sys.modules.get("openai")
    if openai is None or not isinstance(error, openai.OpenAIError):
        return None
    found = _refine(openai, error, _openai_rules.classify(error))
    extra = {"retry_after_s": found.retry_after_s} if isinstance(found, TransientError) else {}
    text = _clean(str(found), secrets)
    found = type(found)(text if text.startswith("openai:") else f"openai: {text}", **extra)
    found.__cause__ = error
    return found


def _refine(openai: Any, error: Any, base: ProviderError | None) -> ProviderError:
    """The shared rules' answer, with this provider's fix for what they leave general."""
    if isinstance(error, openai.APIStatusError):
        status = int(error.status_code)
        text = str(base) if base is not None else f"HTTP {status}"
        if status == 401:
            return ConfigurationError(
                f"{text}; set {KEY_ENV}, or the api_key option from an input declared "
                "secret: true, to a valid key"
            )
        if status == 403 and isinstance(base, ConfigurationError):
            return ConfigurationError(f"{text}; the key may have no access to this model")
        if status == 404:
            return ConfigurationError(
                f"{text}; check the model option, and OPENAI_BASE_URL for a compatible server"
            )
    if base is not None:
        return base
    if isinstance(error, openai.LengthFinishReasonError | openai.ContentFilterFinishReasonError):
        return InvalidInputError(str(error))
    if isinstance(error, openai.APIError):  # no status and no transport cause: a bad response
        return TransientError(f"{type(error).__name__}: {error}")
    # OpenAIError itself is the client's own (e.g. made without a key)
    return ConfigurationError(f"{error}; set {KEY_ENV}")


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    from reelgraph.observe.secrets import redact

    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED:OPENAI_API_KEY]")
    return redact(text)
