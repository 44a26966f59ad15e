"""Forks: a new run of a finished run's spec that takes unchanged nodes from it.

``Kernel.fork(run_id, inputs={"voice": "en-gb"})`` starts a run of the
parent's stored spec with the parent's inputs, some of them replaced. A node
is *unchanged* when everything its arguments are made of equals what the
parent's node was given: each reference in its ``with:`` and ``map:``
(``$inputs.NAME``, ``$node``, ``$node.field``) resolves to an equal value in
the fork and in the parent, and its provider is the parent's. Such a node is
not executed: its output is the parent's recorded output (the run store's
node rows, not the memo cache, so a parent run with ``--no-cache`` forks
too). Anything that reads a changed input, or a node whose output came out
different, is executed again; a recomputed node whose output equals the
parent's (files compare by content: the artifact store names them by sha256)
lets its dependents be reused again.

A ``needs:`` dependency orders nodes without passing a value, so it does
not count. The decision is taken per node when it becomes ready (its dependencies have
finished), in :meth:`ForkScheduler._begin`. Three kinds of nodes always run
again: nodes with ``cache: false`` (their output depends on more than their
arguments), nodes whose ``when:`` is false in the fork (they are skipped, as
in any run) and nodes the parent did not finish.

A ``file`` input is compared by path, and also by time: a file modified
after the parent run started counts as changed (the parent saw other
content). Secret inputs are never stored, so they are given again and never
count as changed.

A reused node emits ``node.succeeded`` with ``{"cached": true, "reused":
true, "from_run": PARENT_ID}`` (the existing cached state, with the reason)
and its row is written to the fork's store with ``cached = 1``, no attempts
and 0 seconds, so a fork of the fork, ``reelgraph show`` and ``reelgraph
diff`` see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelgraph.errors import InputError, Problem
from reelgraph.plan.graph import CompiledNode, Plan
from reelgraph.run.scheduler import Scheduler
from reelgraph.spec.conditions import ConditionError
from reelgraph.spec.model import Spec
from reelgraph.spec.refs import Ref, find_refs, resolve_path

__all__ = ["ForkScheduler", "Parent", "changed_inputs", "fork_inputs", "check_fork", "prepare_fork"]


class _Modified:
    """Stands in for a parent's file input whose file changed since: equal to nothing."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<modified since the parent run>"


@dataclass(slots=True)
class Parent:
    """What a fork takes from its parent run.

    Attributes:
        run_id: the parent's run id.
        inputs: the parent's inputs, bound to the spec (a file input modified
            since the parent started is replaced by a value equal to nothing).
        outputs: the outputs of the nodes the parent finished, as ``{node id:
            (value, stored form)}`` (:func:`~reelgraph.run.persist.restore_outputs`).
        providers: the provider each of those nodes ran with (``None``: any).
    """

    run_id: str
    inputs: dict[str, Any]
    outputs: dict[str, tuple[Any, Any]]
    providers: dict[str, str | None] = field(default_factory=dict)

    def scope(self) -> dict[str, Any]:
        """The parent's evaluation scope: ``inputs`` plus every finished node's output."""
        scope = {node_id: value for node_id, (value, _) in self.outputs.items()}
        scope["inputs"] = self.inputs
        return scope


def fork_inputs(
    spec: Spec, stored: Mapping[str, Any], given: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parent's inputs and the fork's, both unbound: ``(parent, fork)``.

    Secret inputs in ``given`` go to both (they were not stored).

    Raises:
        InputError: an input the spec does not declare (with the closest
            names), or a secret input the spec requires that was not given.
    """
    problems = []
    for name in given:
        if name not in spec.inputs:
            from reelgraph.errors import did_you_mean

            takes = "this spec takes: " + (", ".join(spec.inputs) or "no inputs")
            problems.append(
                Problem(
                    f"unknown input '{name}'",
                    spec.source,
                    None,
                    f"inputs.{name}",
                    did_you_mean(name, spec.inputs, takes),
                )
            )
    secrets = {n: v for n, v in given.items() if n in spec.inputs and spec.inputs[n].secret}
    for name, decl in spec.inputs.items():
        if decl.secret and decl.required and name not in given:
            problems.append(
                Problem(
                    f"secret input '{name}' is not stored with the parent run",
                    spec.source,
                    None,
                    f"inputs.{name}",
                    f"pass it again: reelgraph fork RUN -i {name}=VALUE",
                )
            )
    if problems:
        raise InputError(problems)
    return {**stored, **secrets}, {**stored, **given}


def changed_inputs(
    spec: Spec, parent: dict[str, Any], fork: Mapping[str, Any], parent_started_at: float
) -> dict[str, tuple[Any, Any]]:
    """The inputs a fork changes: ``{name: (parent value, fork value)}`` (bound values).

    A ``file`` input left as it was counts as changed when its file was
    modified after ``parent_started_at`` (Unix seconds); its entry in
    ``parent`` is then replaced by a value equal to nothing, so every node
    reading it runs again. Secret inputs are never compared.
    """
    changed: dict[str, tuple[Any, Any]] = {}
    for name, decl in spec.inputs.items():
        if decl.secret:
            continue
        before, after = parent.get(name), fork.get(name)
        if before != after:
            changed[name] = (before, after)
        elif isinstance(after, Path) and after.stat().st_mtime > parent_started_at:
            changed[name] = (before, after)
            parent[name] = _Modified()
    return changed


def node_refs(spec: Spec) -> dict[str, list[Ref]]:
    """Per node id, the references its arguments are made of (``with:`` and ``map:``)."""
    refs: dict[str, list[Ref]] = {}
    for node in spec.nodes:
        found = [r for _, r in find_refs(node.with_, "with") if isinstance(r, Ref)]
        found += [r for _, r in find_refs(node.map, "map") if isinstance(r, Ref)]
        refs[node.id] = [r for r in found if r.root != "item"]
    return refs


class ForkScheduler(Scheduler):
    """A :class:`Scheduler` that reuses a parent run's unchanged nodes (see the module doc).

    Args:
        parent: what the fork takes from its parent.
        *args, **kwargs: as for :class:`Scheduler`; ``reuse`` holds the
            candidates (the parent's outputs), and a node that changed is
            dropped from it when it becomes ready.

    Attributes:
        reused: ids of the nodes taken from the parent, in the order they were.
    """

    def __init__(self, *args: Any, parent: Parent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent = parent
        self.reused: list[str] = []
        self._parent_scope = parent.scope()
        self._refs = node_refs(self.plan.spec)
        self._uncached = {n.id for n in self.plan.spec.nodes if not n.cache}

    def _begin(self, node: CompiledNode, *, commit: bool = True) -> float | None:
        # the candidates are every node the parent finished: drop this one if it changed
        if node.id in self.reuse and not self._unchanged(node):
            del self.reuse[node.id]
        return super()._begin(node, commit=commit)

    def _unchanged(self, node: CompiledNode) -> bool:
        """Whether ``node``'s arguments and provider equal those of the parent's node."""
        if node.id in self._uncached or node.provider != self.parent.providers.get(node.id):
            return False
        if any(dep in self._skipped for dep in node.deps):
            return False  # the scheduler skips it
        if node.when is not None:
            try:
                if not node.when.evaluate(self.scope):
                    return False  # skipped in the fork
            except ConditionError:
                return False  # the scheduler reports it
        for ref in self._refs.get(node.id, ()):
            try:
                now = _resolve(ref, self.scope)
                then = _resolve(ref, self._parent_scope)
            except LookupError:
                return False
            if now != then:  # stored forms: JSON values, paths, pydantic models
                return False
        return True

    def _reuse(self, node: CompiledNode, record: Any) -> None:
        super()._reuse(node, record)
        self.reused.append(node.id)
        if self.recorder is not None:  # a row of its own in the fork's store
            self.recorder.node_finished(record, self.reuse[node.id][1])

    def emit(
        self,
        type_: str,
        node_id: str | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        if type_ == "node.succeeded" and data is not None and data.get("reused"):
            data = {**data, "from_run": self.parent.run_id}
        super().emit(type_, node_id, data, ts)


def _resolve(ref: Ref, scope: Mapping[str, Any]) -> Any:
    """The value ``ref`` points to in ``scope``. Raises LookupError (KeyError included)."""
    value = scope[ref.root]
    return resolve_path(value, ref.path) if ref.path else value


def check_fork(
    kernel: Any, row: Any, given: Mapping[str, Any]
) -> tuple[Plan, Plan, dict[str, Any], dict[str, Any], dict[str, tuple[Any, Any]]]:
    """Check a fork of the stored run ``row`` before anything runs (no artifact is read).

    Returns ``(plan, parent plan, bound inputs, parent's bound inputs,
    changed inputs)``: the plan of the parent's stored spec with the
    providers the fork's inputs choose, the same for the parent's inputs,
    and :func:`changed_inputs`.

    Raises:
        InputError: an unknown input (with the closest names), a value of the
            wrong type, a missing file, a secret input not given again.
        SpecError: the stored spec no longer validates against the installed plugins.
    """
    from reelgraph.plan.graph import build_plan
    from reelgraph.plan.providers import chooses_providers
    from reelgraph.spec.inputs import bind_inputs
    from reelgraph.spec.stored import stored_spec

    spec = stored_spec(row)
    parent_given, fork_given = fork_inputs(spec, row.inputs, given)
    bound = bind_inputs(spec, fork_given)
    try:
        parent_bound = bind_inputs(spec, parent_given)
    except InputError:
        # an input the fork replaces may no longer bind for the parent (its file is gone):
        # the parent's stored value stands for it, unequal to the fork's
        parent_bound = bind_inputs(spec, {**parent_given, **given})
        parent_bound.update({name: parent_given.get(name) for name in given})
    plan = build_plan(spec, kernel.registry, bound)
    # provider: $inputs.NAME may have chosen other providers for the parent
    parent_plan = (
        build_plan(spec, kernel.registry, parent_bound) if chooses_providers(spec) else plan
    )
    changed = changed_inputs(spec, parent_bound, bound, row.started_at)
    return plan, parent_plan, bound, parent_bound, changed


def prepare_fork(
    kernel: Any, row: Any, given: Mapping[str, Any]
) -> tuple[Plan, Parent, dict[str, Any], dict[str, tuple[Any, Any]]]:
    """:func:`check_fork`, then what the fork takes from the parent.

    Returns ``(plan, parent, bound inputs, changed inputs)``. The parent's
    outputs are read back with their checksums verified (a node whose
    artifact is gone or corrupt runs again, with a warning).

    Raises:
        InputError, SpecError: as for :func:`check_fork`.
    """
    from reelgraph.run.persist import restore_outputs

    plan, parent_plan, bound, parent_bound, changed = check_fork(kernel, row, given)
    values, stored = restore_outputs(kernel.store, kernel.artifacts, row.id)
    parent = Parent(
        run_id=row.id,
        inputs=parent_bound,
        outputs={n: (values[n], stored[n]) for n in values if n in plan.nodes},
        providers={n.id: n.provider for n in parent_plan.nodes.values()},
    )
    return plan, parent, bound, changed
