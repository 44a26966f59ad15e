"""What the ``anthropic`` SDK's exceptions amount to, said the way this provider says it.

The class of each error comes from :mod:`reelgraph.plugins.vendors._anthropic_rules`
(the kernel's HTTP rules plus Anthropic's own: spend caps, ``retry-after-ms``,
no-response errors), so the ``classify_error`` hook and the errors this
provider raises itself agree. From the Claude API's errors page
(https://platform.claude.com/docs/en/api/errors) and the SDK's exception
classes (``anthropic._exceptions``):

=======================================  ==================================
429 ``rate_limit_error``                 RateLimitedError, ``retry_after_s``
                                         from ``retry-after-ms`` (as the SDK
                                         reads it) or ``retry-after``
429 with a spend-cap ``error_code``      ConfigurationError
500 ``api_error``, 529                   TransientError
``overloaded_error``, other 5xx, 408,
409; timeouts, connection failures
401 ``authentication_error``, 402, 403   ConfigurationError
``permission_error``
400 ``invalid_request_error``, 404,      InvalidInputError
413, other 4xx
=======================================  ==================================

This module adds what a user needs to act: the vendor's name in front, and,
for a rejected key, the variable the key came from (``ANTHROPIC_API_KEY``) or
the model option for a 404. Messages never carry the key: the rules leave
credential headers out, and :func:`scrub` blanks the request's own key out and
applies :func:`reelgraph.observe.secrets.redact`.
"""

from __future__ import annotations

from typing import Any

from reelgraph.errors import ConfigurationError, InvalidInputError, ProviderError, TransientError
from reelgraph.observe.secrets import redact
from reelgraph.plugins.vendors import _anthropic_rules

__all__ = ["KEY_ENV", "classify", "scrub"]

#: the environment variable the key comes from (the SDK's own)
KEY_ENV = "ANTHROPIC_API_KEY"


def classify(error: BaseException) -> ProviderError | None:
    """The reelgraph error an ``anthropic`` SDK exception amounts to, or ``None``.

    ``None`` for anything that is not an ``anthropic`` SDK error (and
    whenever the SDK was never imported: then none of its errors exist).
    The returned error's ``__cause__`` is ``error``.
    """
    base = _anthropic_rules.classify(error)
    if base is None:
        return None
    text = "anthropic: " + scrub(str(base), error)
    status = getattr(error, "status_code", None)
    if isinstance(base, ConfigurationError) and status in (401, 403):
        text += f"; the key comes from {KEY_ENV} (or a secret input in options.api_key)"
    elif isinstance(base, InvalidInputError) and status == 404:
        text += "; check the model name (options.model) and the base URL"
    classified: ProviderError
    if isinstance(base, TransientError):  # RateLimitedError too: keep Retry-After
        classified = type(base)(text, retry_after_s=base.retry_after_s)
    else:
        classified = type(base)(text)
    classified.__cause__ = error
    return classified


def scrub(text: str, error: Any = None) -> str:
    """``text`` without the request's key (even one the redactor does not know), redacted."""
    request = getattr(error, "request", None)
    headers = getattr(request, "headers", None)
    if headers is not None:
        for name in ("x-api-key", "authorization"):
            value = headers.get(name)
            for secret in (value, value.partition(" ")[2] if value else None):
                if secret and len(secret) >= 8:
                    text = text.replace(secret, f"[REDACTED:{name}]")
    return redact(text)
