"""The ``openai`` provider of the LLM roles: OpenAI (or any compatible server) through the official SDK.

Install it with ``pip install 'reelgraph[openai]'``. Registered through the
entry point ``openai = "reelgraph.plugins.vendors.openai:plugin"``: the entry
point names the instance (one naming a class would register the class, not
an instance; STYLE.md). Loading it only checks that the SDK is installed; the
SDK itself is imported on the first request, so ``reelgraph --help`` and
specs that do not use this provider never load it. Without the SDK the plugin
fails to load, softly: ``reelgraph plugins`` shows the error with the
``pip install`` line, and only a run naming ``openai`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.openai.plugin import (
    DEFAULT_MODEL,
    INSTALL,
    KEY_PATTERNS,
    OpenAIPlugin,
)

__all__ = ["DEFAULT_MODEL", "INSTALL", "KEY_PATTERNS", "OpenAIPlugin", "plugin"]

try:
    _SDK = find_spec("openai")
except (ImportError, ValueError):  # a broken or shadowed install
    _SDK = None
if _SDK is None:
    raise ImportError(f"the openai provider needs the openai SDK: {INSTALL}")

#: the instance the entry point registers
plugin = OpenAIPlugin()
