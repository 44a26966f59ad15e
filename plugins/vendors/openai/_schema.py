"""A pydantic model's JSON Schema, made fit for OpenAI Structured Outputs (``strict: true``).

OpenAI's "Structured Outputs" guide, section "Supported schemas"
(https://platform.openai.com/docs/guides/structured-outputs#supported-schemas)
accepts a subset of JSON Schema in strict mode:

- the root is an object (not ``anyOf``);
- every object sets ``additionalProperties: false`` and lists *every*
  property in ``required``; an optional field is emulated as a union with
  ``null`` (``anyOf: [..., {"type": "null"}]``);
- types string, number, integer, boolean, object, array, enum, ``anyOf``;
  ``$defs`` / ``$ref`` (recursion included) are supported, a ``$ref`` with
  sibling keywords is not;
- supported constraints: ``pattern`` and ``format`` (date-time, time, date,
  duration, email, hostname, ipv4, ipv6, uuid) on strings; ``minimum``,
  ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf`` on
  numbers; ``minItems``, ``maxItems`` on arrays. Other keywords (``default``,
  ``minLength``, ``maxLength``, ``uniqueItems``, ``patternProperties``,
  ``allOf``, ``not``, ``if``/``then``/``else``, ``oneOf``...) are refused.

:func:`strict_schema` transforms pydantic's schema accordingly. What it drops
is still checked: the answer is validated with the pydantic model itself, and
a violation gets the repair turn. A field with a default that is not already
nullable becomes nullable, and :func:`drop_nulls` removes the ``null`` the
model answers for it, so pydantic applies the default. A free-form mapping
(``dict[str, X]``) has no strict form: left out of the schema when it has a
default (the default applies), it makes the schema non-strict otherwise
(:attr:`StrictSchema.strict` is ``False``: the schema still guides the model,
and validation still decides).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

__all__ = ["StrictSchema", "drop_nulls", "strict_schema"]

_KEEP = {
    # structure
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "$ref",
    "$defs",
    "description",
    # constraints strict mode supports
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}


@dataclass(frozen=True)
class StrictSchema:
    """What :func:`strict_schema` made of a model.

    Attributes:
        name: the ``json_schema.name`` (the model's class name; ``a-zA-Z0-9_-``,
            at most 64 characters, as the API requires).
        schema: the transformed JSON Schema (a fresh copy per call: do not mutate).
        strict: ``False`` when a required field has no strict form.
        dropped: dotted paths of the fields left out of the schema.
    """

    name: str
    schema: dict[str, Any]
    strict: bool = True
    dropped: tuple[str, ...] = ()


def strict_schema(model: type[BaseModel]) -> StrictSchema:
    """The strict-mode schema of ``model`` (computed once per model class).

    Raises:
        TypeError: ``model`` is not a pydantic model class.
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"structured output needs a pydantic model class, got {model!r}")
    cached = _cached(model)
    return StrictSchema(
        name=cached.name,
        schema=copy.deepcopy(cached.schema),
        strict=cached.strict,
        dropped=cached.dropped,
    )


@functools.cache
def _cached(model: type[BaseModel]) -> StrictSchema:
    raw = model.model_json_schema(mode="validation")
    state = _State(defs=raw.get("$defs", {}))
    schema = state.walk(raw, "#", model.__name__)
    if state.defs_out:
        schema["$defs"] = state.defs_out
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in model.__name__)[:64]
    return StrictSchema(
        name=name or "output",
        schema=schema,
        strict=state.strict,
        dropped=tuple(state.dropped),
    )


@dataclass
class _State:
    defs: dict[str, Any]
    defs_out: dict[str, Any] = field(default_factory=dict)
    strict: bool = True
    dropped: list[str] = field(default_factory=list)

    def walk(self, node: Any, where: str, title: str | None = None) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        node = self._merge_all_of(self._inline_ref_with_siblings(node))
        if "oneOf" in node:  # discriminated unions; strict mode has anyOf only
            node = {**node, "anyOf": node["oneOf"]}
        if "const" in node and "enum" not in node:
            node = {**node, "enum": [node["const"]]}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in _KEEP or key == "$defs":
                continue
            if key == "format" and value not in _FORMATS:
                continue
            out[key] = value
        if "$ref" in out:
            self._define(out["$ref"])
            return {"$ref": out["$ref"]}
        if "items" in out:
            out["items"] = self.walk(out["items"], f"{where}/items")
        if "anyOf" in out:
            out["anyOf"] = [self.walk(v, f"{where}/anyOf") for v in out["anyOf"]]
        if node.get("type") == "object" or "properties" in node:
            self._object(node, out, where, title)
        return out

    def _object(
        self, node: dict[str, Any], out: dict[str, Any], where: str, title: str | None
    ) -> None:
        properties = node.get("properties") or {}
        required = set(node.get("required") or [])
        if not properties and node.get("additionalProperties") not in (None, False):
            # a free-form mapping at the top of an object value: no strict form
            self.strict = False
            out["additionalProperties"] = self.walk(node["additionalProperties"], where) or {}
            return
        kept: dict[str, Any] = {}
        for name, prop in properties.items():
            if _free_mapping(prop, self.defs):
                if name in required:
                    self.strict = False
                else:
                    self.dropped.append(f"{title or where}.{name}")
                    continue
            schema = self.walk(prop, f"{where}/properties/{name}")
            if name not in required and not _nullable(schema):
                schema = _with_null(schema)
            kept[name] = schema
        out["properties"] = kept
        out["required"] = list(kept)
        out["additionalProperties"] = False
        out["type"] = "object"

    def _define(self, ref: str) -> None:
        name = ref.rsplit("/", 1)[-1]
        if name in self.defs_out or name not in self.defs:
            return
        self.defs_out[name] = {}  # a placeholder first: recursive models refer to themselves
        self.defs_out[name] = self.walk(self.defs[name], ref, name)

    def _inline_ref_with_siblings(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not isinstance(ref, str) or len(node) == 1:
            return node
        target = self.defs.get(ref.rsplit("/", 1)[-1], {})
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}

    def _merge_all_of(self, node: dict[str, Any]) -> dict[str, Any]:
        parts = node.get("allOf")
        if not isinstance(parts, list):
            return node
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in parts:
            part = self._inline_ref_with_siblings(
                {**self.defs.get(part["$ref"].rsplit("/", 1)[-1], {})}
                if isinstance(part, dict) and set(part) == {"$ref"}
                else part
            )
            for key, value in part.items():
                merged.setdefault(key, value)
        return merged


def _free_mapping(schema: Any, defs: dict[str, Any]) -> bool:
    """A ``dict[str, X]`` field (possibly nullable): an object with no named properties."""
    if not isinstance(schema, dict):
        return False
    if "$ref" in schema and len(schema) == 1:
        return False
    if "anyOf" in schema:
        return any(_free_mapping(v, defs) for v in schema["anyOf"])
    return schema.get("type") == "object" and not schema.get("properties")


def _nullable(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null":
        return True
    return any(_nullable(v) for v in schema.get("anyOf", []) if isinstance(v, dict))


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    described = {k: schema[k] for k in ("description",) if k in schema}
    inner = {k: v for k, v in schema.items() if k not in described}
    if "anyOf" in inner and len(inner) == 1:
        return {**described, "anyOf": [*inner["anyOf"], {"type": "null"}]}
    return {**described, "anyOf": [inner, {"type": "null"}]}


def drop_nulls(data: Any, model: type[BaseModel]) -> Any:
    """``data`` (the parsed answer) without the ``null`` of fields made nullable for strict mode.

    A field with a default that the model does not accept ``None`` for was
    sent as nullable; a ``null`` answer for it means "the default", so the key
    is removed and pydantic fills the default in. Walks nested models through
    the model's fields.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in out:
            continue
        value = out[key]
        if value is None and not info.is_required() and not _accepts_none(info.annotation):
            del out[key]
            continue
        out[key] = _nested(value, info.annotation)
    return out


def _nested(value: Any, annotation: Any) -> Any:
    """``value`` with :func:`drop_nulls` applied to the models ``annotation`` holds."""
    import typing

    if typing.get_origin(annotation) is dict:  # a mapping's values are not walked
        return value
    models = _models_in(annotation)
    if not models:
        return value
    if isinstance(value, list):
        return [_one(item, models) for item in value]
    return _one(value, models)


def _one(value: Any, models: list[type[BaseModel]]) -> Any:
    if not isinstance(value, dict):
        return value
    model = _pick(value, models)
    return drop_nulls(value, model) if model is not None else value


def _pick(value: dict[str, Any], models: list[type[BaseModel]]) -> type[BaseModel] | None:
    """The model of a union whose fields and ``Literal`` tags fit ``value`` (the first)."""
    import typing

    if len(models) == 1:
        return models[0]
    for model in models:
        fields = model.model_fields
        if not set(value) <= set(fields):
            continue
        tags_fit = all(
            value.get(name) in (None, *typing.get_args(info.annotation))
            for name, info in fields.items()
            if typing.get_origin(info.annotation) is typing.Literal
        )
        if tags_fit:
            return model
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models in an annotation: ``X``, ``list[X]``, ``X | Y | None``, ``Annotated``."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for inner in typing.get_args(annotation):
        for model in _models_in(inner):
            if model not in found:
                found.append(model)
    return found


def _accepts_none(annotation: Any) -> bool:
    import types
    import typing

    if annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_accepts_none(a) for a in typing.get_args(annotation))
    return annotation is typing.Any
