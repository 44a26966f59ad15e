"""Parallel efficiency: wall time of 100 slow provider calls beside the critical path.

A fake provider hook awaits ``asyncio.sleep(0.2)`` (a remote call that takes
0.2 s and no CPU). The kernel runs with a concurrency limit of at least 100,
so in theory every shape finishes in its critical path; the target is
wall time <= 1.15 x the critical path (issue 5).

Shapes (100 provider calls each):
  independent  100 nodes with no edges                    critical path 0.2 s
  layered      10 layers x 10 nodes, each node needing
               all 10 nodes of the layer before           critical path 2.0 s
  map          one map node over a 100-item list input    critical path 0.2 s

Each shape runs ``--repeat`` times in one event loop; the best and the median
wall time are reported, divided by the critical path (the target is judged on
the median), and the best run's time beyond the critical path per call
(``us/node``). ``persist`` = off is an
ephemeral run (no run store); ``persist`` = on writes the SQLite run store in a
temporary ``home`` (memo cache off so every call really runs).

Usage: python bench/parallel_efficiency.py [--json] [--repeat N] [--persist {off,on,both}]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec

CALL_S = 0.2
TARGET = 1.15


class BenchSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def remote_call(values, ctx):
        """Wait 0.2 s like a remote call, then return 1 (benchmark hook)."""


class FakeProvider:
    reelgraph_name = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.peak = 0

    @hookimpl
    async def remote_call(self, values, ctx):
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(CALL_S)
        finally:
            self.in_flight -= 1
        return 1


def node(node_id: str, upstream: list[str]) -> dict:
    return {
        "id": node_id,
        "hook": "remote_call",
        "provider": "fake",
        "with": {"values": [f"${u}" for u in upstream]},
    }


def shape_spec(shape: str) -> tuple[dict, dict, float]:
    """The spec, its inputs, and its critical path in seconds."""
    if shape == "independent":
        nodes = [node(f"n{i}", []) for i in range(100)]
        return {"name": "bench-independent", "nodes": nodes}, {}, CALL_S
    if shape == "layered":
        nodes = [
            node(f"l{layer}_{i}", [f"l{layer - 1}_{j}" for j in range(10)] if layer else [])
            for layer in range(10)
            for i in range(10)
        ]
        return {"name": "bench-layered", "nodes": nodes}, {}, 10 * CALL_S
    if shape == "map":
        spec = {
            "name": "bench-map",
            "inputs": {"items": {"type": "list"}},
            "nodes": [
                {
                    "id": "each",
                    "hook": "remote_call",
                    "provider": "fake",
                    "map": "$inputs.items",
                    "with": {"values": ["$item"]},
                }
            ],
        }
        return spec, {"items": list(range(100))}, CALL_S
    raise ValueError(shape)


def measure(kernel: Kernel, provider: FakeProvider, shape: str, repeat: int, persist: bool) -> dict:
    spec, inputs, critical_s = shape_spec(shape)
    plan = kernel.plan(spec)

    async def main() -> list[float]:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run = await kernel.arun(plan, inputs, cache=False)
            times.append(time.perf_counter() - started)
            if run.status != "succeeded":
                raise RuntimeError(f"{shape}: run {run.status}: {run.error}")
        return times

    provider.calls = provider.peak = 0
    times = asyncio.run(main())
    if provider.calls != 100 * repeat:
        raise RuntimeError(f"{shape}: {provider.calls} calls, expected {100 * repeat}")
    best, median = min(times), statistics.median(times)
    return {
        "shape": shape,
        "persist": persist,
        "calls": 100,
        "critical_path_s": critical_s,
        "best_wall_s": best,
        "median_wall_s": median,
        "best_ratio": best / critical_s,
        "median_ratio": median / critical_s,
        "overhead_us_per_node": (best - critical_s) / 100 * 1e6,
        "peak_in_flight": provider.peak,
        "meets_target": median / critical_s <= TARGET,
    }


def run(repeat: int, persist_modes: list[bool]) -> dict:
    rows = []
    for persist in persist_modes:
        provider = FakeProvider()
        kernel = Kernel(
            plugins=[provider],
            entry_points=False,
            hookspecs=[BenchSpecs],
            concurrency=128,
            persist=persist,
            home=tempfile.mkdtemp(prefix="reelgraph-bench-") if persist else None,
        )
        try:
            for shape in ("independent", "layered", "map"):
                rows.append(measure(kernel, provider, shape, repeat, persist))
        finally:
            kernel.close()
    return {"call_s": CALL_S, "target_ratio": TARGET, "repeat": repeat, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--repeat", type=int, default=5, help="runs per shape")
    parser.add_argument(
        "--persist", choices=["off", "on", "both"], default="both", help="run store off/on"
    )
    args = parser.parse_args()
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.persist]
    result = run(args.repeat, modes)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"100 calls of {CALL_S} s each; wall / critical path, target <= {TARGET}x")
    print(
        f"{'shape':<12} {'store':>5} {'critical s':>10} {'best s':>8} {'median s':>9}"
        f" {'best x':>7} {'median x':>9} {'us/node':>8} {'peak':>5} {'target':>6}"
    )
    for row in result["rows"]:
        print(
            f"{row['shape']:<12} {'on' if row['persist'] else 'off':>5}"
            f" {row['critical_path_s']:>10.2f} {row['best_wall_s']:>8.3f}"
            f" {row['median_wall_s']:>9.3f} {row['best_ratio']:>7.3f}"
            f" {row['median_ratio']:>9.3f} {row['overhead_us_per_node']:>8.0f}"
            f" {row['peak_in_flight']:>5}"
            f" {'met' if row['meets_target'] else 'MISSED':>6}"
        )


if __name__ == "__main__":
    main()
