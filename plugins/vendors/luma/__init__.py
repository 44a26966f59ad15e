"""The ``luma`` clip provider: Luma Dream Machine (Ray) through the official ``lumaai`` SDK.

Install it with ``pip install 'reelgraph[luma]'``. Registered through the
entry point ``luma = "reelgraph.plugins.vendors.luma:plugin"`` (the
instance, not the class; STYLE.md). Loading it only checks that the SDK is
installed; the SDK is imported on the first request, so ``reelgraph --help``
and specs that do not use Luma never load it. Without the SDK the plugin
fails to load, softly: ``reelgraph plugins`` shows the ``pip install`` line,
and only a run naming ``luma`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.luma.plugin import INSTALL, LumaClips

__all__ = ["INSTALL", "LumaClips", "plugin"]

try:
    _SDK = find_spec("lumaai")
except (ImportError, ValueError):  # a broken or shadowed install
    _SDK = None
if _SDK is None:
    raise ImportError(f"the luma provider needs the lumaai SDK: {INSTALL}")

#: the instance the entry point registers
plugin = LumaClips()
