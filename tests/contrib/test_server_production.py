"""The brief -> plan endpoints with the offline roles and the solver (no key, no network)."""

from __future__ import annotations

from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_script_shots_and_plan_from_a_brief(served):
    brief = {
        "filename": "trunk-based.yaml",
        "text": (FIXTURES / "briefs" / "trunk-based.yaml").read_text(encoding="utf-8"),
    }
    with httpx.Client(base_url=served.url, timeout=300) as client:
        answers = {
            stage: client.post(f"/api/production/{stage}", json={"brief": brief})
            for stage in ("script", "shots", "plan")
        }
        for stage, answer in answers.items():
            assert answer.status_code == 200, (stage, answer.text)
            assert answer.json()["status"] == "succeeded", answer.json()["error"]
        script = answers["script"].json()["result"]
        shots = answers["shots"].json()["result"]
        plan = answers["plan"].json()["result"]
        assert script["title"] == "Trunk-based development"
        assert len(script["scenes"]) == 6  # the offline writer's six beats for this brief
        assert 55 <= script["duration_s"] <= 65  # timed to the brief's 60 s, within 5 s
        assert len(shots["shots"]) == len(script["scenes"])
        assert plan["optimal"] is True and len(plan["shots"]) == len(shots["shots"])
        assert plan["total_cost_usd"] == 0.0  # the offline plan of this brief costs nothing

        # each stage ran only the nodes it needs: the script run has no shots node
        nodes = client.get(f"/api/runs/{answers['script'].json()['run']}/graph").json()["nodes"]
        assert {n["id"] for n in nodes} == {"brief", "plan", "script"}

        assert client.post("/api/production/video", json={"brief": "x"}).status_code == 404
        assert client.post("/api/production/script", json={}).status_code == 400


def test_stream_sends_each_stage_as_it_exists(served):
    import json

    from httpx_sse import connect_sse

    brief = (FIXTURES / "briefs" / "trunk-based.yaml").read_text(encoding="utf-8")
    body = {"brief": {"filename": "trunk-based.yaml", "text": brief}}
    with (
        httpx.Client(base_url=served.url, timeout=300) as client,
        connect_sse(client, "POST", "/api/production/stream", json=body) as source,
    ):
        messages = [(sse.event, json.loads(sse.data)) for sse in source.iter_sse()]
    assert messages[0][0] == "run"
    run_id = messages[0][1]["run"]
    stages = [data["stage"] for event, data in messages if event == "stage"]
    assert stages == ["brief", "plan", "script", "shots", "production"]  # in pipeline order
    assert messages[-1] == ("done", {"status": "succeeded", "error": None})
    results = {data["stage"]: data["result"] for event, data in messages if event == "stage"}
    assert results["script"]["title"] == "Trunk-based development"
    assert len(results["production"]["shots"]) == len(results["shots"]["shots"])
    # the run is an ordinary stored run: its events and status are in the store
    assert served.kernel.store.get_events(run_id)[-1][1] == "run.finished"
    assert served.kernel.store.get_run(run_id).status == "succeeded"
