"""What store-wide event ids (schema 7: events.gid) cost writers and save readers.

    python bench/store_events.py [--runs 200] [--events 500] [--commits 3000]

Readers: median CPU milliseconds of one poll of an event stream over a store of
``--runs`` finished runs of ``--events`` events each: one run's events read all
again (``get_events``, what the server did before) or after the last ``seq``
(``read_events``); the old all-runs poll (``list_runs(100)`` and one run's
events) or every run's events after the last ``gid``. Writers: median CPU
microseconds of a commit of one event at schema 6 (no gid) and 7 (gid and its
index), on a WAL file with ``synchronous = NORMAL`` as the run store opens it.
CPU time (``time.process_time``), so other load on the machine matters less.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelgraph.store._migrations import MIGRATIONS
from reelgraph.store.runs import _ADD_EVENT, RunStore

# the statement before schema 7 (kernel/store/runs.py at 08ba886^)
_ADD_EVENT_6 = (
    "INSERT INTO events (run_id, seq, ts, type, node_id, data) VALUES"
    " (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?1), ?2, ?3, ?4, ?5)"
)


def cpu_ms(action: Callable[[], Any], repeat: int = 50) -> float:
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1e3


def readers(runs: int, per_run: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, RunStore(Path(tmp) / "reelgraph.db") as store:
        for r in range(runs):
            run_id = f"r{r:04d}"
            store.create_run(run_id, spec="s", spec_path=None, spec_text="{}", inputs={},
                             output_dir=None, started_at=float(r))  # fmt: skip
            events = [(float(i), "node.progress", "n", {"i": i, "message": "x" * 40})
                      for i in range(per_run)]  # fmt: skip
            store.add_events(run_id, events)
            store.set_run_status(run_id, "succeeded", ended_at=r + 1.0, seconds=1.0)
        last, top = f"r{runs - 1:04d}", store.last_event_id()
        print(f"readers: {runs} runs x {per_run} events, median CPU ms per poll")
        rows = {
            "one run, all its events again (get_events)": lambda: store.get_events(last),
            "one run, after the last seq (read_events)": lambda: store.read_events(
                last, after=per_run
            ),
            "all runs, list_runs(100) + one run's events": lambda: (
                store.list_runs(100),
                store.get_events(last),
            ),
            "all runs, after the last gid (read_events)": lambda: store.read_events(
                after=top, limit=500
            ),
        }
        for label, action in rows.items():
            print(f"  {label:46} {cpu_ms(action):8.3f}")


def writers(commits: int) -> None:
    print(f"writers: {commits} commits of one event over 50 runs, median CPU us per commit")
    for version, sql in ((6, _ADD_EVENT_6), (7, _ADD_EVENT)):
        with tempfile.TemporaryDirectory() as tmp:
            db = sqlite3.connect(Path(tmp) / "x.db", isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            for script in MIGRATIONS[:version]:
                db.executescript(script)
            for r in range(50):
                db.execute(
                    "INSERT INTO runs (id, spec, spec_text, inputs, status, started_at)"
                    " VALUES (?, 's', '', '{}', 'running', 0)",
                    (f"r{r}",),
                )
            samples = []
            for i in range(commits):
                started = time.process_time()
                db.execute("BEGIN IMMEDIATE")
                db.execute(sql, (f"r{i % 50}", float(i), "node.progress", "n", '{"i": 1}'))
                db.execute("COMMIT")
                samples.append(time.process_time() - started)
            db.close()
        print(f"  schema {version}: {statistics.median(samples) * 1e6:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--commits", type=int, default=3000)
    args = parser.parse_args()
    readers(args.runs, args.events)
    writers(args.commits)


if __name__ == "__main__":
    main()
