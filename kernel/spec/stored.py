"""What a run stores of its spec and inputs, and how a resume reads them back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reelgraph.spec.model import BudgetSpec, Spec

__all__ = ["merged_budget", "resume_inputs", "spec_text", "storable_inputs", "stored_spec"]


def spec_text(spec: Spec, budget: BudgetSpec) -> str:
    """The spec as JSON, as loaded (unset fields left out so defaults stay defaults).

    ``budget`` is the run's effective budget (the spec's, with the run's
    overrides), so a resume starts from it.
    """
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    limits = budget.model_dump(mode="json", exclude_none=True)
    if limits:
        data["budget"] = limits
    return json.dumps(data)


def stored_spec(row: Any) -> Spec:
    """The spec a stored run (a :class:`~reelgraph.store.runs.RunRow`) was started with.

    Function nodes and Python conditions get their callables back from the
    ``Workflow`` this process built under the spec's name, when their names
    still match (:func:`reelgraph.spec.functions.restore`).

    Raises:
        SpecError: the stored spec no longer loads.
    """
    from pathlib import Path

    from reelgraph.spec.functions import restore
    from reelgraph.spec.model import load_spec

    spec = load_spec(json.loads(row.spec_text))
    spec.path = Path(row.spec_path) if row.spec_path else None
    # function nodes get their callables back when this process built the workflow
    return restore(spec)


def storable_inputs(spec: Spec, bound: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the run store keeps: all but those declared ``secret: true``."""
    return {k: v for k, v in bound.items() if not (k in spec.inputs and spec.inputs[k].secret)}


def resume_inputs(
    spec: Spec, stored: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """A resumed run's inputs: the stored ones, plus secret inputs given again.

    Raises:
        InputError: a secret input the spec requires was not given again,
            or a non-secret input was given (the run's inputs are fixed).
    """
    from reelgraph.errors import InputError, Problem

    problems = []
    for name in given:
        if not (name in spec.inputs and spec.inputs[name].secret):
            problems.append(
                Problem(
                    "only secret inputs can be given to a resumed run",
                    spec.source,
                    None,
                    f"inputs.{name}",
                    "a run keeps the inputs it started with; start a new run to change them",
                )
            )
    for name, decl in spec.inputs.items():
        if decl.secret and decl.required and name not in given:
            problems.append(
                Problem(
                    f"secret input '{name}' is not stored with the run",
                    spec.source,
                    None,
                    f"inputs.{name}",
                    f"pass it again: reelgraph resume RUN -i {name}=VALUE",
                )
            )
    if problems:
        raise InputError(problems)
    return {**stored, **given}


def merged_budget(base: BudgetSpec, override: BudgetSpec | Mapping[str, Any] | None) -> BudgetSpec:
    """``base`` with the fields ``override`` sets replaced.

    Raises:
        SpecError: ``override`` has unknown fields or bad values.
    """
    if override is None:
        return base
    if isinstance(override, BudgetSpec):
        update = override.model_dump(exclude_unset=True)
    else:
        from pydantic import ValidationError

        from reelgraph.errors import Problem, SpecError

        try:
            update = BudgetSpec.model_validate(dict(override)).model_dump(exclude_unset=True)
        except ValidationError as err:
            problems = [
                Problem(e["msg"], "<budget>", None, ".".join(map(str, e["loc"])))
                for e in err.errors()
            ]
            raise SpecError(problems) from None
    return base.model_copy(update=update)
