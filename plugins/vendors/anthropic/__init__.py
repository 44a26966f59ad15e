"""The ``anthropic`` provider of the LLM roles: Claude through the official ``anthropic`` SDK.

Install it with ``pip install 'reelgraph[anthropic]'``. The SDK is an extra, checked (not
imported) at load time and imported on the first request; without it the
plugin fails to load, softly, with the ``pip install`` line
(:mod:`reelgraph.plugins.vendors._extras`, the same for every vendor).

Registered through the entry point ``anthropic =
"reelgraph.plugins.vendors.anthropic:plugin"``: the entry point names the
instance (an entry point naming a class registers the class, not an instance;
STYLE.md, pluggy). See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.anthropic.plugin import DEFAULT_MODEL, INSTALL, AnthropicPlugin

__all__ = ["DEFAULT_MODEL", "INSTALL", "AnthropicPlugin", "plugin"]

require_sdk("anthropic", "anthropic", INSTALL)

#: the instance the entry point registers
plugin = AnthropicPlugin()
