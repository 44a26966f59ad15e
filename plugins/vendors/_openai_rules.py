"""What the kernel must not know about OpenAI: its SDK's errors and its key format.

These rules lived in ``kernel/observe/classify.py`` and ``kernel/observe/secrets.py``
until the kernel became vendor-free (issue 12). The ``openai`` vendor plugin
calls them from its hook implementations::

    from reelgraph.plugins.vendors import _openai_rules

    @hookimpl
    def classify_error(error):
        return _openai_rules.classify(error)

    @hookimpl
    def secret_patterns():
        return _openai_rules.KEY_PATTERNS

They import no SDK: an exception is an OpenAI SDK error only when the
``openai`` module is already loaded (whoever raised it imported it).
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph.errors import ConfigurationError, ProviderError
from reelgraph.observe.classify import classify_error
from reelgraph.plugins.vendors._sdk_rules import caused as _caused
from reelgraph.plugins.vendors._sdk_rules import finish

__all__ = ["BILLING_CODES", "KEY_PATTERNS", "classify"]

#: OpenAI API keys: ``sk-`` (user keys), ``sk-proj-`` (project keys),
#: ``sk-svcacct-`` (service accounts), ``sk-admin-`` (admin keys), then at
#: least 20 of ``[A-Za-z0-9_-]``
#: (https://platform.openai.com/docs/api-reference/authentication). The
#: lookbehind keeps ``task-...`` and ``disk-...`` ids from matching; it comes
#: after the literal so the search can skip ahead to ``sk-``. An Anthropic key
#: (``sk-ant-...``) matches too, as it did in the kernel: it is redacted even
#: when only this plugin is installed (the anthropic pattern, longer, wins when
#: both are).
KEY_PATTERNS: list[tuple[str, str]] = [
    ("openai", r"sk-(?<![A-Za-z0-9]sk-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
]

#: ``error.type`` / ``error.code`` values of a 429 that is an empty account or a
#: spending limit, not a rate limit: retrying does not restore access
#: (https://developers.openai.com/api/docs/guides/error-codes,
#: https://help.openai.com/en/articles/6614457-troubleshooting-api-usage-and-spend-limits,
#: both read 2026-12).
BILLING_CODES: dict[str, str] = {
    "insufficient_quota": "the account's quota is used up; check the plan and billing",
    "credit_balance_exhausted": "no prepaid credits are left; add credits to the API balance",
    "organization_spend_limit_exceeded": (
        "the organization reached its spend limit; raise it or wait for the monthly reset"
    ),
    "project_spend_limit_exceeded": (
        "the project reached its spend limit; raise it or wait for the monthly reset"
    ),
    "organization_usage_limit_exceeded": (
        "the organization reached its approved usage limit; request a higher limit"
    ),
}


def classify(error: BaseException) -> ProviderError | None:
    """The reelgraph error an ``openai`` SDK exception amounts to.

    On top of the kernel's HTTP rules (:func:`reelgraph.observe.classify.classify_error`:
    the status, the URL without its query, the API's message, credentials
    blanked):

    - a 429 whose ``error.code`` or ``error.type`` is a billing code
      (:data:`BILLING_CODES`, ``insufficient_quota`` among them) is a
      :class:`ConfigurationError`: waiting does not help;
    - ``retry-after-ms`` (milliseconds), which OpenAI sends and its SDK reads
      before ``Retry-After`` (``openai/_base_client.py``,
      ``_parse_retry_after_header``), sets ``retry_after_s`` of a
      rate-limited or transient error;
    - ``APITimeoutError`` and ``APIConnectionError`` (no response) are
      transient.

    Args:
        error: any exception.

    Returns:
        The classified error, its ``__cause__`` ``error``; ``None`` when
        ``error`` is not an OpenAI SDK error (or the SDK is not loaded).
    """
    sdk = sys.modules.get("openai")
    if sdk is None or not isinstance(error, sdk.APIError):
        return None
    base = classify_error(error)
    if isinstance(error, sdk.APIStatusError):
        status = error.status_code
        code = _billing_code(error)
        if status == 429 and code is not None:
            return _caused(ConfigurationError(f"{base} ({BILLING_CODES[code]})"), error)
    return finish(base, error, sdk)


def _billing_code(error: Any) -> str | None:
    """The billing code among the error object's ``code`` and ``type``, if any.

    The SDK sets ``error.code`` and ``error.type`` from the body's ``error``
    object (``{"error": {"message", "type", "param", "code"}}``).
    """
    for value in (getattr(error, "code", None), getattr(error, "type", None)):
        if isinstance(value, str) and value in BILLING_CODES:
            return value
    return None
