"""Workflows in Python: a fluent builder that produces the same :class:`Spec` YAML does.

::

    from reelgraph import Kernel
    from reelgraph.workflow import Workflow, item

    wf = Workflow("captions", description="A document becomes slides.")
    wf.input("document", type="file")
    document = wf.node("document", "ingest_document", source=wf.inputs.document)
    script = wf.node("script", "write_script", provider="extractive", document=document)
    slides = wf.node("slides", "render_shot", provider="slides", scene=item).map(script.scenes)
    wf.output("first", slides[0].path)
    spec = wf.build()  # validated like a YAML spec; errors name this file and line
    Kernel().run(spec, inputs={"document": "README.md"})

References are Python objects: ``wf.inputs.NAME`` (``$inputs.NAME``), a node
handle (``$id``), its fields by attribute or key (``script.scenes``,
``script["scenes"]``, ``slides[0]``), and :data:`item` (``$item`` in a map
node). A Python string is always a literal: ``"$5"`` is written ``$$5``, so
no text is ever taken for a reference. :meth:`Workflow.call` makes a plain
Python function a node (see :mod:`reelgraph.spec.functions`).

:meth:`Workflow.build` validates the spec with the same plan validation and
messages as ``reelgraph plan``, each problem located at the Python line that
added its node (``app.py:12: node 'script': with.documnt: ...``).
"""

from __future__ import annotations

import copy
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from reelgraph.errors import SpecError
from reelgraph.spec.functions import PREFIX, qualified_name, remember

if TYPE_CHECKING:
    from reelgraph.kernel import Kernel
    from reelgraph.plan.registry import PluginRegistry
    from reelgraph.spec.model import Spec

__all__ = ["NodeHandle", "Reference", "Workflow", "item"]

_STEP = re.compile(r"^-?[A-Za-z0-9_-]+$")
_UNSET: Any = object()


class Reference:
    """A reference to a value of the run: ``$inputs.NAME``, ``$node``, ``$node.field``, ``$item``.

    Attribute access and indexing go one step further (``script.scenes``,
    ``script["scenes"]``, ``slides[0]``); the step is checked against the
    upstream hook's return type when the workflow is built. ``str(ref)`` is
    the reference as YAML writes it.
    """

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __getattr__(self, name: str) -> Reference:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, step: str | int) -> Reference:
        text = str(step)
        if isinstance(step, bool) or not _STEP.match(text):
            raise KeyError(f"{self._text}: {step!r} is not a field name, key or list index")
        return Reference(f"{self._text}.{text}")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Reference({self._text!r})"


#: the current item in a map node (``$item``); ``item.narration`` is ``$item.narration``
item = Reference("$item")


class _Inputs:
    """``wf.inputs.NAME`` (or ``wf.inputs["NAME"]``): a reference to an input."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Reference:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Reference:
        return Reference("$inputs")[name]


class NodeHandle(Reference):
    """A node being built: a reference to its output (``$id``), and its settings.

    The setting methods return the handle, so they chain:
    ``wf.node(...).map(script.scenes).retry(max_attempts=5)``. A field of
    the output named like one of them is reached by key: ``node["map"]``.
    """

    __slots__ = ("_data", "_workflow")

    def __init__(self, workflow: Workflow, data: dict[str, Any]) -> None:
        super().__init__("$" + str(data["id"]))
        self._workflow = workflow
        self._data = data

    @property
    def id(self) -> str:
        """The node's id."""
        return str(self._data["id"])

    def map(self, over: Reference) -> NodeHandle:
        """Call the hook once per item of the list ``over`` (``$item`` bound to each)."""
        if not isinstance(over, Reference):
            raise TypeError(f"node '{self.id}': map() takes a reference to a list, not {over!r}")
        self._data["map"] = str(over)
        return self

    def when(self, condition: str | Callable[..., Any]) -> NodeHandle:
        """Run only when ``condition`` holds; otherwise skip the node and what depends on it.

        ``condition`` is an expression as YAML writes it (``"inputs.aspect ==
        '16:9'"``), or a plain (not async) callable whose parameter names are
        what it reads: ``inputs`` and node ids (``lambda plan:
        plan.needs_clips``). A callable condition cannot be written as YAML.
        """
        if isinstance(condition, str):
            self._data["when"] = condition
            self._workflow._conditions.pop(self.id, None)
        elif callable(condition) and not inspect.iscoroutinefunction(condition):
            self._data["when"] = PREFIX + qualified_name(condition)
            self._workflow._conditions[self.id] = condition
        else:
            raise TypeError(
                f"node '{self.id}': when() takes an expression or a plain callable, "
                f"not {condition!r}"
            )
        return self

    def retry(self, **policy: Any) -> NodeHandle:
        """The retry policy: :class:`~reelgraph.spec.model.RetrySpec` fields
        (``max_attempts``, ``initial_s``, ``max_s``, ``exp_base``, ``jitter_s``,
        ``deadline_s``; seconds)."""
        self._data["retry"] = dict(policy)
        return self

    def timeout(self, seconds: float) -> NodeHandle:
        """Seconds one attempt may take before it is cancelled (``timeout_s``)."""
        self._data["timeout_s"] = seconds
        return self

    def on_error(self, *, provider: str | None = None, node: Any = None) -> NodeHandle:
        """Add a fallback, tried in order when the node still fails: another
        ``provider`` of the hook, or a fallback ``node`` (a handle or an id)."""
        fallback: dict[str, Any] = {}
        if provider is not None:
            fallback["provider"] = provider
        if node is not None:
            fallback["node"] = _node_id(node)
        self._data.setdefault("on_error", []).append(fallback)
        return self

    def needs(self, *nodes: Any) -> NodeHandle:
        """Run after ``nodes`` (handles or ids) without using their output."""
        self._data.setdefault("needs", []).extend(_node_id(n) for n in nodes)
        return self

    def review(
        self, gate: Any, *, max_revisions: int | None = None, feedback: str | None = None
    ) -> NodeHandle:
        """Re-run the node with the ``gate`` node's remedies while the gate fails."""
        spec: dict[str, Any] = {"gate": _node_id(gate)}
        if max_revisions is not None:
            spec["max_revisions"] = max_revisions
        if feedback is not None:
            spec["feedback"] = feedback
        self._data["review"] = spec
        return self

    def limit(self, calls: int) -> NodeHandle:
        """How many calls of this node (map items) may be in flight (``concurrency``)."""
        self._data["concurrency"] = calls
        return self

    def cache(self, enabled: bool) -> NodeHandle:
        """``False`` turns the memo cache off for this node (it always runs)."""
        self._data["cache"] = enabled
        return self

    def describe(self, text: str) -> NodeHandle:
        """What the node does, for readers (``description``)."""
        self._data["description"] = text
        return self

    def __repr__(self) -> str:
        return f"NodeHandle({self.id!r}, hook={self._data['hook']!r})"


class Workflow:
    """A workflow spec, built in Python. See the module docstring for an example.

    Args:
        name: the spec's name, shown in runs.
        version: the spec's own version.
        description: what the spec makes.
    """

    def __init__(
        self, name: str, *, version: str | int | None = None, description: str = ""
    ) -> None:
        self._spec: dict[str, Any] = {"name": name}
        if version is not None:
            self._spec["version"] = version
        if description:
            self._spec["description"] = description
        self._inputs: dict[str, dict[str, Any]] = {}
        self._nodes: list[dict[str, Any]] = []
        self._outputs: dict[str, str] = {}
        self._functions: dict[str, Callable[..., Any]] = {}
        self._conditions: dict[str, Callable[..., Any]] = {}
        self._locations: dict[str, str] = {"": _caller()}

    @property
    def inputs(self) -> _Inputs:
        """References to inputs: ``wf.inputs.document`` is ``$inputs.document``."""
        return _Inputs()

    @property
    def item(self) -> Reference:
        """``$item``, the current item in a map node (the same as :data:`item`)."""
        return item

    def input(
        self,
        name: str,
        type: str = "string",  # noqa: A002 - the YAML field's name
        *,
        description: str = "",
        default: Any = _UNSET,
        enum: list[Any] | None = None,
        secret: bool = False,
    ) -> Reference:
        """Declare an input (``string``, ``integer``, ``number``, ``boolean``,
        ``file``, ``list`` or ``object``); without ``default`` it is required.

        Returns the reference to it (``$inputs.NAME``).
        """
        decl: dict[str, Any] = {}
        if type != "string":
            decl["type"] = type
        if description:
            decl["description"] = description
        if default is not _UNSET:
            decl["default"] = _literal(default, f"input '{name}' default")
        if enum is not None:
            decl["enum"] = _literal(list(enum), f"input '{name}' enum")
        if secret:
            decl["secret"] = True
        self._inputs[name] = decl
        self._locations[f"inputs.{name}"] = _caller()
        return self.inputs[name]

    def node(
        self,
        id: str,  # noqa: A002 - the YAML field's name
        hook: str,
        /,
        *,
        provider: str | Reference | None = None,
        with_: Mapping[str, Any] | None = None,
        **arguments: Any,
    ) -> NodeHandle:
        """Add a node calling ``hook``, pinned to ``provider`` when given.

        Args:
            id: unique within the workflow.
            hook: a hook name (see ``reelgraph plugins``).
            provider: the plugin that must answer, or a reference to a string
                input that chooses it (``wf.inputs.llm``).
            with_: arguments whose names are not Python identifiers or clash
                with ``provider``; merged with ``arguments``.
            arguments: the hook's arguments: literals, references, or lists
                and dicts of them.

        Returns:
            The node's handle: a reference to its output, with setting methods.

        Raises:
            TypeError: an argument holds a value a spec cannot (a set, an object).
        """
        data: dict[str, Any] = {"id": id, "hook": hook}
        if provider is not None:
            data["provider"] = str(provider)
        return self._add(data, {**(with_ or {}), **arguments})

    def call(
        self,
        id: str,  # noqa: A002 - the YAML field's name
        function: Callable[..., Any],
        /,
        *,
        with_: Mapping[str, Any] | None = None,
        **arguments: Any,
    ) -> NodeHandle:
        """Add a function node: ``function`` (``def`` or ``async def``) runs as a hook would.

        Its parameters and return annotation are type-checked against its
        neighbours; a parameter named ``ctx`` receives the
        :class:`~reelgraph.run.context.NodeContext`. It gets retries,
        timeouts, limits, spans, events, resume and the memo cache like any
        node; its memo key includes its qualified name and a digest of its
        source (:func:`~reelgraph.spec.functions.code_digest`). The node's
        ``hook`` reads ``python:MODULE.QUALNAME``. It runs only in this
        process's kernels: a spec with function nodes cannot be written as
        YAML, nor run by ``reelgraph serve``.

        Raises:
            TypeError: ``function`` is not a plain function or method, or
                takes ``*args``, ``**kwargs`` or positional-only parameters.
        """
        if not (inspect.isfunction(function) or inspect.ismethod(function)):
            raise TypeError(
                f"node '{id}': call() takes a def or async def function, not {function!r}"
            )
        for param in inspect.signature(function).parameters.values():
            if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                raise TypeError(
                    f"node '{id}': {qualified_name(function)} takes {param}: a function node's "
                    "parameters are named (no *args, **kwargs or positional-only)"
                )
        self._functions[id] = function
        return self._add(
            {"id": id, "hook": PREFIX + qualified_name(function)}, {**(with_ or {}), **arguments}
        )

    def output(self, name: str, value: Reference) -> Workflow:
        """Publish ``value`` (a reference, e.g. ``video.path``) as the run's output ``name``."""
        if not isinstance(value, Reference) or str(value).startswith("$item"):
            raise TypeError(f"output '{name}': takes a reference to a node or input, not {value!r}")
        self._outputs[name] = str(value)
        self._locations[f"outputs.{name}"] = _caller()
        return self

    def budget(
        self, *, max_cost_usd: float | None = None, max_duration_s: float | None = None
    ) -> Workflow:
        """Limits the run stops at: US dollars and wall-clock seconds."""
        limits = {"max_cost_usd": max_cost_usd, "max_duration_s": max_duration_s}
        self._spec["budget"] = {k: v for k, v in limits.items() if v is not None}
        return self

    def defaults(
        self,
        *,
        retry: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        concurrency: int | None = None,
    ) -> Workflow:
        """Retry policy, seconds per attempt and calls in flight for nodes without their own."""
        values = {"retry": dict(retry) if retry else None, "timeout_s": timeout_s}
        values["concurrency"] = concurrency
        self._spec["defaults"] = {k: v for k, v in values.items() if v is not None}
        return self

    def concurrency(
        self,
        *,
        max: int | None = None,
        providers: Mapping[str, int] | None = None,  # noqa: A002
    ) -> Workflow:
        """Hook calls in flight across the run, and per provider (``{"runway": 2}``)."""
        limits: dict[str, Any] = {}
        if max is not None:
            limits["max"] = max
        if providers:
            limits["providers"] = dict(providers)
        self._spec["concurrency"] = limits
        return self

    def build(
        self,
        kernel: Kernel | None = None,
        *,
        registry: PluginRegistry | None = None,
        validate: bool = True,
    ) -> Spec:
        """The :class:`~reelgraph.spec.model.Spec`, validated as ``reelgraph plan`` validates.

        Args:
            kernel: validate against this kernel's plugins (default: the
                installed ones, loaded once per process).
            registry: or against this plugin registry.
            validate: ``False`` checks only the spec's own schema (no plugins loaded).

        Raises:
            SpecError: every problem found, each located at the Python line
                that added its node, input or output (``app.py:12``).
        """
        from reelgraph.spec.model import load_spec

        data = dict(self._spec)
        if self._inputs:
            data["inputs"] = self._inputs
        data["nodes"] = self._nodes
        if self._outputs:
            data["outputs"] = self._outputs
        data = copy.deepcopy(data)  # the spec shares nothing with the builder
        try:
            spec = load_spec(data)
        except SpecError as err:
            raise SpecError(self._locate_schema(err)) from None
        spec._locations = dict(self._locations)
        for node in spec.nodes:
            function = self._functions.get(node.id)
            if function is not None and node.hook == PREFIX + qualified_name(function):
                node._function = function
            condition = self._conditions.get(node.id)
            if condition is not None and node.when == PREFIX + qualified_name(condition):
                node._condition = condition
        remember(spec)
        if validate:
            from reelgraph.plan.graph import build_plan

            if registry is None:
                registry = kernel.registry if kernel is not None else _installed()
            build_plan(spec, registry)
        return spec

    # -- helpers ------------------------------------------------------------------

    def _add(self, data: dict[str, Any], arguments: dict[str, Any]) -> NodeHandle:
        node_id = data["id"]
        data["with"] = {
            name: _literal(value, f"node '{node_id}': argument '{name}'")
            for name, value in arguments.items()
        }
        if not data["with"]:
            del data["with"]
        self._nodes.append(data)
        self._locations[str(node_id)] = _caller()
        return NodeHandle(self, data)

    def _locate_schema(self, err: SpecError) -> list[Any]:
        """Schema problems (``#3`` for a node without a valid id) at their lines."""
        import dataclasses

        from reelgraph.errors import Problem

        located: list[Problem] = []
        for problem in err.problems:
            key = problem.node or ".".join((problem.field or "").split(".")[:2])
            if key.startswith("#") and key[1:].isdigit():
                index = int(key[1:]) - 1
                key = str(self._nodes[index]["id"]) if index < len(self._nodes) else ""
            where = self._locations.get(key) or self._locations[""]
            located.append(dataclasses.replace(problem, file=where))
        return located


def _node_id(node: Any) -> str:
    if isinstance(node, NodeHandle):
        return node.id
    if isinstance(node, str):
        return node
    raise TypeError(f"expected a node handle or a node id, not {node!r}")


def _literal(value: Any, where: str) -> Any:
    """``value`` as a spec holds it: references as ``$...`` text, text starting
    with ``$`` escaped as ``$$``, tuples as lists, models as their JSON form.

    Raises:
        TypeError: a value a spec cannot hold (the message names ``where``).
    """
    if isinstance(value, Reference):
        return str(value)
    if isinstance(value, str):
        return "$" + value if value.startswith("$") else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [_literal(v, where) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: mapping keys must be text")
        return {k: _literal(v, where) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(
        f"{where}: a spec holds text, numbers, booleans, None, lists, dicts and "
        f"references, not {type(value).__name__}"
    )


def _caller() -> str:
    """``file:line`` of the first frame outside this module (the user's call)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


_REGISTRY: list[PluginRegistry] = []


def _installed() -> PluginRegistry:
    """The installed plugins, loaded once per process for validating built workflows."""
    if not _REGISTRY:
        from reelgraph.plan.registry import PluginRegistry

        _REGISTRY.append(PluginRegistry().load())
    return _REGISTRY[0]
