"""The brief -> plan endpoints: ``POST /api/production/{script,shots,plan}``.

Each runs the part of the shipped ``production-plan`` spec its stage needs
(the stage's node and every node it depends on, taken from the spec's DAG) and
answers with that node's result as JSON: ``script`` the Script
(``write_script``), ``shots`` the ShotList (``design_shots``), ``plan`` the
ProductionPlan (``plan_production``). Body: ``{"brief": text or {"filename",
"text"}, "inputs": {other inputs of production-plan}, "timeout_s": 300}``; the
brief is saved in the run's ``uploads/`` (YAML, JSON or Markdown with front
matter, told apart by the file name: ``brief.md`` by default).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException

from reelgraph.contrib.server.quick import run_and_wait, still_running
from reelgraph.contrib.server.runs import RunManager

__all__ = ["STAGES", "production_routes", "stage_spec"]

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


def production_routes(app: FastAPI, kernel: Any, manager: RunManager, cap: int) -> None:
    """Add ``POST /api/production/{script,shots,plan}`` to ``app``."""

    @app.post("/api/production/{stage}", tags=["production"])
    async def production_stage(
        stage: str, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> Any:
        """Run the brief through ``stage`` (script, shots or plan) and answer with its JSON."""
        if stage not in STAGES:
            raise HTTPException(404, f"no production stage {stage!r} (script, shots, plan)")
        body = body or {}
        brief = body.get("brief")
        if isinstance(brief, str):
            brief = {"filename": "brief.md", "text": brief}
        if not isinstance(brief, dict):
            raise HTTPException(400, "'brief' is required: the brief's text, or {filename, text}")
        run_id, data = await run_and_wait(
            kernel, manager, stage_spec(kernel, stage), body, {"brief": brief}, cap
        )
        if data is None:
            return still_running(kernel, run_id)
        return {
            "run": run_id,
            "status": data["status"],
            "error": data["error"],
            "result": data["outputs"].get(stage),
        }
