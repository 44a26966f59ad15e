"""Run analytics (reelgraph.store.stats) over a store of real runs and of known rows.

Real runs: a four-node spec of the tests' own ``clip`` hook with three providers:
``steady`` (succeeds, $0.01 a call), ``flaky`` (the first attempt of each node
fails with a transient error, the retry succeeds, $0.10) and ``broken`` (fails
fatally; the node falls back to ``steady``). Counts, retries, fallbacks and
costs are exact; latencies are checked against the attempts the store holds.
Known rows: percentiles, trends and gate verdicts to the digit.
"""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path

import numpy
import pytest

from reelgraph import FatalError, Kernel, TransientError, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.store.runs import RunStore
from reelgraph.store.stats import critical_path, percentile, provider_stats, read_stats

SLOW_S = 0.15  # flaky's successful attempt: the longest node, so the critical path's


class ClipSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def clip(value, ctx):
        """Return ``value + 1``; providers differ in how they fail and what they cost."""


class Steady:
    reelgraph_name = "steady"

    @hookimpl
    async def clip(self, value, ctx):
        await asyncio.sleep(0.01)
        ctx.report_cost(0.01, detail="steady")
        return value + 1


class Flaky:
    reelgraph_name = "flaky"

    @hookimpl
    async def clip(self, value, ctx):
        if ctx.attempt == 1:
            raise TransientError("503 from the fake vendor")
        await asyncio.sleep(SLOW_S)
        ctx.report_cost(0.10, detail="flaky")
        return value + 1


class Broken:
    reelgraph_name = "broken"

    @hookimpl
    async def clip(self, value, ctx):
        raise FatalError("the fake vendor refused the request")


RETRY = {"max_attempts": 3, "initial_s": 0, "jitter_s": 0}
SPEC = {
    "name": "ads",
    "inputs": {"start": {"type": "integer", "default": 0}},
    "nodes": [
        {"id": "script", "hook": "clip", "provider": "steady", "with": {"value": "$inputs.start"}},
        {"id": "hero", "hook": "clip", "provider": "flaky", "with": {"value": "$script"},
         "retry": RETRY},
        {"id": "broll", "hook": "clip", "provider": "broken", "with": {"value": "$script"},
         "on_error": {"provider": "steady"}},
        {"id": "join", "hook": "clip", "provider": "steady", "with": {"value": "$hero"},
         "needs": ["broll"]},
    ],
}  # fmt: skip
RUNS = 3


def make_kernel(home: Path) -> Kernel:
    return Kernel(
        plugins=[Steady(), Flaky(), Broken()],
        entry_points=False,
        hookspecs=[ClipSpecs],
        home=home,
    )


def run_history(home: Path, runs: int = RUNS) -> Kernel:
    """``runs`` real runs of SPEC (different inputs: no cache hits); the kernel that ran them."""
    kernel = make_kernel(home)
    for start in range(runs):
        run = kernel.run(SPEC, {"start": start * 10})
        assert run.status == "succeeded", run.error
    return kernel


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Kernel:
    return run_history(tmp_path_factory.mktemp("stats") / "home")


def test_per_provider_calls_retries_fallbacks_and_costs(history: Kernel) -> None:
    stats = {(s.hook, s.provider): s for s in provider_stats(history.store)}
    assert set(stats) == {("clip", "steady"), ("clip", "flaky"), ("clip", "broken")}
    steady, flaky, broken = stats["clip", "steady"], stats["clip", "flaky"], stats["clip", "broken"]
    # steady: script, join, and broll's fallback, in each run
    assert (steady.runs, steady.calls, steady.succeeded, steady.attempts) == (3, 9, 9, 9)
    assert (steady.retries, steady.retried_calls, steady.fallbacks) == (0, 0, 0)
    assert steady.cost_usd == pytest.approx(0.09)
    # flaky: one call per run, its retry succeeds
    assert (flaky.calls, flaky.succeeded, flaky.attempts, flaky.retries) == (3, 3, 6, 3)
    assert (flaky.retried_calls, flaky.retry_succeeded) == (3, 3)
    assert flaky.cost_usd == pytest.approx(0.30)
    # broken: fails fatally (never retried), and the node falls back
    assert (broken.calls, broken.succeeded, broken.attempts, broken.retries) == (3, 0, 3, 0)
    assert (broken.fallbacks, broken.success_rate, broken.latencies_s) == (3, 0.0, [])


def test_latency_percentiles_are_those_of_the_stored_successful_attempts(history: Kernel) -> None:
    (flaky,) = [s for s in provider_stats(history.store) if s.provider == "flaky"]
    stored = [
        a.seconds
        for row in history.store.list_runs()
        for a in history.store.get_attempts(row.id, "hero")
        if a.status == "succeeded"
    ]
    assert sorted(flaky.latencies_s) == pytest.approx(sorted(stored))
    assert len(stored) == RUNS and min(stored) >= SLOW_S
    figures = flaky.as_dict()
    assert figures["p50_s"] == round(statistics.median(stored), 3)
    assert figures["p95_s"] == round(float(numpy.percentile(stored, 95)), 3)
    assert figures["success_rate"] == 1.0


def test_spec_trends_and_the_critical_path(history: Kernel) -> None:
    graph = history.plan(SPEC).graph
    data = read_stats(history.store, graph_of={"ads": graph}.get)
    (spec,) = data["specs"]
    rows = history.store.list_runs()
    assert (spec["spec"], spec["runs"], spec["statuses"]) == ("ads", 3, {"succeeded": 3})
    assert spec["cost_usd"] == pytest.approx(3 * (0.03 + 0.10))
    assert [r["id"] for r in spec["recent"]] == [r.id for r in reversed(rows)]  # oldest first
    assert spec["median_s"] == round(statistics.median(r.seconds for r in rows), 3)
    assert spec["median_cost_usd"] == pytest.approx(0.13)
    assert spec["slope_usd_per_run"] == pytest.approx(0.0, abs=1e-9)
    path = [n["node"] for n in spec["critical_path"]]
    assert path == ["script", "hero", "join"]  # hero (0.15 s) outweighs broll
    assert spec["slowest_on_critical_path"][0] == "hero"
    hero = spec["critical_path"][1]
    assert (hero["hook"], hero["provider"], hero["runs"]) == ("clip", "flaky", 3)
    assert hero["median_cost_usd"] == pytest.approx(0.10)
    assert spec["critical_path_s"] == pytest.approx(
        sum(n["median_s"] for n in spec["critical_path"]), abs=2e-3
    )
    assert data["filter"] == {"spec": None, "since": None, "last": 20}
    assert read_stats(history.store, spec="other") == {
        "filter": {"spec": "other", "since": None, "last": 20},
        "providers": [],
        "specs": [],
    }


# -- known rows: exact figures ---------------------------------------------------------


def _known_store(path: Path) -> RunStore:
    """Three runs of spec "demo" (10, 12, 14 s; $1, $2, $3) and one failed run of "other".

    Node "gen" of provider "p" succeeds in 1, 2, 3 s; a fourth attempt (4 s) of
    run 3 is a retry after a failure. Run 2 failed its quality gate "loudness".
    """
    store = RunStore(path)
    gate = {"$model": "reelgraph.models:GateResult", "data": {"gate": "loudness", "passed": True}}
    for i, (seconds, usd) in enumerate([(10.0, 1.0), (12.0, 2.0), (14.0, 3.0)], start=1):
        run_id = f"run{i}"
        store.create_run(run_id, spec="demo", spec_path=None, spec_text="{}", inputs={},
                         output_dir=None, started_at=1000.0 * i)  # fmt: skip
        store.add_cost(run_id, "gen", usd, "p")
        status = "failed_quality" if i == 2 else "succeeded"
        store.set_run_status(run_id, status, ended_at=1000.0 * i + seconds, seconds=seconds)
        store.node_started(run_id, "gen", hook="make", provider="p", started_at=1000.0 * i,
                           attempt=1)  # fmt: skip
        output = [{**gate, "data": {**gate["data"], "passed": i != 2}}]
        store.node_finished(run_id, "gen", status="succeeded", ended_at=1000.0 * i + i,
                            seconds=float(i), hook="make", provider="p")  # fmt: skip
        store.node_finished(run_id, "qa", status="succeeded", ended_at=1000.0 * i + i,
                            seconds=0.5, hook="check_quality", output=output)  # fmt: skip
        store.add_attempt(run_id, "gen", None, 1, status="succeeded", started_at=1000.0 * i,
                          ended_at=1000.0 * i + i, error=None, provider="p", cost_usd=usd)  # fmt: skip
    store.add_attempt("run3", "gen", None, 1, status="failed", started_at=2999.0,
                      ended_at=2999.5, error="TransientError: 503", provider="p")  # fmt: skip
    store.add_attempt("run3", "gen", None, 2, status="succeeded", started_at=2999.6,
                      ended_at=3003.6, error=None, provider="p", seconds=4.0)  # fmt: skip
    store.create_run("run4", spec="other", spec_path=None, spec_text="{}", inputs={},
                     output_dir=None, started_at=5000.0)  # fmt: skip
    store.set_run_status("run4", "failed", ended_at=5001.0, seconds=1.0, error="boom")
    return store


def test_exact_figures_from_known_rows(tmp_path: Path) -> None:
    with _known_store(tmp_path / "reelgraph.db") as store:
        data = read_stats(store)
    (make,) = data["providers"]
    assert make == {
        "hook": "make", "provider": "p", "runs": 3, "calls": 4, "succeeded": 4, "attempts": 5,
        "retries": 1, "retried_calls": 1, "retry_succeeded": 1, "fallbacks": 0,
        "cost_usd": 6.0, "success_rate": 1.0,
        "p50_s": 2.5,  # of 1, 2, 3, 4 s
        "p95_s": 3.85,  # 3 + 0.85 * (4 - 3), linear interpolation
    }  # fmt: skip
    demo, other = data["specs"]
    assert (demo["runs"], demo["statuses"]) == (3, {"failed_quality": 1, "succeeded": 2})
    assert (demo["median_s"], demo["median_cost_usd"]) == (12.0, 2.0)
    assert (demo["slope_s_per_run"], demo["slope_usd_per_run"]) == (2.0, 1.0)
    assert demo["gates"] == {"loudness": [2, 3]}
    assert demo["critical_path"] == []  # no DAG given
    assert (other["statuses"], other["median_s"], other["slope_s_per_run"]) == (
        {"failed": 1}, None, None,
    )  # fmt: skip


def test_filters_by_spec_and_since(tmp_path: Path) -> None:
    with _known_store(tmp_path / "reelgraph.db") as store:
        late = read_stats(store, since=2000.0)
        only = read_stats(store, spec="demo", last=2)
    assert [s["spec"] for s in late["specs"]] == ["demo", "other"]
    assert late["specs"][0]["runs"] == 2 and late["providers"][0]["calls"] == 3
    (demo,) = only["specs"]
    assert [r["id"] for r in demo["recent"]] == ["run2", "run3"]
    assert (demo["median_s"], demo["slope_s_per_run"]) == (13.0, 2.0)


def test_critical_path_weighs_nodes_not_hops() -> None:
    import networkx as nx

    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "e"), ("a", "d"), ("d", "e")])
    assert critical_path(graph, {"a": 1, "b": 1, "c": 1, "d": 5, "e": 1}) == (["a", "d", "e"], 7)
    assert critical_path(graph, {"a": 1, "b": 3, "c": 3, "d": 5, "e": 1}) == (
        ["a", "b", "c", "e"], 8,
    )  # fmt: skip
    assert critical_path(nx.DiGraph([("x", "y")]), {"y": 2.0}) == (["x", "y"], 2.0)
    assert percentile([], 50) is None and percentile([7.0], 95) == 7.0
