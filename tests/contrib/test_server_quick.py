"""Quick actions: the shipped text workflows (offline providers) in one request each."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.contrib.test_server_api import wait_for


def test_lesson_plan_assessment_and_feedback(served, home):
    with httpx.Client(base_url=served.url, timeout=300) as client:
        lesson = client.post(
            "/api/workflows/quick/lesson-plan",
            json={"inputs": {"topic": "equivalent fractions", "grade": "4"}},
        )
        assert lesson.status_code == 200, lesson.text
        data = lesson.json()
        assert data["status"] == "succeeded", data["error"]
        # the JSON the run wrote, parsed: the same file the outputs name
        path = data["outputs"]["lesson_plan_json"]
        assert data["result"] == json.loads(Path(path).read_text(encoding="utf-8"))
        assert "fraction" in json.dumps(data["result"]).lower()

        test = client.post(
            "/api/workflows/quick/assessment",
            json={"inputs": {"topic": "equivalent fractions", "grade": "4", "count": 3}},
        ).json()
        assert test["status"] == "succeeded", test["error"]
        key = json.dumps(test["result"])

        work = "1. 2/4\n2. I don't know\n3. 3/6\n"
        feedback = client.post(
            "/api/workflows/quick/feedback",
            json={
                "inputs": {"student": "Ana"},
                "documents": {
                    "work": {"filename": "answers.md", "text": work},
                    "assessment": {"filename": "assessment.json", "text": key},
                },
            },
        ).json()
        assert feedback["status"] == "succeeded", feedback["error"]
        assert "Ana" in json.dumps(feedback["result"])
        uploads = home / "runs" / feedback["run"] / "uploads"
        assert (uploads / "answers.md").read_text() == work

        assert client.post("/api/workflows/quick/nothing", json={}).status_code == 404
        missing = client.post("/api/workflows/quick/lesson-plan", json={"inputs": {}})
        assert missing.status_code == 422 and "topic" in missing.text
        bad = client.post("/api/workflows/quick/feedback", json={"documents": {"work": 3}})
        assert bad.status_code == 400


def test_quick_action_that_outlasts_its_timeout_answers_202(served):
    with httpx.Client(base_url=served.url, timeout=300) as client:
        slow = client.post(
            "/api/workflows/quick/lesson-plan",
            json={"inputs": {"topic": "photosynthesis", "grade": "7"}, "timeout_s": 0},
        )
        assert slow.status_code == 202
        run_id = slow.json()["run"]
        assert wait_for(client, run_id, timeout_s=120)["status"] == "succeeded"
