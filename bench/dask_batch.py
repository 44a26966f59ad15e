"""The Dask executor: a batch of real documents in-process vs a 2-worker LocalCluster,
and the kernel's overhead per node when calls go to Dask workers.

batch     ``--count`` documents from tests/corpus (the smallest first, every
          format and language there) through document-to-video, as one
          ``Kernel.batch`` (``--runs-at-once`` runs in flight): in-process
          (asyncio: ``def`` hooks in threads of one process, so Python code
          holds the GIL in turn) and on a ``LocalCluster`` of ``--workers``
          worker processes (1 thread each). ``--duration-s`` caps each video's
          target length so a batch fits in minutes. Wall seconds, the
          speed-up, and CPU seconds of this process and its children
          (ffmpeg), the workers included.
overhead  a chain of ``--nodes`` no-op nodes (the dask_probe fixture plugin,
          a ``def`` hook returning at once), ephemeral runs: wall time per
          node in-process, on thread workers and on process workers; the
          difference is the Dask round trip a node pays (submit, schedule,
          pickle, result).
crash     a chain of ``--kills`` probe nodes on ``--workers`` process workers;
          each node journals a "submission", then kills its worker on its first
          attempt: workers lost, attempts made, nodes redone (a node's hook
          called again after it succeeded: 0) and submissions duplicated (0).

Wall figures depend on the machine's load: the script prints the 1-minute
load average before and after each part. Usage:

    python bench/dask_batch.py [--count 20] [--workers 2] [--duration-s 20]
        [--runs-at-once 2] [--nodes 50] [--kills 10] [--only batch|overhead|crash] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"


def cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def load() -> float:
    return round(os.getloadavg()[0], 1)


def documents(count: int) -> list[Path]:
    """The ``count`` smallest documents of the corpus that a run is expected to pass."""
    import yaml

    manifest = yaml.safe_load((CORPUS / "MANIFEST.yaml").read_text())
    cases = manifest.get("documents") or manifest.get("cases") or []
    expected_ok = {c["file"] for c in cases if not c.get("expect")}
    found = sorted(
        (p for p in CORPUS.rglob("*") if p.is_file() and str(p.relative_to(CORPUS)) in expected_ok),
        key=lambda p: p.stat().st_size,
    )
    if len(found) < count:
        raise SystemExit(f"the corpus has {len(found)} documents a run passes; asked for {count}")
    return found[:count]


def run_batch(executor: str, options: dict, docs: list[Path], args: argparse.Namespace) -> dict:
    from reelgraph import Kernel

    home = Path(tempfile.mkdtemp(prefix=f"dask-batch-{executor}-"))
    kernel = Kernel(home=home, executor=executor, executor_options=options)
    rows = [{"document": str(d), "duration_s": args.duration_s} for d in docs]
    if executor == "dask":  # the cluster starts before the clock does
        kernel.executor.client.wait_for_workers(args.workers, timeout=120)
    before_load, before_cpu, started = load(), cpu_s(), time.perf_counter()
    done = kernel.batch(args.spec, rows, runs_at_once=args.runs_at_once, cache=False)
    wall = time.perf_counter() - started
    workers_cpu = 0.0
    if executor == "dask":
        workers_cpu = sum(
            kernel.executor.client.run(
                lambda: sum(os.times()[:4])  # each worker process: user, system, children
            ).values()
        )
    cpu = cpu_s() - before_cpu + workers_cpu
    statuses = [row.run.status if row.run else "not started" for row in done]
    kernel.close()
    shutil.rmtree(home, ignore_errors=True)
    return {
        "executor": executor,
        "documents": len(docs),
        "succeeded": statuses.count("succeeded"),
        "statuses": statuses,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_before": before_load,
        "load_after": load(),
    }


def install_probe() -> None:
    """pip-install the dask_probe fixture plugin where this process and its workers see it."""
    site = Path(tempfile.mkdtemp(prefix="dask-probe-"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(ROOT / "tests/fixtures/reelgraph_dask_probe")],
        check=True, capture_output=True, cwd=site,
    )  # fmt: skip
    sys.path.insert(0, str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(site), os.environ.get("PYTHONPATH")])
    )


def crash(args: argparse.Namespace) -> dict:
    """Workers killed mid-node: what was redone and what was submitted twice."""
    from reelgraph import Kernel

    install_probe()
    work = Path(tempfile.mkdtemp(prefix="dask-crash-"))
    calls, submissions = work / "calls.txt", work / "submissions.txt"
    retry = {"max_attempts": 3, "initial_s": 0.1, "max_s": 0.5, "jitter_s": 0}
    spec = {
        "name": "crash-chain",
        "nodes": [
            {
                "id": f"n{i}",
                "hook": "write_script",
                "provider": "dask_probe",
                "retry": retry,
                "with": {
                    "options": {
                        "tag": f"n{i}",
                        "calls": str(calls),
                        "submissions": str(submissions),
                        "die_once": str(work / f"died-{i}"),
                    }
                },
                **({"needs": [f"n{i - 1}"]} if i else {}),
            }
            for i in range(args.kills)
        ],
    }
    kernel = Kernel(home=work / "home", executor="dask", executor_options={"workers": args.workers})
    kernel.executor.client.wait_for_workers(args.workers, timeout=120)
    started = time.perf_counter()
    run = kernel.run(spec)
    wall = time.perf_counter() - started
    kernel.close()
    lines = [line.split() for line in calls.read_text().splitlines()]
    per_node: dict[str, list[int]] = {}
    for node, attempt, _pid in lines:
        per_node.setdefault(node, []).append(int(attempt))
    # a node redone = its hook called after the attempt that succeeded (the last one)
    redone = sum(len(a) - run.nodes[n].attempts for n, a in per_node.items())
    sent = submissions.read_text().splitlines()
    return {
        "status": run.status,
        "nodes": args.kills,
        "workers_killed": len(list(work.glob("died-*"))),
        "attempts": sum(r.attempts for r in run.nodes.values()),
        "nodes_redone": redone,
        "submissions": len(sent),
        "submissions_duplicated": len(sent) - len(set(sent)),
        "wall_s": round(wall, 1),
        "load": load(),
    }


def overhead(args: argparse.Namespace) -> list[dict]:
    """Wall time per no-op node, in-process and on Dask workers (threads, processes)."""
    from reelgraph import Kernel
    from reelgraph.contrib.dask.executor import DaskExecutor

    install_probe()
    spec = {
        "name": "noop-chain",
        "nodes": [
            {
                "id": f"n{i}",
                "hook": "write_script",
                "provider": "dask_probe",
                "with": {"options": {"tag": f"n{i}"}},
                **({"needs": [f"n{i - 1}"]} if i else {}),
            }
            for i in range(args.nodes)
        ],
    }
    results = []
    for label, executor in (
        ("in-process", "asyncio"),
        ("dask, thread workers", DaskExecutor(workers=2, processes=False)),
        ("dask, process workers", DaskExecutor(workers=2, processes=True)),
    ):
        kernel = Kernel(persist=False, executor=executor)
        kernel.run(spec)  # warm: cluster started, plugins loaded on the workers
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run = kernel.run(spec)
            times.append(time.perf_counter() - started)
            assert run.status == "succeeded", run.error
        kernel.close()
        best = min(times)
        results.append(
            {
                "executor": label,
                "nodes": args.nodes,
                "best_ms_per_node": round(best / args.nodes * 1000, 2),
                "median_ms_per_node": round(sorted(times)[len(times) // 2] / args.nodes * 1000, 2),
                "load": load(),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--runs-at-once", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="threads per Dask worker")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--spec", default="document-to-video", help="a spec name or file")
    parser.add_argument("--only", choices=["batch", "overhead", "crash"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from reelgraph.observe.logs import configure_logging

    configure_logging("console", "warning")  # warnings to stderr; figures alone on stdout
    report: dict = {"cores": os.cpu_count()}
    if args.only in (None, "batch"):
        docs = documents(args.count)
        local = run_batch("asyncio", {}, docs, args)
        options = {"workers": args.workers, "threads_per_worker": args.threads}
        remote = run_batch("dask", options, docs, args)
        report["batch"] = [local, remote]
        report["speed_up"] = round(local["wall_s"] / remote["wall_s"], 2)
    if args.only in (None, "overhead"):
        report["overhead"] = overhead(args)
    if args.only in (None, "crash"):
        report["crash"] = crash(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for row in report.get("batch", []):
        print(
            f"{row['executor']:8} {row['succeeded']}/{row['documents']} succeeded  "
            f"wall {row['wall_s']:7.1f} s  cpu {row['cpu_s']:7.1f} s  "
            f"load {row['load_before']} -> {row['load_after']}"
        )
    if "speed_up" in report:
        print(f"speed-up (in-process wall / dask wall): {report['speed_up']}x")
    if "crash" in report:
        c = report["crash"]
        print(
            f"crash: {c['workers_killed']} workers killed over {c['nodes']} nodes, run {c['status']}, "
            f"{c['attempts']} attempts, nodes redone {c['nodes_redone']}, submissions "
            f"{c['submissions']} (duplicated {c['submissions_duplicated']}), wall {c['wall_s']} s"
        )
    for row in report.get("overhead", []):
        print(
            f"{row['executor']:22} {row['best_ms_per_node']:7.2f} ms/node best, "
            f"{row['median_ms_per_node']:7.2f} median ({row['nodes']} nodes, load {row['load']})"
        )


if __name__ == "__main__":
    main()
