"""What the OpenAI and Anthropic rule modules share: both SDKs are Stainless-generated.

Both send (and their SDKs read, ``_base_client.py``
``_parse_retry_after_header``) a ``retry-after-ms`` header in milliseconds
before ``Retry-After``; both raise ``APIConnectionError`` with no response.
"""

from __future__ import annotations

import math
from typing import Any

from reelgraph.errors import ProviderError, TransientError
from reelgraph.observe.classify import header_value


def caused(error: ProviderError, cause: BaseException) -> ProviderError:
    """``error`` with ``cause`` as its ``__cause__``."""
    error.__cause__ = cause
    return error


def retry_after_ms(headers: Any) -> float | None:
    """Seconds from a ``retry-after-ms`` header, or ``None`` when absent or not a number."""
    value = header_value(headers, "retry-after-ms") if headers is not None else None
    try:
        seconds = float(value) / 1000 if value is not None else math.nan
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def finish(base: ProviderError | None, error: Any, sdk: Any) -> ProviderError | None:
    """The common tail: ``retry-after-ms`` on a transient status error, and a
    connection error with no response as transient."""
    if isinstance(error, sdk.APIStatusError):
        millis = retry_after_ms(error.response.headers)
        if millis is not None and isinstance(base, TransientError):
            return caused(type(base)(str(base), retry_after_s=millis), error)
    elif base is None and isinstance(error, sdk.APIConnectionError):
        return caused(TransientError(f"{type(error).__name__}: {error}"), error)
    return base
