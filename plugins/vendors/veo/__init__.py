"""The ``veo`` clip provider: Google's Veo models through the official ``google-genai`` SDK.

Install it with ``pip install 'reelgraph[veo]'``. Registered through the
entry point ``veo = "reelgraph.plugins.vendors.veo:plugin"`` (the instance,
not the class; STYLE.md). The SDK is an extra, checked (not imported) at load time and imported on the
first request; without it the plugin fails to load, softly, with the ``pip
install`` line (:mod:`reelgraph.plugins.vendors._extras`, the same for every
vendor).

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from reelgraph.plugins.vendors._extras import require_sdk
from reelgraph.plugins.vendors.veo.plugin import INSTALL, VeoClips

__all__ = ["INSTALL", "VeoClips", "plugin"]

require_sdk("google.genai", "veo", INSTALL, "the google-genai SDK")

#: the instance the entry point registers
plugin = VeoClips()
