"""Dashboard latency: from a node's state change in the run store to its colour on the page.

    python bench/dashboard_latency.py [--nodes 20] [--delay-s 0.25] [--poll-s 0.2] [--repeat 3]

Serves the app in this process (uvicorn in a thread, the test plugin of
``tests/contrib/server_steps.py``: async steps that sleep ``--delay-s``
seconds, no media) with the event streams polling the store every
``--poll-s`` seconds (``reelgraph serve``'s default is 0.2). Opens
``/runs/{id}`` of a chain of ``--nodes`` steps in Debian's Chromium through
Playwright, where a MutationObserver stamps each change of a DAG node's
``data-state`` (``performance.timeOrigin + performance.now()``, Unix ms). The
latency of a change is that stamp minus the ``ts`` of the stored event that
made it (``node.started`` -> ``running``, ``node.succeeded`` -> ``succeeded``;
``ts`` is ``time.time()`` when the scheduler emitted it, committed in the same
event-loop pass; same host, same clock). Prints p50/p95/max over every change
of every repetition, in milliseconds. Wall-clock figures are noisy on a shared
machine: say so when you quote them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.contrib.conftest import serve  # noqa: E402
from tests.contrib.server_steps import chain_spec, make_kernel  # noqa: E402
from tests.contrib.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STAMP_CHANGES = """() => {
  window.__changes = [];
  new MutationObserver((records) => {
    const at = performance.timeOrigin + performance.now();
    for (const r of records) window.__changes.push([r.target.dataset.node, r.target.dataset.state, at]);
  }).observe(document.getElementById("dag"), {subtree: true, attributeFilter: ["data-state"]});
}"""
STATE_OF = {"node.started": "running", "node.succeeded": "succeeded"}


def one_run(browser, url: str, kernel, nodes: int, delay_s: float) -> list[float]:
    """Latencies (ms) of every node state change of one run, as the page showed them."""
    page = browser.new_page()
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            # the first node waits a little, so the page is open before anything changes;
            # no memo cache, so every run calls every node again
            spec = chain_spec(nodes, delay_s)
            spec["nodes"][0]["with"]["delay_s"] = 3.0
            run_id = client.post("/api/runs", json={"spec": spec, "cache": False}).json()["id"]
        page.goto(f"{url}/runs/{run_id}")
        page.evaluate(STAMP_CHANGES)
        page.wait_for_function(
            "() => document.getElementById('run-status').textContent === 'succeeded'",
            timeout=120_000,
        )
        # node events come before run.finished in the stream and recolour at once, while the
        # run's status changes only after the view is fetched again: all changes are in
        changes = page.evaluate("() => window.__changes")
    finally:
        page.close()
    shown: dict[tuple[str, str], float] = {}
    for node, state, at_ms in changes:
        shown.setdefault((node, state), at_ms)
    latencies = []
    for ts, type_, node, _ in kernel.store.get_events(run_id):
        key = (node, STATE_OF.get(type_, ""))
        if key in shown and node != "s0":  # s0 started before the page was open
            latencies.append(shown[key] - ts * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--delay-s", type=float, default=0.25)
    parser.add_argument("--poll-s", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="reelgraph-dashboard-bench-"))
    kernel = make_kernel(home)
    running = serve(kernel, poll_s=args.poll_s)
    latencies: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                latencies += one_run(browser, running.url, kernel, args.nodes, args.delay_s)
            browser.close()
    finally:
        running.stop()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(
        f"dashboard latency, store event -> DAG node colour on the page "
        f"({len(latencies)} changes, {args.repeat} runs of {args.nodes} nodes, "
        f"poll {args.poll_s} s; wall clock, {time.strftime('%Y-%m-%d %H:%M')}):"
    )
    print(
        f"  p50 {statistics.median(latencies):.0f} ms  p95 {p95:.0f} ms  "
        f"max {latencies[-1]:.0f} ms  min {latencies[0]:.0f} ms"
    )


if __name__ == "__main__":
    main()
