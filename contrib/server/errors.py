"""Kernel errors as HTTP errors (the kernel redacts their messages already)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

__all__ = ["http_error", "problems", "run_row"]


def problems(err: Any) -> list[dict[str, Any]]:
    """A ``SpecError``'s or ``InputError``'s problems: ``[{message, file, node, field, hint}]``."""
    return [
        {"message": p.message, "file": p.file, "node": p.node, "field": p.field, "hint": p.hint}
        for p in getattr(err, "problems", [])
    ]


def http_error(err: Exception) -> HTTPException:
    """422 a spec or inputs that do not validate; 409 a run held elsewhere or in the wrong state;
    404 no such run."""
    from reelgraph.errors import InputError, SpecError
    from reelgraph.store.leases import RunLeased

    if isinstance(err, SpecError | InputError):
        return HTTPException(422, {"message": str(err), "problems": problems(err)})
    if isinstance(err, RunLeased):
        return HTTPException(409, str(err))
    text = str(err)
    status = 404 if text.startswith(("no run", "run id")) else 409
    return HTTPException(status, text)


def run_row(kernel: Any, run_id: str) -> Any:
    """The stored run ``run_id`` names (an id or a unique prefix); 404 when none does."""
    from reelgraph.errors import ReelgraphError

    try:
        return kernel.find_run(run_id)
    except ReelgraphError as err:
        raise HTTPException(404, str(err)) from None
