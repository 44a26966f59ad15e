"""pluggy markers and :func:`defaults`, in a module of their own so importing them is cheap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pluggy

PROJECT = "reelgraph"

#: Marks a function of a plugin as the implementation of a hook.
hookimpl = pluggy.HookimplMarker(PROJECT)
#: Marks a function of :mod:`reelgraph.hookspecs` as a hook specification.
hookspec = pluggy.HookspecMarker(PROJECT)

_F = TypeVar("_F", bound=Callable[..., Any])


def defaults(**values: Any) -> Callable[[_F], _F]:
    """Declare the values the kernel passes for parameters a node leaves out.

    pluggy hands an implementation only the parameters without a default in
    its signature, so defaults live here rather than in the signature.
    """

    def mark(fn: _F) -> _F:
        fn.reelgraph_defaults = dict(values)  # type: ignore[attr-defined]
        return fn

    return mark
