"""pluggy markers, in a module of their own so importing them is cheap."""

from __future__ import annotations

import pluggy

PROJECT = "reelgraph"

#: Marks a function of a plugin as the implementation of a hook.
hookimpl = pluggy.HookimplMarker(PROJECT)
#: Marks a function of :mod:`reelgraph.hookspecs` as a hook specification.
hookspec = pluggy.HookspecMarker(PROJECT)
