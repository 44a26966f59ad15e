"""The ``kling`` clip provider: Kling AI's video models over httpx, signed with a JWT.

Kling publishes no official Python SDK, so the plugin speaks the HTTP API
with httpx (a base dependency) and signs its bearer token with PyJWT. Install
it with ``pip install 'reelgraph[kling]'``. Registered through the entry point
``kling = "reelgraph.plugins.vendors.kling:plugin"`` (the instance, not the
class; STYLE.md). Without PyJWT the plugin fails to load, softly:
``reelgraph plugins`` shows the ``pip install`` line, and only a run naming
``kling`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.kling.plugin import INSTALL, KlingClips

__all__ = ["INSTALL", "KlingClips", "plugin"]

try:
    _JWT = find_spec("jwt")
except (ImportError, ValueError):  # a broken or shadowed install
    _JWT = None
if _JWT is None:
    raise ImportError(f"the kling provider needs PyJWT: {INSTALL}")

#: the instance the entry point registers
plugin = KlingClips()
