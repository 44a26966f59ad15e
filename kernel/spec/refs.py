"""References inside a spec: ``$inputs.NAME``, ``$NODE``, ``$NODE.field.0``, ``$item``.

A string that is exactly a reference is replaced by the value it points to; a
string starting with ``$$`` is a literal ``$``. Lists and mappings are walked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Ref", "compile_value", "find_refs", "parse_ref", "resolve_path"]

_INDEX = re.compile(r"^-?[0-9]+$")
_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)*)$")


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: ``root`` (``inputs``, ``item`` or a node id) and a field path."""

    root: str
    path: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return self.text


def parse_ref(value: Any) -> Ref | None | str:
    """Parse ``value``: a :class:`Ref`, ``None`` when it is not a reference, or an
    error message when it starts with ``$`` but is malformed."""
    if not isinstance(value, str) or not value.startswith("$") or value.startswith("$$"):
        return None
    match = _REF.match(value)
    if not match:
        return f"malformed reference {value!r}: use $node, $node.field or $inputs.name"
    path = tuple(match.group(2).split(".")[1:]) if match.group(2) else ()
    return Ref(match.group(1), path, value)


def find_refs(value: Any, field: str) -> Iterator[tuple[str, Ref | str]]:
    """Yield ``(field path, Ref or error message)`` for every reference in ``value``."""
    if isinstance(value, str):
        ref = parse_ref(value)
        if ref is not None:
            yield field, ref
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from find_refs(inner, f"{field}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from find_refs(inner, f"{field}.{index}")


def resolve_path(value: Any, path: tuple[str, ...]) -> Any:
    """Follow a field path: attributes of models, keys of mappings, list indexes.

    Raises:
        LookupError: a step does not exist; the message names it.
    """
    for step in path:
        if isinstance(value, Mapping):
            if step not in value:
                raise LookupError(f"no key {step!r}")
            value = value[step]
        elif isinstance(value, list | tuple) and _INDEX.match(step):
            try:
                value = value[int(step)]
            except IndexError:
                raise LookupError(f"index {step} out of range ({len(value)} items)") from None
        elif hasattr(value, step) and not step.startswith("_"):
            value = getattr(value, step)
        else:
            raise LookupError(f"{type(value).__name__} has no field {step!r}")
    return value


# A compiled value is a closure-free tuple tree, evaluated by _evaluate. Kept as
# data rather than lambdas so resolution stays a few dict lookups per argument.
_LITERAL, _REFERENCE, _LIST, _DICT, _ROOTS = 0, 1, 2, 3, 4
#: the kind of a compiled list of path-less references (``[$a, $b]``)
ROOTS = _ROOTS


def compile_value(value: Any) -> tuple[int, Any]:
    """Compile a ``with`` value once, so evaluating it per call is cheap."""
    if isinstance(value, str):
        ref = parse_ref(value)
        if isinstance(ref, Ref):
            return (_REFERENCE, ref)
        if value.startswith("$$"):
            return (_LITERAL, value[1:])
        return (_LITERAL, value)
    if isinstance(value, Mapping):
        return (_DICT, [(k, compile_value(v)) for k, v in value.items()])
    if isinstance(value, list):
        items = [compile_value(v) for v in value]
        if items and all(k == _REFERENCE and not p.path for k, p in items):
            return (_ROOTS, tuple(p.root for _, p in items))  # [$a, $b]: a list of outputs
        return (_LIST, items)
    return (_LITERAL, value)


def has_refs(compiled: tuple[int, Any]) -> bool:
    kind, payload = compiled
    if kind in (_REFERENCE, _ROOTS):
        return True
    if kind == _LIST:
        return any(has_refs(c) for c in payload)
    if kind == _DICT:
        return any(has_refs(c) for _, c in payload)
    return False


def evaluate(compiled: tuple[int, Any], scope: Mapping[str, Any]) -> Any:
    """Evaluate a compiled value against ``scope`` (``inputs``, ``item``, node outputs).

    Raises:
        LookupError: a reference's field path does not exist in the value.
    """
    kind, payload = compiled
    if kind == _LITERAL:
        return payload
    if kind == _REFERENCE:
        value = scope[payload.root]
        return resolve_path(value, payload.path) if payload.path else value
    if kind == _ROOTS:
        return [scope[root] for root in payload]
    if kind == _LIST:
        return [evaluate(c, scope) for c in payload]
    return {k: evaluate(c, scope) for k, c in payload}
