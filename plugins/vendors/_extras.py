"""How a vendor plugin fails soft without its optional SDK (one rule for every vendor).

A vendor's SDK is an extra (``pip install 'reelgraph[runway]'``). The
plugin's package checks at load time that the SDK is *installed*, without
importing it (``importlib.util.find_spec``): ``reelgraph --help`` and specs
that do not use the vendor never import an SDK, and the SDK is imported on
the plugin's first request. Without it, loading the plugin raises
``ImportError`` with the ``pip install`` line; the kernel's registry keeps
that as the plugin's load error (``reelgraph plugins`` shows it), and only a
spec naming the provider stops on it, at plan time, before any node runs.
"""

from __future__ import annotations

import importlib.util

__all__ = ["require_sdk"]


def require_sdk(module: str, provider: str, install: str, sdk: str | None = None) -> None:
    """Raise ``ImportError`` naming ``install`` unless ``module`` is installed.

    Args:
        module: the SDK's import name (``runwayml``, ``google.genai``, ``jwt``).
        provider: the provider's name, for the message.
        install: the command that installs the extra
            (``pip install 'reelgraph[runway]'``).
        sdk: how to call the SDK in the message; default ``the MODULE SDK``.

    Raises:
        ImportError: the module cannot be found (not installed, a broken or
            shadowed install, or a missing namespace package such as ``google``).
    """
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a broken or shadowed install, or no parent package
        found = None
    if found is None:
        raise ImportError(f"the {provider} provider needs {sdk or f'the {module} SDK'}: {install}")
