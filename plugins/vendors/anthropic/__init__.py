"""The ``anthropic`` provider of the LLM roles: Claude through the official ``anthropic`` SDK.

Install it with ``pip install 'reelgraph[anthropic]'``. Loading the plugin
only checks that the SDK is installed; the SDK itself is imported on the
first request, so ``reelgraph --help`` and specs that do not use this
provider never load it. Without the SDK the plugin fails to load, softly:
``reelgraph plugins`` shows the error with the ``pip install`` line, and only
a spec naming ``anthropic`` stops on it (at plan time, before any node runs).

Registered through the entry point ``anthropic =
"reelgraph.plugins.vendors.anthropic:plugin"``: the entry point names the
instance (an entry point naming a class registers the class, not an instance;
STYLE.md, pluggy). See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.anthropic.plugin import DEFAULT_MODEL, INSTALL, AnthropicPlugin

__all__ = ["DEFAULT_MODEL", "INSTALL", "AnthropicPlugin", "plugin"]

if find_spec("anthropic") is None:
    raise ImportError(f"the anthropic provider needs the anthropic SDK: {INSTALL}")

#: the instance the entry point registers
plugin = AnthropicPlugin()
