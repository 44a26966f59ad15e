"""Typed edges: does the value a reference yields fit the parameter it fills?

Validation (:mod:`reelgraph.plan.graph`) asks two questions of every reference in a
spec, before anything runs:

* :func:`reference_type` -- what type does ``$script.scenes.0.title`` yield,
  given the upstream hook's return annotation? Pydantic models are walked by
  ``model_fields[...].annotation``, ``list[X]`` by integer steps,
  ``dict[str, X]`` by keys; a map node's output is ``list[R]``. A step that
  can never resolve at run time (a field a pydantic model does not have, a
  name on a list) raises :class:`FieldMissing`.
* :func:`fits` -- may a value of that type be passed where the hook's
  parameter annotation expects another?

The check catches values that can never fit, not values that might not: an
unknown type (``Any``, a missing annotation, a hint that did not resolve, a
``TypeVar``) always fits, and a union fits when one of its members does (an
``Optional[X]`` output may fill an ``X`` parameter). The kernel passes
arguments as they are, without coercion, so apart from two widenings a value
fits only a parameter of its own class or a base class of it:

* ``int`` fits ``float`` and ``complex`` (the numeric tower of PEP 484);
* ``str`` fits :class:`~pathlib.Path`: a path is often written as text (a
  YAML literal, a JSON-restored output), and hooks that take a path accept
  text (``Path(source)``). A ``Path`` does *not* fit ``str``: string methods
  fail on it.

Inputs (``$inputs.NAME``) are checked loosely by :func:`input_fits`: the
command line converts between scalar kinds, so only a scalar, a list and an
object (mapping) are told apart.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from reelgraph.errors import Problem, did_you_mean

if TYPE_CHECKING:
    from reelgraph.plan.signature import HookSignature
    from reelgraph.spec.model import NodeSpec, Spec
    from reelgraph.spec.refs import Ref

__all__ = [
    "FieldMissing",
    "Item",
    "check_edge",
    "check_map",
    "expected_type",
    "missing_field",
    "node_output_type",
    "describe",
    "element_type",
    "fits",
    "input_fits",
    "output_type",
    "reference_type",
]

_NONE = type(None)
#: a list index step, as :func:`reelgraph.spec.refs.resolve_path` reads one
_INDEX = re.compile(r"^-?[0-9]+$")
_UNIONS = (typing.Union, types.UnionType)
#: PEP 484: an int is acceptable where a float is expected, an int or float where complex
_WIDENS = {int: (float, complex), float: (complex,), str: (Path, PurePath)}


class FieldMissing(LookupError):
    """A reference's step that cannot resolve on a value of the annotated type.

    Attributes:
        owner: the type the step was taken on.
        step: the missing field, key or index.
        depth: how many steps resolved before it (0 = the first step).
        choices: the names that do exist there (for a "did you mean" hint).
    """

    def __init__(self, owner: Any, step: str, depth: int, choices: Sequence[str] = ()) -> None:
        super().__init__(f"{describe(owner)} has no field {step!r}")
        self.owner = owner
        self.step = step
        self.depth = depth
        self.choices = list(choices)


# -- describing types --------------------------------------------------------


def describe(tp: Any) -> str:
    """A short, readable name for an annotation: ``list[Visual]``, ``str | None``."""
    if tp is None or tp is Any:
        return "Any"
    if tp is _NONE:
        return "None"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in _UNIONS:
        return " | ".join(describe(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin is typing.Annotated:
        return describe(args[0])
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        shown = ", ".join("..." if a is Ellipsis else describe(a) for a in args)
        return f"{name}[{shown}]" if args else name
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


# -- helpers -----------------------------------------------------------------


def _clean(tp: Any) -> Any:
    """Strip ``Annotated`` and ``NewType`` wrappers."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif isinstance(tp, typing.NewType):
            tp = tp.__supertype__
        else:
            return tp


def _unknown(tp: Any) -> bool:
    """True for annotations that say nothing checkable."""
    return (
        tp is None
        or tp is Any
        or tp is object
        or isinstance(tp, str | typing.TypeVar | typing.ForwardRef)
    )


def _members(tp: Any) -> tuple[Any, ...] | None:
    """The members of a union, or ``None`` when ``tp`` is not one."""
    return typing.get_args(tp) if typing.get_origin(tp) in _UNIONS else None


def _split(tp: Any) -> tuple[type | None, tuple[Any, ...]]:
    """``(class, type arguments)`` of an annotation; class ``None`` when not a class."""
    origin = typing.get_origin(tp)
    if origin is not None:
        return (origin if isinstance(origin, type) else None), typing.get_args(tp)
    return (tp if isinstance(tp, type) else None), ()


def _subclass(actual: type, expected: type) -> bool:
    try:
        return issubclass(actual, expected)
    except TypeError:  # a non-runtime Protocol, or a special form: cannot tell
        return True


def _is_model(cls: type | None) -> bool:
    return cls is not None and _subclass(cls, BaseModel) and cls is not BaseModel


def _is_sequence(cls: type) -> bool:
    return issubclass(cls, list | tuple)


# -- walking a reference -----------------------------------------------------


def output_type(returns: Any, *, map_node: bool = False, collect: bool = False) -> Any:
    """The type of a node's output, from its hook's return annotation.

    Args:
        returns: the hook's return annotation (``Optional`` already stripped);
            ``None`` when it has none.
        map_node: the node maps over a list: its output is ``list[returns]``.
        collect: the hook is not ``firstresult``: every implementation
            answers and list answers are flattened one level, so the output
            is ``list[X]`` for ``list[X]`` answers and ``list[R]`` otherwise.
    """
    returns = _clean(returns)
    if _unknown(returns) or returns is _NONE:
        result: Any = Any
    elif collect:
        cls, args = _split(returns)
        result = returns if cls is list else list[returns]  # type: ignore[valid-type]
    else:
        result = returns
    return list[result] if map_node else result  # type: ignore[valid-type]


def reference_type(start: Any, path: Sequence[str], *, depth: int = 0) -> Any:
    """The type a field path yields from a value of type ``start``.

    Steps follow :func:`reelgraph.spec.refs.resolve_path`: keys of mappings,
    integer indexes of lists and tuples, attributes of everything else.

    Raises:
        FieldMissing: a step cannot exist on a value of the annotated type
            (a pydantic model without that field or property, a name on a
            list).
    """
    tp = start
    for offset, step in enumerate(path):
        tp = _step(_clean(tp), step, depth + offset)
        if _unknown(tp):
            return Any
    return tp


def _step(tp: Any, step: str, depth: int) -> Any:
    if _unknown(tp):
        return Any
    members = _members(tp)
    if members is not None:
        return _union_step(members, step, depth)
    cls, args = _split(tp)
    if cls is None:
        return Any
    if issubclass(cls, Mapping):
        return args[1] if len(args) == 2 else Any
    if _is_sequence(cls):
        return _index_step(tp, cls, args, step, depth)
    if cls is not object and issubclass(list, cls) and _INDEX.match(step):
        return args[0] if len(args) == 1 else Any  # Sequence[X], Iterable[X]: maybe a list
    if _is_model(cls):
        return _model_step(typing.cast(type[BaseModel], cls), step, depth)
    if dataclasses.is_dataclass(cls):
        return _dataclass_step(cls, step, depth)
    return Any  # any other attribute may exist at run time


def _union_step(members: tuple[Any, ...], step: str, depth: int) -> Any:
    found: list[Any] = []
    missing: FieldMissing | None = None
    for member in members:
        if member is _NONE:
            continue  # None.field fails at run time, but only when the value is None
        try:
            found.append(_step(_clean(member), step, depth))
        except FieldMissing as err:
            missing = missing or err
    if found:
        return found[0] if len(found) == 1 else typing.Union[tuple(found)]  # noqa: UP007
    if missing is not None:
        raise missing
    return Any


def _index_step(tp: Any, cls: type, args: tuple[Any, ...], step: str, depth: int) -> Any:
    if not _INDEX.match(step):
        if hasattr(cls, step) and not step.startswith("_"):
            return Any
        raise FieldMissing(tp, step, depth)
    if issubclass(cls, tuple) and args and args[-1] is not Ellipsis:
        index = int(step)
        return args[index] if -len(args) <= index < len(args) else Any
    return args[0] if args else Any


def _model_step(cls: type[BaseModel], step: str, depth: int) -> Any:
    fields = cls.model_fields
    if step in fields:
        return fields[step].annotation
    if not step.startswith("_"):
        found = inspect.getattr_static(cls, step, None)
        if isinstance(found, property):
            return _returns(found.fget)
        if found is not None or step in cls.model_computed_fields:
            return Any
    if cls.model_config.get("extra") == "allow":
        return Any
    raise FieldMissing(cls, step, depth, list(fields))


def _dataclass_step(cls: type, step: str, depth: int) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    if step in names:
        try:
            return typing.get_type_hints(cls).get(step)
        except Exception:  # unresolvable hints of a third-party class
            return Any
    if not step.startswith("_") and hasattr(cls, step):
        return Any
    raise FieldMissing(cls, step, depth, names)


def _returns(fn: Any) -> Any:
    try:
        return typing.get_type_hints(fn).get("return")
    except Exception:  # unresolvable hints of a third-party property
        return Any


def element_type(tp: Any) -> Any:
    """The item type of a list a ``map:`` iterates, ``Any`` when unknown.

    Raises:
        TypeError: a value of type ``tp`` is never a list or a tuple (the
            scheduler maps over those only).
    """
    tp = _clean(tp)
    if _unknown(tp):
        return Any
    members = _members(tp)
    if members is not None:
        items = []
        for member in members:
            if member is _NONE:
                continue
            try:
                items.append(element_type(member))
            except TypeError:
                continue
        if not items:
            raise TypeError(f"{describe(tp)} is not a list")
        return items[0] if len(items) == 1 else typing.Union[tuple(items)]  # noqa: UP007
    cls, args = _split(tp)
    if cls is None:
        return Any
    if issubclass(cls, tuple) and not (len(args) == 2 and args[1] is Ellipsis):
        return Any
    if _is_sequence(cls) or issubclass(list, cls):  # Sequence[X], Iterable[X]: maybe a list
        return args[0] if len(args) in (1, 2) else Any
    raise TypeError(f"{describe(tp)} is not a list")


# -- compatibility -----------------------------------------------------------


def fits(actual: Any, expected: Any) -> bool:
    """Whether a value annotated ``actual`` may fill a parameter annotated ``expected``.

    True when compatible or when either side is unknown; see the module
    docstring for the rules.
    """
    actual, expected = _clean(actual), _clean(expected)
    if _unknown(actual) or _unknown(expected):
        return True
    expected_members = _members(expected)
    if expected_members is not None:
        return any(fits(actual, member) for member in expected_members)
    actual_members = _members(actual)
    if actual_members is not None:
        present = [m for m in actual_members if m is not _NONE] or [_NONE]
        return any(fits(member, expected) for member in present)
    if actual is _NONE or expected is _NONE:
        return actual is expected
    return _fits_class(actual, expected)


def _fits_class(actual: Any, expected: Any) -> bool:
    if typing.get_origin(actual) is Literal:
        return any(fits(type(value), expected) for value in typing.get_args(actual))
    if typing.get_origin(expected) is Literal:
        values = typing.get_args(expected)
        return any(isinstance(value, _split(actual)[0] or object) for value in values)
    a_cls, a_args = _split(actual)
    e_cls, e_args = _split(expected)
    if a_cls is None or e_cls is None:
        return True
    if not _subclass(a_cls, e_cls):
        return any(_subclass(e_cls, wider) for wider in _WIDENS.get(a_cls, ()))
    if not a_args or not e_args:
        return True
    if issubclass(e_cls, Mapping) and len(a_args) == len(e_args) == 2:
        return fits(a_args[0], e_args[0]) and fits(a_args[1], e_args[1])
    if issubclass(e_cls, tuple):
        return True  # fixed-length tuples: not worth the rules here
    if len(e_args) == 1 and len(a_args) == 1:
        return fits(a_args[0], e_args[0])
    return True


# -- inputs ------------------------------------------------------------------

#: an input's declared type -> what kind of value it binds to
_INPUT_KINDS = {
    "string": "scalar",
    "integer": "scalar",
    "number": "scalar",
    "boolean": "scalar",
    "file": "scalar",
    "list": "list",
    "object": "object",
}


def input_fits(input_type: str, expected: Any) -> bool:
    """Whether an input of ``input_type`` (``string``, ``list``...) may fill ``expected``.

    Scalar kinds convert into each other on the command line (``-i n=3``), so
    only scalars, lists and objects (mappings) are told apart; a pydantic
    model or dataclass parameter fits no input. True when unsure.
    """
    kind = _INPUT_KINDS.get(input_type)
    expected = _clean(expected)
    if kind is None or _unknown(expected):
        return True
    members = _members(expected)
    options = [m for m in members if m is not _NONE] if members is not None else [expected]
    kinds = {_kind_of(_clean(member)) for member in options}
    return None in kinds or kind in kinds


def _kind_of(tp: Any) -> str | None:
    if _unknown(tp):
        return None
    if typing.get_origin(tp) is Literal:
        return "scalar"
    cls, _ = _split(tp)
    if cls is None:
        return None
    if issubclass(cls, str | bytes | int | float | complex | PurePath):
        return "scalar"
    if issubclass(cls, Mapping):
        return "object"
    if issubclass(cls, list | tuple | set | frozenset):
        return "list"
    if _is_model(cls) or dataclasses.is_dataclass(cls):
        return "model"
    return None


def expected_type(annotation: Any, steps: Sequence[str]) -> Any:
    """The type expected at ``steps`` inside a parameter annotated ``annotation``.

    A reference nested in a literal (``targets: {duration_s: $inputs.d}``)
    fills a value of a ``dict[str, X]`` (``X``) or an item of a ``list[X]``;
    anything else is unknown (``Any``).
    """
    tp = annotation
    for _ in steps:
        tp = _clean(tp)
        members = _members(tp)
        if members is not None:
            present = [m for m in members if m is not _NONE]
            tp = present[0] if len(present) == 1 else Any
        cls, args = _split(_clean(tp))
        if cls is not None and issubclass(cls, Mapping) and len(args) == 2:
            tp = args[1]
        elif cls is not None and _is_sequence(cls) and len(args) == 1:
            tp = args[0]
        else:
            return Any
    return tp


# -- spec edges: problems named by node, hook and type -------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    """What ``$item`` is inside a map node: its type and the list it comes from."""

    type: Any
    source: str


def node_output_type(
    node_id: str, by_id: Mapping[str, NodeSpec], signatures: Mapping[str, HookSignature]
) -> Any:
    """The type of node ``node_id``'s output (``Any`` when unknown)."""
    sig = signatures.get(node_id)
    if sig is None:
        return Any
    return output_type(
        sig.returns, map_node=by_id[node_id].map is not None, collect=getattr(sig, "collect", False)
    )


def _source(
    ref: Ref,
    by_id: Mapping[str, NodeSpec],
    signatures: Mapping[str, HookSignature],
    item: Item | None,
) -> tuple[Any, str, Any]:
    """``(type, description, root type)`` of a node or ``$item`` reference."""
    if ref.root == "item":
        root = item.type if item else Any
        try:
            actual = reference_type(root, ref.path)
        except FieldMissing:
            actual = Any
        origin = f"an item of {item.source}" if item else "a map item"
        return actual, f"{ref} ({describe(actual)}, {origin})", root
    root = node_output_type(ref.root, by_id, signatures)
    try:
        actual = reference_type(root, ref.path)
    except FieldMissing:
        actual = Any  # reported by the caller's field check
    sig = signatures.get(ref.root)
    kind = "map node" if by_id[ref.root].map is not None else "node"
    hook = f" {sig.name} -> {describe(sig.returns)}" if sig else ""
    return actual, f"{ref} ({describe(actual)}, from {kind} '{ref.root}'{hook})", root


def check_edge(
    ref: Ref,
    where: str,
    node: NodeSpec,
    spec: Spec,
    by_id: Mapping[str, NodeSpec],
    signatures: Mapping[str, HookSignature],
    item: Item | None = None,
) -> Problem | None:
    """The value ``ref`` yields fits the argument of ``node`` at ``where`` (``with.ARG...``).

    Call it for references that resolve (inputs declared, nodes present,
    fields found). ``item`` describes ``$item`` in a map node.
    """
    sig = signatures.get(node.id)
    parts = where.split(".")
    if sig is None or parts[0] != "with" or len(parts) < 2 or parts[1] not in sig.param_types:
        return None
    arg, inner = parts[1], parts[2:]
    expected = expected_type(sig.param_types[arg], inner)
    root: Any = Any
    if ref.root == "inputs":
        decl = spec.inputs.get(ref.path[0]) if ref.path else None
        if decl is None or len(ref.path) > 1 or input_fits(decl.type, expected):
            return None
        actual: Any = Any
        text = f"{ref} (input of type {decl.type})"
    else:
        actual, text, root = _source(ref, by_id, signatures, item)
        if fits(actual, expected):
            return None
    at = f" at {'.'.join(inner)}" if inner else ""
    return Problem(
        f"{text} does not fit argument '{arg}'{at} of hook '{node.hook}' "
        f"(expects {describe(expected)})",
        spec.source,
        node.id,
        where,
        _fit_hint(ref, actual, expected, root),
    )


def _fit_hint(ref: Ref, actual: Any, expected: Any, root: Any) -> str | None:
    """A way to make it fit: map over a list, wrap in a list, or another field."""
    try:
        each = element_type(actual)
    except TypeError:
        each = None
    if each is not None and not _unknown(each) and fits(each, expected):
        return f"map over it: `map: {ref}` and pass `$item`"
    wrapped = expected_type(expected, ["0"])
    if not _unknown(wrapped) and not _unknown(actual) and fits(actual, wrapped):
        return f"wrap it in a list: `[{ref}]`"
    cls, _ = _split(_clean(root))
    if _is_model(cls):
        assert cls is not None and issubclass(cls, BaseModel)
        prefix = "$" + ref.root
        good = [
            f"{prefix}.{name}"
            for name, info in cls.model_fields.items()
            if not _unknown(info.annotation) and fits(info.annotation, expected)
        ]
        if good and f"{ref}" not in good:
            return "these fit: " + ", ".join(good[:3])
    return None


def check_map(
    ref: Ref,
    node: NodeSpec,
    spec: Spec,
    by_id: Mapping[str, NodeSpec],
    signatures: Mapping[str, HookSignature],
) -> tuple[Item | None, Problem | None]:
    """What ``$item`` is in ``node`` (``map: ref``), or why ``ref`` is not a list."""
    if ref.root == "inputs":
        decl = spec.inputs.get(ref.path[0]) if ref.path else None
        if decl is None or len(ref.path) > 1 or _INPUT_KINDS.get(decl.type) in (None, "list"):
            return Item(Any, str(ref)), None
        text = f"{ref} (input of type {decl.type})"
        hint = "declare the input with `type: list`"
    elif ref.root == "item":
        return None, None
    else:
        actual, text, root = _source(ref, by_id, signatures, None)
        try:
            return Item(element_type(actual), str(ref)), None
        except TypeError:
            pass
        hint = "map over a list"
        cls, _ = _split(_clean(root))
        if _is_model(cls):
            assert cls is not None and issubclass(cls, BaseModel)
            lists = [
                f"${ref.root}.{name}"
                for name, info in cls.model_fields.items()
                if _lists(info.annotation)
            ]
            hint = ("lists here: " + ", ".join(lists[:3])) if lists else hint
    problem = Problem(f"{text} is not a list", spec.source, node.id, "map", hint)
    return None, problem


def _lists(tp: Any) -> bool:
    try:
        return not _unknown(_clean(tp)) and element_type(tp) is not None
    except TypeError:
        return False


def missing_field(
    ref: Ref,
    err: FieldMissing,
    by_id: Mapping[str, NodeSpec],
    file: str,
    node_id: str | None,
    where: str,
) -> Problem:
    """The problem for a reference whose step ``err.step`` cannot exist."""
    prefix = "$" + ".".join([ref.root, *ref.path[: err.depth]])
    owner = describe(err.owner)
    if err.depth == 0 and ref.root in by_id:
        kind = "map node" if by_id[ref.root].map is not None else "node"
        at = f"output of '{ref.root}'" if kind == "node" else f"output of map node '{ref.root}'"
    else:
        at = f"at {prefix}"
    if err.choices:
        fallback = f"{owner} has: {', '.join(err.choices)}"
    elif _is_sequence(_split(err.owner)[0] or type(None)):
        fallback = f"a list: index it ({prefix}.0.{err.step}) or map over it (map: {prefix})"
    else:
        fallback = ""
    hint = did_you_mean(err.step, err.choices, fallback, shape=f"'{prefix}.{{}}'")
    return Problem(f"{ref}: {owner} ({at}) has no field '{err.step}'", file, node_id, where, hint)
