"""``when:`` conditions: small expressions over a run's inputs and upstream outputs.

A condition is evaluated with simpleeval (https://github.com/danthedeckie/simpleeval),
never with ``eval``: names are ``inputs`` and the ids of upstream nodes,
attribute access works on models and dicts (``inputs.aspect``,
``script.scenes``), dunder attributes are refused, and only the functions
listed in :data:`FUNCTIONS` can be called::

    when: "inputs.aspect == '16:9' and len(script.scenes) > 2"

A node whose condition is false is skipped, and so is every node that
depends on it.

In a spec built in Python (:class:`reelgraph.workflow.Workflow`), a
condition may be a callable instead: its parameter names are what it reads
(``inputs`` and node ids), it is called with those values, and its truth
decides as an expression's does (:class:`CallableCondition`)::

    wf.node(...).when(lambda plan: plan.needs_clips)
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reelgraph.errors import ReelgraphError

__all__ = [
    "FUNCTIONS",
    "CallableCondition",
    "Condition",
    "ConditionError",
    "compile_condition",
]

#: the functions a condition may call
FUNCTIONS: dict[str, Any] = {
    "len": len,
    "any": any,
    "all": all,
    "min": min,
    "max": max,
    "sum": sum,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
}

_CONSTANTS = frozenset({"True", "False", "None"})


class ConditionError(ReelgraphError):
    """A ``when:`` condition cannot be parsed or evaluated."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition.

    Attributes:
        text: the expression as written.
        names: the free names it reads (``inputs`` and node ids).
    """

    text: str
    tree: ast.AST
    names: frozenset[str]

    def evaluate(self, scope: Mapping[str, Any]) -> bool:
        """Evaluate against ``scope`` (``{"inputs": {...}, node id: output, ...}``).

        Raises:
            ConditionError: the expression fails (an unknown attribute, a
                type error, a name not in ``scope``).
        """
        from simpleeval import EvalWithCompoundTypes, InvalidExpression

        names = {name: scope[name] for name in self.names if name in scope}
        evaluator = EvalWithCompoundTypes(names=names, functions=dict(FUNCTIONS))
        try:
            return bool(evaluator.eval(self.text, previously_parsed=self.tree))
        except InvalidExpression as err:
            raise ConditionError(f"when: {self.text!r}: {err}") from None
        except Exception as err:  # noqa: BLE001 - any failure of the expression itself
            raise ConditionError(f"when: {self.text!r}: {type(err).__name__}: {err}") from None


class _Inputs(Mapping[str, Any]):
    """A run's inputs for a callable condition: ``inputs.aspect`` or ``inputs["aspect"]``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no input {name!r}") from None


@dataclass(frozen=True, slots=True)
class CallableCondition:
    """A condition written as a Python callable (a spec built in Python).

    Attributes:
        text: ``python:module.qualname``, as events and the run store show it.
        function: the callable; called with one keyword argument per name.
        names: its parameter names: ``inputs`` (the run's inputs, read as
            attributes or keys) and the ids of the nodes it reads.
    """

    text: str
    function: Any
    names: frozenset[str]

    @classmethod
    def of(cls, function: Any) -> CallableCondition:
        """The condition of ``function``; its parameters are the names it reads."""
        import inspect

        from reelgraph.spec.functions import PREFIX, qualified_name

        names = frozenset(inspect.signature(function).parameters)
        return cls(PREFIX + qualified_name(function), function, names)

    def evaluate(self, scope: Mapping[str, Any]) -> bool:
        """Call the function with the values it names; its truth is the answer.

        Raises:
            ConditionError: the function raised, or a name it reads is not
                in ``scope``.
        """
        try:
            values = {
                name: _Inputs(scope[name]) if name == "inputs" else scope[name]
                for name in self.names
            }
        except KeyError as err:
            raise ConditionError(f"when: {self.text}: no value for {err}") from None
        try:
            return bool(self.function(**values))
        except Exception as err:  # noqa: BLE001 - any failure of the condition itself
            raise ConditionError(f"when: {self.text}: {type(err).__name__}: {err}") from None


def compile_condition(text: str) -> Condition:
    """Parse ``text`` once, before the run, and find the names it reads.

    Raises:
        ConditionError: not a single Python expression, or it uses something
            a condition may not (assignment, lambda, an unknown function).
    """
    from simpleeval import SimpleEval

    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition must be a non-empty expression")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = SimpleEval.parse(text)
    except (SyntaxError, Warning) as err:
        raise ConditionError(f"not a valid expression: {text!r} ({err})") from None
    except Exception as err:  # noqa: BLE001 - simpleeval's parse errors
        raise ConditionError(f"not a valid expression: {text!r} ({err})") from None
    if not isinstance(tree, ast.Expr):
        raise ConditionError(f"not an expression: {text!r} (no assignments or statements)")
    names: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            raise ConditionError(f"{type(node).__name__} is not allowed in a condition: {text!r}")
        if isinstance(node, ast.comprehension):
            bound.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                called = ast.unparse(node.func)
                raise ConditionError(
                    f"'{called}' cannot be called in a condition "
                    f"(allowed: {', '.join(sorted(FUNCTIONS))})"
                )
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
    names -= bound | _CONSTANTS | set(FUNCTIONS)
    return Condition(text=text, tree=tree, names=frozenset(names))
