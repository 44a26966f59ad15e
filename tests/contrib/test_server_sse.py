"""Server-Sent Events: ids from the run store, Last-Event-ID after a dropped connection.

A connection is dropped mid-run on purpose; the run goes on writing events while
no client listens; the reconnection with ``Last-Event-ID`` must deliver every
later event once: the ids seen, joined, are the stored events exactly.
"""

from __future__ import annotations

import json
import time

import httpx
from httpx_sse import connect_sse

from tests.contrib.conftest import serve
from tests.contrib.server_steps import chain_spec, make_kernel
from tests.contrib.test_server_api import wait_for


def read(client: httpx.Client, path: str, stop, last_id: str | None = None) -> list:
    """SSE messages of ``path`` until ``stop(messages)`` is true; then drop the connection."""
    headers = {"Last-Event-ID": last_id} if last_id else {}
    messages = []
    with connect_sse(client, "GET", path, headers=headers) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            messages.append(sse)
            if stop(messages):
                break
    return messages


def test_run_stream_resumes_after_a_dropped_connection(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": chain_spec(6, delay_s=0.15)}).json()["id"]
        path = f"/api/runs/{run_id}/events/stream"
        first = read(client, path, lambda m: len(m) == 4)
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "running"
        time.sleep(0.5)  # events are stored while nobody listens
        rest = read(client, path, lambda m: m[-1].event == "run.finished", first[-1].id)

    seen = first + rest
    stored = served.kernel.store.get_events(run_id)
    assert [int(m.id) for m in seen] == list(range(1, len(stored) + 1))  # none lost or repeated
    assert [m.event for m in seen] == [e[1] for e in stored]
    payloads = [json.loads(m.data) for m in seen]
    assert [p["node"] for p in payloads] == [e[2] for e in stored]
    assert all(p["run_id"] == run_id for p in payloads)
    assert len(rest) > 4  # the reconnection carried the events stored while it was down


def test_stream_of_all_runs_resumes_without_loss(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        old = client.post("/api/runs", json={"spec": chain_spec(1)}).json()["id"]
        wait_for(client, old)
        finished: set[str] = set()

        def both_done(messages) -> bool:
            finished.update(
                json.loads(m.data)["run_id"] for m in messages if m.event == "run.finished"
            )
            return len(finished) == 2

        ids: list[str] = []

        def submit_then_stop(messages) -> bool:
            return len(messages) == 3

        with connect_sse(client, "GET", "/api/events/stream") as source:
            # opened before the runs: the stream starts at "now", so nothing of `old`
            ids += [
                client.post("/api/runs", json={"spec": chain_spec(4, delay_s=0.15)}).json()["id"]
                for _ in range(2)
            ]
            first = []
            for sse in source.iter_sse():
                first.append(sse)
                if submit_then_stop(first):
                    break
        time.sleep(0.4)  # both runs go on while nobody listens
        rest = read(client, "/api/events/stream", both_done, first[-1].id)

    seen = [json.loads(m.data) for m in first + rest]
    assert old not in {p["run_id"] for p in seen}
    for run_id in ids:
        mine = [p for p in seen if p["run_id"] == run_id]
        stored = served.kernel.store.get_events(run_id)
        assert [p["id"] for p in mine] == list(range(1, len(stored) + 1)), run_id
        assert [p["type"] for p in mine] == [e[1] for e in stored]


def test_keep_alive_comment_and_bad_ids(home):
    running = serve(make_kernel(home), ping_s=0.2)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": chain_spec(1)}).json()["id"]
            wait_for(client, run_id)
            count = len(running.kernel.store.get_events(run_id))
            path = f"/api/runs/{run_id}/events/stream"
            with client.stream("GET", path, headers={"Last-Event-ID": str(count)}) as response:
                lines = []
                for line in response.iter_lines():
                    lines.append(line)
                    if line.startswith(":"):
                        break
            # nothing after the last event: only the keep-alive comment arrives
            assert lines and all(not line.startswith(("id:", "data:")) for line in lines)
            assert client.get(path, headers={"Last-Event-ID": "x"}).status_code == 400
            assert client.get(path, headers={"Last-Event-ID": "-1"}).status_code == 400
            bad = client.get("/api/events/stream", headers={"Last-Event-ID": "not-a-cursor"})
            assert bad.status_code == 400
            assert client.get("/api/runs/nope/events/stream").status_code == 404
    finally:
        running.stop()


def test_ids_of_the_all_runs_stream_are_the_store_event_ids(served):
    """The all-runs stream's ids are RunStore gids: increasing, and exactly the stored ones."""
    with httpx.Client(base_url=served.url, timeout=60) as client:
        first = client.post("/api/runs", json={"spec": chain_spec(2)}).json()["id"]
        wait_for(client, first)
        start = served.kernel.store.read_events()[0].gid - 1
        run_id = client.post("/api/runs", json={"spec": chain_spec(2)}).json()["id"]
        wait_for(client, run_id)
        stored = [r for r in served.kernel.store.read_events(after=start)]
        seen = read(client, "/api/events/stream", lambda m: len(m) == len(stored), str(start))
    assert [int(m.id) for m in seen] == [r.gid for r in stored]
    assert [int(m.id) for m in seen] == sorted({int(m.id) for m in seen})
    assert [json.loads(m.data)["run_id"] for m in seen] == [r.run_id for r in stored]
    assert {r.run_id for r in stored} >= {first, run_id}
