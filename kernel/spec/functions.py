"""Function nodes: plain Python callables as nodes of a spec built in Python.

:class:`reelgraph.workflow.Workflow` lets an embedding application put a
``def`` or ``async def`` between two hooks (``wf.call("slug", slugify, ...)``)
and write a condition as a callable (``.when(lambda plan: plan.needs_clips)``).
Such a node's ``hook`` reads ``python:MODULE.QUALNAME`` (its ``when``, for a
callable condition, the same): that text is what the run store, events and
spans show, while the callable itself lives only in the process that built
the spec. A YAML or JSON spec cannot import code, so a ``python:`` name read
from a file never runs: the plan refuses it, and :meth:`Spec.to_yaml
<reelgraph.spec.model.Spec.to_yaml>` refuses to write one.

Resume: a run's spec is stored as JSON, without its callables.
:func:`remember` keeps the callables of every spec a ``Workflow`` built in
this process, by spec name and node id, and :func:`restore` puts them back
into a stored spec whose names still match; so a process that builds the
same workflow again can resume the run (``Kernel().resume(run_id)``). A
process that never built it (``reelgraph resume``, ``reelgraph serve``)
cannot, and says so.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from typing import TYPE_CHECKING, Any

from reelgraph.errors import Problem

if TYPE_CHECKING:
    from reelgraph.spec.model import NodeSpec, Spec

__all__ = [
    "PREFIX",
    "code_digest",
    "is_python",
    "qualified_name",
    "remember",
    "restore",
    "unresolved",
    "yaml_problems",
]

#: how a function node's ``hook`` (and a callable ``when``) starts
PREFIX = "python:"

_PLUGIN_HINT = (
    "register the function as a plugin instead: a @reelgraph.hookimpl of a hook (one of "
    "reelgraph.hookspecs, or your own hookspec given to Kernel(hookspecs=[...])) in a module "
    "listed under [project.entry-points.reelgraph] (docs/kernel.md, 'Workflows in Python')"
)

#: spec name -> node id -> (function, condition), of specs built in this process
_REMEMBERED: dict[str, dict[str, tuple[Any, Any]]] = {}


def qualified_name(func: Any) -> str:
    """``module.qualname`` of a callable (``tests.fns.slugify``, ``app.<lambda>``)."""
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    return f"{module}.{name}"


def is_python(text: str | None) -> bool:
    """True for a ``hook`` or ``when`` that names a Python callable."""
    return isinstance(text, str) and text.startswith(PREFIX)


def code_digest(func: Any) -> str:
    """SHA-256 (hex) of a callable's qualified name and source text.

    Part of a function node's memo key: editing the function's body gives
    new keys, so results cached from the old code are not served. Only the
    function's own text counts, not what it calls or the values its closure
    captured. Without source (a function made by ``exec``), the bytecode and
    constants stand in for it.
    """
    func = inspect.unwrap(func)
    try:
        text = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code is not None else repr(func)
    digest = hashlib.sha256()
    digest.update(qualified_name(func).encode())
    digest.update(b"\0")
    digest.update(text.encode())
    return digest.hexdigest()


def remember(spec: Spec) -> None:
    """Keep the callables of ``spec`` (built by a ``Workflow``) for :func:`restore`."""
    found = {
        node.id: (node.function, node.condition)
        for node in spec.nodes
        if node.function is not None or node.condition is not None
    }
    if found:
        _REMEMBERED[spec.name] = found
    else:
        _REMEMBERED.pop(spec.name, None)


def restore(spec: Spec) -> Spec:
    """Put remembered callables back into a stored ``spec`` whose names match.

    A node gets its function back when its ``hook`` is the ``python:`` name
    of the function remembered for its id, and its condition when its
    ``when`` is the condition's. Others are left without (the plan says why
    they cannot run). ``spec`` is changed in place and returned.
    """
    remembered = _REMEMBERED.get(spec.name, {})
    for node in spec.nodes:
        function, condition = remembered.get(node.id, (None, None))
        if function is not None and node.hook == PREFIX + qualified_name(function):
            node._function = function
        if condition is not None and node.when == PREFIX + qualified_name(condition):
            node._condition = condition
    return spec


def unresolved(node: NodeSpec, field: str, file: str) -> Problem:
    """The problem of a ``python:`` hook or condition that has no callable."""
    text = node.hook if field == "hook" else node.when
    return Problem(
        f"{text!r} names a Python callable, which only a spec built with "
        "reelgraph.Workflow in this process carries (a YAML or JSON spec cannot import code)",
        file,
        node.id,
        field,
        "build the workflow in Python and run or resume it from there, or " + _PLUGIN_HINT,
    )


def yaml_problems(spec: Spec) -> list[Problem]:
    """Why ``spec`` cannot be written as YAML: its function nodes and Python conditions."""
    problems = []
    for node in spec.nodes:
        if node.function is not None or is_python(node.hook):
            problems.append(
                Problem(
                    f"node calls the Python function {node.hook[len(PREFIX) :]!r}, "
                    "which a YAML spec cannot carry",
                    spec.source,
                    node.id,
                    "hook",
                    _PLUGIN_HINT,
                )
            )
        if node.condition is not None or is_python(node.when):
            problems.append(
                Problem(
                    "the node's condition is a Python callable, which a YAML spec cannot carry",
                    spec.source,
                    node.id,
                    "when",
                    "write it as an expression: .when(\"inputs.aspect == '16:9'\")",
                )
            )
    return problems
