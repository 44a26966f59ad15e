"""What the kernel must not know about Anthropic: its SDK's errors and its key format.

These rules lived in ``kernel/observe/classify.py`` and ``kernel/observe/secrets.py``
until the kernel became vendor-free (issue 12). The ``anthropic`` vendor
plugin calls them from its hook implementations::

    from reelgraph.plugins.vendors import _anthropic_rules

    @hookimpl
    def classify_error(error):
        return _anthropic_rules.classify(error)

    @hookimpl
    def secret_patterns():
        return _anthropic_rules.KEY_PATTERNS

They import no SDK: an exception is an Anthropic SDK error only when the
``anthropic`` module is already loaded (whoever raised it imported it).

Errors as documented at https://platform.claude.com/docs/en/api/errors (read
2026-12): the body is ``{"type": "error", "error": {"type", "message",
"details"?}, "request_id"}``; 429 ``rate_limit_error`` carries
``retry-after``, except the monthly spend cap (``error.details.error_code``
``enforced_spend_limit_reached``), which has none and does not pass before
the next month; a spend limit the organization set answers 400 ``You have
reached your specified API usage limits``; 529 ``overloaded_error`` is
transient (the kernel's 5xx rule).
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph.errors import ConfigurationError, ProviderError
from reelgraph.observe.classify import classify_error
from reelgraph.plugins.vendors._sdk_rules import caused as _caused
from reelgraph.plugins.vendors._sdk_rules import finish

__all__ = ["KEY_PATTERNS", "SPEND_CAP_CODES", "classify"]

#: Anthropic API keys: ``sk-ant-`` then the key kind and version (``api03-``,
#: ``admin01-``) and the secret, at least 20 of ``[A-Za-z0-9_-]`` in all (keys
#: as the Claude Console issues them, https://platform.claude.com/settings/keys).
#: The lookbehind keeps ``task-ant-...`` from matching.
KEY_PATTERNS: list[tuple[str, str]] = [
    ("anthropic", r"sk-ant-(?<![A-Za-z0-9]sk-ant-)[A-Za-z0-9_\-]{20,}"),
]

#: ``error.details.error_code`` values of a 429 that is a spending cap, not a
#: rate limit (the errors page; ``contract_spend_limit_reached`` from the SDK's
#: ``anthropic/_error_classes.py``, which maps both to their own exceptions).
SPEND_CAP_CODES: dict[str, str] = {
    "enforced_spend_limit_reached": (
        "the organization reached its tier's monthly spend cap; move to a higher tier "
        "or wait for the next month"
    ),
    "contract_spend_limit_reached": "the contract's spend limit is reached; see the Claude Console",
}

#: how a 400 for a spend limit the organization set begins (the errors page)
_SPEND_LIMIT_MESSAGE = "You have reached your specified"


def classify(error: BaseException) -> ProviderError | None:
    """The reelgraph error an ``anthropic`` SDK exception amounts to.

    On top of the kernel's HTTP rules (:func:`reelgraph.observe.classify.classify_error`):

    - a 429 whose ``error.details.error_code`` is a spend cap
      (:data:`SPEND_CAP_CODES`) and a 400 for a spend limit are a
      :class:`ConfigurationError`: waiting or changing the input does not help;
    - ``retry-after-ms`` (milliseconds), which the SDK reads before
      ``retry-after`` (``anthropic/_base_client.py``,
      ``_parse_retry_after_header``), sets ``retry_after_s`` of a
      rate-limited or transient error;
    - ``APITimeoutError`` and ``APIConnectionError`` (no response) are
      transient.

    Args:
        error: any exception.

    Returns:
        The classified error, its ``__cause__`` ``error``; ``None`` when
        ``error`` is not an Anthropic SDK error (or the SDK is not loaded).
    """
    sdk = sys.modules.get("anthropic")
    if sdk is None or not isinstance(error, sdk.APIError):
        return None
    base = classify_error(error)
    if isinstance(error, sdk.APIStatusError):
        inner = _error_object(error)
        details = inner.get("details")
        code = details.get("error_code") if isinstance(details, dict) else None
        if error.status_code == 429 and code in SPEND_CAP_CODES:
            return _caused(ConfigurationError(f"{base} ({SPEND_CAP_CODES[code]})"), error)
        message = inner.get("message")
        if (
            error.status_code == 400
            and isinstance(message, str)
            and message.startswith(_SPEND_LIMIT_MESSAGE)
        ):
            hint = "a spend limit set on the organization or workspace; raise it in the Console"
            return _caused(ConfigurationError(f"{base} ({hint})"), error)
    return finish(base, error, sdk)


def _error_object(error: Any) -> dict[str, Any]:
    """The body's ``error`` object (``{"type", "message", "details"}``), or ``{}``."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}
