"""The ``kling`` clip provider: Kling AI's video models over httpx, signed with a JWT.

Kling publishes no official Python SDK, so the plugin speaks the HTTP API
with httpx (a base dependency) and signs its bearer token with PyJWT. Install
it with ``pip install 'reelgraph[kling]'``. Registered through the entry point
``kling = "reelgraph.plugins.vendors.kling:plugin"`` (the instance, not the
class; STYLE.md). PyJWT is checked (not imported) at load time; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.kling.plugin import INSTALL, KlingClips

__all__ = ["INSTALL", "KlingClips", "plugin"]

require_sdk("jwt", "kling", INSTALL, "PyJWT")

#: the instance the entry point registers
plugin = KlingClips()
