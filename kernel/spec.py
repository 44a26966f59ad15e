"""Workflow specs: the pydantic models, and loading them from YAML files.

A spec names its ``inputs`` and a list of ``nodes``; each node calls one hook
(:mod:`reelgraph.hookspecs`) with ``with`` arguments that are literals or
references (``$inputs.document``, ``$script``, ``$script.scenes``, ``$item``).
Edges of the DAG come from the references and from ``needs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, SpecError, did_you_mean

__all__ = ["InputSpec", "NodeSpec", "ReviewSpec", "Spec", "load_spec", "shipped_specs"]

_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"

InputType = Literal["string", "integer", "number", "boolean", "file", "list", "object"]


class InputSpec(BaseModel):
    """A typed input of a spec.

    A ``file`` input takes a path; the kernel checks it exists and is a
    readable file before the run starts. An input without ``default`` is
    required.
    """

    model_config = ConfigDict(extra="forbid")

    type: InputType = "string"
    description: str = ""
    default: Any = None
    enum: list[Any] | None = None

    @property
    def required(self) -> bool:
        return "default" not in self.model_fields_set


class ReviewSpec(BaseModel):
    """Send a node's output back for revision while a quality gate fails.

    Attributes:
        gate: the id of the gate node (a ``check_quality`` node that refers
            to this node's output). Other nodes that use this node's output
            wait for the gate.
        max_revisions: how many times the node may be re-run with feedback.
        feedback: the hook argument that receives the gates' remedies (a
            list of str).
    """

    model_config = ConfigDict(extra="forbid")

    gate: str
    max_revisions: int = Field(default=2, ge=0, le=20)
    feedback: str = "feedback"


class NodeSpec(BaseModel):
    """One node of a spec: a call of ``hook``, optionally pinned to ``provider``.

    Attributes:
        id: unique within the spec; other nodes refer to its output as ``$id``.
        hook: a hook name from :mod:`reelgraph.hookspecs`.
        provider: the plugin (entry-point name) that must answer; ``None``
            lets any implementation answer.
        with_: arguments (``with:`` in YAML), literal or references.
        map: a reference to a list; the hook is called once per item, with
            ``$item`` bound to it, and the node's output is the list of results.
        needs: node ids this node must run after, without using their output.
        cache: ``false`` turns the memo cache off for this node (always run).
        review: re-run this node with a gate's remedies as feedback while the
            gate fails (see :class:`ReviewSpec`).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=_ID_PATTERN)
    hook: str
    provider: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    map: str | None = None
    needs: list[str] = Field(default_factory=list)
    cache: bool = True
    review: ReviewSpec | None = None
    description: str = ""


class Spec(BaseModel):
    """A workflow spec. ``path`` is where it was loaded from (not part of the YAML)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str | int = 1
    description: str = ""
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    nodes: list[NodeSpec] = Field(min_length=1)
    outputs: dict[str, str] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    @property
    def source(self) -> str:
        """The spec file's path for error messages, or ``<spec NAME>``."""
        return str(self.path) if self.path else f"<spec {self.name}>"


def shipped_specs() -> dict[str, Path]:
    """The specs shipped in ``reelgraph.specs``, by name (file stem)."""
    folder = resources.files("reelgraph.specs")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(found.items()))


def load_spec(source: str | Path | Mapping[str, Any] | Spec) -> Spec:
    """Load a spec from a path, a shipped spec's name, or a mapping.

    Args:
        source: a YAML file path; the name of a shipped spec
            (``"document-to-video"``); a dict with the spec's fields; or a
            :class:`Spec`, returned as is.

    Raises:
        SpecError: the file is missing or not valid YAML, or the spec does
            not match the schema. Every problem is listed with its location.
    """
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return _from_mapping(dict(source), path=None)
    path = _resolve_path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError([Problem(f"cannot read the spec: {err}", file=str(path))]) from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError([Problem(f"not valid YAML{where}: {problem}", file=str(path))]) from err
    if not isinstance(data, dict):
        raise SpecError(
            [Problem("a spec must be a YAML mapping with name and nodes", file=str(path))]
        )
    return _from_mapping(data, path=path)


def _resolve_path(source: str | Path) -> Path:
    path = Path(source)
    if path.is_file():
        return path
    shipped = shipped_specs()
    if isinstance(source, str) and source in shipped:
        return shipped[source]
    listing = ("shipped specs: " + ", ".join(shipped)) if shipped else ""
    hint = did_you_mean(str(source), shipped, listing, n=3) or None
    raise SpecError([Problem("no such spec file or shipped spec", file=str(source), hint=hint)])


def _from_mapping(data: dict[str, Any], path: Path | None) -> Spec:
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_problems_from(err, data, path)) from None
    spec.path = path
    return spec


def _problems_from(err: ValidationError, data: dict[str, Any], path: Path | None) -> list[Problem]:
    file = str(path) if path else f"<spec {data.get('name', '?')}>"
    problems = []
    for item in err.errors():
        loc = list(item["loc"])
        node = None
        if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
            raw = (data.get("nodes") or [None] * (loc[1] + 1))[loc[1]]
            node = raw.get("id") if isinstance(raw, dict) else None
            node = node or f"#{loc[1] + 1}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or None
        hint = None
        if item["type"] == "extra_forbidden" and loc:
            model = NodeSpec if node else Spec
            names = [f.alias or n for n, f in model.model_fields.items()]
            hint = did_you_mean(str(loc[-1]), names, f"allowed: {', '.join(names)}")
        problems.append(Problem(item["msg"], file=file, node=node, field=field, hint=hint))
    return problems
