"""Hook signatures: a hookspec's parameters, defaults and return type, read once.

Plan building and type checking both need them; they live here so that
neither imports the other for them.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any

from reelgraph import hookspecs
from reelgraph.plan.registry import PluginRegistry

__all__ = ["HookSignature", "function_signature", "hook_signature"]


@dataclass(slots=True)
class HookSignature:
    """A hookspec's parameters (without ``ctx``), defaults and return type."""

    name: str
    params: tuple[str, ...]
    defaults: dict[str, Any]
    returns: Any
    param_types: dict[str, Any]
    #: not firstresult: every implementation answers, list answers flattened
    collect: bool = False


def hook_signature(name: str, registry: PluginRegistry | None = None) -> HookSignature | None:
    """The signature of the hookspec ``name``, or ``None`` when there is no such hook.

    Hookspecs come from :mod:`reelgraph.hookspecs` and from any module added
    with ``Kernel(hookspecs=[...])``.
    """
    caller = getattr(registry.pm.hook, name, None) if registry else None
    spec = getattr(caller, "spec", None)
    fn = spec.function if spec is not None else getattr(hookspecs, name, None)
    if fn is None or name.startswith("_"):
        return None
    collect = not (spec.opts if spec else getattr(fn, "reelgraph_spec", {})).get("firstresult")
    key = (fn, collect)
    found = _SIGNATURES.get(key)
    if found is None:
        found = _SIGNATURES[key] = _signature(name, fn, collect)
    return found


#: hookspec function -> its signature; get_type_hints is most of a plan's cost
_SIGNATURES: dict[tuple[Any, bool], HookSignature] = {}


def _signature(
    name: str, fn: Any, collect: bool, defaults: dict[str, Any] | None = None
) -> HookSignature:
    from reelgraph.run.context import NodeContext

    try:
        hints = typing.get_type_hints(fn, localns={"NodeContext": NodeContext})
    except Exception:  # unresolvable annotations of a third-party hookspec
        hints = {}
    params = tuple(p for p in inspect.signature(fn).parameters if p != "ctx")
    return HookSignature(
        name=name,
        params=params,
        defaults=dict(getattr(fn, "reelgraph_defaults", {}) if defaults is None else defaults),
        returns=_strip_optional(hints.get("return")),
        param_types={p: hints.get(p) for p in params},
        collect=collect,
    )


def function_signature(name: str, func: Any) -> HookSignature:
    """The signature of a function node's callable, read as a hookspec's is.

    ``name`` is the node's ``hook`` (``python:module.qualname``). Parameters
    are the callable's named ones but ``ctx`` (which receives the
    :class:`~reelgraph.run.context.NodeContext`, as a hook's does); those
    with a Python default may be left out of the node's arguments. The
    return annotation is what downstream references are checked against.
    """
    return _signature(name, func, collect=False, defaults=_python_defaults(func))


def _python_defaults(func: Any) -> dict[str, Any]:
    return {
        p.name: p.default
        for p in inspect.signature(func).parameters.values()
        if p.default is not inspect.Parameter.empty and p.name != "ctx"
    }


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation
