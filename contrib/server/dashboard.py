"""The dashboard of ``reelgraph serve``: server-rendered pages, live from the event streams.

Pages (HTML, Jinja2 templates in ``templates/``, scripts and styles in
``static/``; nothing is loaded from another site, so it works offline):

- ``/``: the runs (status, spec, started, duration, cost, quality verdict),
  filtered by ``?status=`` and ``?spec=``; the table is redrawn on every event of
  the all-runs stream (``/api/events/stream``).
- ``/runs/{id}``: one run: its DAG (laid out by networkx,
  :mod:`.dashboard_view`) coloured by node state, the timeline, the critical
  path, an ETA, cost and tokens per node, the quality report, the video with its
  captions, the clarifying questions with a form to answer them, export links.
  It follows ``/api/runs/{id}/events/stream``: each event recolours its node at
  once, and the rest is fetched again from ``/api/dashboard/runs/{id}``.
- ``/submit``: a shipped spec or one pasted as YAML/JSON, a form made from its
  inputs (file inputs upload), posted to ``/api/runs/with-files``.
- ``/login``: with a token, the form that sets the session cookie
  (:mod:`.dashboard_auth`).

The JSON the pages read: ``GET /api/dashboard/runs`` and
``GET /api/dashboard/runs/{id}``, and ``POST /api/dashboard/spec`` (a pasted
spec's object and inputs).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from reelgraph.contrib.server.dashboard_view import (
    NODE_HEIGHT_PX,
    NODE_WIDTH_PX,
    dag_layout,
    run_view,
    verdict,
)
from reelgraph.contrib.server.errors import http_error, run_row

__all__ = ["dashboard_routes"]

_HERE = Path(__file__).parent
#: run statuses the filter offers (reelgraph.run.result.Run.status, plus ``running``)
STATUSES = (
    "running",
    "succeeded",
    "failed",
    "failed_quality",
    "over_budget",
    "needs_input",
    "cancelled",
)


def dashboard_routes(app: FastAPI, kernel: Any, manager: Any, token: str | None) -> None:
    """Add the dashboard's pages, its JSON and its static files to ``app``.

    With a ``token``, the login middleware (:class:`.dashboard_auth.SessionLogin`)
    is added outside the app's token check, and uvicorn's access log blanks
    ``token=`` in logged URLs.
    """
    templates = Jinja2Templates(directory=_HERE / "templates")
    templates.env.globals["auth"] = bool(token)
    templates.env.filters["utc"] = _utc
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    if token:
        from reelgraph.contrib.server.dashboard_auth import RedactTokenQuery, SessionLogin

        def render_login(
            next_url: str = "/", error: str | None = None, status_code: int = 200
        ) -> Response:
            context = {"next_url": next_url, "error": error}
            return templates.TemplateResponse(
                _bare_request(), "login.html", context, status_code=status_code
            )

        app.add_middleware(SessionLogin, token=token, render_login=render_login)
        access = logging.getLogger("uvicorn.access")
        if not any(isinstance(f, RedactTokenQuery) for f in access.filters):
            access.addFilter(RedactTokenQuery())
    _pages(app, kernel, manager, templates)
    _data(app, kernel, manager)


def _utc(ts: float | None) -> str:
    """A Unix time (seconds) as ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _bare_request() -> Request:
    """A request for templates rendered outside a route (the login middleware's form)."""
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "app": None})


def _run_summary(kernel: Any, manager: Any, row: Any) -> dict[str, Any]:
    from reelgraph.cli.inspect import _quality

    gates = _quality(kernel, kernel.store.get_nodes(row.id))
    return {
        "id": row.id,
        "spec": row.spec,
        "status": row.status,
        "live": manager.live(row.id),
        "started_at": row.started_at,
        "seconds": row.seconds,
        "cost_usd": row.cost_usd,
        "verdict": verdict(gates, row.status),
    }


def _runs(
    kernel: Any, manager: Any, status: str | None, spec: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    rows = kernel.store.list_runs(1000 if status or spec else limit)
    rows = [r for r in rows if status in (None, "", r.status) and spec in (None, "", r.spec)]
    return [_run_summary(kernel, manager, r) for r in rows[:limit]]


def _plan_of(kernel: Any, row: Any) -> Any:
    from reelgraph.errors import SpecError
    from reelgraph.spec.stored import stored_spec

    try:
        return kernel.plan(stored_spec(row), row.inputs)
    except SpecError as err:
        raise HTTPException(409, f"the run's spec no longer validates: {err}") from None


async def _view(kernel: Any, manager: Any, run_id: str) -> tuple[Any, dict[str, Any]]:
    """The run's plan and its view; the store and the run's folder are read in a worker
    thread, so the event loop (the runs, the event streams) never waits on them."""
    from reelgraph.contrib.server.files import list_files

    row = run_row(kernel, run_id)
    plan = _plan_of(kernel, row)
    live = manager.live(row.id)

    def read() -> dict[str, Any]:
        files = list_files(manager.run_dir(row.id))
        return run_view(kernel, plan, row, live=live, files=files)

    return plan, await to_thread.run_sync(read)


def _pages(app: FastAPI, kernel: Any, manager: Any, templates: Jinja2Templates) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def runs_page(request: Request, status: str = "", spec: str = "") -> Response:
        runs = await to_thread.run_sync(_runs, kernel, manager, status, spec)
        specs = sorted({r.spec for r in await to_thread.run_sync(kernel.store.list_runs, 1000)})
        context = {
            "runs": runs,
            "status": status,
            "spec": spec,
            "statuses": STATUSES,
            "specs": specs,
        }
        return templates.TemplateResponse(request, "runs.html", context)

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    async def run_page(request: Request, run_id: str) -> Response:
        plan, view = await _view(kernel, manager, run_id)
        context = {
            "view": view,
            "layout": dag_layout(plan.graph, plan.order),
            "box": {"width": NODE_WIDTH_PX, "height": NODE_HEIGHT_PX},
            "states": {n["id"]: n for n in view["nodes"]},
        }
        return templates.TemplateResponse(request, "run.html", context)

    @app.get("/submit", response_class=HTMLResponse, include_in_schema=False)
    async def submit_page(request: Request) -> Response:
        from reelgraph.spec.model import shipped_specs

        context = {"specs": sorted(shipped_specs())}
        return templates.TemplateResponse(request, "submit.html", context)


def _data(app: FastAPI, kernel: Any, manager: Any) -> None:
    @app.get("/api/dashboard/runs", tags=["dashboard"])
    async def dashboard_runs(status: str = "", spec: str = "") -> list[dict[str, Any]]:
        """The runs list of the dashboard (latest 100, filtered): ``[{id, spec, status,
        live, started_at (Unix s), seconds, cost_usd (USD), verdict}]``; ``verdict`` is
        ``passed``, ``warnings``, ``failed`` or ``""`` (no quality gate ran)."""
        return await to_thread.run_sync(_runs, kernel, manager, status, spec)

    @app.get("/api/dashboard/runs/{run_id}", tags=["dashboard"])
    async def dashboard_run(run_id: str) -> dict[str, Any]:
        """What the run page shows (see ``dashboard_view.run_view``): node states, the
        timeline with retry, fallback and critical-path flags, the ETA (seconds), costs
        (USD) and tokens per node, the quality report, questions, the video and captions."""
        return (await _view(kernel, manager, run_id))[1]

    @app.post("/api/dashboard/spec", tags=["dashboard"])
    async def parse_spec(text: Annotated[str, Body(embed=True, max_length=1_000_000)]) -> Any:
        """A spec pasted as YAML or JSON: ``{"spec": object, "name", "inputs": {name:
        {type, required, default, description, enum}}}``; 422 with ``problems`` when
        it does not validate, 400 when it is not a YAML mapping."""
        import yaml

        from reelgraph.errors import SpecError

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise HTTPException(400, f"the spec is not YAML or JSON: {err}") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "the spec must be a mapping with 'name' and 'nodes'")
        try:
            spec = kernel.plan(data).spec
        except SpecError as err:
            raise http_error(err) from None
        return {"spec": data, "name": spec.name, "inputs": _inputs(spec)}

    @app.get("/api/dashboard/specs/{name}", tags=["dashboard"])
    async def shipped_spec_inputs(name: str) -> dict[str, Any]:
        """A shipped spec's inputs as ``POST /api/dashboard/spec`` gives them."""
        from reelgraph.spec.model import shipped_specs

        path = shipped_specs().get(name)
        if path is None:
            raise HTTPException(404, f"no shipped spec {name!r} (GET /api/specs lists them)")
        return {"spec": name, "name": name, "inputs": _inputs(kernel.plan(str(path)).spec)}


def _inputs(spec: Any) -> dict[str, dict[str, Any]]:
    """A spec's inputs for a form (secret inputs are typed as passwords by the page)."""
    return {
        name: {
            "type": decl.type,
            "required": decl.required,
            "default": decl.default,
            "description": decl.description,
            "enum": decl.enum,
            "secret": decl.secret,
        }
        for name, decl in spec.inputs.items()
    }
