"""The ``runway`` clip provider: Runway's video models through the official ``runwayml`` SDK.

Install it with ``pip install 'reelgraph[runway]'``. Registered through the
entry point ``runway = "reelgraph.plugins.vendors.runway:plugin"`` (the
instance, not the class; STYLE.md). Loading it only checks that the SDK is
installed; the SDK is imported on the first request, so ``reelgraph --help``
and specs that do not use Runway never load it. Without the SDK the plugin
fails to load, softly: ``reelgraph plugins`` shows the ``pip install`` line,
and only a run naming ``runway`` stops on it.

See :mod:`.plugin` for the protocol and the options.
"""

from __future__ import annotations

from importlib.util import find_spec

from reelgraph.plugins.vendors.runway.plugin import INSTALL, RunwayClips

__all__ = ["INSTALL", "RunwayClips", "plugin"]

try:
    _SDK = find_spec("runwayml")
except (ImportError, ValueError):  # a broken or shadowed install
    _SDK = None
if _SDK is None:
    raise ImportError(f"the runway provider needs the runwayml SDK: {INSTALL}")

#: the instance the entry point registers
plugin = RunwayClips()
