"""Events per second into the run store: SQLite vs PostgreSQL, one writer and two at once.

Each writer is a process of its own with its own store connection and its
own run, and appends events the way the scheduler does: one commit per
:class:`~reelgraph.store.runs.Batch` of ``--per-commit`` events (the
scheduler commits a node's state change with the events that came with it,
usually 1 to 3). Two writers start together (a shared start time) and the
figure for them is all events over the wall time from that start to the
last writer's end. CPU seconds are the writers' own (user + system), not the
server's. Commit latency: the median (p50) and 95th percentile of one
``add_events`` call, per writer (the median of the writers' p50s, the worst
p95); on a loaded machine the mean, and so events/s, is dominated by the
slow tail, while p50 says what one commit costs.

Backends:

- ``sqlite``: ``RunStore`` on a file in a temporary folder (WAL,
  ``synchronous=NORMAL``: a commit does not fsync; see kernel/store/runs.py);
- ``postgresql``: ``PostgresRunStore`` on a throwaway local server
  (initdb + pg_ctl, loopback TCP) with ``fsync=on`` and
  ``synchronous_commit=on``: every commit waits for its WAL flush;
- ``postgresql-async``: the same with ``synchronous_commit=off``, the setting
  closest to SQLite's NORMAL (a crash of the server may lose the last
  commits, never consistency:
  https://www.postgresql.org/docs/current/wal-async-commit.html).

Usage::

    python bench/store_backends.py [--events 2000] [--per-commit 1] [--repeat 3]

Wall-clock figures: a loaded machine slows them; the medians of ``--repeat``
runs are printed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from reelgraph.contrib.postgres.local_server import LocalServer

WRITER = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from reelgraph.store.runs import Batch, RunStore
    from reelgraph.store.backends import open_run_store

    target, run_id, events, per_commit, start_at = sys.argv[1:6]
    store = open_run_store(target if "://" in target else None, Path(target))
    store.create_run(run_id, spec="bench", spec_path=None, spec_text="{}", inputs={},
                     output_dir=None, started_at=time.time())
    while time.time() < float(start_at):
        time.sleep(0.001)
    began = time.time()
    written = 0
    commits = []
    while written < int(events):
        n = min(int(per_commit), int(events) - written)
        batch = [(time.time(), "node.progress", "n", {"i": written + k}) for k in range(n)]
        t0 = time.perf_counter()
        store.add_events(run_id, batch)
        commits.append(time.perf_counter() - t0)
        written += n
    ended = time.time()
    store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    commits.sort()
    print(json.dumps({"began": began, "ended": ended, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "p50_ms": 1000 * commits[len(commits) // 2],
                      "p95_ms": 1000 * commits[int(len(commits) * 0.95)]}))
    """
)


def _writers(target: str, count: int, events: int, per_commit: int, tag: str) -> dict:
    """Run ``count`` writer processes at once; events/s over their common wall time."""
    import json

    start_at = time.time() + 1.5 + 0.5 * count  # after every writer has connected
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                target,
                f"{tag}-{i}",
                str(events),
                str(per_commit),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(count)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a writer failed ({proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    return {
        "events_s": count * events / wall,
        "cpu_s": sum(r["cpu_s"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p95_ms": max(r["p95_ms"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per writer")
    parser.add_argument("--per-commit", type=int, default=1, help="events per transaction")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    servers = {
        "postgresql": LocalServer({"fsync": "on", "synchronous_commit": "on"}).start(),
        "postgresql-async": LocalServer({"fsync": "on", "synchronous_commit": "off"}).start(),
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="reelgraph-bench-") as folder:
            for backend in ("sqlite", "postgresql", "postgresql-async"):
                for count in (1, 2):
                    figures = []
                    for attempt in range(args.repeat):
                        tag = f"{backend}-{count}-{attempt}"
                        if backend == "sqlite":
                            target = str(Path(folder) / tag)  # a home: a fresh reelgraph.db
                        else:
                            name = tag.replace("-", "_")
                            target = servers[backend].create_database(name)
                        figures.append(_writers(target, count, args.events, args.per_commit, tag))
                    rows.append(
                        (backend, count)
                        + tuple(
                            statistics.median(f[key] for f in figures)
                            for key in ("events_s", "cpu_s", "p50_ms", "p95_ms")
                        )
                    )
    finally:
        for server in servers.values():
            server.stop()

    own = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{args.events} events per writer, {args.per_commit} per commit, "
        f"median of {args.repeat} (wall clock; this process used {own.ru_utime:.1f} s CPU)"
    )
    print(f"{'backend':<18} {'writers':>7} {'events/s':>10} {'writer CPU s':>13}"
          f" {'commit p50 ms':>14} {'p95 ms':>8}")  # fmt: skip
    for backend, count, events_s, cpu_s, p50, p95 in rows:
        print(f"{backend:<18} {count:>7} {events_s:>10.0f} {cpu_s:>13.2f} {p50:>14.2f} {p95:>8.2f}")


if __name__ == "__main__":
    main()
