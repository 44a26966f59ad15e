"""``reelgraph stats`` and the estimates ``reelgraph plan`` prints: the run store's history.

The figures come from :mod:`reelgraph.store.stats` (read from the store of
``REELGRAPH_HOME``, or ``REELGRAPH_STORE``); this module only asks the kernel
for each spec's DAG and draws rich tables.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from reelgraph.cli._exits import fail

__all__ = ["graph_of", "parse_since", "plan_estimate", "print_estimate", "stats_command"]

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str | None, now: float | None = None) -> float | None:
    """``--since`` as a Unix time: ``30m``, ``12h``, ``7d``, ``2w`` ago, an ISO 8601 date or
    time (``2026-12-01``, ``2026-12-01T09:30``; local time unless it names a zone), or
    Unix seconds (``1796083200``).

    Raises:
        ValueError: none of these forms (the message lists them).
    """
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    match = _AGO.match(text.strip())
    if match:
        return (time.time() if now is None else now) - float(match[1]) * _UNIT_S[match[2]]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ValueError(
            f"--since {text!r}: give a time ago (30m, 12h, 7d, 2w), an ISO date "
            "(2026-12-01 or 2026-12-01T09:30) or Unix seconds"
        ) from None


def graph_of(kernel: Any) -> Any:
    """``graph(name)``: a spec's DAG from its latest run's stored spec, ``None`` when that no
    longer plans (e.g. its plugins are gone)."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.spec.stored import stored_spec

    def graph(name: str) -> Any:
        rows = kernel.store.list_runs(1, spec=name)
        try:
            return kernel.plan(stored_spec(rows[0]), rows[0].inputs).graph if rows else None
        except (ReelgraphError, ValueError):
            return None

    return graph


def stats_command(
    kernel: Any, *, as_json: bool, spec: str | None, since: str | None, last: int
) -> None:
    """Print the store's analytics (tables, or JSON with ``as_json``); exit 2 on a bad --since."""
    from reelgraph.store.stats import read_stats

    try:
        since_ts = parse_since(since)
    except ValueError as err:
        fail(str(err))
    data = read_stats(kernel.store, spec=spec, since=since_ts, last=last, graph_of=graph_of(kernel))
    data["store"] = kernel.store.location  # a file, or a server's URL without its password
    if as_json:
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console

    console = Console()
    if not data["specs"]:
        scope = f" of spec {spec!r}" if spec else ""
        console.print(f"no runs{scope} in {data['store']}" + (f" since {since}" if since else ""))
        return
    console.print(_provider_table(data["providers"]))
    console.print(_spec_table(data["specs"], last))
    gates = _gate_table(data["specs"])
    if gates.row_count:
        console.print(gates)


def _num(value: float | None, fmt: str = ".2f", unit: str = "") -> str:
    return "-" if value is None else f"{value:{fmt}}{unit}"


def _provider_table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="per hook and provider (calls: attempt 1 and its retries)")
    for column in ("hook", "provider"):
        table.add_column(column, no_wrap=True)
    for column in ("runs", "calls", "success", "p50 s", "p95 s", "retries", "retry ok",
                   "fallbacks", "USD"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in rows:
        retried = f"{r['retry_succeeded']}/{r['retried_calls']}" if r["retried_calls"] else "-"
        table.add_row(
            r["hook"], r["provider"], str(r["runs"]), str(r["calls"]),
            _num(r["success_rate"], ".0%"), _num(r["p50_s"]), _num(r["p95_s"]),
            str(r["retries"]), retried, str(r["fallbacks"]), f"{r['cost_usd']:.4f}",
        )  # fmt: skip
    return table


def _spec_table(rows: list[dict[str, Any]], last: int) -> Any:
    from rich.table import Table

    table = Table(
        title=f"per spec (medians and trends over the last {last} complete runs)",
        caption="trend: least-squares slope per run, oldest to newest",
    )
    table.add_column("spec", no_wrap=True)
    table.add_column("runs (by status)")
    for column in ("median s", "trend s/run", "median USD", "trend USD/run"):
        table.add_column(column, justify="right")
    table.add_column("slowest on the critical path")
    for r in rows:
        statuses = ", ".join(
            f"{n} {s}" for s, n in sorted(r["statuses"].items(), key=lambda i: -i[1])
        )
        path = r["critical_path"]
        slowest = sorted(path, key=lambda n: -n["median_s"])[:3]
        critical = (
            ", ".join(f"{n['node']} {n['median_s']:.2f} s" for n in slowest)
            + f" (path {r['critical_path_s']:.2f} s)"
            if path
            else "-"
        )
        table.add_row(
            r["spec"], f"{r['runs']}: {statuses}", _num(r["median_s"]),
            _num(r["slope_s_per_run"], "+.2f"), _num(r["median_cost_usd"], ".4f"),
            _num(r["slope_usd_per_run"], "+.4f"), critical,
        )  # fmt: skip
    return table


def _gate_table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="quality gates (recent runs: passed/checked)")
    for column in ("spec", "gate", "passed"):
        table.add_column(column, justify="right" if column == "passed" else "left")
    for r in rows:
        for gate, (passed, checked) in r["gates"].items():
            table.add_row(r["spec"], gate, f"{passed}/{checked}")
    return table


# -- reelgraph plan: estimates from history ---------------------------------------------


def plan_estimate(kernel: Any, plan: Any, last: int = 20) -> dict[str, Any]:
    """Estimated seconds and US dollars per node of ``plan`` from the spec's last ``last``
    complete runs, and the critical path: JSON-ready.

    ``{"history_runs": 0, ...}`` when the store has no complete run of the spec (or
    no store exists yet: nothing is created).
    """
    from reelgraph.store.stats import critical_path, node_history

    name = plan.spec.name
    empty = {"spec": name, "history_runs": 0, "nodes": [], "critical_path": [],
             "critical_path_s": None, "cost_usd": None, "unmeasured": list(plan.order)}  # fmt: skip
    store = kernel.existing_store()  # REELGRAPH_STORE's, or the home's SQLite file
    if store is None:
        return empty
    found, runs = node_history(store, name, last=last)
    if not runs:
        return empty
    medians = {n: found[n].median_s for n in plan.order if n in found}
    path, total = critical_path(plan.graph, medians)
    return {
        "spec": name,
        "history_runs": runs,
        "nodes": [found[n].as_dict() for n in plan.order if n in found],
        "critical_path": path,
        "critical_path_s": round(total, 3),
        "cost_usd": round(sum(found[n].median_cost_usd for n in medians), 6),
        "unmeasured": [n for n in plan.order if n not in found],
    }


def print_estimate(console: Any, estimate: dict[str, Any], home: Any) -> None:
    """The estimate as a table, or one line saying there is no history yet."""
    from rich.table import Table

    if not estimate["history_runs"]:
        console.print(
            f"no history of spec {estimate['spec']!r} in {home}: no estimate yet "
            "(each complete run adds to it; see `reelgraph stats`)"
        )
        return
    path = set(estimate["critical_path"])
    table = Table(
        title=f"estimate from the last {estimate['history_runs']} complete runs (medians)",
        caption="* on the critical path; a node served from the cache takes about 0 s",
    )
    table.add_column("node", no_wrap=True)
    table.add_column("provider")
    for column in ("runs", "median s", "p95 s", "median USD"):
        table.add_column(column, justify="right")
    for n in estimate["nodes"]:
        mark = " *" if n["node"] in path else ""
        table.add_row(
            n["node"] + mark, n["provider"] or "any", str(n["runs"]), f"{n['median_s']:.2f}",
            f"{n['p95_s']:.2f}", f"{n['median_cost_usd']:.4f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"  estimated duration {estimate['critical_path_s']:.2f} s (critical path: "
        f"{' -> '.join(estimate['critical_path'])}), cost {estimate['cost_usd']:.4f} USD"
    )
    if estimate["unmeasured"]:
        console.print(f"  no history for: {', '.join(estimate['unmeasured'])}")
