"""The FastAPI application of ``reelgraph serve``: specs, runs, events, artifacts, costs.

Every request needs ``Authorization: Bearer <token>`` (RFC 6750 section 2.1)
when the server has a token; the comparison is constant-time
(:func:`hmac.compare_digest`) and the token is never logged. The OpenAPI page is
``/docs`` (the schema ``/openapi.json``). Errors are JSON ``{"detail": "..."}``:
400 a malformed request, 401 a missing or wrong token, 403 a file outside the
run, 404 no such spec, run or file, 409 a run held by another process or not in
a state for the action, 413 an upload over the cap, 422 a spec or inputs that
do not validate (with ``problems``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPBearer
from sse_starlette import EventSourceResponse

from reelgraph.contrib.server import events as streams
from reelgraph.contrib.server.dashboard import dashboard_routes
from reelgraph.contrib.server.dashboard_auth import authorized
from reelgraph.contrib.server.errors import http_error, problems, run_row
from reelgraph.contrib.server.files import FileRefused, list_files, resolve_file, safe_upload_name
from reelgraph.contrib.server.production import production_routes
from reelgraph.contrib.server.quick import quick_routes
from reelgraph.contrib.server.runs import RunManager
from reelgraph.contrib.server.stats import stats_routes

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class BearerAuth:
    """ASGI middleware: refuse any HTTP request without ``Authorization: Bearer <token>``
    (or the dashboard's session cookie, :mod:`reelgraph.contrib.server.dashboard_auth`)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            response = JSONResponse(
                {"detail": "missing or wrong token: send 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        # the Bearer header or the dashboard's session cookie, both by hmac.compare_digest
        return authorized(scope, self.token)


def create_app(
    kernel: Any,
    *,
    token: str | None = None,
    max_upload_bytes: int = 50 * 2**20,
    poll_s: float = 0.2,
    ping_s: float = 15.0,
) -> FastAPI:
    """The HTTP API over ``kernel`` (a :class:`reelgraph.Kernel` with the run store on).

    Args:
        kernel: the kernel runs execute in; its store is read by every endpoint.
        token: the Bearer token every request must carry; None: no check (loopback only,
            enforced by :func:`reelgraph.contrib.server.cli.check_bind`).
        max_upload_bytes: the largest request body ``POST /api/runs/with-files`` takes (bytes).
        poll_s: seconds between two reads of the run store by an event stream.
        ping_s: seconds between keep-alive comments on an idle event stream.
    """
    manager = RunManager(kernel)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await manager.shutdown()  # runs in flight end cancelled, resumable

    app = FastAPI(
        title="reelgraph",
        summary="Run reelgraph specs over HTTP and follow their events.",
        lifespan=lifespan,
        # documents the Bearer scheme on the OpenAPI page; BearerAuth enforces it
        dependencies=[Depends(HTTPBearer(auto_error=False))],
    )
    app.state.manager = manager
    if token:
        app.add_middleware(BearerAuth, token=token)
    _spec_routes(app, kernel)
    _run_routes(app, kernel, manager, max_upload_bytes)
    _event_routes(app, kernel, poll_s, ping_s)
    _file_routes(app, kernel, manager)
    quick_routes(app, kernel, manager, max_upload_bytes)
    production_routes(app, kernel, manager, max_upload_bytes, poll_s)
    stats_routes(app, kernel)
    dashboard_routes(app, kernel, manager, token)  # the HTML pages: /, /runs/ID, /submit
    return app


# -- specs ----------------------------------------------------------------------------


def _shipped(name: str) -> Path:
    from reelgraph.spec.model import shipped_specs

    path = shipped_specs().get(name)
    if path is None:
        raise HTTPException(404, f"no shipped spec {name!r} (GET /api/specs lists them)")
    return path


def _spec_source(spec: Any) -> Any:
    """A request's ``spec``: a shipped spec's name, or a spec as a JSON object."""
    if isinstance(spec, str):
        return str(_shipped(spec))
    if isinstance(spec, dict):
        return spec
    raise HTTPException(400, "'spec' must be a shipped spec's name or a spec object")


def _graph_json(plan: Any) -> dict[str, Any]:
    nodes = [
        {
            "id": node_id,
            "hook": plan.nodes[node_id].hook,
            "provider": plan.nodes[node_id].provider,
            "map": plan.nodes[node_id].map_ref is not None,
        }
        for node_id in plan.order
    ]
    edges = [{"source": s, "target": t} for s, t in sorted(plan.graph.edges)]
    return {"spec": plan.spec.name, "nodes": nodes, "edges": edges}


def _spec_routes(app: FastAPI, kernel: Any) -> None:
    from reelgraph.errors import SpecError

    @app.get("/api/specs", tags=["specs"])
    async def list_specs() -> list[dict[str, str]]:
        """The shipped specs: ``[{"name", "file"}]``."""
        from reelgraph.spec.model import shipped_specs

        return [{"name": n, "file": p.name} for n, p in sorted(shipped_specs().items())]

    @app.get("/api/specs/{name}", tags=["specs"])
    async def get_spec(name: str) -> dict[str, Any]:
        """A shipped spec: its YAML ``text`` and its inputs."""
        path = _shipped(name)
        spec = kernel.plan(str(path)).spec
        inputs = {
            n: {"type": d.type, "required": d.required, "default": d.default}
            for n, d in spec.inputs.items()
        }
        return {"name": spec.name, "text": path.read_text(encoding="utf-8"), "inputs": inputs}

    @app.post("/api/specs/validate", tags=["specs"])
    async def validate_spec(spec: Annotated[Any, Body(embed=True)]) -> dict[str, Any]:
        """Validate a spec (a shipped name or an object): ``{"valid", "order", "problems"}``."""
        try:
            plan = kernel.plan(_spec_source(spec))
        except SpecError as err:
            return {"valid": False, "order": [], "problems": problems(err)}
        return {"valid": True, "order": plan.order, "problems": []}

    @app.post("/api/specs/graph", tags=["specs"])
    async def inline_spec_graph(
        spec: Annotated[Any, Body(embed=True)],
        format: Annotated[str, Body(embed=True, pattern="^(json|mermaid)$")] = "json",
    ) -> Any:
        """The DAG of a spec given in the body (a name or an object); 422 when it is invalid."""
        try:
            plan = kernel.plan(_spec_source(spec))
        except SpecError as err:
            raise http_error(err) from None
        if format == "mermaid":
            from reelgraph.cli.display import mermaid

            return PlainTextResponse(mermaid(plan))
        return _graph_json(plan)

    @app.get("/api/specs/{name}/graph", tags=["specs"])
    async def spec_graph(name: str, format: str = Query("json", pattern="^(json|mermaid)$")) -> Any:
        """The DAG as ``{"nodes", "edges"}`` JSON, or ``format=mermaid``: a Mermaid flowchart."""
        plan = kernel.plan(str(_shipped(name)))
        if format == "mermaid":
            from reelgraph.cli.display import mermaid

            return PlainTextResponse(mermaid(plan))
        return _graph_json(plan)


# -- runs -----------------------------------------------------------------------------


def _summary(row: Any, manager: RunManager) -> dict[str, Any]:
    return {
        "id": row.id,
        "spec": row.spec,
        "status": row.status,
        "live": manager.live(row.id),
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "seconds": row.seconds,
        "cost_usd": row.cost_usd,
        "error": row.error,
    }


async def _submit(
    kernel: Any, manager: RunManager, body: dict[str, Any], run_id: str
) -> dict[str, Any]:
    from reelgraph.errors import ReelgraphError

    inputs = body.get("inputs") or {}
    budget = body.get("budget")
    if not isinstance(inputs, dict) or not (budget is None or isinstance(budget, dict)):
        raise HTTPException(400, "'inputs' and 'budget' must be JSON objects")
    try:
        plan = manager.check(_spec_source(body.get("spec")), inputs)
        await manager.submit(
            plan, inputs, run_id=run_id, budget=budget, cache=bool(body.get("cache", True))
        )
    except ReelgraphError as err:
        raise http_error(err) from None
    return _summary(kernel.store.get_run(run_id), manager)


async def _save_uploads(form: Any, run_dir: Path, cap: int) -> dict[str, str]:
    """Each file part of ``form`` saved under ``run_dir/uploads``: ``{field name: path}``."""
    folder = run_dir / "uploads"
    saved: dict[str, str] = {}
    for field, value in form.multi_items():
        if isinstance(value, str):
            continue
        if value.size is not None and value.size > cap:
            raise HTTPException(413, f"upload {field!r} is over the {cap} byte cap")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe_upload_name(value.filename, field)
        partial = target.with_name(target.name + ".part")
        with partial.open("wb") as out:
            shutil.copyfileobj(value.file, out)
        partial.replace(target)  # never a half-written upload under its real name
        saved[field] = str(target)
    return saved


def _capped(receive: Any, cap: int) -> Any:
    """``receive`` that raises 413 once the request body passes ``cap`` bytes."""
    seen = 0

    async def wrapped() -> Any:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise HTTPException(413, f"request body is over the {cap} byte upload cap")
        return message

    return wrapped


def _run_routes(app: FastAPI, kernel: Any, manager: RunManager, cap: int) -> None:
    from reelgraph.errors import ReelgraphError

    @app.post("/api/runs", status_code=201, tags=["runs"])
    async def submit_run(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        """Start a run: ``{"spec": name or object, "inputs": {}, "budget": {}, "cache": true}``.

        ``budget`` takes ``max_cost_usd`` (US dollars) and ``max_duration_s`` (seconds).
        Answers 201 with the run once the store has it; it runs in the server's event loop.
        """
        from reelgraph.kernel import new_run_id

        return await _submit(kernel, manager, body, new_run_id())

    @app.post("/api/runs/with-files", status_code=201, tags=["runs"])
    async def submit_run_with_files(request: Request) -> dict[str, Any]:
        """Start a run with uploaded documents (``multipart/form-data``).

        The form field ``request`` holds the JSON of ``POST /api/runs``; every file part
        is saved in ``<run dir>/uploads/`` and given as the input its field names.
        Bodies over the server's cap (``--max-upload-mb``) are refused with 413.
        """
        from reelgraph.kernel import new_run_id

        declared = int(request.headers.get("content-length") or 0)
        if declared > cap:
            raise HTTPException(413, f"request body is over the {cap} byte upload cap")
        run_id = new_run_id()
        run_dir = manager.run_dir(run_id)
        try:
            capped = Request(request.scope, _capped(request.receive, cap))
            async with capped.form(max_files=20) as form:
                raw = form.get("request")
                body = json.loads(raw) if isinstance(raw, str) else {}
                if not isinstance(body, dict):
                    raise HTTPException(400, "the 'request' field must be a JSON object")
                uploads = await _save_uploads(form, run_dir, cap)
            body["inputs"] = {**(body.get("inputs") or {}), **uploads}
            return await _submit(kernel, manager, body, run_id)
        except json.JSONDecodeError as err:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise HTTPException(400, f"the 'request' field is not JSON: {err}") from None
        except BaseException:
            if kernel.store.get_run(run_id) is None:
                shutil.rmtree(run_dir, ignore_errors=True)  # nothing half-made is left
            raise

    @app.get("/api/runs", tags=["runs"])
    async def list_runs(
        status: str | None = None,
        spec: str | None = None,
        since: Annotated[
            str | None,
            Query(description="started since: Unix seconds, 30m, 12h, 7d, 2w or an ISO date"),
        ] = None,
        limit: int = Query(50, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """Runs, newest first, filtered by ``status``, ``spec`` and start time ``since``."""
        from anyio import to_thread

        from reelgraph.cli.stats import parse_since

        try:
            since_ts = parse_since(since)
        except ValueError as err:
            raise HTTPException(400, str(err)) from None

        def read() -> list[Any]:
            return kernel.store.list_runs(limit, status=status, spec=spec, since=since_ts)

        return [_summary(r, manager) for r in await to_thread.run_sync(read)]

    @app.get("/api/runs/{run_id}", tags=["runs"])
    async def get_run(run_id: str) -> dict[str, Any]:
        """A run as ``reelgraph show --json`` prints it, plus ``live``."""
        from reelgraph.cli.inspect import describe_run

        row = run_row(kernel, run_id)
        return {**describe_run(kernel, row.id), "live": manager.live(row.id)}

    @app.get("/api/runs/{run_id}/graph", tags=["runs"])
    async def run_graph(run_id: str) -> dict[str, Any]:
        """The run's DAG with each node's state: ``{"nodes": [{id, hook, provider, map,
        status, attempts, cached, seconds, cost_usd, error}], "edges": [{source, target}]}``.

        ``status`` is ``pending`` for a node that has not started.
        """
        from reelgraph.errors import SpecError
        from reelgraph.spec.stored import stored_spec

        row = run_row(kernel, run_id)
        try:
            plan = kernel.plan(stored_spec(row), row.inputs)
        except SpecError as err:
            raise HTTPException(409, f"the run's spec no longer validates: {err}") from None
        graph = _graph_json(plan)
        states = {n.node_id: n for n in kernel.store.get_nodes(row.id)}
        for node in graph["nodes"]:
            state = states.get(node["id"])
            node["status"] = state.status if state else "pending"
            for field in ("attempts", "cached", "seconds", "cost_usd", "error"):
                node[field] = getattr(state, field) if state else None
        return {"run": row.id, "status": row.status, **graph}

    @app.post("/api/runs/{run_id}/cancel", status_code=202, tags=["runs"])
    async def cancel_run(run_id: str) -> dict[str, Any]:
        """Cancel a run this server executes; it is recorded ``cancelled`` (resumable)."""
        row = run_row(kernel, run_id)
        if not await manager.cancel(row.id):
            raise HTTPException(409, f"run {row.id} is not running in this server")
        return _summary(kernel.store.get_run(row.id), manager)

    @app.post("/api/runs/{run_id}/resume", status_code=202, tags=["runs"])
    async def resume_run(
        run_id: str, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> dict[str, Any]:
        """Resume a failed, cancelled, over-budget or orphaned run.

        Body (all optional): ``{"budget": {"max_cost_usd": 10}, "force": false,
        "inputs": {secret inputs, which are never stored}}``.

        A run left ``running`` by a server that died is taken over (its lease's
        process is gone); 409 when another live process holds it.
        """
        body = body or {}
        row = run_row(kernel, run_id)
        try:
            await manager.resume(
                row.id,
                budget=body.get("budget"),
                force=bool(body.get("force", False)),
                cache=bool(body.get("cache", True)),
                inputs=body.get("inputs"),
            )
        except ReelgraphError as err:
            raise http_error(err) from None
        return _summary(kernel.store.get_run(row.id), manager)

    @app.post("/api/runs/{run_id}/answers", status_code=202, tags=["runs"])
    async def answer_run(
        run_id: str, answers: Annotated[dict[str, str], Body(embed=True)]
    ) -> dict[str, Any]:
        """Answer a ``needs_input`` run's questions (``{"answers": {key: text}}``); it resumes."""
        row = run_row(kernel, run_id)
        try:
            await manager.answer(row.id, answers)
        except ReelgraphError as err:
            raise http_error(err) from None
        return _summary(kernel.store.get_run(row.id), manager)

    @app.get("/api/runs/{run_id}/quality", tags=["runs"])
    async def run_quality(run_id: str) -> dict[str, Any]:
        """The run's gate results (``check_quality`` nodes): ``{"passed", "gates"}``."""
        from reelgraph.cli.inspect import describe_run

        gates = describe_run(kernel, run_row(kernel, run_id).id)["quality"]
        return {"passed": all(g["passed"] for g in gates), "gates": gates}

    @app.get("/api/runs/{run_id}/timeline", tags=["runs"])
    async def run_timeline(
        run_id: str, format: str = Query("json", pattern="^(json|chrome|csv)$")
    ) -> Any:
        """Every attempt in lanes (one per call in flight): JSON rows, ``format=chrome``
        (Chrome trace JSON, opens in Perfetto) or ``format=csv``."""
        from reelgraph.contrib.server.timeline import chrome_trace, timeline, timeline_csv

        row = run_row(kernel, run_id)
        rows = timeline(kernel.store, row.id)
        if format == "chrome":
            headers = {"Content-Disposition": f'attachment; filename="{row.id}.trace.json"'}
            return JSONResponse(chrome_trace(row.id, rows), headers=headers)
        if format == "csv":
            headers = {"Content-Disposition": f'attachment; filename="{row.id}.csv"'}
            return PlainTextResponse(timeline_csv(rows), media_type="text/csv", headers=headers)
        return rows

    @app.get("/api/runs/{run_id}/costs", tags=["runs"])
    async def run_costs(run_id: str) -> dict[str, Any]:
        """Costs in US dollars: ``{"total_usd", "by_node", "entries": [{node, usd, detail}]}``."""
        row = run_row(kernel, run_id)
        entries = [
            {"node": node, "usd": usd, "detail": detail}
            for node, usd, detail in kernel.store.get_costs(row.id)
        ]
        by_node: dict[str, float] = {}
        for entry in entries:
            key = entry["node"] or "(run)"
            by_node[key] = by_node.get(key, 0.0) + entry["usd"]
        return {"total_usd": row.cost_usd, "by_node": by_node, "entries": entries}


# -- events ---------------------------------------------------------------------------


def _event_routes(app: FastAPI, kernel: Any, poll_s: float, ping_s: float) -> None:
    @app.get("/api/runs/{run_id}/events", tags=["events"])
    async def list_events(run_id: str) -> list[dict[str, Any]]:
        """Every stored event of the run: ``[{"id", "run_id", "ts", "type", "node", "data"}]``."""
        row = run_row(kernel, run_id)
        return [
            streams.event_json(row.id, e.seq, e.as_tuple())
            for e in kernel.store.read_events(row.id)
        ]

    @app.get("/api/runs/{run_id}/events/stream", tags=["events"])
    async def stream_run_events(run_id: str, request: Request) -> EventSourceResponse:
        """The run's events as Server-Sent Events; ``Last-Event-ID`` resumes after that id."""
        row = run_row(kernel, run_id)
        try:
            after = streams.parse_index(request.headers.get("last-event-id"))
        except ValueError:
            raise HTTPException(400, "Last-Event-ID must be an event id of this run") from None
        source = streams.run_events(kernel.store, row.id, after, poll_s=poll_s)
        return EventSourceResponse(source, ping=ping_s)

    @app.get("/api/events/stream", tags=["events"])
    async def stream_all_events(request: Request) -> EventSourceResponse:
        """Events of every run as Server-Sent Events, from now or after ``Last-Event-ID``
        (ids are the store's event ids, increasing in commit order)."""
        last = request.headers.get("last-event-id")
        try:
            after = streams.parse_index(last) if last else await streams.snapshot(kernel.store)
        except ValueError:
            raise HTTPException(400, "Last-Event-ID is not an id from this stream") from None
        source = streams.all_runs_events(kernel.store, after, poll_s=poll_s)
        return EventSourceResponse(source, ping=ping_s)


# -- artifacts ------------------------------------------------------------------------


def _file_routes(app: FastAPI, kernel: Any, manager: RunManager) -> None:
    @app.get("/api/runs/{run_id}/artifacts", tags=["artifacts"])
    async def list_artifacts(run_id: str) -> list[dict[str, Any]]:
        """Files in the run directory: ``[{"path", "bytes"}]`` (paths relative to it)."""
        return list_files(manager.run_dir(run_row(kernel, run_id).id))

    @app.get("/api/runs/{run_id}/artifacts/{path:path}", tags=["artifacts"])
    async def download_artifact(run_id: str, path: str) -> FileResponse:
        """One file of the run; honours ``Range`` (RFC 9110 section 14: 206 Partial Content)."""
        try:
            target = resolve_file(manager.run_dir(run_row(kernel, run_id).id), path)
        except FileRefused as err:
            raise HTTPException(err.status, str(err)) from None
        return FileResponse(target, filename=target.name)
