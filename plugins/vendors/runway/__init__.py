"""The ``runway`` clip provider: Runway's video models through the official ``runwayml`` SDK.

Install it with ``pip install 'reelgraph[runway]'``. Registered through the
entry point ``runway = "reelgraph.plugins.vendors.runway:plugin"`` (the
instance, not the class; STYLE.md). The SDK is an extra, checked (not imported) at load time and imported on the
first request; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.runway.plugin import INSTALL, RunwayClips

__all__ = ["INSTALL", "RunwayClips", "plugin"]

require_sdk("runwayml", "runway", INSTALL)

#: the instance the entry point registers
plugin = RunwayClips()
