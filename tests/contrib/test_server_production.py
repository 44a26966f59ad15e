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
