"""One owner per run: leases in the run store, refusals, takeovers, and exactly-once submission.

The process tests drive the remote-clip worker of test_journal_remote (a real
process talking to a fake task service on loopback) and count the service's
submissions and the store's ``node.started`` events.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reelgraph.store.leases import (
    Lease,
    LeaseLost,
    RunLeased,
    acquire_lease,
    get_lease,
    release_lease,
    renew_lease,
)
from reelgraph.store.runs import RunStore

# `service` is test_journal_remote's fixture (the fake task service on loopback)
from tests.kernel.test_journal_remote import (  # noqa: F401
    PROMPT,
    FakeTaskService,
    _kill_while_polling,
    _wait_for,
    _worker,
    service,
)

CLI = [sys.executable, "-m", "reelgraph.cli"]


def _store_with_run(tmp_path: Path, run_id: str = "r1") -> RunStore:
    store = RunStore(tmp_path / "reelgraph.db")
    store.create_run(
        run_id,
        spec="s",
        spec_path=None,
        # a spec the installed plugins validate, so the CLI gets as far as the lease
        spec_text=json.dumps(
            {
                "name": "s",
                "nodes": [{"id": "doc", "hook": "ingest_document", "with": {"source": "a.md"}}],
            }
        ),
        inputs={},
        output_dir=None,
        started_at=time.time(),
    )
    return store


def _plant(store: RunStore, lease: Lease) -> None:
    """Write a lease row as another process would have left it."""
    store._write(
        "plant lease",
        lambda db: db.execute(
            "INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                lease.run_id,
                lease.owner,
                lease.host,
                lease.pid,
                lease.acquired_at,
                lease.heartbeat_at,
                lease.expires_at,
            ),
        ),
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_lease_refuses_a_second_owner(tmp_path: Path) -> None:
    with _store_with_run(tmp_path) as store:
        lease, previous, reason = acquire_lease(store, "r1")
        assert previous is None and reason is None
        assert lease.pid == os.getpid() and lease.host == socket.gethostname()
        with pytest.raises(RunLeased) as caught:
            acquire_lease(store, "r1")
        message = str(caught.value)
        assert f"process {os.getpid()} on {socket.gethostname()}" in message
        assert "reelgraph resume r1 --force" in message
        assert get_lease(store, "r1") == lease  # the refusal changed nothing


def test_a_lease_whose_process_is_gone_is_taken_over(tmp_path: Path) -> None:
    now = time.time()
    dead = _dead_pid()
    with _store_with_run(tmp_path) as store:
        _plant(store, Lease("r1", "old", socket.gethostname(), dead, now, now, now + 3600))
        lease, previous, reason = acquire_lease(store, "r1")
        assert previous is not None and previous.owner == "old"
        assert reason == f"stale: process {dead} on {socket.gethostname()} is gone"
        assert get_lease(store, "r1") == lease


def test_another_hosts_lease_lives_until_its_heartbeat_lapses(tmp_path: Path) -> None:
    now = time.time()
    with _store_with_run(tmp_path) as store:
        # a pid that exists here means nothing on another host: only the expiry counts
        _plant(store, Lease("r1", "far", "render-7", 1, now, now, now + 60))
        with pytest.raises(RunLeased, match="on render-7"):
            acquire_lease(store, "r1")
        _plant(store, Lease("r1", "far", "render-7", 1, now - 90, now - 90, now - 60))
        _, previous, reason = acquire_lease(store, "r1")
        assert previous is not None and previous.host == "render-7"
        assert reason is not None and reason.startswith("stale: no heartbeat since")


def test_force_takes_a_live_lease_and_the_old_owner_learns_it_lost(tmp_path: Path) -> None:
    with _store_with_run(tmp_path) as store:
        first, _, _ = acquire_lease(store, "r1")
        second, previous, reason = acquire_lease(store, "r1", force=True)
        assert previous == first and reason == "forced"
        with pytest.raises(LeaseLost):
            renew_lease(store, first)
        release_lease(store, first)  # the loser's release leaves the new owner's lease alone
        assert get_lease(store, "r1") == second
        renew_lease(store, second)
        release_lease(store, second)
        assert get_lease(store, "r1") is None


def _node_starts(home: Path, run_id: str) -> int:
    with RunStore(home / "reelgraph.db") as store:
        return sum(
            1
            for _, kind, node, _ in store.get_events(run_id)
            if kind == "node.started" and node == "clip"
        )


def test_two_resumes_of_a_killed_run_run_it_once(
    service: FakeTaskService,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    run_id, task_id = _kill_while_polling(service, home, tmp_path)
    assert _node_starts(home, run_id) == 1

    procs = [
        subprocess.Popen(
            _worker("resume", str(home), service.url, run_id),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        results.append((proc.returncode, json.loads(stdout.strip().splitlines()[-1]), stderr))

    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 5], results
    refused = next(answer for code, answer, _ in results if code == 5)["refused"]
    assert f"run {run_id} is being executed by process" in refused
    assert "--force" in refused
    winner = next(answer for code, answer, _ in results if code == 0)
    assert winner["status"] == "succeeded", winner
    assert service.snapshot()[0] == [task_id]  # one submission over three processes
    assert _node_starts(home, run_id) == 2  # the killed owner's start and the winner's
    with RunStore(home / "reelgraph.db") as store:
        takeovers = [e[3] for e in store.get_events(run_id) if e[1] == "run.lease_taken_over"]
        assert len(takeovers) == 1
        assert takeovers[0]["forced"] is False
        assert "is gone" in takeovers[0]["reason"]
        assert get_lease(store, run_id) is None  # released at the end
        assert store.get_run(run_id).status == "succeeded"


def test_forced_takeover_while_polling_submits_nothing_twice(
    service: FakeTaskService,  # noqa: F811
    tmp_path: Path,
) -> None:
    # long enough that the forced resume starts (a new interpreter) while the first polls
    service.complete_after = 15.0
    home = tmp_path / "home"
    first = subprocess.Popen(
        _worker("run", str(home), service.url, PROMPT, "--lease-ttl-s=0.6"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        run_id = first.stdout.readline().strip()

        def polling() -> bool:
            posts, gets = service.snapshot()
            return len(posts) == 1 and bool(gets)

        _wait_for(polling, 30, "the first owner's submission and poll")
        taken = subprocess.run(
            _worker("resume", str(home), service.url, run_id, "--force", "--lease-ttl-s=0.6"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        first_out, first_err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout.strip().splitlines()[-1])["status"] == "succeeded"
    lost = json.loads(first_out.strip().splitlines()[-1])
    assert lost["status"] == "failed" and "taken over" in lost["error"], (lost, first_err)
    assert len(service.snapshot()[0]) == 1  # the journal kept it to one paid submission
    # the new owner wrote into a folder of its own, not the one the loser kept writing to
    assert len(list((home / "runs" / run_id).glob("owner-*/*/clip.txt"))) == 1
    with RunStore(home / "reelgraph.db") as store:
        takeovers = [e[3] for e in store.get_events(run_id) if e[1] == "run.lease_taken_over"]
        assert [data["forced"] for data in takeovers] == [True]
        assert store.get_run(run_id).status == "succeeded"  # the loser did not overwrite it


def test_cli_resume_of_a_live_run_exits_5_and_names_the_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        now = time.time()
        with _store_with_run(home, "20261205-120000-abcdef") as store:
            _plant(
                store,
                Lease(
                    "20261205-120000-abcdef",
                    "x",
                    socket.gethostname(),
                    holder.pid,
                    now,
                    now,
                    now + 3600,
                ),
            )
        done = subprocess.run(
            [*CLI, "resume", "20261205-120000-abcdef"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "REELGRAPH_HOME": str(home)},
        )
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 5, done.stderr
    assert f"process {holder.pid}" in done.stderr
    assert "Traceback" not in done.stderr
