"""The ``luma`` clip provider: Luma Dream Machine (Ray) through the official ``lumaai`` SDK.

Install it with ``pip install 'reelgraph[luma]'``. Registered through the
entry point ``luma = "reelgraph.plugins.vendors.luma:plugin"`` (the
instance, not the class; STYLE.md). The SDK is an extra, checked (not imported) at load time and imported on the
first request; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.luma.plugin import INSTALL, LumaClips

__all__ = ["INSTALL", "LumaClips", "plugin"]

require_sdk("lumaai", "luma", INSTALL)

#: the instance the entry point registers
plugin = LumaClips()
