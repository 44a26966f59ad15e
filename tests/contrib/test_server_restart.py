"""A server that dies mid-run, and one that stops mid-run: the run is resumed over HTTP.

The first server is a process of its own (``python -m tests.contrib.server_steps``),
killed with SIGKILL while a run is in flight, so its run stays ``running`` in
the store with a lease whose process is gone; a new server on the same home
resumes it through ``POST /api/runs/{id}/resume``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.contrib.conftest import serve
from tests.contrib.server_steps import chain_spec, make_kernel
from tests.contrib.test_server_api import node_status, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/api/runs", timeout=60).raise_for_status()
            return
        except httpx.TransportError:
            assert process.poll() is None, "the server process exited"
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)


def node_starts(kernel, run_id: str, node_id: str) -> int:
    return sum(1 for e in kernel.store.get_events(run_id) if e[1:3] == ("node.started", node_id))


def test_run_of_a_killed_server_is_resumed_by_the_next(home):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.contrib.server_steps", str(home), str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(url, process)
        with httpx.Client(base_url=url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": chain_spec(5, delay_s=0.4)}).json()[
                "id"
            ]
            deadline = time.monotonic() + 30
            while node_status(client, run_id, "s1") != "succeeded":
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    running = serve(make_kernel(home))
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            orphan = client.get(f"/api/runs/{run_id}").json()
            assert orphan["status"] == "running" and orphan["live"] is False
            resumed = client.post(f"/api/runs/{run_id}/resume", json={})
            assert resumed.status_code == 202, resumed.text
            data = wait_for(client, run_id)
            assert data["status"] == "succeeded"
            assert data["outputs"] == {"last": 5}
        types = [e[1] for e in running.kernel.store.get_events(run_id)]
        assert "run.lease_taken_over" in types
        assert node_starts(running.kernel, run_id, "s0") == 1  # finished work is not redone
    finally:
        running.stop()


def test_run_of_a_stopped_server_is_cancelled_then_resumed(home):
    first = serve(make_kernel(home))
    with httpx.Client(base_url=first.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": chain_spec(4, delay_s=0.4)}).json()["id"]
        deadline = time.monotonic() + 30
        while node_status(client, run_id, "s0") != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    first.stop()  # a clean shutdown cancels the runs in flight
    assert first.kernel.store.get_run(run_id).status == "cancelled"

    second = serve(make_kernel(home))
    try:
        with httpx.Client(base_url=second.url, timeout=60) as client:
            assert client.post(f"/api/runs/{run_id}/resume").status_code == 202
            assert client.post(f"/api/runs/{run_id}/resume").status_code == 409  # live here
            assert wait_for(client, run_id)["status"] == "succeeded"
        assert node_starts(second.kernel, run_id, "s0") == 1
    finally:
        second.stop()
