"""The ``openai`` provider of the LLM roles: OpenAI (or any compatible server) through the official SDK.

Install it with ``pip install 'reelgraph[openai]'``. Registered through the
entry point ``openai = "reelgraph.plugins.vendors.openai:plugin"``: the entry
point names the instance (one naming a class would register the class, not
an instance; STYLE.md). The SDK is an extra, checked (not imported) at load time and imported on the
first request; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.openai.plugin import (
    DEFAULT_MODEL,
    INSTALL,
    KEY_PATTERNS,
    OpenAIPlugin,
)

__all__ = ["DEFAULT_MODEL", "INSTALL", "KEY_PATTERNS", "OpenAIPlugin", "plugin"]

require_sdk("openai", "openai", INSTALL)

#: the instance the entry point registers
plugin = OpenAIPlugin()
