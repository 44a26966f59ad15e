"""The checks :func:`reelgraph.plan.graph.build_plan` runs on each node of a spec.

Each adds :class:`~reelgraph.errors.Problem` objects (file, node, field, a
remedy) to the list it is given and never raises, so validation reports every
problem at once: hooks and providers, arguments, references and their types,
``map`` items, reviews, ``when`` conditions, fallbacks and outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelgraph import hookspecs
from reelgraph.errors import Problem, did_you_mean
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plan.signature import HookSignature, function_signature, hook_signature
from reelgraph.plan.typecheck import (
    FieldMissing,
    Item,
    check_edge,
    check_map,
    describe,
    fits,
    missing_field,
    node_output_type,
    reference_type,
)
from reelgraph.spec.conditions import (
    CallableCondition,
    Condition,
    ConditionError,
    compile_condition,
)
from reelgraph.spec.functions import is_python, unresolved
from reelgraph.spec.model import NodeSpec, Spec
from reelgraph.spec.refs import Ref, find_refs, parse_ref

if TYPE_CHECKING:
    import networkx as nx


__all__ = [
    "check_fallbacks",
    "check_hook",
    "check_output",
    "check_refs",
    "check_review",
    "check_when",
    "node_condition",
]


def check_hook(
    node: NodeSpec, registry: PluginRegistry, file: str, problems: list[Problem]
) -> HookSignature | None:
    if node.function is not None:  # a function node (Workflow.call)
        sig = function_signature(node.hook, node.function)
        _check_arguments(node, sig, f"function '{node.hook}'", file, problems)
        return sig
    if is_python(node.hook):
        problems.append(unresolved(node, "hook", file))
        return None
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
    _check_arguments(node, sig, f"hook '{node.hook}'", file, problems)
    return sig


def _check_arguments(
    node: NodeSpec, sig: HookSignature, what: str, file: str, problems: list[Problem]
) -> None:
    """Every argument is a parameter of the hook (or function); none is missing."""
    for arg in node.with_:
        if arg not in sig.params:
            hint = did_you_mean(arg, sig.params, f"{node.hook} takes: {', '.join(sig.params)}")
            problems.append(
                Problem(f"{what} has no argument '{arg}'", file, node.id, f"with.{arg}", hint)
            )
    for param in sig.params:
        if param not in node.with_ and param not in sig.defaults:
            problems.append(
                Problem(
                    f"missing argument '{param}' of {what}",
                    file,
                    node.id,
                    f"with.{param}",
                    f"add `{param}: ...` under `with:`",
                )
            )


def _firstresult(registry: PluginRegistry, hook: str) -> bool:
    """One-answer hooks need a provider; a collect hook may have none (no gates installed)."""
    spec = getattr(getattr(registry.pm.hook, hook, None), "spec", None)
    return bool(spec and spec.opts.get("firstresult"))


def _providers_hint(providers: list[str]) -> str:
    return (
        ("providers: " + ", ".join(providers)) if providers else "no installed plugin implements it"
    )


def check_refs(
    node: NodeSpec,
    spec: Spec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    graph: nx.DiGraph,
    file: str,
    problems: list[Problem],
) -> None:
    refs = _map_ref(node, file, problems) + list(find_refs(node.with_, "with"))
    item: Item | None = None  # what $item is, once the map: reference checks out
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
            problem = _check_item(ref, item, by_id, file, node.id, where)
        else:
            problem = _check_ref(ref, spec, by_id, signatures, file, node.id, where)
            if problem is None and ref.root != "inputs":
                graph.add_edge(ref.root, node.id)
        # typed edges: the value fits the parameter (or map: gets a list)
        if problem is None and where == "map":
            item, problem = check_map(ref, node, spec, by_id, signatures)
        elif problem is None:
            problem = check_edge(ref, where, node, spec, by_id, signatures, item)
        if problem is not None:
            problems.append(problem)
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


def _map_ref(node: NodeSpec, file: str, problems: list[Problem]) -> list[tuple[str, Ref | str]]:
    """The ``map:`` reference, first, so ``$item`` is typed before ``with`` is checked."""
    if node.map is None:
        return []
    parsed = parse_ref(node.map)
    if parsed is None:
        problems.append(
            Problem(
                "map must be a reference to a list, such as $script.scenes", file, node.id, "map"
            )
        )
        return []
    return [("map", parsed)]


def _check_item(
    ref: Ref,
    item: Item | None,
    by_id: dict[str, NodeSpec],
    file: str,
    node_id: str,
    where: str,
) -> Problem | None:
    """``$item.field`` exists on the map's item type (unknown when ``item`` is None)."""
    if item is None or not ref.path:
        return None
    try:
        reference_type(item.type, ref.path)
    except FieldMissing as err:
        return missing_field(ref, err, by_id, file, node_id, where)
    return None


def check_review(
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


def check_when(
    node: NodeSpec,
    by_id: dict[str, NodeSpec],
    graph: nx.DiGraph,
    file: str,
    problems: list[Problem],
) -> None:
    """``when:`` parses, and reads only ``inputs`` and other nodes (edges from them)."""
    assert node.when is not None
    try:
        condition = node_condition(node)
    except ConditionError as err:
        problems.append(
            Problem(str(err), file, node.id, "when", "write one expression, e.g. inputs.n > 2")
        )
        return
    if condition is None:
        problems.append(unresolved(node, "when", file))
        return
    for name in sorted(condition.names):
        if name == "inputs":
            continue
        if name == node.id:
            problems.append(
                Problem("a node's condition cannot read its own output", file, node.id, "when")
            )
        elif name in by_id:
            graph.add_edge(name, node.id)
        else:
            choices = ["inputs", *by_id]
            hint = did_you_mean(name, choices, "a condition reads `inputs` and node ids")
            problems.append(
                Problem(f"condition reads unknown name '{name}'", file, node.id, "when", hint)
            )


def node_condition(node: NodeSpec) -> Condition | CallableCondition | None:
    """A node's parsed ``when`` (``None`` for a Python condition without its callable).

    Raises:
        ConditionError: the expression does not parse.
    """
    if node.condition is not None:
        return CallableCondition.of(node.condition)
    if is_python(node.when):
        return None
    assert node.when is not None
    return compile_condition(node.when)


def check_fallbacks(
    node: NodeSpec,
    by_id: dict[str, NodeSpec],
    signatures: dict[str, HookSignature],
    registry: PluginRegistry,
    graph: nx.DiGraph,
    file: str,
    problems: list[Problem],
) -> None:
    """``on_error``: providers implement the hook; fallback nodes fit and stand by."""
    for index, fallback in enumerate(node.on_error):
        where = f"on_error.{index}"
        if fallback.provider is not None:
            providers = registry.providers(node.hook)
            if fallback.provider == node.provider:
                problems.append(
                    Problem("the fallback is the node's own provider", file, node.id, where)
                )
            elif fallback.provider not in providers:
                hint = did_you_mean(fallback.provider, providers, _providers_hint(providers))
                problems.append(
                    Problem(
                        f"provider '{fallback.provider}' does not implement hook '{node.hook}'",
                        file,
                        node.id,
                        f"{where}.provider",
                        hint,
                    )
                )
            continue
        target = fallback.node
        assert target is not None
        if target not in by_id or target == node.id:
            problems.append(
                Problem(
                    f"fallback node '{target}' is not another node of the spec",
                    file,
                    node.id,
                    f"{where}.node",
                    _close_nodes(target, by_id),
                )
            )
            continue
        if node.map is not None:
            problems.append(
                Problem(
                    "a map node cannot fall back to a node",
                    file,
                    node.id,
                    f"{where}.node",
                    "use `on_error: {provider: ...}`, tried per item",
                )
            )
            continue
        mine, theirs = signatures.get(node.id), signatures.get(target)
        if mine and theirs and not fits(theirs.returns, mine.returns):
            problems.append(
                Problem(
                    f"fallback node '{target}' returns {describe(theirs.returns)}, "
                    f"'{node.id}' returns {describe(mine.returns)}",
                    file,
                    node.id,
                    f"{where}.node",
                    "a fallback must produce what the node produces",
                )
            )
        users = list(graph.successors(target))
        if users:
            problems.append(
                Problem(
                    f"fallback node '{target}' is used by {', '.join(sorted(users))}",
                    file,
                    target,
                    None,
                    f"refer to ${node.id} instead: it carries the fallback's output",
                )
            )
        # what the fallback needs is ready before the node it stands in for starts
        for dep in list(graph.predecessors(target)):
            if dep == node.id:
                problems.append(
                    Problem(
                        f"fallback node '{target}' uses the output of '{node.id}'",
                        file,
                        target,
                        None,
                        "a fallback runs because that output does not exist",
                    )
                )
            else:
                graph.add_edge(dep, node.id)


def check_output(
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
    if not ref.path:
        return None
    try:
        # every step of the path exists on the upstream output's type
        reference_type(node_output_type(ref.root, by_id, signatures), ref.path)
    except FieldMissing as err:
        return missing_field(ref, err, by_id, file, node_id, where)
    return None


def _close_nodes(name: str, by_id: dict[str, NodeSpec]) -> str:
    return did_you_mean(name, by_id, "nodes: " + ", ".join(by_id), n=3)
