"""The text workflows on a real vendor SDK: the openai provider against a fake server on loopback.

``LLMRoles`` inherits :class:`~reelgraph.plugins.roles.education.EducationRoles`, so
the installed ``openai`` provider answers the education hooks through its one
``structured`` method. The real ``openai`` SDK talks to the fake Chat Completions
server (tests/fakes/openai_server.py), which checks each strict schema as the API
does and answers per ``json_schema.name``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.models import Assessment, LessonPlan
from reelgraph.plugins.roles.education import EducationRoles
from reelgraph.plugins.roles.llm import LLMRoles
from reelgraph.plugins.vendors._pricing import cost_usd, load_prices
from tests.fakes.openai_server import FakeOpenAI, Step

SPECS = Path(__file__).parents[2] / "specs"
STANDARD = {
    "id": "CCSS.MATH.CONTENT.4.NF.A.2",
    "statement": "Compare two fractions with different numerators and different denominators.",
    "framework": "Common Core State Standards for Mathematics",
    "subject": "math",
    "grades": ["4"],
    "url": "https://www.thecorestandards.org/Math/Content/4/NF/A/2/",
    "notice": "© Copyright 2010. NGA Center and CCSSO. All rights reserved.",
}


def section(title: str, minutes: int, moves: list[str] | None = None) -> dict:
    return {
        "title": title,
        "minutes": minutes,
        "purpose": f"{title}.",
        "teacher_moves": moves or [],
        "student_tasks": ["Compare 2/3 and 3/5."] if moves else [],
        "check_for_understanding": "Which is greater?" if moves else None,
        "materials": [],
    }


ANSWERS = {
    "_Standards": {"standards": [STANDARD]},
    "_Outline": {
        "title": "Which fraction is greater?",
        "objectives": ["I can compare fractions with unlike denominators."],
        "vocabulary": ["benchmark fraction"],
        "materials": ["fraction strips"],
        "sections": [section("Launch", 10), section("Explore", 25), section("Close", 10)],
    },
    "_Sections": {
        "sections": [
            section("Launch", 10, ["Show 2/3 and 3/5."]),
            section("Explore", 25, ["Hand out strips."]),
            section("Close", 10, ["Exit ticket."]),
        ]
    },
    "_Adaptations": {
        "adaptations": [
            {
                "learners": "support",
                "section": "Explore",
                "strategy": "Pre-cut strips.",
                "rationale": "UDL 5.2",
            },
            {
                "learners": "extension",
                "section": None,
                "strategy": "Order three fractions.",
                "rationale": "UDL 8.2",
            },
            {
                "learners": "language",
                "section": "Launch",
                "strategy": "Sentence frames.",
                "rationale": "WIDA",
            },
        ]
    },
}


def test_llm_roles_answer_the_education_hooks() -> None:
    assert issubclass(LLMRoles, EducationRoles)


@pytest.fixture
def key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(36)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeOpenAI(key, ANSWERS)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.close()


def test_lesson_plan_on_openai(server, key, tmp_path) -> None:
    server.queue(Step(content='{"standards": [{"id": "cut off'))  # malformed: one repair turn
    home, out = tmp_path / "home", tmp_path / "out"
    run = Kernel(home=home).run(
        str(SPECS / "lesson-plan.yaml"),
        inputs={
            "topic": "comparing fractions",
            "grade": "4",
            "llm": "openai",
            "model": "gpt-4o-mini",
        },
        output_dir=out,
    )
    assert run.status == "succeeded", run.error
    names = [r.schema_name for r in server.completions]
    assert names == ["_Standards", "_Standards", "_Outline", "_Sections", "_Adaptations"]
    assert {r.body["model"] for r in server.completions} == {"gpt-4o-mini"}
    plan = LessonPlan.model_validate_json((out / "lesson-plan.json").read_text("utf-8"))
    assert plan.title == "Which fraction is greater?" and plan.standards[0].id == STANDARD["id"]
    assert plan.sections[1].teacher_moves == ["Hand out strips."]
    assert [a.learners for a in plan.differentiation] == ["support", "extension", "language"]
    # every answered request is priced: usage x the gpt-4o-mini row of prices.yaml
    price = load_prices("openai")["gpt-4o-mini"]
    expected = sum(
        cost_usd(
            price, r.response["usage"]["prompt_tokens"], 0, r.response["usage"]["completion_tokens"]
        )
        for r in server.completions
    )
    assert sum(n.cost_usd for n in run.nodes.values()) == pytest.approx(expected)
    # the key is nowhere: outputs, run record, store
    for path in [*out.rglob("*"), *home.rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_assessment_on_openai(server, tmp_path) -> None:
    levels = [{"label": f"L{p}", "points": p, "descriptor": f"level {p}"} for p in (4, 3, 2, 1)]
    items = [
        {
            "id": "q01",
            "kind": "multiple_choice",
            "prompt": "Greater?",
            "choices": ["2/3", "3/5", "equal"],
            "answer": "2/3",
            "standard_id": STANDARD["id"],
            "points": 1,
            "rationale": "10/15 > 9/15",
        },
        {
            "id": "q02",
            "kind": "constructed_response",
            "prompt": "Explain.",
            "choices": [],
            "answer": "Common denominators: 10/15 > 9/15.",
            "standard_id": STANDARD["id"],
            "points": 1,
            "rationale": "",
        },
    ]
    server.answers |= {
        "_Items": {"title": "Comparing fractions", "items": items},
        "Rubric": {
            "title": "R",
            "criteria": [
                {
                    "criterion": "Reasoning",
                    "standard_id": STANDARD["id"],
                    "item_ids": ["q02"],
                    "levels": levels,
                }
            ],
        },
    }
    out = tmp_path / "out"
    run = Kernel(home=tmp_path / "home").run(
        str(SPECS / "assessment.yaml"),
        inputs={"topic": "comparing fractions", "grade": "4", "count": 2, "llm": "openai"},
        output_dir=out,
    )
    assert run.status == "succeeded", run.error
    assert [r.schema_name for r in server.completions] == ["_Standards", "_Items", "Rubric"]
    test = Assessment.model_validate(json.loads((out / "assessment.json").read_text("utf-8")))
    assert [i.points for i in test.items] == [1, 4]  # the open item is worth its criterion's top
    assert "| Reasoning | q02 |" in (out / "assessment.md").read_text("utf-8")


def test_feedback_on_anthropic_without_an_answer_key(monkeypatch, tmp_path) -> None:
    from tests.fakes.anthropic_server import FakeAnthropic

    key = "sk-ant-api03-" + secrets.token_urlsafe(64)
    analysis = {
        "student": "whoever",
        "title": "Opinion paragraph",
        "items": [],
        "criteria": [
            {
                "criterion": "Reasons",
                "level": "Meets",
                "points": 3,
                "max_points": 4,
                "evidence": ['"children focus better after play"'],
            }
        ],
        "score": 3,
        "max_score": 4,
        "strengths": ["a clear opinion"],
        "gaps": ["the second reason has no example"],
        "misconceptions": [],
        "objectives": [],
    }
    feedback = {
        "student": "whoever",
        "audience": "student",
        "goal": "Support an opinion with reasons.",
        "progress": ["Your opinion is clear."],
        "next_steps": ["Add an example to reason two."],
        "message": "Your opinion is clear; add an example to your second reason.",
    }
    server = FakeAnthropic(key, {"performance_analysis": analysis, "feedback": feedback})
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    work = tmp_path / "essay.md"
    work.write_text("Recess should be longer because children focus better after play.\n", "utf-8")
    out = tmp_path / "out"
    try:
        run = Kernel(home=tmp_path / "home").run(
            str(SPECS / "feedback.yaml"),
            inputs={"work": str(work), "student": "Ana", "llm": "anthropic"},
            output_dir=out,
        )
    finally:
        server.close()
    assert run.status == "succeeded", run.error
    tools = [r.body["tool_choice"]["name"] for r in server.messages()]
    assert tools == ["performance_analysis", "feedback"]
    assert "children focus better" in server.messages()[0].body["messages"][0]["content"]
    written = json.loads((out / "feedback.json").read_text("utf-8"))
    assert (written["student"], written["audience"]) == ("Ana", "student")
    assert (out / "analysis.md").read_text("utf-8").startswith("# Opinion paragraph: Ana")
