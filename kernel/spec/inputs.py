"""Binding a run's inputs to a spec: defaults, type conversion, file checks."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reelgraph.errors import InputError, Problem, did_you_mean
from reelgraph.spec.model import InputSpec, Spec

__all__ = ["bind_inputs"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def bind_inputs(spec: Spec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``given`` against ``spec.inputs`` and return the bound inputs.

    Strings (from the command line) are converted to the declared type; a
    ``file`` input becomes a :class:`~pathlib.Path` to an existing, readable
    file, or stays text when it is an ``http(s)://`` URL (the hook fetches
    it, e.g. ``ingest_document``'s ``url`` provider, with its own checks).
    Values of inputs declared ``secret: true`` are registered with
    :func:`reelgraph.observe.secrets.register_secret`, so no log, span, event, error
    or store row shows them.

    Raises:
        InputError: listing every unknown, missing or ill-typed input.
    """
    problems: list[Problem] = []
    bound: dict[str, Any] = {}
    file = spec.source
    for name in given:
        if name not in spec.inputs:
            takes = "this spec takes: " + (", ".join(spec.inputs) or "no inputs")
            hint = did_you_mean(name, spec.inputs, takes)
            problems.append(Problem(f"unknown input '{name}'", file, None, f"inputs.{name}", hint))
    for name, decl in spec.inputs.items():
        if name in given:
            value = given[name]
        elif decl.required:
            problems.append(
                Problem(
                    f"missing required input '{name}'"
                    + (f" ({decl.description})" if decl.description else ""),
                    file,
                    None,
                    f"inputs.{name}",
                    f"pass -i {name}=VALUE",
                )
            )
            continue
        else:
            value = decl.default
        if decl.secret and value is not None:
            from reelgraph.observe.secrets import register_secret

            register_secret(str(value), name=f"inputs.{name}")  # before any message can quote it
        try:
            bound[name] = _convert(name, decl, value)
        except ValueError as err:
            problems.append(Problem(str(err), file, None, f"inputs.{name}"))
    if problems:
        raise InputError(spec.locate(problems))  # a Workflow's: at the line of wf.input(...)
    return bound


def _convert(name: str, decl: InputSpec, value: Any) -> Any:
    if value is None:
        return None
    kind = decl.type
    if kind == "file":
        if isinstance(value, str) and value.strip().lower().startswith(("https://", "http://")):
            return value.strip()  # a URL stays text; the hook that reads it fetches it
        # absolute, so a run resumed from another directory finds the same file
        path = Path(value).expanduser().resolve()
        if not path.exists():
            raise ValueError(f"input '{name}': file not found: {path}")
        if not path.is_file():
            raise ValueError(f"input '{name}': {path} is not a file")
        if not os.access(path, os.R_OK):
            raise ValueError(f"input '{name}': {path} is not readable")
        value = path
    elif kind == "integer":
        value = _parse(name, value, int, "a whole number")
    elif kind == "number":
        value = _parse(name, value, float, "a number")
    elif kind == "boolean":
        if isinstance(value, str):
            low = value.strip().lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(f"input '{name}': expected true or false, got {value!r}")
            value = low in _TRUE
        elif not isinstance(value, bool):
            raise ValueError(f"input '{name}': expected true or false, got {value!r}")
    elif kind in ("list", "object"):
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip()[:1] in "[{" else value.split(",")
            except json.JSONDecodeError as err:
                raise ValueError(f"input '{name}': not valid JSON: {err}") from err
        expected = list if kind == "list" else dict
        if not isinstance(value, expected):
            raise ValueError(f"input '{name}': expected a {kind}, got {type(value).__name__}")
    elif kind == "string" and not isinstance(value, str):
        value = str(value)
    if decl.enum is not None and value not in decl.enum:
        allowed = ", ".join(map(str, decl.enum))
        raise ValueError(f"input '{name}': {value!r} is not one of {allowed}")
    return value


def _parse(name: str, value: Any, kind: type, what: str) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"input '{name}': expected {what}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"input '{name}': expected {what}, got {value!r}")
        return kind(value)
    try:
        return kind(str(value).strip())
    except ValueError:
        raise ValueError(f"input '{name}': expected {what}, got {value!r}") from None
