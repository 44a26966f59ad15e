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
import typing
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from pydantic import BaseModel

from . import hookspecs
from .errors import PluginError, Problem, SpecError, did_you_mean
from .refs import Ref, compile_value, find_refs, parse_ref
from .registry import PluginRegistry
from .spec import NodeSpec, ReviewSpec, Spec

__all__ = ["CompiledNode", "Plan", "build_plan", "hook_signature"]

_ROOTS = ("inputs", "item")


@dataclass(slots=True)
class HookSignature:
    """A hookspec's parameters (without ``ctx``), defaults and return type."""

    name: str
    params: tuple[str, ...]
    defaults: dict[str, Any]
    returns: Any
    param_types: dict[str, Any]


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
    from .context import NodeContext

    try:
        hints = typing.get_type_hints(fn, localns={"NodeContext": NodeContext})
    except Exception:  # unresolvable annotations of a third-party hookspec
        hints = {}
    params = tuple(p for p in inspect.signature(fn).parameters if p != "ctx")
    return HookSignature(
        name=name,
        params=params,
        defaults=dict(getattr(fn, "reelgraph_defaults", {})),
        returns=_strip_optional(hints.get("return")),
        param_types={p: hints.get(p) for p in params},
    )


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation


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


@dataclass(slots=True)
class Plan:
    """A validated spec: the DAG and its nodes in a topological order."""

    spec: Spec
    graph: nx.DiGraph
    nodes: dict[str, CompiledNode]
    order: list[str]
    #: gate node id -> the node it sends back for revision
    reviewers: dict[str, str] = field(default_factory=dict)

    def generations(self) -> list[list[str]]:
        """Nodes grouped by depth: each group can run once the previous ones are done."""
        return [sorted(g) for g in nx.topological_generations(self.graph)]


def build_plan(spec: Spec, registry: PluginRegistry) -> Plan:
    """Validate ``spec`` against the installed plugins and compile it.

    Raises:
        SpecError: listing every problem found.
    """
    problems: list[Problem] = []
    file = spec.source
    registry.load()
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
        sig = _check_hook(node, registry, file, problems)
        if sig:
            signatures[node.id] = sig
    for node in by_id.values():
        _check_refs(node, spec, by_id, signatures, graph, file, problems)
    for node in by_id.values():
        if node.review is not None:
            _check_review(node, by_id, signatures, graph, file, problems)
    for out_name, value in spec.outputs.items():
        _check_output(out_name, value, spec, by_id, signatures, file, problems)

    cycles = _cycles(graph)
    for cycle in cycles:
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(
            Problem(f"cycle: {path}", file, cycle[0], None, "remove one of these references")
        )
    if problems:
        raise SpecError(problems)
    return _compile(spec, by_id, signatures, graph, registry)


def _check_hook(
    node: NodeSpec, registry: PluginRegistry, file: str, problems: list[Problem]
) -> HookSignature | None:
    sig = hook_signature(node.hook, registry)
    if node.hook in hookspecs.KERNEL_HOOKS:
        problems.append(
            Problem(
                f"hook '{node.hook}' is called by the kernel, not by spec nodes",
                file,
                node.id,
                "hook",
                "known hooks: " + ", ".join(registry.hook_names()),
            )
        )
        return None
    if sig is None:
        known = registry.hook_names()
        hint = did_you_mean(node.hook, known, "known hooks: " + ", ".join(known), n=3)
        problems.append(Problem(f"unknown hook '{node.hook}'", file, node.id, "hook", hint))
        return None
    providers = registry.providers(node.hook)
    if node.provider is not None and node.provider not in providers:
        info = registry.info(node.provider)
        if info is not None and info.error:
            package = f" (package {info.package})" if info.package else ""
            problems.append(
                Problem(
                    f"provider '{node.provider}'{package} failed to load: {info.error}",
                    file,
                    node.id,
                    "provider",
                    "reinstall or fix that package, or pick another provider",
                )
            )
        elif info is not None:
            problems.append(
                Problem(
                    f"plugin '{node.provider}' does not implement hook '{node.hook}'",
                    file,
                    node.id,
                    "provider",
                    _providers_hint(providers),
                )
            )
        else:
            # a provider of this hook first, else any installed plugin
            everyone = [i.name for i in registry.plugins()]
            hint = did_you_mean(node.provider, providers, "", n=3) or did_you_mean(
                node.provider, everyone, _providers_hint(providers), n=3
            )
            problems.append(
                Problem(f"unknown provider '{node.provider}'", file, node.id, "provider", hint)
            )
    elif not providers and _firstresult(registry, node.hook):
        problems.append(
            Problem(
                f"no installed plugin implements hook '{node.hook}'",
                file,
                node.id,
                "hook",
                "install a plugin that provides it (see `reelgraph plugins`)",
            )
        )
    for arg in node.with_:
        if arg not in sig.params:
            hint = did_you_mean(arg, sig.params, f"{node.hook} takes: {', '.join(sig.params)}")
            problems.append(
                Problem(
                    f"hook '{node.hook}' has no argument '{arg}'",
                    file,
                    node.id,
                    f"with.{arg}",
                    hint,
                )
            )
    for param in sig.params:
        if param not in node.with_ and param not in sig.defaults:
            problems.append(
                Problem(
                    f"missing argument '{param}' of hook '{node.hook}'",
                    file,
                    node.id,
                    f"with.{param}",
                    f"add `{param}: ...` under `with:`",
                )
            )
    return sig


def _firstresult(registry: PluginRegistry, hook: str) -> bool:
    """One-answer hooks need a provider; a collect hook may have none (no gates installed)."""
    spec = getattr(getattr(registry.pm.hook, hook, None), "spec", None)
    return bool(spec and spec.opts.get("firstresult"))


def _providers_hint(providers: list[str]) -> str:
    return (
        ("providers: " + ", ".join(providers)) if providers else "no installed plugin implements it"
    )


def _check_refs(
    node: NodeSpec,
    spec: Spec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    graph: nx.DiGraph,
    file: str,
    problems: list[Problem],
) -> None:
    refs = list(find_refs(node.with_, "with"))
    if node.map is not None:
        parsed = parse_ref(node.map)
        if parsed is None:
            problems.append(
                Problem(
                    "map must be a reference to a list, such as $script.scenes",
                    file,
                    node.id,
                    "map",
                )
            )
        else:
            refs.append(("map", parsed))
    for where, ref in refs:
        if isinstance(ref, str):
            problems.append(Problem(ref, file, node.id, where))
            continue
        if ref.root == "item":
            if node.map is None or where == "map":
                problems.append(
                    Problem(
                        "$item is only defined in a node with map:",
                        file,
                        node.id,
                        where,
                        "add `map: $node.list` or refer to a node",
                    )
                )
            continue
        problem = _check_ref(ref, spec, by_id, signatures, file, node.id, where)
        if problem:
            problems.append(problem)
        elif ref.root != "inputs":
            graph.add_edge(ref.root, node.id)
    for need in node.needs:
        if need not in by_id:
            problems.append(
                Problem(
                    f"needs unknown node '{need}'",
                    file,
                    node.id,
                    "needs",
                    _close_nodes(need, by_id),
                )
            )
        else:
            graph.add_edge(need, node.id)


def _check_review(
    node: NodeSpec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    graph: nx.DiGraph,
    file: str,
    problems: list[Problem],
) -> None:
    review = node.review
    assert review is not None
    sig = signatures.get(node.id)
    if review.gate not in by_id:
        problems.append(
            Problem(
                f"review gate '{review.gate}' is not a node",
                file,
                node.id,
                "review.gate",
                _close_nodes(review.gate, by_id),
            )
        )
        return
    if not graph.has_edge(node.id, review.gate):
        problems.append(
            Problem(
                f"gate '{review.gate}' does not use this node's output",
                file,
                node.id,
                "review.gate",
                f"pass ${node.id} to the gate node",
            )
        )
        return
    if node.map is not None:
        problems.append(Problem("a map node cannot be reviewed", file, node.id, "review"))
    if sig is not None and review.feedback not in sig.params:
        problems.append(
            Problem(
                f"hook '{node.hook}' has no argument '{review.feedback}' for feedback",
                file,
                node.id,
                "review.feedback",
                f"{node.hook} takes: {', '.join(sig.params)}",
            )
        )
    # whatever else uses the reviewed output waits for the verdict
    for successor in list(graph.successors(node.id)):
        if successor != review.gate:
            graph.add_edge(review.gate, successor)


def _check_output(
    name: str,
    value: str,
    spec: Spec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    file: str,
    problems: list[Problem],
) -> None:
    ref = parse_ref(value)
    if not isinstance(ref, Ref):
        problems.append(
            Problem(ref or "an output must be a reference", file, None, f"outputs.{name}")
        )
        return
    problem = _check_ref(ref, spec, by_id, signatures, file, None, f"outputs.{name}")
    if problem:
        problems.append(problem)


def _check_ref(
    ref: Ref,
    spec: Spec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    file: str,
    node_id: str | None,
    where: str,
) -> Problem | None:
    if ref.root == "item":
        return Problem("$item is only defined in a node with map:", file, node_id, where)
    if ref.root == "inputs":
        if not ref.path:
            return Problem("refer to one input: $inputs.NAME", file, node_id, where)
        if ref.path[0] not in spec.inputs:
            hint = did_you_mean(
                ref.path[0], spec.inputs, "declare it under `inputs:`", shape="'$inputs.{}'"
            )
            return Problem(f"unknown input '{ref.path[0]}' in {ref}", file, node_id, where, hint)
        return None
    if ref.root not in by_id:
        return Problem(
            f"reference to unknown node '{ref.root}' in {ref}",
            file,
            node_id,
            where,
            _close_nodes(ref.root, by_id),
        )
    if ref.root == node_id:
        return Problem(f"node refers to its own output in {ref}", file, node_id, where)
    sig = signatures.get(ref.root)
    if sig is None or not ref.path:
        return None
    returns = sig.returns
    if by_id[ref.root].map is not None:
        return None  # a map node's output is a list; indexes are checked at run time
    first = ref.path[0]
    if (
        isinstance(returns, type)
        and issubclass(returns, BaseModel)
        and first not in returns.model_fields
    ):
        fields = list(returns.model_fields)
        has = f"{returns.__name__} has: {', '.join(fields)}"
        hint = did_you_mean(first, fields, has, shape=f"'${ref.root}.{{}}'")
        return Problem(
            f"{ref}: {returns.__name__} (output of '{ref.root}') has no field '{first}'",
            file,
            node_id,
            where,
            hint,
        )
    return None


def _close_nodes(name: str, by_id: dict[str, NodeSpec]) -> str:
    return did_you_mean(name, by_id, "nodes: " + ", ".join(by_id), n=3)


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
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
    order = list(nx.lexicographical_topological_sort(graph, key=_position(spec)))
    nodes: dict[str, CompiledNode] = {}
    problems = []
    for node_id in order:
        node = by_id[node_id]
        sig = signatures[node_id]
        try:
            caller = registry.caller(node.hook, node.provider)
        except PluginError as err:
            problems.append(Problem(str(err), spec.source, node_id, "provider"))
            continue
        impls = caller.get_hookimpls()
        is_async = bool(impls) and all(inspect.iscoroutinefunction(i.function) for i in impls)
        collect = not (caller.spec and caller.spec.opts.get("firstresult"))
        direct = (
            node.provider is not None
            and len(impls) == 1
            and not (impls[0].hookwrapper or impls[0].wrapper)
        )
        static = {k: copy.deepcopy(v) for k, v in sig.defaults.items() if k not in node.with_}
        nodes[node_id] = CompiledNode(
            id=node_id,
            hook=node.hook,
            provider=node.provider,
            caller=caller,
            is_async=is_async,
            function=impls[0].function if direct else None,
            argnames=tuple(impls[0].argnames) if direct else (),
            args=[(k, compile_value(v)) for k, v in node.with_.items()],
            static_args=static,
            map_ref=parse_ref(node.map) if node.map else None,  # type: ignore[arg-type]
            collect=collect,
            review=node.review,
            deps=sorted(graph.predecessors(node_id)),
            dependents=sorted(graph.successors(node_id), key=_position(spec)),
        )
    if problems:
        raise SpecError(problems)
    reviewers = {n.review.gate: n.id for n in spec.nodes if n.review is not None}
    return Plan(spec=spec, graph=graph, nodes=nodes, order=order, reviewers=reviewers)


def _position(spec: Spec) -> Any:
    index = {node.id: i for i, node in enumerate(spec.nodes)}
    return lambda node_id: f"{index.get(node_id, 0):08d}"
