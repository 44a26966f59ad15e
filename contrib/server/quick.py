"""Quick actions: run a shipped text workflow and answer with its JSON in one request.

``POST /api/workflows/quick/{lesson-plan,assessment,feedback}`` (each only when the
spec is installed) with ``{"inputs": {...}, "documents": {...}, "timeout_s": 300}``.
``documents`` gives file inputs as text (``{input name: text}`` or ``{input name:
{"filename": "answers.md", "text": "..."}}``); each is saved under
``<run dir>/uploads/`` and given as that input. The answer is the run
(``run``, ``status``, ``error``, ``questions``, ``outputs``) and ``result``, the
workflow's JSON output (``lesson-plan.json``, ...) parsed; 202 with the run when
it has not finished within ``timeout_s`` seconds (it goes on; follow its events).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from fastapi.responses import JSONResponse

from reelgraph.contrib.server.errors import http_error
from reelgraph.contrib.server.files import safe_upload_name
from reelgraph.contrib.server.runs import RunManager

__all__ = ["QUICK_ACTIONS", "quick_routes", "run_and_wait", "still_running"]

#: quick action -> the spec output holding its JSON
QUICK_ACTIONS = {
    "lesson-plan": "lesson_plan_json",
    "assessment": "assessment_json",
    "feedback": "feedback_json",
}


def _documents(documents: Any, folder: Path, cap: int) -> dict[str, str]:
    """Write each document under ``folder``; return ``{input name: path}``.

    Raises:
        HTTPException: 400 a malformed ``documents``; 413 more than ``cap`` bytes in all.
    """
    if not isinstance(documents, dict):
        raise HTTPException(400, "'documents' must be an object {input name: text}")
    texts: dict[str, tuple[str, bytes]] = {}
    for name, value in documents.items():
        if isinstance(value, str):
            filename, text = f"{name}.txt", value
        elif isinstance(value, dict) and isinstance(value.get("text"), str):
            filename, text = str(value.get("filename") or f"{name}.txt"), value["text"]
        else:
            raise HTTPException(400, f"documents.{name}: give the text, or {{filename, text}}")
        texts[name] = (safe_upload_name(filename, name), text.encode())
    if sum(len(data) for _, data in texts.values()) > cap:
        raise HTTPException(413, f"documents are over the {cap} byte upload cap")
    paths: dict[str, str] = {}
    for name, (filename, data) in texts.items():
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / filename
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
        paths[name] = str(target)
    return paths


def _result(data: dict[str, Any], output: str) -> Any:
    """The workflow's JSON output, parsed; None when the run did not write it."""
    path = data["outputs"].get(output)
    if not isinstance(path, str) or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


async def run_and_wait(
    kernel: Any,
    manager: RunManager,
    spec: Any,
    body: dict[str, Any],
    documents: Any,
    cap: int,
) -> tuple[str, dict[str, Any] | None]:
    """Save ``documents``, start ``spec`` with ``body["inputs"]`` and wait up to ``timeout_s``.

    Returns the run id and ``describe_run``'s data, or None when the run is still going.

    Raises:
        HTTPException: 400 a malformed body, 413 documents over ``cap`` bytes, 422 a spec
            or inputs that do not validate (nothing is left in the run directory then).
    """
    import shutil

    from reelgraph.cli.inspect import describe_run
    from reelgraph.errors import ReelgraphError
    from reelgraph.kernel import new_run_id

    inputs = body.get("inputs") or {}
    timeout_s = body.get("timeout_s", 300)
    if not isinstance(inputs, dict) or not isinstance(timeout_s, int | float):
        raise HTTPException(400, "'inputs' must be an object and 'timeout_s' a number")
    run_id = new_run_id()
    run_dir = manager.run_dir(run_id)
    try:
        inputs = {**inputs, **_documents(documents, run_dir / "uploads", cap)}
        plan = manager.check(spec, inputs)
        await manager.submit(plan, inputs, run_id=run_id, budget=body.get("budget"), cache=True)
    except ReelgraphError as err:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise http_error(err) from None
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    try:
        # shielded: a client that hangs up does not cancel the run
        await asyncio.wait_for(asyncio.shield(manager.tasks[run_id]), max(0.0, float(timeout_s)))
    except TimeoutError:
        return run_id, None
    return run_id, describe_run(kernel, run_id)


def still_running(kernel: Any, run_id: str) -> JSONResponse:
    """202 with the run id and status: the run goes on; follow its events."""
    row = kernel.store.get_run(run_id)
    return JSONResponse({"run": run_id, "status": row.status}, status_code=202)


def quick_routes(app: FastAPI, kernel: Any, manager: RunManager, cap: int) -> None:
    """Add ``POST /api/workflows/quick/{name}`` to ``app``."""

    @app.post("/api/workflows/quick/{name}", tags=["quick actions"])
    async def quick_action(name: str, body: Annotated[dict[str, Any] | None, Body()] = None) -> Any:
        """Run ``lesson-plan``, ``assessment`` or ``feedback`` and answer with its JSON."""
        from reelgraph.spec.model import shipped_specs

        body = body or {}
        spec = shipped_specs().get(name)
        if name not in QUICK_ACTIONS or spec is None:
            known = ", ".join(n for n in QUICK_ACTIONS if n in shipped_specs())
            raise HTTPException(404, f"no quick action {name!r} (installed: {known or 'none'})")
        run_id, data = await run_and_wait(
            kernel, manager, str(spec), body, body.get("documents") or {}, cap
        )
        if data is None:
            return still_running(kernel, run_id)
        return {
            "run": run_id,
            "status": data["status"],
            "error": data["error"],
            "questions": data["questions"],
            "outputs": data["outputs"],
            "result": _result(data, QUICK_ACTIONS[name]),
        }
