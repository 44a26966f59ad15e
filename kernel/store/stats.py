"""Run analytics: what the run store recorded, summed up per provider, per spec and per node.

Every figure is read from the store (:mod:`reelgraph.store.runs`): attempts,
nodes, runs, ``node.fallback`` events and the gate results stored as the
outputs of ``check_quality`` nodes. Nothing is estimated from prices or
catalogs. Units: seconds, US dollars, Unix seconds for times.

Words, as counted here:

- an *attempt* is one row of ``attempts``: one try of a hook by one provider
  (the one that ran it: a fallback provider's attempts count for it);
- a *call* is one node's (or map item's) attempts by one provider in one
  execution: attempt 1, then its retries. It *succeeded* when its last
  attempt did; calls whose last attempt was cancelled, asked a question
  (``needs_input``) or is still running are left out of the rates;
- a *retry* is an attempt numbered 2 or more; a *retry that succeeded* is
  a call with retries that succeeded;
- a *fallback* is one ``node.fallback`` event, counted for the provider of
  the call that failed (the first attempt's provider of that node and item);
- *latency* is the wall seconds of a successful attempt; p50/p95 are
  percentiles with linear interpolation (numpy's default ``linear`` method,
  https://numpy.org/doc/stable/reference/generated/numpy.percentile.html);
- a *complete* run ended ``succeeded`` or ``failed_quality`` (its pipeline
  ran to the end); duration and cost trends and node timings use those.

The critical path of a spec is the longest path through its DAG when each
node weighs its median recorded seconds (networkx ``dag_longest_path``): the
chain of nodes that sets the run's duration when nothing else waits. The
DAG comes from the caller (``Kernel.plan``), so this module loads no plugin.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import networkx as nx

    from reelgraph.store.runs import RunStore

__all__ = [
    "COMPLETE",
    "NodeEstimate",
    "ProviderStats",
    "SpecStats",
    "critical_path",
    "node_history",
    "percentile",
    "provider_stats",
    "read_stats",
    "spec_names",
    "spec_stats",
]

#: run statuses whose pipeline ran to its end
COMPLETE = ("succeeded", "failed_quality")
#: attempt statuses that say nothing of the provider (left out of rates)
_NOT_AN_OUTCOME = ("cancelled", "needs_input", "running")
_ANY = "(any)"  # a node that named no provider: pluggy chose
#: a node row whose seconds measure its work: it succeeded, and not from the cache
_MEASURED = "status = 'succeeded' AND cached = 0 AND seconds IS NOT NULL"


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation; ``None`` for no values."""
    import numpy

    data = list(values)
    return float(numpy.percentile(data, q)) if data else None


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(slots=True)
class ProviderStats:
    """What one provider did for one hook (see the module for the words).

    ``latencies_s`` holds each successful attempt's seconds; ``cost_usd`` sums
    what its attempts reported (US dollars).
    """

    hook: str
    provider: str
    runs: int = 0
    calls: int = 0
    succeeded: int = 0
    attempts: int = 0
    retries: int = 0
    retried_calls: int = 0
    retry_succeeded: int = 0
    fallbacks: int = 0
    cost_usd: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    @property
    def success_rate(self) -> float | None:
        """Calls that succeeded / calls (``None`` before any call)."""
        return self.succeeded / self.calls if self.calls else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures, rounded, without the raw latencies."""
        data = asdict(self)
        latencies = data.pop("latencies_s")
        data["success_rate"] = _round(self.success_rate)
        data["p50_s"] = _round(percentile(latencies, 50))
        data["p95_s"] = _round(percentile(latencies, 95))
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


def _where(spec: str | None, since: float | None, alias: str = "r") -> tuple[str, list[Any]]:
    terms: list[str] = ["1 = 1"]
    params: list[Any] = []
    if spec is not None:
        terms.append(f"{alias}.spec = ?")
        params.append(spec)
    if since is not None:
        terms.append(f"{alias}.started_at >= ?")
        params.append(since)
    return " AND ".join(terms), params


class _Attempt(NamedTuple):
    run_id: str
    node_id: str
    item: int  # -1: not a map item
    number: int
    status: str
    seconds: float | None
    cost_usd: float | None
    provider: str
    hook: str

    def same_call(self, other: _Attempt) -> bool:
        """Whether ``other`` is of the same node, item and provider (a retry if numbered > 1)."""
        return (self.run_id, self.node_id, self.item, self.provider) == (
            other.run_id, other.node_id, other.item, other.provider,
        )  # fmt: skip


def provider_stats(
    store: RunStore, *, spec: str | None = None, since: float | None = None
) -> list[ProviderStats]:
    """Per hook and provider, over runs of ``spec`` (all specs) started since ``since``.

    Sorted by hook, then provider. Raises :class:`~reelgraph.store.runs.StoreError`
    when the store cannot be read.
    """
    where, params = _where(spec, since)
    attempts = store._read(
        "stats: attempts",
        "SELECT a.run_id, a.node_id, a.item_index, a.attempt, a.status, a.seconds,"
        " a.cost_usd, COALESCE(a.provider, n.provider), n.hook"
        " FROM attempts a JOIN nodes n ON n.run_id = a.run_id AND n.node_id = a.node_id"
        f" JOIN runs r ON r.id = a.run_id WHERE {where}"
        " ORDER BY a.run_id, a.node_id, a.item_index, a.started_at, a.attempt",
        tuple(params),
    )
    fallbacks = store._read(
        "stats: fallbacks",
        "SELECT e.run_id, e.node_id, e.data FROM events e JOIN runs r ON r.id = e.run_id"
        f" WHERE e.type = 'node.fallback' AND {where}",
        tuple(params),
    )
    found: dict[tuple[str, str], ProviderStats] = {}
    runs: dict[tuple[str, str], set[str]] = {}
    first_provider: dict[tuple[str, str, int], tuple[str, str]] = {}
    call: list[_Attempt] = []  # the attempts of the call being read

    def close(attempts: list[_Attempt]) -> None:
        last = attempts[-1] if attempts else None
        if last is None or last.status in _NOT_AN_OUTCOME:
            return
        stats = found[last.hook, last.provider]
        won = last.status == "succeeded"
        stats.calls += 1
        stats.succeeded += won
        if len(attempts) > 1:
            stats.retried_calls += 1
            stats.retry_succeeded += won

    for row in attempts:
        one = _Attempt._make((*row[:7], row[7] or _ANY, row[8]))
        key = (one.hook, one.provider)
        stats = found.setdefault(key, ProviderStats(*key))
        runs.setdefault(key, set()).add(one.run_id)
        first_provider.setdefault((one.run_id, one.node_id, one.item), key)
        if not (call and one.number > 1 and call[-1].same_call(one)):
            close(call)
            call = []
        call.append(one)
        stats.attempts += 1
        stats.retries += one.number > 1
        stats.cost_usd += one.cost_usd or 0.0
        if one.status == "succeeded" and one.seconds is not None:
            stats.latencies_s.append(max(0.0, one.seconds))
    close(call)
    for run_id, node_id, data in fallbacks:
        item = (json.loads(data) if data else {}).get("item")
        failed = first_provider.get((run_id, node_id, -1 if item is None else item))
        if failed is not None:
            found[failed].fallbacks += 1
    for key, stats in found.items():
        stats.runs = len(runs[key])
    return sorted(found.values(), key=lambda s: (s.hook, s.provider))


@dataclass(slots=True)
class NodeEstimate:
    """What a node took in the recent complete runs of a spec: seconds and US dollars.

    ``runs`` counts the executions measured (succeeded, not served from the cache).
    """

    node: str
    hook: str
    provider: str | None
    runs: int
    median_s: float
    p95_s: float
    median_cost_usd: float

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("median_s", "p95_s"):
            data[name] = round(data[name], 3)
        data["median_cost_usd"] = round(self.median_cost_usd, 6)
        return data


def _recent_runs(store: RunStore, spec: str, since: float | None, last: int) -> list[Any]:
    """``(id, status, started_at, seconds, cost_usd)`` of the spec's last finished runs, oldest
    first."""
    where, params = _where(spec, since, alias="runs")
    rows = store._read(
        "stats: runs",
        "SELECT id, status, started_at, seconds, cost_usd FROM runs"
        f" WHERE {where} AND status != 'running' ORDER BY started_at DESC, id DESC LIMIT ?",
        (*params, last),
    )
    return list(reversed(rows))


def node_history(
    store: RunStore, spec: str, *, last: int = 20, since: float | None = None
) -> tuple[dict[str, NodeEstimate], int]:
    """Per node id, its figures over the spec's last ``last`` complete runs that measured a
    node (ran one uncached: a run served wholly from the cache measures nothing); and how
    many runs that was. Nodes that never ran uncached there are absent."""
    where, params = _where(spec, since, alias="runs")
    recent = store._read(
        "stats: measured runs",
        f"SELECT id FROM runs WHERE {where} AND status IN {COMPLETE!r} AND EXISTS"
        f" (SELECT 1 FROM nodes WHERE nodes.run_id = runs.id AND {_MEASURED})"
        " ORDER BY started_at DESC, id DESC LIMIT ?",
        (*params, last),
    )
    if not recent:
        return {}, 0
    marks = ", ".join("?" for _ in recent)
    rows = store._read(
        "stats: nodes",
        "SELECT run_id, node_id, hook, provider, seconds, cost_usd FROM nodes"
        f" WHERE run_id IN ({marks}) AND {_MEASURED} ORDER BY started_at",
        tuple(r[0] for r in recent),
    )
    seen: dict[str, list[Any]] = {}
    for _, node_id, hook, provider, seconds, cost in rows:
        seen.setdefault(node_id, []).append((hook, provider, max(0.0, seconds), cost or 0.0))
    found = {}
    for node_id, measured in seen.items():
        hook, provider = measured[-1][0], measured[-1][1]
        seconds = [m[2] for m in measured]
        found[node_id] = NodeEstimate(
            node_id,
            hook,
            provider,
            len(measured),
            statistics.median(seconds),
            percentile(seconds, 95) or 0.0,
            statistics.median(m[3] for m in measured),
        )
    return found, len(recent)


def critical_path(graph: nx.DiGraph, seconds: Mapping[str, float]) -> tuple[list[str], float]:
    """The longest path of ``graph`` when each node weighs ``seconds[node]`` (0 if absent),
    and its length in seconds."""
    import networkx as nx

    weighted = nx.DiGraph()
    weighted.add_nodes_from(graph.nodes)
    # a node's weight on its outgoing edges, and a sink edge for the last node of a path
    for source, target in graph.edges:
        weighted.add_edge(source, target, weight=seconds.get(source, 0.0))
    for node in graph.nodes:
        weighted.add_edge(node, ("end", node), weight=seconds.get(node, 0.0))
    path = [n for n in nx.dag_longest_path(weighted) if not isinstance(n, tuple)]
    return path, sum(seconds.get(n, 0.0) for n in path)


@dataclass(slots=True)
class SpecStats:
    """One spec's runs: counts by status, trends over the last complete runs, gates,
    and the critical path by median node seconds (``None`` without a DAG or timings).

    Trends: ``slope_s_per_run`` and ``slope_usd_per_run`` are least-squares slopes
    of duration (seconds) and cost (US dollars) against the run's place in
    ``recent`` (oldest first); ``gates`` maps a gate to ``[passed, checked]``.
    """

    spec: str
    runs: int
    statuses: dict[str, int]
    cost_usd: float
    recent: list[dict[str, Any]]
    median_s: float | None
    median_cost_usd: float | None
    slope_s_per_run: float | None
    slope_usd_per_run: float | None
    gates: dict[str, list[int]]
    nodes: dict[str, NodeEstimate]
    critical_path: list[str] | None = None
    critical_path_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "nodes"}
        for name in ("median_s", "slope_s_per_run", "critical_path_s"):
            data[name] = _round(data[name])
        for name in ("median_cost_usd", "slope_usd_per_run", "cost_usd"):
            data[name] = _round(data[name], 6)
        path = self.critical_path or []
        data["critical_path"] = [self.nodes[n].as_dict() for n in path if n in self.nodes]
        data["slowest_on_critical_path"] = [
            n["node"] for n in sorted(data["critical_path"], key=lambda n: -n["median_s"])
        ]
        return data


def _slope(values: list[float]) -> float | None:
    """Least-squares slope of ``values`` against 0, 1, 2, ... (``None`` under two values)."""
    if len(values) < 2:
        return None
    import numpy

    return float(numpy.polyfit(range(len(values)), values, 1)[0])


def _gates(store: RunStore, run_ids: list[str]) -> dict[str, list[int]]:
    """Per gate, ``[passed, checked]`` from the GateResult lists check_quality nodes stored."""
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    rows = store._read(
        "stats: gates",
        "SELECT output FROM nodes WHERE hook = 'check_quality' AND output IS NOT NULL"
        f" AND run_id IN ({marks})",
        tuple(run_ids),
    )
    found: dict[str, list[int]] = {}
    for (text,) in rows:
        value = json.loads(text)
        for result in value if isinstance(value, list) else ():
            # dump_value form of a model: {"$model": "reelgraph.models:GateResult", "data": {}}
            if not (isinstance(result, dict) and result.get("$model", "").endswith(":GateResult")):
                continue
            gate = found.setdefault(str(result["data"].get("gate")), [0, 0])
            gate[0] += bool(result["data"].get("passed"))
            gate[1] += 1
    return dict(sorted(found.items()))


def spec_stats(
    store: RunStore,
    spec: str,
    *,
    since: float | None = None,
    last: int = 20,
    graph: nx.DiGraph | None = None,
) -> SpecStats:
    """One spec's figures over its runs since ``since``; trends and nodes over the last
    ``last`` runs; the critical path when ``graph`` (the spec's DAG) is given."""
    where, params = _where(spec, since, alias="runs")
    totals = store._read(
        "stats: statuses",
        f"SELECT status, COUNT(*), SUM(cost_usd) FROM runs WHERE {where} GROUP BY status",
        tuple(params),
    )
    recent = _recent_runs(store, spec, since, last)
    complete = [r for r in recent if r[1] in COMPLETE and r[3] is not None]
    seconds = [r[3] for r in complete]
    costs = [r[4] for r in complete]
    nodes, _ = node_history(store, spec, last=last, since=since)
    found = SpecStats(
        spec=spec,
        runs=sum(n for _, n, _ in totals),
        statuses={status: n for status, n, _ in sorted(totals)},
        cost_usd=sum(usd or 0.0 for _, _, usd in totals),
        recent=[
            {
                "id": r[0],
                "status": r[1],
                "started_at": r[2],
                "seconds": _round(r[3]),
                "cost_usd": round(r[4], 6),
            }
            for r in recent
        ],  # fmt: skip
        median_s=statistics.median(seconds) if seconds else None,
        median_cost_usd=statistics.median(costs) if costs else None,
        slope_s_per_run=_slope(seconds),
        slope_usd_per_run=_slope(costs),
        gates=_gates(store, [r[0] for r in recent]),
        nodes=nodes,
    )
    if graph is not None and nodes:
        path, total = critical_path(graph, {n: e.median_s for n, e in nodes.items()})
        found.critical_path, found.critical_path_s = path, total
    return found


def read_stats(
    store: RunStore,
    *,
    spec: str | None = None,
    since: float | None = None,
    last: int = 20,
    graph_of: Callable[[str], nx.DiGraph | None] | None = None,
) -> dict[str, Any]:
    """Everything above as JSON-ready data: ``{"filter", "providers", "specs"}``.

    ``graph_of(name)`` gives a spec's DAG (for its critical path), or ``None``;
    a spec without one has ``critical_path`` ``[]``.

    Raises:
        reelgraph.store.runs.StoreError: the store cannot be read.
    """
    specs = []
    for name in spec_names(store, spec=spec, since=since):
        graph = graph_of(name) if graph_of is not None else None
        specs.append(spec_stats(store, name, since=since, last=last, graph=graph).as_dict())
    return {
        "filter": {"spec": spec, "since": since, "last": last},
        "providers": [p.as_dict() for p in provider_stats(store, spec=spec, since=since)],
        "specs": specs,
    }


def spec_names(
    store: RunStore, *, spec: str | None = None, since: float | None = None
) -> list[str]:
    """Names of the specs with runs (``spec`` alone, if it has any) since ``since``, sorted."""
    where, params = _where(spec, since, alias="runs")
    rows = store._read(
        "stats: specs", f"SELECT DISTINCT spec FROM runs WHERE {where} ORDER BY spec", tuple(params)
    )
    return [r[0] for r in rows]
