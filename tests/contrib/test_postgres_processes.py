"""Several processes on one PostgreSQL run store (a real server, started by the test).

- two processes append events to one run at the same moment: none is lost,
  each run's ``seq`` and the store's ``gid`` stay gapless and unique, and each
  writer's events keep their order;
- process A runs a spec and is killed (SIGKILL) mid-node; process B resumes
  the run under the same id, taking over A's lease; a third process lists
  and shows it (``reelgraph runs``/``show`` with ``REELGRAPH_STORE``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reelgraph.contrib.postgres.store import PostgresRunStore
from reelgraph.store.leases import get_lease
from tests.contrib.postgres_fixtures import postgres_server, postgres_url  # noqa: F401

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from reelgraph.contrib.postgres.store import PostgresRunStore
    url, writer, batches, per_batch, start_at = sys.argv[1:6]
    store = PostgresRunStore(url)
    while time.time() < float(start_at):  # both writers begin together
        time.sleep(0.001)
    i = 0
    for _ in range(int(batches)):
        events = []
        for _ in range(int(per_batch)):
            events.append((time.time(), "progress", writer, {"writer": writer, "i": i}))
            i += 1
        store.add_events("shared", events)
    store.close()
    """
)


def _env(url: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "REELGRAPH_STORE": url,
        "REELGRAPH_HOME": str(home),
        "PYTHONPATH": str(REPO),
    }


def test_two_processes_appending_to_one_run_lose_no_event(postgres_url: str) -> None:  # noqa: F811
    batches, per_batch = 150, 2
    with PostgresRunStore(postgres_url) as store:
        store.create_run(
            "shared",
            spec="s",
            spec_path=None,
            spec_text="{}",
            inputs={},
            output_dir=None,
            started_at=time.time(),
        )
    start_at = time.time() + 2.0  # after both have connected
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                postgres_url,
                name,
                str(batches),
                str(per_batch),
                str(start_at),
            ],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for name in ("a", "b")
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    with PostgresRunStore(postgres_url) as store:
        rows = store.read_events("shared")
    total = 2 * batches * per_batch
    assert len(rows) == total
    assert [r.seq for r in rows] == list(range(1, total + 1))
    assert sorted(r.gid for r in rows) == list(range(1, total + 1))
    for writer in ("a", "b"):
        mine = [r.data["i"] for r in rows if r.data["writer"] == writer]
        assert mine == list(range(batches * per_batch))
    # the writes really interleaved: the writers' events are not two blocks
    changes = sum(1 for x, y in zip(rows, rows[1:], strict=False) if x.node_id != y.node_id)
    assert changes > 2


RUNNER = textwrap.dedent(
    """
    import sys
    from reelgraph import Kernel
    from tests.kernel.steps import AsyncAdder, StepSpecs, chain_spec

    spec = chain_spec(3)
    spec["nodes"][1]["with"]["delay_s"] = 120.0  # n1 hangs until killed
    kernel = Kernel(plugins=[AsyncAdder()], entry_points=False, hookspecs=[StepSpecs])
    kernel.run(spec)
    """
)

RESUMER = textwrap.dedent(
    """
    import json, sys
    from reelgraph import Kernel, hookimpl
    from tests.kernel.steps import StepSpecs

    class Quick:
        reelgraph_name = "adder"  # the provider the stored spec names

        @hookimpl
        async def step(self, value, delay_s, ctx):
            return value + 1  # the stored delay is ignored: this process finishes n1

    kernel = Kernel(plugins=[Quick()], entry_points=False, hookspecs=[StepSpecs])
    run = kernel.resume(sys.argv[1])
    kinds = [event.type for event in run.events]
    print(json.dumps({"status": run.status, "outputs": run.outputs, "kinds": kinds}))
    """
)


def _wait_running(store: PostgresRunStore, proc: subprocess.Popen, node: str) -> str:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, f"{node} never started"
        for run in store.list_runs(5):
            if any(n.node_id == node and n.status == "running" for n in store.get_nodes(run.id)):
                return run.id
        time.sleep(0.05)


def test_a_killed_run_is_resumed_by_another_process_and_listed_by_a_third(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = _env(postgres_url, tmp_path / "home")
    first = subprocess.Popen(
        [sys.executable, "-c", RUNNER], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        with PostgresRunStore(postgres_url) as store:
            run_id = _wait_running(store, first, "n1")
            lease = get_lease(store, run_id)
            assert lease is not None and lease.pid == first.pid
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if first.stderr:
            first.stderr.close()

    resumed = subprocess.run(
        [sys.executable, "-c", RESUMER, run_id],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["status"] == "succeeded"
    assert "run.lease_taken_over" in result["kinds"]

    cli = [sys.executable, "-m", "reelgraph.cli"]
    listed = subprocess.run(
        [*cli, "runs", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert [(r["id"], r["status"]) for r in json.loads(listed.stdout)] == [(run_id, "succeeded")]
    shown = subprocess.run(
        [*cli, "show", run_id[:10], "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["id"] == run_id and data["status"] == "succeeded"
    assert not (tmp_path / "home" / "reelgraph.db").exists()  # nothing went to SQLite

    with PostgresRunStore(postgres_url) as store:
        nodes = {n.node_id: n for n in store.get_nodes(run_id)}
        assert [nodes[f"n{i}"].output for i in range(3)] == [1, 2, 3]
        starts = [
            (kind, node) for _, kind, node, _ in store.get_events(run_id) if kind == "node.started"
        ]
        assert starts.count(("node.started", "n0")) == 1  # finished before the kill: not redone
        assert starts.count(("node.started", "n1")) == 2  # the killed start and the resumed one
        taken = [d for _, kind, _, d in store.get_events(run_id) if kind == "run.lease_taken_over"]
        assert taken and str(lease.pid) in json.dumps(taken[0])
        assert get_lease(store, run_id) is None  # released at the end
