"""``GET /api/stats``: run analytics over the run store, as ``reelgraph stats --json`` prints
them; ``GET /api/specs/NAME/estimate``: what ``reelgraph plan NAME`` estimates from them.

The figures are :func:`reelgraph.store.stats.read_stats`'s (see that module for
what a call, a retry, a fallback and the critical path are); the response
models below only document their shape on the OpenAPI page. The store is read,
and each spec's DAG planned, in a worker thread: the event loop never waits on
them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

__all__ = ["EstimateResponse", "StatsResponse", "stats_routes"]


class ProviderFigures(BaseModel):
    """One provider of one hook. Seconds are wall seconds of successful attempts."""

    hook: str
    provider: str = Field(description="the plugin that ran the attempts; '(any)' if unnamed")
    runs: int
    calls: int = Field(description="attempt 1 and its retries, per node or map item")
    succeeded: int
    attempts: int
    retries: int = Field(description="attempts numbered 2 or more")
    retried_calls: int
    retry_succeeded: int = Field(description="calls with retries whose last attempt succeeded")
    fallbacks: int = Field(description="node.fallback events after this provider's calls failed")
    cost_usd: float = Field(description="US dollars its attempts reported")
    success_rate: float | None
    p50_s: float | None
    p95_s: float | None


class NodeFigures(BaseModel):
    """A node over the spec's recent complete runs (succeeded, not from the cache)."""

    node: str
    hook: str
    provider: str | None
    runs: int
    median_s: float
    p95_s: float
    median_cost_usd: float


class SpecFigures(BaseModel):
    """One spec: statuses, trends (least-squares slope per run, oldest to newest), gates
    (``[passed, checked]`` per gate) and its critical path by median node seconds."""

    spec: str
    runs: int
    statuses: dict[str, int]
    cost_usd: float
    recent: list[dict[str, Any]] = Field(
        description="the last runs, oldest first: id, status, started_at, seconds, cost_usd"
    )
    median_s: float | None
    median_cost_usd: float | None
    slope_s_per_run: float | None
    slope_usd_per_run: float | None
    gates: dict[str, list[int]]
    critical_path: list[NodeFigures]
    critical_path_s: float | None
    slowest_on_critical_path: list[str]


class EstimateResponse(BaseModel):
    """``reelgraph plan SPEC --json``'s ``estimate``: medians over the spec's recent
    complete runs; ``history_runs`` 0 when there is none."""

    spec: str
    history_runs: int
    nodes: list[NodeFigures]
    critical_path: list[str]
    critical_path_s: float | None = Field(description="estimated duration, seconds")
    cost_usd: float | None = Field(description="estimated cost, US dollars")
    unmeasured: list[str] = Field(description="nodes with no history")


class StatsResponse(BaseModel):
    """Everything ``reelgraph stats --json`` prints (without ``store``)."""

    filter: dict[str, Any]
    providers: list[ProviderFigures]
    specs: list[SpecFigures]


def stats_routes(app: FastAPI, kernel: Any) -> None:
    """Add ``GET /api/stats`` to ``app``, reading ``kernel``'s run store."""

    @app.get("/api/stats", tags=["stats"], response_model=StatsResponse)
    async def run_stats(
        spec: Annotated[str | None, Query(description="only runs of this spec")] = None,
        since: Annotated[
            str | None,
            Query(description="only runs started since: 30m, 12h, 7d, 2w, or an ISO 8601 date"),
        ] = None,
        last: Annotated[
            int, Query(ge=1, le=1000, description="recent complete runs per spec for trends")
        ] = 20,
    ) -> dict[str, Any]:
        """Per hook and provider: calls, success rate, p50/p95 seconds, retries, fallbacks,
        US dollars; per spec: statuses, duration and cost trends, gate verdicts and the
        slowest nodes on the critical path. 400 for a ``since`` of no known form."""
        from anyio import to_thread

        from reelgraph.cli.stats import graph_of, parse_since
        from reelgraph.store.stats import read_stats

        try:
            since_ts = parse_since(since)
        except ValueError as err:
            raise HTTPException(400, str(err)) from None

        def read() -> dict[str, Any]:
            return read_stats(
                kernel.store, spec=spec, since=since_ts, last=last, graph_of=graph_of(kernel)
            )

        return await to_thread.run_sync(read)

    @app.get("/api/specs/{name}/estimate", tags=["stats"], response_model=EstimateResponse)
    async def spec_estimate(
        name: str,
        last: Annotated[int, Query(ge=1, le=1000, description="recent complete runs")] = 20,
    ) -> dict[str, Any]:
        """A shipped spec's estimated seconds and US dollars per node and its critical path,
        from the history of runs of a spec of that name (what ``reelgraph plan`` prints);
        404 for no such shipped spec, 422 when it does not plan with the installed plugins."""
        from anyio import to_thread

        from reelgraph.cli.stats import plan_estimate
        from reelgraph.spec.model import shipped_specs

        path = shipped_specs().get(name)
        if path is None:
            raise HTTPException(404, f"no shipped spec {name!r} (GET /api/specs lists them)")

        def estimate() -> dict[str, Any]:
            from reelgraph.contrib.server.errors import http_error
            from reelgraph.errors import SpecError

            try:
                plan = kernel.plan(str(path))
            except SpecError as err:  # e.g. a plugin it names is not installed here
                raise http_error(err) from None
            return plan_estimate(kernel, plan, last)

        return await to_thread.run_sync(estimate)
