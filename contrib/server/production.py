"""The brief -> plan endpoints: ``POST /api/production/{script,shots,plan,stream}``.

Each runs the part of the shipped ``production-plan`` spec its stage needs
(the stage's node and every node it depends on, taken from the spec's DAG) and
answers with that node's result as JSON: ``script`` the Script
(``write_script``), ``shots`` the ShotList (``design_shots``), ``plan`` the
ProductionPlan (``plan_production``). Body: ``{"brief": text or {"filename",
"text"}, "inputs": {other inputs of production-plan}, "timeout_s": 300}``; the
brief is saved in the run's ``uploads/`` (YAML, JSON or Markdown with front
matter, told apart by the file name: ``brief.md`` by default).

``POST /api/production/stream`` (same body, no ``timeout_s``) runs the whole spec
and answers with Server-Sent Events: ``run`` first (``{"run": id}``: follow
``/api/runs/{id}/events/stream`` after a dropped connection), then one ``stage``
event per result as soon as its node succeeded (``{"stage": "brief" | "plan" |
"script" | "shots" | "production", "result": JSON}``), and ``done`` (``{"status",
"error"}``) when the run stops; then the stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from sse_starlette import EventSourceResponse

from reelgraph.contrib.server.quick import run_and_wait, still_running
from reelgraph.contrib.server.runs import RunManager

__all__ = ["STAGES", "production_routes", "stage_results", "stage_spec"]

#: the production-plan nodes whose results the stream sends, in pipeline order
STREAMED = ("brief", "plan", "script", "shots", "production")

#: endpoint -> the production-plan node whose result it answers with
STAGES = {"script": "script", "shots": "shots", "plan": "production"}


def stage_spec(kernel: Any, stage: str) -> dict[str, Any]:
    """The shipped production-plan spec cut down to ``stage``'s node and its ancestors.

    Raises:
        HTTPException: 404 when production-plan is not installed.
    """
    import json

    import networkx as nx

    from reelgraph.spec.model import shipped_specs
    from reelgraph.spec.stored import spec_text

    path = shipped_specs().get("production-plan")
    if path is None:
        raise HTTPException(404, "the production-plan spec is not installed")
    plan = kernel.plan(str(path))
    target = STAGES[stage]
    keep = nx.ancestors(plan.graph, target) | {target}
    data = json.loads(spec_text(plan.spec, plan.spec.budget))
    data["name"] = f"production-{stage}"
    data["nodes"] = [node for node in data["nodes"] if node["id"] in keep]
    data["outputs"] = {stage: f"${target}"}
    return data


async def stage_results(
    kernel: Any, manager: RunManager, run_id: str, *, poll_s: float
) -> AsyncIterator[dict[str, str]]:
    """SSE messages: ``run``, each streamed node's result once it succeeded, then ``done``."""
    import asyncio
    import json

    from reelgraph.run.result import jsonable
    from reelgraph.store.serialize import load_value

    yield {"event": "run", "data": json.dumps({"run": run_id})}
    sent: set[str] = set()
    while True:
        finished = not manager.live(run_id)  # read before the nodes: none is missed
        for node in kernel.store.get_nodes(run_id):
            if node.node_id in STREAMED and node.status == "succeeded" and node.node_id not in sent:
                sent.add(node.node_id)
                value = jsonable(load_value(node.output, kernel.artifacts, verify=False))
                data = {"stage": node.node_id, "result": value}
                yield {"event": "stage", "id": str(len(sent)), "data": json.dumps(data)}
        if finished:
            row = kernel.store.get_run(run_id)
            yield {
                "event": "done",
                "data": json.dumps({"status": row.status, "error": row.error}),
            }
            return
        await asyncio.sleep(poll_s)


def production_routes(
    app: FastAPI, kernel: Any, manager: RunManager, cap: int, poll_s: float
) -> None:
    """Add ``POST /api/production/{stream,script,shots,plan}`` to ``app``."""

    @app.post("/api/production/stream", tags=["production"])
    async def production_stream(
        body: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> EventSourceResponse:
        """Run the whole production-plan spec; stream each stage's result as it exists."""
        from reelgraph.spec.model import shipped_specs

        path = shipped_specs().get("production-plan")
        if path is None:
            raise HTTPException(404, "the production-plan spec is not installed")
        body = {**(body or {}), "timeout_s": 0}  # start it, do not wait
        run_id, _ = await run_and_wait(kernel, manager, str(path), body, _brief(body), cap)
        return EventSourceResponse(stage_results(kernel, manager, run_id, poll_s=poll_s))

    @app.post("/api/production/{stage}", tags=["production"])
    async def production_stage(
        stage: str, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> Any:
        """Run the brief through ``stage`` (script, shots or plan) and answer with its JSON."""
        if stage not in STAGES:
            raise HTTPException(404, f"no production stage {stage!r} (script, shots, plan)")
        body = body or {}
        run_id, data = await run_and_wait(
            kernel, manager, stage_spec(kernel, stage), body, _brief(body), cap
        )
        if data is None:
            return still_running(kernel, run_id)
        return {
            "run": run_id,
            "status": data["status"],
            "error": data["error"],
            "result": data["outputs"].get(stage),
        }


def _brief(body: dict[str, Any]) -> dict[str, Any]:
    """``{"brief": {filename, text}}`` from a body's ``brief`` (text or that object); 400 without."""
    brief = body.get("brief")
    if isinstance(brief, str):
        brief = {"filename": "brief.md", "text": brief}
    if not isinstance(brief, dict):
        raise HTTPException(400, "'brief' is required: the brief's text, or {filename, text}")
    return {"brief": brief}
