"""Load on ``reelgraph serve``: SSE clients and concurrent runs of a fast fake provider.

    python bench/server_load.py [--clients 50] [--runs 20] [--steps 5] [--delay-s 0.2]

Starts the server in a process of its own (``python -m tests.contrib.server_steps``,
the test plugin: async steps that sleep ``--delay-s`` seconds, no media), opens
half the SSE clients on the stream of all runs, submits the runs at once, opens
the other half on single runs' streams, and waits until every client has seen
``run.finished`` of its runs. Prints: events lost and repeated (must be 0),
event latency p50/p95 (client receive time minus the event's stored ``ts``,
seconds; same host, same clock), and the server's peak and final RSS (MiB, from
/proc). Wall-clock figures are noisy on a shared machine: run it more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.contrib.server_steps import chain_spec  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


async def follow(
    client: httpx.AsyncClient,
    path: str,
    want: set[str],
    seen: list[tuple[str, int, float]],
    connected: asyncio.Event | None = None,
) -> None:
    """Read ``path`` until ``run.finished`` of every run in ``want``; record (run, id, latency).

    ``connected`` is set once the response headers arrived: the server has taken the
    stream's starting point by then.
    """
    done: set[str] = set()
    async with aconnect_sse(client, "GET", path) as source:
        if connected is not None:
            connected.set()
        async for sse in source.aiter_sse():
            event = json.loads(sse.data)
            # every event is kept: ``want`` of the wide clients fills only once all runs
            # were submitted, and the first runs' events may come before that
            seen.append((event["run_id"], event["id"], time.time() - event["ts"]))
            if event["type"] == "run.finished":
                done.add(event["run_id"])
                if want and want <= done:
                    return


async def load(url: str, clients: int, runs: int, steps: int, delay_s: float) -> dict:
    limits = httpx.Limits(max_connections=clients + runs + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        # the first plan loads the plugins (seconds): not part of the figures
        await client.post("/api/specs/validate", json={"spec": chain_spec(1)})
        wide = clients // 2
        wide_seen: list[list] = [[] for _ in range(wide)]
        ids: list[str] = []
        want: set[str] = set()
        ready = [asyncio.Event() for _ in wide_seen]
        wide_tasks = [
            asyncio.create_task(follow(client, "/api/events/stream", want, s, r))
            for s, r in zip(wide_seen, ready, strict=True)
        ]
        # the wide clients are connected before the runs start
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), timeout=120)
        started = time.monotonic()
        answers = await asyncio.gather(
            *(
                client.post("/api/runs", json={"spec": chain_spec(steps, delay_s)})
                for _ in range(runs)
            )
        )
        ids += [a.json()["id"] for a in answers]
        want.update(ids)
        narrow_seen: list[list] = [[] for _ in range(clients - wide)]
        narrow_tasks = [
            asyncio.create_task(
                follow(client, f"/api/runs/{ids[i % runs]}/events/stream", {ids[i % runs]}, s)
            )
            for i, s in enumerate(narrow_seen)
        ]
        await asyncio.wait_for(asyncio.gather(*wide_tasks, *narrow_tasks), timeout=600)
        elapsed = time.monotonic() - started
        stored = {
            run_id: len((await client.get(f"/api/runs/{run_id}/events")).json()) for run_id in ids
        }
    lost = repeated = 0
    latencies = []
    for seen, runs_followed in [(s, ids) for s in wide_seen] + [
        (s, [ids[i % runs]]) for i, s in enumerate(narrow_seen)
    ]:
        for run_id in runs_followed:
            got = [event_id for r, event_id, _ in seen if r == run_id]
            missing = set(range(1, stored[run_id] + 1)) - set(got)
            if missing and os.environ.get("BENCH_DEBUG"):
                print("missing", run_id, sorted(missing), len(runs_followed), file=sys.stderr)
            lost += len(missing)
            repeated += len(got) - len(set(got))
        latencies += [lat for run_id, _, lat in seen if run_id in runs_followed]
    latencies.sort()
    return {
        "clients": clients,
        "runs": runs,
        "events_stored": sum(stored.values()),
        "events_delivered": len(latencies),
        "lost": lost,
        "repeated": repeated,
        "latency_p50_s": round(statistics.median(latencies), 4),
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 4),
        "runs_wall_s": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--delay-s", type=float, default=0.2)
    parser.add_argument("--poll-s", type=float, default=0.2, help="the server's store poll")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.contrib.server_steps",
                home,
                str(port),
                str(args.poll_s),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    httpx.get(url + "/api/runs")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            cpu_before = _cpu_s(server.pid)
            figures = asyncio.run(load(url, args.clients, args.runs, args.steps, args.delay_s))
            figures["server_cpu_s"] = round(_cpu_s(server.pid) - cpu_before, 2)
            figures |= {f"server_{k}_mib": round(v, 1) for k, v in rss_mib(server.pid).items()}
            figures["poll_s"] = args.poll_s
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(figures, indent=2))


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (/proc/PID/stat fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
