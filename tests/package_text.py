"""The long description of an installed distribution, as the tests read real READMEs.

``importlib.metadata`` gives the body of a ``METADATA`` file as the message's
payload, but once the ``importlib_metadata`` backport is imported (Dask's
``distributed`` imports it, and it installs its own distribution finder) the
same call answers with the backport's message, which moves the body into a
``Description`` header and leaves the payload empty. Reading both keeps the
tests independent of which test ran first.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any


def description_of(meta: Any) -> str:
    """The description in a distribution's metadata message ("" when it has none)."""
    return str(meta.get_payload() or meta.get("Description") or "")


def package_description(name: str) -> str:
    """The long description of the installed distribution ``name``.

    Raises:
        importlib.metadata.PackageNotFoundError: ``name`` is not installed.
    """
    return description_of(importlib.metadata.metadata(name))
