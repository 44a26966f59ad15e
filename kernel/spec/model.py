"""Workflow specs: the pydantic models, and loading them from YAML files.

A spec names its ``inputs`` and a list of ``nodes``; each node calls one hook
(:mod:`reelgraph.hookspecs`) with ``with`` arguments that are literals or
references (``$inputs.document``, ``$script``, ``$script.scenes``, ``$item``).
Edges of the DAG come from the references and from ``needs``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from reelgraph.errors import Problem, SpecError, did_you_mean

__all__ = [
    "BudgetSpec",
    "ConcurrencySpec",
    "DefaultsSpec",
    "FallbackSpec",
    "InputSpec",
    "NodeSpec",
    "RetrySpec",
    "ReviewSpec",
    "Spec",
    "load_spec",
    "shipped_specs",
]

_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"

InputType = Literal["string", "integer", "number", "boolean", "file", "list", "object"]


class InputSpec(BaseModel):
    """A typed input of a spec.

    A ``file`` input takes a path; the kernel checks it exists and is a
    readable file before the run starts. An input without ``default`` is
    required.
    """

    model_config = ConfigDict(extra="forbid")

    type: InputType = Field(
        default="string",
        description="What the input holds; a `file` must exist and be readable before the run starts.",
    )
    description: str = Field(
        default="", description="What the input is for, shown by `reelgraph plan`."
    )
    default: Any = Field(
        default=None,
        description="The value when none is given; an input without `default` is required.",
    )
    enum: list[Any] | None = Field(default=None, description="The only values allowed, when set.")
    secret: bool = Field(
        default=False,
        description="The value is a secret (an API key): never logged, traced or stored.",
    )

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

    gate: str = Field(
        description="The id of the gate node (a `check_quality` node that uses this node's output)."
    )
    max_revisions: int = Field(
        default=2, ge=0, le=20, description="How many times the node may be re-run with feedback."
    )
    feedback: str = Field(
        default="feedback",
        description="The hook argument that receives the gates' remedies (a list of strings).",
    )


class RetrySpec(BaseModel):
    """How a failed hook call is retried.

    Only transient and rate-limited errors are retried
    (:class:`~reelgraph.errors.TransientError`, HTTP 5xx, timeouts, HTTP 429);
    invalid input, configuration and fatal errors never are. The wait before
    attempt ``n + 1`` is ``min(initial_s * exp_base ** (n - 1) + U(0, jitter_s),
    max_s)`` seconds (tenacity's ``wait_exponential_jitter``), or the
    provider's ``Retry-After`` when it asked for longer (RFC 9110 10.2.3).

    Attributes:
        max_attempts: attempts in all, the first included (1 = no retry).
        initial_s: the first wait, seconds.
        max_s: the longest wait, seconds.
        exp_base: growth factor of the wait per attempt.
        jitter_s: up to this many random seconds added to each wait.
        deadline_s: no attempt starts (and no wait is slept) past this many
            seconds after the first attempt started; ``None`` = no deadline.
    """

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(
        default=3, ge=1, le=100, description="Attempts in all, the first included (1 = no retry)."
    )
    initial_s: float = Field(default=1.0, ge=0, description="The first wait, in seconds.")
    max_s: float = Field(default=60.0, ge=0, description="The longest wait, in seconds.")
    exp_base: float = Field(default=2.0, ge=1, description="Growth factor of the wait per attempt.")
    jitter_s: float = Field(
        default=1.0, ge=0, description="Up to this many random seconds added to each wait."
    )
    deadline_s: float | None = Field(
        default=None,
        gt=0,
        description="No attempt starts past this many seconds after the first one started.",
    )


class FallbackSpec(BaseModel):
    """What to try when a node fails after its retries: exactly one of the two.

    Attributes:
        provider: another provider of the same hook, called with the same
            arguments (``runway`` failed: ask ``luma``).
        node: the id of a fallback node; it runs only when needed, and its
            output stands in for this node's.
    """

    model_config = ConfigDict(extra="forbid")

    provider: str | None = Field(
        default=None,
        description="Another provider of the same hook, called with the same arguments.",
    )
    node: str | None = Field(
        default=None,
        description="The id of a fallback node: it runs only when needed and stands in for this one.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> FallbackSpec:
        if (self.provider is None) == (self.node is None):
            raise ValueError("on_error needs exactly one of `provider` or `node`")
        return self


class NodeSpec(BaseModel):
    """One node of a spec: a call of ``hook``, optionally pinned to ``provider``.

    Attributes:
        id: unique within the spec; other nodes refer to its output as ``$id``.
        hook: a hook name from :mod:`reelgraph.hookspecs`.
        provider: the plugin (entry-point name) that must answer, or
            ``$inputs.NAME`` to let a string input choose it (see
            :mod:`reelgraph.plan.providers`); ``None`` lets any
            implementation answer.
        with_: arguments (``with:`` in YAML), literal or references.
        map: a reference to a list; the hook is called once per item, with
            ``$item`` bound to it, and the node's output is the list of results.
        needs: node ids this node must run after, without using their output.
        cache: ``false`` turns the memo cache off for this node (always run).
        review: re-run this node with a gate's remedies as feedback while the
            gate fails (see :class:`ReviewSpec`).
        when: a condition over ``inputs`` and upstream outputs (``inputs.aspect
            == '16:9' and len(script.scenes) > 2``), evaluated with simpleeval;
            when false the node and everything that depends on it are skipped.
        retry: the retry policy (default: ``defaults.retry``).
        timeout_s: seconds one attempt may take before it is cancelled
            (default: ``defaults.timeout_s``; ``None`` = no limit).
        on_error: fallbacks tried in order when the node still fails.
        concurrency: how many calls of this node (map items) may be in flight.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(
        pattern=_ID_PATTERN,
        description="Unique within the spec; other nodes refer to its output as `$id`.",
    )
    hook: str = Field(description="The hook to call (see `reelgraph plugins`), e.g. `render_shot`.")
    provider: str | None = Field(
        default=None,
        description=(
            "The plugin that must answer, or `$inputs.NAME` to let a string input choose it; "
            "unset lets any implementation answer."
        ),
    )
    with_: dict[str, Any] = Field(
        default_factory=dict,
        alias="with",
        description="The hook's arguments: literals or references ($inputs.NAME, $node.field, $item).",
    )
    map: str | None = Field(
        default=None,
        description="A reference to a list: the hook is called once per item, with `$item` bound to it.",
    )
    needs: list[str] = Field(
        default_factory=list,
        description="Node ids this node runs after, without using their output.",
    )
    cache: bool = Field(
        default=True, description="`false` turns the memo cache off for this node (always run)."
    )
    review: ReviewSpec | None = Field(
        default=None, description="Re-run this node with a gate's remedies while the gate fails."
    )
    when: str | None = Field(
        default=None,
        description="A condition over `inputs` and upstream outputs; when false the node is skipped.",
    )
    retry: RetrySpec | None = Field(
        default=None, description="The retry policy (default: `defaults.retry`)."
    )
    timeout_s: float | None = Field(
        default=None, gt=0, description="Seconds one attempt may take before it is cancelled."
    )
    on_error: list[FallbackSpec] = Field(
        default_factory=list,
        description="Fallbacks tried in order when the node still fails: one or a list.",
    )
    concurrency: int | None = Field(
        default=None, ge=1, description="How many calls of this node (map items) may be in flight."
    )
    description: str = Field(default="", description="What the node does, for readers.")

    # Set only by reelgraph.workflow.Workflow (never from YAML or JSON): the
    # Python callable a function node calls (its `hook` reads
    # `python:module.qualname`), and a callable `when` (its text reads the same).
    _function: Any = PrivateAttr(default=None)
    _condition: Any = PrivateAttr(default=None)

    @property
    def function(self) -> Any:
        """The Python callable of a function node (``Workflow.call``), else ``None``."""
        return self._function

    @property
    def condition(self) -> Any:
        """A callable ``when`` (``Workflow`` ``.when(func)``), else ``None``."""
        return self._condition

    @field_validator("on_error", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value


class DefaultsSpec(BaseModel):
    """Policies for every node that does not set its own."""

    model_config = ConfigDict(extra="forbid")

    retry: RetrySpec = Field(
        default_factory=RetrySpec, description="The retry policy of nodes without their own."
    )
    timeout_s: float | None = Field(
        default=None, gt=0, description="Seconds per attempt for nodes without their own."
    )
    concurrency: int | None = Field(
        default=None, ge=1, description="Calls in flight per node, for nodes without their own."
    )


class ConcurrencySpec(BaseModel):
    """Limits on hook calls in flight.

    Attributes:
        max: across the whole run (the kernel's ``concurrency`` when unset).
        providers: per provider name, e.g. ``{runway: 2}`` when a vendor caps
            concurrent jobs. Map items count one call each.
    """

    model_config = ConfigDict(extra="forbid")

    max: int | None = Field(
        default=None,
        ge=1,
        description="Hook calls in flight across the run (default: the kernel's).",
    )
    providers: dict[str, int] = Field(
        default_factory=dict, description="Calls in flight per provider name, e.g. `{runway: 2}`."
    )

    @field_validator("providers")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for name, limit in value.items():
            if limit < 1:
                raise ValueError(f"providers.{name} must be at least 1")
        return value


class BudgetSpec(BaseModel):
    """Limits a run stops at: a node that would exceed one is not started.

    Attributes:
        max_cost_usd: US dollars, summed over the costs hooks report
            (``ctx.report_cost``), across resumes of the run.
        max_duration_s: wall-clock seconds of one execution of the run.
    """

    model_config = ConfigDict(extra="forbid")

    max_cost_usd: float | None = Field(
        default=None, ge=0, description="US dollars, summed over the costs hooks report."
    )
    max_duration_s: float | None = Field(
        default=None, gt=0, description="Wall-clock seconds of one execution of the run."
    )


class Spec(BaseModel):
    """A workflow spec. ``path`` is where it was loaded from (not part of the YAML)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The spec's name, shown in runs.")
    version: str | int = Field(default=1, description="The spec's own version.")
    description: str = Field(default="", description="What the spec makes.")
    inputs: dict[str, InputSpec] = Field(
        default_factory=dict,
        description="Typed inputs by name; nodes refer to them as `$inputs.NAME`.",
    )
    nodes: list[NodeSpec] = Field(
        min_length=1, description="The hook calls; edges come from references and `needs`."
    )
    outputs: dict[str, str] = Field(
        default_factory=dict, description="Results by name: references such as `$video.path`."
    )
    defaults: DefaultsSpec = Field(
        default_factory=DefaultsSpec, description="Retry, timeout and concurrency for every node."
    )
    concurrency: ConcurrencySpec = Field(
        default_factory=ConcurrencySpec, description="Limits on hook calls in flight."
    )
    budget: BudgetSpec = Field(
        default_factory=BudgetSpec, description="Cost and time limits the run stops at."
    )
    path: Path | None = Field(default=None, exclude=True)

    # Where a spec built in Python was written: "file.py:LINE" by node id,
    # "inputs.NAME" and "outputs.NAME", and "" for the Workflow(...) call.
    _locations: dict[str, str] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Specs are equal when they say the same: every field but ``path``, and the
        same Python callables in function nodes; where a spec was loaded from or
        written (its file, or the lines of a ``Workflow``) is not compared."""
        if not isinstance(other, Spec):
            return NotImplemented
        same = all(
            getattr(self, name) == getattr(other, name)
            for name in type(self).model_fields
            if name != "path"
        )
        # `default: null` and no default compare equal as fields, not as inputs
        return same and all(
            decl.required == other.inputs[name].required for name, decl in self.inputs.items()
        )

    @property
    def source(self) -> str:
        """The spec file's path for error messages, the ``file.py:LINE`` of the
        ``Workflow(...)`` that built it, or ``<spec NAME>``."""
        if self.path:
            return str(self.path)
        return self._locations.get("", f"<spec {self.name}>")

    def locate(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` with the file of each set to the Python line that wrote its
        node, input or output, for a spec built with :class:`reelgraph.workflow.Workflow`
        (others are returned as they are)."""
        if not self._locations or self.path:
            return problems
        located = []
        for problem in problems:
            key = problem.node or ".".join((problem.field or "").split(".")[:2])
            where = self._locations.get(key)
            located.append(dataclasses.replace(problem, file=where) if where else problem)
        return located

    def to_yaml(self) -> str:
        """The spec as YAML text that :func:`load_spec` reads back to an equal spec.

        Fields left at their defaults are left out, as a hand-written spec
        would. The text starts with the ``yaml-language-server`` schema
        comment the shipped specs carry.

        Raises:
            SpecError: a node calls a Python function or has a Python
                condition (``Workflow.call``, ``.when(func)``): YAML cannot
                carry code. The message names the node and its line.
        """
        from reelgraph.spec.functions import yaml_problems

        problems = yaml_problems(self)
        if problems:
            raise SpecError(self.locate(problems))
        data = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        body = yaml.dump(data, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True, width=100)
        return "# yaml-language-server: $schema=spec.schema.json\n" + body


class _YamlDumper(yaml.SafeDumper):
    """Safe YAML with multi-line strings as literal blocks (``|``) and list items
    indented under their key, as the shipped specs are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_YamlDumper.add_representer(str, _represent_str)


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
            node = node if isinstance(node, str) and node else f"#{loc[1] + 1}"
            loc = loc[2:]
        field = ".".join(str(part) if part != "" else "''" for part in loc) or None
        hint = None
        if item["type"] == "extra_forbidden" and loc:
            model = NodeSpec if node else Spec
            names = [f.alias or n for n, f in model.model_fields.items() if not f.exclude]
            hint = did_you_mean(str(loc[-1]), names, f"allowed: {', '.join(names)}")
        problems.append(Problem(item["msg"], file=file, node=node, field=field, hint=hint))
    return problems
