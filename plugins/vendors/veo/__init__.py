"""The ``veo`` clip provider: Google's Veo models through the official ``google-genai`` SDK.

Install it with ``pip install 'reelgraph[veo]'``. Registered through the
entry point ``veo = "reelgraph.plugins.vendors.veo:plugin"`` (the instance,
not the class; STYLE.md). Loading it only checks that the SDK is installed;
the SDK is imported on the first request, so ``reelgraph --help`` and specs
that do not use Veo never load it. Without the SDK the plugin fails to load,
softly: ``reelgraph plugins`` shows the ``pip install`` line, and only a run
naming ``veo`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.veo.plugin import INSTALL, VeoClips

__all__ = ["INSTALL", "VeoClips", "plugin"]

try:
    _SDK = find_spec("google.genai")
except (ImportError, ValueError):  # a broken or shadowed install, or no google namespace
    _SDK = None
if _SDK is None:
    raise ImportError(f"the veo provider needs the google-genai SDK: {INSTALL}")

#: the instance the entry point registers
plugin = VeoClips()
