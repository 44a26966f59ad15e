"""The REST API of ``reelgraph serve`` against a real uvicorn on loopback, driven by httpx.

Runs use the fast ``step``/``ask`` hooks of ``server_steps`` through the real
kernel and a real SQLite run store; nothing is mocked.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.contrib.server_steps import STEP_COST_USD, asking_spec, chain_spec, upload_spec

TERMINAL = {"succeeded", "failed", "failed_quality", "over_budget", "needs_input", "cancelled"}


def wait_for(client: httpx.Client, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
    """Poll ``GET /api/runs/{id}`` until the run stops and no task of the server runs it."""
    deadline = time.monotonic() + timeout_s
    while True:
        data = client.get(f"/api/runs/{run_id}").raise_for_status().json()
        if data["status"] in TERMINAL and not data["live"]:
            return data
        assert time.monotonic() < deadline, f"run {run_id} still {data['status']}"
        time.sleep(0.05)


def node_status(client: httpx.Client, run_id: str, node_id: str) -> str:
    """A node's stored status; ``pending`` until it has started."""
    nodes = client.get(f"/api/runs/{run_id}").raise_for_status().json()["nodes"]
    return next((n["status"] for n in nodes if n["id"] == node_id), "pending")


def test_specs_list_get_validate_and_graph(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        names = [s["name"] for s in client.get("/api/specs").json()]
        assert "document-to-video" in names

        spec = client.get("/api/specs/document-to-video").json()
        assert spec["name"] == "document-to-video"
        assert "nodes:" in spec["text"]
        assert spec["inputs"]["document"]["required"] is True

        assert client.get("/api/specs/no-such-spec").status_code == 404

        valid = client.post("/api/specs/validate", json={"spec": chain_spec(3)}).json()
        assert valid == {"valid": True, "order": ["s0", "s1", "s2"], "problems": []}
        broken = chain_spec(2)
        broken["nodes"][1]["hook"] = "stpe"
        invalid = client.post("/api/specs/validate", json={"spec": broken}).json()
        assert invalid["valid"] is False
        assert invalid["problems"][0]["node"] == "s1"

        graph = client.get("/api/specs/document-to-video/graph").json()
        ids = {n["id"] for n in graph["nodes"]}
        assert graph["edges"] and all(
            e["source"] in ids and e["target"] in ids for e in graph["edges"]
        )
        mermaid = client.get("/api/specs/document-to-video/graph", params={"format": "mermaid"})
        assert mermaid.headers["content-type"].startswith("text/plain")
        assert mermaid.text.startswith("flowchart TD")
        # the same chart `reelgraph graph` prints: one line per edge of the JSON graph
        assert mermaid.text.count(" --> n_") >= len(graph["edges"])


def test_submit_get_list_costs_and_store(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        made = client.post("/api/runs", json={"spec": chain_spec(3), "inputs": {"start": 5}})
        assert made.status_code == 201, made.text
        run_id = made.json()["id"]
        data = wait_for(client, run_id)
        assert data["status"] == "succeeded"
        assert data["outputs"] == {"last": 8}
        assert [n["status"] for n in data["nodes"]] == ["succeeded"] * 3

        costs = client.get(f"/api/runs/{run_id}/costs").json()
        assert costs["total_usd"] == 3 * STEP_COST_USD
        assert costs["by_node"] == {f"s{i}": STEP_COST_USD for i in range(3)}

        other = client.post("/api/runs", json={"spec": asking_spec()}).json()["id"]
        wait_for(client, other)
        listed = client.get("/api/runs").json()
        assert {r["id"] for r in listed} == {run_id, other}
        only = client.get("/api/runs", params={"status": "succeeded"}).json()
        assert [r["id"] for r in only] == [run_id]
        assert [r["id"] for r in client.get("/api/runs", params={"spec": "asking"}).json()] == [
            other
        ]
        assert client.get("/api/runs/nope").status_code == 404

    # recorded in the same run store a CLI run uses
    row = served.kernel.store.get_run(run_id)
    assert row.status == "succeeded" and row.inputs == {"start": 5}


def test_bad_submissions_say_why(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        bad_input = client.post(
            "/api/runs", json={"spec": chain_spec(1), "inputs": {"start": "many"}}
        )
        assert bad_input.status_code == 422
        assert "start" in bad_input.json()["detail"]["message"]
        bad_spec = chain_spec(1)
        bad_spec["nodes"][0]["provider"] = "nobody"
        refused = client.post("/api/runs", json={"spec": bad_spec})
        assert refused.status_code == 422
        assert refused.json()["detail"]["problems"][0]["field"] == "provider"
        assert client.post("/api/runs", json={"spec": 3}).status_code == 400
        assert client.post("/api/runs", json={"spec": "/etc/passwd"}).status_code == 404
    assert served.kernel.store.list_runs() == []


def test_answer_questions_over_http(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": asking_spec()}).json()["id"]
        data = wait_for(client, run_id)
        assert data["status"] == "needs_input"
        assert [q["key"] for q in data["questions"]] == ["audience"]

        wrong = client.post(f"/api/runs/{run_id}/answers", json={"answers": {"tone": "dry"}})
        assert wrong.status_code == 422
        assert "audience" in wrong.json()["detail"]["message"]

        ok = client.post(f"/api/runs/{run_id}/answers", json={"answers": {"audience": "kids"}})
        assert ok.status_code == 202, ok.text
        data = wait_for(client, run_id)
        assert data["status"] == "succeeded"
        assert data["outputs"] == {"plan": "cats for kids"}
        assert data["answers"] == {"audience": "kids"}
        again = client.post(f"/api/runs/{run_id}/answers", json={"answers": {"audience": "x"}})
        assert again.status_code == 409


def test_cancel_then_resume(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": chain_spec(4, delay_s=0.5)}).json()["id"]
        deadline = time.monotonic() + 20
        while node_status(client, run_id, "s0") != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cancelled = client.post(f"/api/runs/{run_id}/cancel")
        assert cancelled.status_code == 202
        assert cancelled.json()["status"] == "cancelled"
        assert client.post(f"/api/runs/{run_id}/cancel").status_code == 409

        events = [e["type"] for e in client.get(f"/api/runs/{run_id}/events").json()]
        assert events[0] == "run.started" and events[-1] == "run.finished"

        assert client.post(f"/api/runs/{run_id}/resume", json={}).status_code == 202
        data = wait_for(client, run_id)
        assert data["status"] == "succeeded" and data["outputs"] == {"last": 4}
    # s0 finished before the cancel: the resume reused it instead of running it again
    starts = [e for e in served.kernel.store.get_events(run_id) if e[1] == "node.started"]
    assert [e[2] for e in starts].count("s0") == 1


def test_quality_of_a_run_without_gates(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": chain_spec(1)}).json()["id"]
        wait_for(client, run_id)
        assert client.get(f"/api/runs/{run_id}/quality").json() == {"passed": True, "gates": []}


def test_upload_is_stored_in_the_run_directory(served, home):
    text = "# Uploaded title\n\nSome words about the upload.\n"
    with httpx.Client(base_url=served.url, timeout=60) as client:
        made = client.post(
            "/api/runs/with-files",
            data={"request": json.dumps({"spec": upload_spec()})},
            files={"document": ("../../notes.md", text.encode(), "text/markdown")},
        )
        assert made.status_code == 201, made.text
        run_id = made.json()["id"]
        data = wait_for(client, run_id)
        assert data["status"] == "succeeded", data["error"]
        assert data["outputs"] == {"title": "Uploaded title"}
        stored = home / "runs" / run_id / "uploads" / "notes.md"  # the name, not the path
        assert stored.read_text() == text
        assert data["inputs"]["document"] == str(stored)
        listed = [a["path"] for a in client.get(f"/api/runs/{run_id}/artifacts").json()]
        assert "uploads/notes.md" in listed


def test_oversize_upload_is_refused_and_leaves_nothing(home):
    from tests.contrib.conftest import serve
    from tests.contrib.server_steps import make_kernel

    running = serve(make_kernel(home), max_upload_bytes=10_000)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            body = {"request": '{"spec": "document-to-video"}'}
            big = client.post(
                "/api/runs/with-files",
                data=body,
                files={"document": ("big.md", b"x" * 20_000, "text/markdown")},
            )
            assert big.status_code == 413
            assert "10000 byte" in big.json()["detail"]

            # no Content-Length (chunked): the cap is enforced while the body arrives
            def chunks():
                yield b"--b\r\nContent-Disposition: form-data; name=document; filename=a.md\r\n\r\n"
                for _ in range(30):
                    yield b"y" * 1000
                yield b"\r\n--b--\r\n"

            chunked = client.post(
                "/api/runs/with-files",
                content=chunks(),
                headers={"content-type": "multipart/form-data; boundary=b"},
            )
            assert chunked.status_code == 413
    finally:
        running.stop()
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_budget_stops_a_run_and_resume_raises_it(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        body = {"spec": chain_spec(4), "budget": {"max_cost_usd": 1.5 * STEP_COST_USD}}
        run_id = client.post("/api/runs", json=body).json()["id"]
        data = wait_for(client, run_id)
        assert data["status"] == "over_budget"
        assert data["cost_usd"] < 4 * STEP_COST_USD
        raised = client.post(f"/api/runs/{run_id}/resume", json={"budget": {"max_cost_usd": 1}})
        assert raised.status_code == 202
        data = wait_for(client, run_id)
        assert data["status"] == "succeeded" and data["outputs"] == {"last": 4}
        assert data["cost_usd"] == 4 * STEP_COST_USD  # nothing paid twice


def test_secret_inputs_stay_out_of_answers_and_store(served, home):
    import secrets as random

    key = "sk-proj-" + random.token_hex(20)
    spec = chain_spec(2, delay_s=0.2)
    spec["inputs"]["api_key"] = {"type": "string", "secret": True}
    with httpx.Client(base_url=served.url, timeout=60) as client:
        made = client.post("/api/runs", json={"spec": spec, "inputs": {"api_key": key}})
        run_id = made.json()["id"]
        assert client.post(f"/api/runs/{run_id}/cancel").json()["status"] == "cancelled"
        # a secret input is never stored: resume takes it again, as the CLI's -i does
        resumed = client.post(f"/api/runs/{run_id}/resume", json={"inputs": {"api_key": key}})
        assert resumed.status_code == 202, resumed.text
        assert wait_for(client, run_id)["status"] == "succeeded"
        answers = [
            made.text,
            resumed.text,
            client.get("/api/runs").text,
            client.get(f"/api/runs/{run_id}").text,
            client.get(f"/api/runs/{run_id}/events").text,
        ]
    assert all(key not in text for text in answers)
    for path in home.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_graph_of_an_inline_spec(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        graph = client.post("/api/specs/graph", json={"spec": chain_spec(3)}).json()
        assert [n["id"] for n in graph["nodes"]] == ["s0", "s1", "s2"]
        assert graph["edges"] == [
            {"source": "s0", "target": "s1"},
            {"source": "s1", "target": "s2"},
        ]
        chart = client.post("/api/specs/graph", json={"spec": chain_spec(2), "format": "mermaid"})
        assert "n_s0 --> n_s1" in chart.text
        broken = chain_spec(1)
        broken["nodes"][0]["hook"] = "nope"
        assert client.post("/api/specs/graph", json={"spec": broken}).status_code == 422


def test_run_graph_shows_each_node_state(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": chain_spec(3, delay_s=0.5)}).json()["id"]
        deadline = time.monotonic() + 20
        while node_status(client, run_id, "s0") != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        during = client.get(f"/api/runs/{run_id}/graph").json()
        states = {n["id"]: n["status"] for n in during["nodes"]}
        assert states["s0"] == "succeeded" and states["s2"] == "pending"
        assert during["status"] == "running"
        wait_for(client, run_id)
        after = client.get(f"/api/runs/{run_id}/graph").json()
        assert {n["status"] for n in after["nodes"]} == {"succeeded"}
        assert all(n["cost_usd"] == STEP_COST_USD for n in after["nodes"])
        assert len(after["edges"]) == 2
