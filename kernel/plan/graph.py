"""From a spec to a validated plan: the DAG of node calls, checked before anything runs.

Validation collects every problem and reports them together (a
:class:`~reelgraph.errors.SpecError`), each with the spec file, node id, field
and, where one exists, a suggestion: unknown hooks and providers, arguments a
hook does not take, references to missing nodes, inputs or fields, ``$item``
outside a ``map``, and cycles (printed as the path ``a -> b -> a``).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reelgraph.errors import PluginError, Problem, SpecError
from reelgraph.plan.checks import (
    check_fallbacks,
    check_hook,
    check_output,
    check_refs,
    check_review,
    check_when,
    node_condition,
)
from reelgraph.plan.providers import bind_providers
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plan.signature import HookSignature, hook_signature
from reelgraph.spec.conditions import (
    CallableCondition,
    Condition,
)
from reelgraph.spec.functions import code_digest
from reelgraph.spec.model import NodeSpec, RetrySpec, ReviewSpec, Spec
from reelgraph.spec.refs import Ref, compile_value, parse_ref

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["CompiledNode", "Plan", "build_plan", "hook_signature"]

_ROOTS = ("inputs", "item")


@dataclass(slots=True)
class CompiledNode:
    """A node ready to execute: its caller, compiled arguments and edges."""

    id: str
    hook: str
    provider: str | None
    caller: Any
    is_async: bool
    #: With a pinned provider: its one implementation and the arguments it
    #: takes, so the scheduler calls it directly instead of through pluggy's
    #: multicall loop (same semantics for a single non-wrapper hookimpl).
    function: Any
    argnames: tuple[str, ...]
    args: list[tuple[str, tuple[int, Any]]]
    static_args: dict[str, Any]
    map_ref: Ref | None
    #: a collect hook (not firstresult): every implementation answers, results are a list
    collect: bool = False
    review: ReviewSpec | None = None
    deps: list[str] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    #: run only when this holds (``when:``); ``None`` = always
    when: Condition | CallableCondition | None = None
    retry: RetrySpec = field(default_factory=RetrySpec)
    #: seconds per attempt; ``None`` = no limit
    timeout_s: float | None = None
    #: calls of this node in flight at once (map items); ``None`` = no own limit
    limit: int | None = None
    #: tried in order when the node fails: the same node with another
    #: provider (a CompiledNode), or the id of a standby fallback node (a str)
    fallbacks: list[CompiledNode | str] = field(default_factory=list)

    #: one ``async def`` implementation called directly, no map, no timeout,
    #: no condition: the scheduler's fast path may run it
    fast: bool = False
    #: the implementation takes every argument the node passes (and ``ctx``)
    pass_all: bool = False
    #: a function node's :func:`~reelgraph.spec.functions.code_digest`, part of its memo key
    code: str | None = None


@dataclass(slots=True)
class Plan:
    """A validated spec: the DAG and its nodes in a topological order."""

    spec: Spec
    graph: nx.DiGraph
    nodes: dict[str, CompiledNode]
    order: list[str]
    #: gate node id -> the node it sends back for revision
    reviewers: dict[str, str] = field(default_factory=dict)
    #: fallback node id -> the node it stands in for; run only when needed
    standby: dict[str, str] = field(default_factory=dict)

    def generations(self) -> list[list[str]]:
        """Nodes grouped by depth: each group can run once the previous ones are done."""
        import networkx as nx

        return [sorted(g) for g in nx.topological_generations(self.graph)]


def build_plan(
    spec: Spec, registry: PluginRegistry, inputs: Mapping[str, Any] | None = None
) -> Plan:
    """Validate ``spec`` against the installed plugins and compile it.

    Args:
        spec: the spec.
        registry: the installed plugins.
        inputs: the bound inputs, which choose the providers of nodes with
            ``provider: $inputs.NAME``; ``None`` uses the inputs' defaults
            (see :mod:`reelgraph.plan.providers`).

    Raises:
        SpecError: listing every problem found.
    """
    problems: list[Problem] = []
    file = spec.source
    registry.load()
    written, spec = spec, bind_providers(spec, registry, inputs, problems)
    import networkx as nx

    graph: nx.DiGraph = nx.DiGraph()
    by_id: dict[str, NodeSpec] = {}
    for node in spec.nodes:
        if node.id in by_id:
            problems.append(
                Problem("duplicate node id", file, node.id, "id", "give each node a unique id")
            )
        elif node.id in _ROOTS:
            problems.append(
                Problem(f"'{node.id}' is reserved", file, node.id, "id", "rename the node")
            )
        by_id[node.id] = node
        graph.add_node(node.id)

    signatures: dict[str, HookSignature] = {}
    for node in by_id.values():
        sig = check_hook(node, registry, file, problems)
        if sig:
            signatures[node.id] = sig
    for node in by_id.values():
        check_refs(node, spec, by_id, signatures, graph, file, problems)
    for node in by_id.values():
        if node.review is not None:
            check_review(node, by_id, signatures, graph, file, problems)
    for node in by_id.values():
        if node.when is not None:
            check_when(node, by_id, graph, file, problems)
    for node in by_id.values():
        if node.on_error:
            check_fallbacks(node, by_id, signatures, registry, graph, file, problems)
    for out_name, value in spec.outputs.items():
        check_output(out_name, value, spec, by_id, signatures, file, problems)

    cycles = _cycles(graph)
    for cycle in cycles:
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(
            Problem(f"cycle: {path}", file, cycle[0], None, "remove one of these references")
        )
    if problems:
        raise SpecError(spec.locate(problems))
    plan = _compile(spec, by_id, signatures, graph, registry)
    plan.spec = written  # as written: stored with runs, providers chosen again on resume
    return plan


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    import networkx as nx

    if nx.is_directed_acyclic_graph(graph):
        return []
    found = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            edges = nx.find_cycle(graph.subgraph(component))
            found.append([u for u, _ in edges])
    return found


def _compile(
    spec: Spec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    graph: nx.DiGraph,
    registry: PluginRegistry,
) -> Plan:
    import networkx as nx

    position = _position(spec)  # built once: it indexes every node
    order = list(nx.lexicographical_topological_sort(graph, key=position))
    nodes: dict[str, CompiledNode] = {}
    problems: list[Problem] = []
    defaults = spec.defaults
    for node_id in order:
        node = by_id[node_id]
        sig = signatures[node_id]
        compiled = _compile_call(node, node.provider, registry, spec.source, problems)
        if compiled is None:
            continue
        static = {k: copy.deepcopy(v) for k, v in sig.defaults.items() if k not in node.with_}
        compiled.args = [(k, compile_value(v)) for k, v in node.with_.items()]
        compiled.static_args = static
        compiled.map_ref = parse_ref(node.map) if node.map else None  # type: ignore[assignment]
        compiled.review = node.review
        compiled.deps = sorted(graph.predecessors(node_id))
        compiled.dependents = sorted(graph.successors(node_id), key=position)
        compiled.when = node_condition(node) if node.when is not None else None
        compiled.retry = node.retry or defaults.retry
        compiled.timeout_s = node.timeout_s if node.timeout_s is not None else defaults.timeout_s
        compiled.limit = node.concurrency if node.concurrency is not None else defaults.concurrency
        for fallback in node.on_error:
            if fallback.node is not None:
                compiled.fallbacks.append(fallback.node)
                continue
            variant = _compile_call(node, fallback.provider, registry, spec.source, problems)
            if variant is not None:
                for name in ("args", "static_args", "map_ref", "retry", "timeout_s", "limit"):
                    setattr(variant, name, getattr(compiled, name))
                compiled.fallbacks.append(variant)
        compiled.fast = (
            compiled.function is not None
            and compiled.is_async
            and not compiled.collect
            and compiled.map_ref is None
            and compiled.timeout_s is None
            and compiled.when is None
        )
        compiled.pass_all = set(compiled.argnames) == {*node.with_, *static, "ctx"}
        nodes[node_id] = compiled
    if problems:
        raise SpecError(spec.locate(problems))
    reviewers = {n.review.gate: n.id for n in spec.nodes if n.review is not None}
    standby = {f.node: n.id for n in spec.nodes for f in n.on_error if f.node is not None}
    return Plan(
        spec=spec, graph=graph, nodes=nodes, order=order, reviewers=reviewers, standby=standby
    )


def _compile_call(
    node: NodeSpec,
    provider: str | None,
    registry: PluginRegistry,
    file: str,
    problems: list[Problem],
) -> CompiledNode | None:
    """A node's call of its hook through ``provider`` (arguments filled in by the caller)."""
    if node.function is not None:
        return _compile_function(node)
    try:
        caller = registry.caller(node.hook, provider)
    except PluginError as err:
        problems.append(Problem(str(err), file, node.id, "provider"))
        return None
    impls = caller.get_hookimpls()
    is_async = bool(impls) and all(inspect.iscoroutinefunction(i.function) for i in impls)
    collect = not (caller.spec and caller.spec.opts.get("firstresult"))
    direct = (
        provider is not None and len(impls) == 1 and not (impls[0].hookwrapper or impls[0].wrapper)
    )
    return CompiledNode(
        id=node.id,
        hook=node.hook,
        provider=provider,
        caller=caller,
        is_async=is_async,
        function=impls[0].function if direct else None,
        argnames=tuple(impls[0].argnames) if direct else (),
        args=[],
        static_args={},
        map_ref=None,
        collect=collect,
    )


def _compile_function(node: NodeSpec) -> CompiledNode:
    """A function node: its callable is called directly, as a pinned hookimpl is."""
    function = node.function
    return CompiledNode(
        id=node.id,
        hook=node.hook,
        provider=None,
        caller=None,
        is_async=inspect.iscoroutinefunction(function),
        function=function,
        argnames=tuple(inspect.signature(function).parameters),
        args=[],
        static_args={},
        map_ref=None,
        code=code_digest(function),
    )


def _position(spec: Spec) -> Any:
    index = {node.id: i for i, node in enumerate(spec.nodes)}
    return lambda node_id: f"{index.get(node_id, 0):08d}"
