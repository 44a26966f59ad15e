"""The education hooks on a language model: EducationRoles with a test vendor.

The vendor's ``structured`` returns canned answers per role (validated into the
requested output model, as a real vendor's answer is) and records every request,
so the tests see what each hook asks, how it checks the answer, and the one
repair call it makes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from reelgraph import Kernel
from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    Assessment,
    AssessmentItem,
    LessonPlan,
    LessonSection,
    PerformanceAnalysis,
)
from reelgraph.plugins.roles.education import EducationRoles
from reelgraph.plugins.roles.llm import StructuredRequest
from reelgraph.run.context import NodeContext

STANDARD = {
    "id": "CCSS.MATH.CONTENT.4.NF.A.2",
    "statement": "Compare two fractions with different numerators and different denominators.",
    "framework": "Common Core State Standards for Mathematics",
    "subject": "math",
    "grades": ["4"],
    "url": "https://www.thecorestandards.org/Math/Content/4/NF/A/2/",
    "notice": "© Copyright 2010. NGA Center and CCSSO. All rights reserved.",
}


def section(title: str, minutes: int, **content) -> dict:
    return {"title": title, "minutes": minutes, "purpose": f"{title} purpose", **content}


OUTLINE = {
    "title": "Which fraction is greater?",
    "objectives": ["I can compare fractions with unlike denominators."],
    "vocabulary": ["benchmark fraction"],
    "materials": ["fraction strips"],
    "sections": [section("Launch", 10), section("Explore", 25), section("Summarise", 10)],
}
WRITTEN = {
    "sections": [
        section("Hook", 5, teacher_moves=["Show 2/3 and 3/5."], student_tasks=["Predict."]),
        section("Explore", 30, teacher_moves=["Hand out strips."], student_tasks=["Compare."]),
        section("Close", 10, teacher_moves=["Collect."], student_tasks=["Exit ticket."]),
    ]
}
ADAPTED = {
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
            "strategy": "Three fractions.",
            "rationale": "UDL 8.2",
        },
        {
            "learners": "language",
            "section": "Launch",
            "strategy": "Sentence frames.",
            "rationale": "for: newcomers",
        },
    ]
}


class CannedVendor(EducationRoles):
    """A vendor whose model answers from a script: role -> answers in order."""

    reelgraph_name = "canned"

    def __init__(self, script: dict[str, list[dict]]) -> None:
        self.script = {role: list(answers) for role, answers in script.items()}
        self.requests: list[StructuredRequest] = []

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        self.requests.append(request)
        return request.output.model_validate(self.script[request.role].pop(0))


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def outline_with(vendor: CannedVendor, ctx, **options) -> LessonPlan:
    return vendor.outline_lesson(
        topic="comparing fractions",
        grade="4th",
        subject=None,
        duration_min=45,
        standards=[],
        objectives=[],
        options=options,
        ctx=ctx,
    )


def test_find_standards_asks_for_verbatim_standards_and_keeps_the_limit(ctx) -> None:
    other = {**STANDARD, "id": "CCSS.MATH.CONTENT.4.NF.A.1"}
    vendor = CannedVendor({"curriculum_researcher": [{"standards": [STANDARD, other]}]})
    found = vendor.find_standards(
        topic="comparing fractions",
        grade="grade 4",
        subject="math",
        framework=None,
        limit=1,
        options={"model": "m-1", "temperature": 0.2, "seed": 7},
        ctx=ctx,
    )
    assert [s.id for s in found] == ["CCSS.MATH.CONTENT.4.NF.A.2"]
    (request,) = vendor.requests
    assert request.role == "curriculum_researcher" and request.output.__name__ == "_Standards"
    assert "grade 4" in request.system and "verbatim" in request.system
    assert json.loads(request.user) == {
        "topic": "comparing fractions",
        "grade": "4",
        "subject": "math",
        "framework": None,
    }
    # options: the model, temperature and max_tokens are request fields; the rest pass through
    assert (request.model, request.temperature, request.max_tokens) == ("m-1", 0.2, 4096)
    assert request.options == {"seed": 7}


def test_a_standard_for_another_grade_gets_one_repair_call(ctx) -> None:
    wrong = {**STANDARD, "grades": ["5"]}
    vendor = CannedVendor(
        {"curriculum_researcher": [{"standards": [wrong]}, {"standards": [STANDARD]}]}
    )
    found = vendor.find_standards(
        topic="fractions", grade="4", subject=None, framework=None, limit=3, options={}, ctx=ctx
    )
    assert [s.grades for s in found] == [["4"]]
    first, second = vendor.requests
    assert second.user.startswith(first.user)
    assert "is for grades 5, not grade 4" in second.user
    assert second.model == ""  # no model option: the vendor's default


def test_outline_minutes_must_sum_to_the_duration(ctx) -> None:
    short = {**OUTLINE, "sections": OUTLINE["sections"][:2]}  # 35 of 45 minutes
    vendor = CannedVendor({"lesson_planner": [short, OUTLINE]})
    plan = outline_with(vendor, ctx)
    assert "the sections' minutes sum to 35, not 45" in vendor.requests[1].user
    assert [s.minutes for s in plan.sections] == [10, 25, 10]
    assert plan.grade == "4" and plan.subject == "general" and plan.topic == "comparing fractions"
    assert plan.title == OUTLINE["title"] and plan.standards == []


def test_an_answer_that_still_breaks_the_rules_is_invalid_input(ctx) -> None:
    short = {**OUTLINE, "sections": OUTLINE["sections"][:2]}
    vendor = CannedVendor({"lesson_planner": [short, short]})
    with pytest.raises(InvalidInputError, match="lesson_planner: the model's answer still breaks"):
        outline_with(vendor, ctx)
    assert len(vendor.requests) == 2


def test_write_lesson_keeps_the_outlines_titles_and_minutes(ctx) -> None:
    vendor = CannedVendor({"lesson_planner": [OUTLINE], "lesson_writer": [WRITTEN]})
    plan = vendor.write_lesson(plan=outline_with(vendor, ctx), options={}, ctx=ctx)
    assert [(s.title, s.minutes) for s in plan.sections] == [
        ("Launch", 10),
        ("Explore", 25),
        ("Summarise", 10),
    ]
    assert plan.sections[0].teacher_moves == ["Show 2/3 and 3/5."]
    assert vendor.requests[-1].max_tokens == 8192


def test_write_lesson_needs_one_written_section_per_outlined_one(ctx) -> None:
    two = {"sections": WRITTEN["sections"][:2]}
    vendor = CannedVendor({"lesson_planner": [OUTLINE], "lesson_writer": [two, WRITTEN]})
    vendor.write_lesson(plan=outline_with(vendor, ctx), options={}, ctx=ctx)
    assert "write exactly 3 sections (got 2)" in vendor.requests[-1].user


def test_differentiate_checks_groups_sections_and_needs(ctx) -> None:
    bad = {
        "adaptations": [
            {"learners": "support", "section": "Station 4", "strategy": "x", "rationale": ""},
            {"learners": "support", "section": None, "strategy": "y", "rationale": ""},
            {"learners": "language", "section": None, "strategy": "z", "rationale": ""},
        ]
    }
    vendor = CannedVendor(
        {"lesson_planner": [OUTLINE], "differentiation_specialist": [bad, ADAPTED]}
    )
    plan = vendor.differentiate(
        plan=outline_with(vendor, ctx), needs=["newcomers"], options={}, ctx=ctx
    )
    repair = vendor.requests[-1].user
    assert "no adaptation for extension learners" in repair
    assert "section 'Station 4' is not a section of the lesson" in repair
    assert "no adaptation names the need 'newcomers'" in repair
    assert [a.learners for a in plan.differentiation] == ["support", "extension", "language"]


def items(*kinds: str) -> list[dict]:
    out = []
    for n, kind in enumerate(kinds):
        item = {
            "id": f"q{n + 7:02d}",
            "kind": kind,
            "prompt": f"p{n}",
            "answer": "a",
            "standard_id": STANDARD["id"],
        }
        if kind == "multiple_choice":
            item |= {"choices": ["a", "b", "c", "d"]}
        if kind == "true_false":
            item |= {"choices": ["True", "False"], "answer": "True"}
        out.append(item)
    return out


def questions_with(vendor, ctx, count=3, kinds=()) -> Assessment:
    from reelgraph.models import Standard

    return vendor.write_questions(
        topic="fractions",
        grade="4",
        subject=None,
        standards=[Standard(**STANDARD)],
        count=count,
        kinds=list(kinds),
        options={},
        ctx=ctx,
    )


def test_questions_are_renumbered_and_checked(ctx) -> None:
    wrong = items("multiple_choice", "short_answer")
    wrong[0]["answer"] = "e"  # not among the choices
    wrong[1]["standard_id"] = "MADE.UP.1"
    good = items("multiple_choice", "true_false", "constructed_response")
    vendor = CannedVendor(
        {"assessment_writer": [{"title": "Q", "items": wrong}, {"title": "Q", "items": good}]}
    )
    test = questions_with(vendor, ctx)
    repair = vendor.requests[-1].user
    assert "write exactly 3 items, not 2" in repair
    assert "item 1: a multiple-choice answer must be one of 3+ choices" in repair
    assert "item 2 names standard 'MADE.UP.1'" in repair
    assert [i.id for i in test.items] == ["q01", "q02", "q03"]
    assert test.standards[0].id == STANDARD["id"] and test.subject == "math"


def test_the_rubric_must_score_every_open_item_then_sets_its_points(ctx) -> None:
    vendor = CannedVendor(
        {
            "assessment_writer": [
                {
                    "title": "Q",
                    "items": items("short_answer", "constructed_response", "constructed_response"),
                }
            ]
        }
    )
    test = questions_with(vendor, ctx)
    levels = [{"label": f"L{p}", "points": p, "descriptor": "d"} for p in (3, 2, 1)]
    partial = {
        "title": "R",
        "criteria": [{"criterion": "c", "item_ids": ["q02", "q09"], "levels": levels}],
    }
    full = {
        "title": "R",
        "criteria": [{"criterion": "c", "item_ids": ["q02", "q03"], "levels": levels}],
    }
    vendor.script["rubric_writer"] = [partial, full]
    scored = vendor.write_rubric(assessment=test, levels=3, options={}, ctx=ctx)
    repair = vendor.requests[-1].user
    assert "no criterion scores item q03" in repair and "criteria name unknown item q09" in repair
    assert [i.points for i in scored.items] == [1, 2, 2]  # 3 points split over q02 and q03
    with pytest.raises(InvalidInputError, match="levels must be 2-5"):
        vendor.write_rubric(assessment=test, levels=6, options={}, ctx=ctx)


def test_analysis_and_feedback_keep_the_names_they_were_given(ctx, tmp_path) -> None:
    work = tmp_path / "work.md"
    work.write_text("1. 3/4 is bigger because 9/12 > 8/12\n", encoding="utf-8")
    test = Assessment(
        title="Quiz",
        topic="t",
        subject="math",
        grade="4",
        items=[AssessmentItem(id="q01", kind="short_answer", prompt="p", answer="3/4")],
    )
    over = {"student": "Someone", "title": "Quiz", "score": 3, "max_score": 1}
    fine = {
        "student": "Someone",
        "title": "Quiz",
        "score": 1,
        "max_score": 1,
        "items": [
            {"item_id": "q01", "response": "3/4", "correct": True, "points": 1, "max_points": 1}
        ],
    }
    feedback = {
        "student": "X",
        "audience": "teacher",
        "goal": "g",
        "progress": ["p"],
        "next_steps": ["n"],
        "message": "m",
    }
    vendor = CannedVendor({"assessor": [over, fine], "feedback_writer": [feedback]})
    analysis = vendor.analyse_performance(
        work=work, assessment=test, student="Sam", options={}, ctx=ctx
    )
    assert "score 3.0 is more than max_score 1.0" in vendor.requests[1].user
    assert analysis.student == "Sam"
    payload = json.loads(vendor.requests[0].user)
    assert (
        payload["work"] == work.read_text("utf-8")
        and payload["assessment"]["items"][0]["answer"] == "3/4"
    )
    result = vendor.compose_feedback(analysis=analysis, audience="parent", options={}, ctx=ctx)
    assert (result.student, result.audience) == ("Sam", "parent")
    assert "Address the parent" in vendor.requests[-1].system


def test_work_without_an_assessment_is_sent_alone(ctx, tmp_path) -> None:
    work = tmp_path / "essay.txt"
    work.write_text(
        "Recess should be longer because children focus better after play.", encoding="utf-8"
    )
    answer = {"student": "x", "title": "Opinion essay", "score": 3, "max_score": 4}
    vendor = CannedVendor({"assessor": [answer]})
    analysis = vendor.analyse_performance(
        work=work, assessment=None, student="Ana", options={}, ctx=ctx
    )
    assert isinstance(analysis, PerformanceAnalysis) and analysis.student == "Ana"
    assert json.loads(vendor.requests[0].user)["assessment"] is None


def test_a_vendor_answering_the_wrong_model_is_invalid_input(ctx) -> None:
    class Confused(CannedVendor):
        def structured(self, request, ctx):
            return LessonSection(title="t", minutes=1, purpose="p")

    with pytest.raises(
        InvalidInputError, match="structured\\(\\) returned LessonSection, not _Outline"
    ):
        outline_with(Confused({}), ctx)


def test_the_lesson_plan_spec_runs_on_a_vendor_chosen_by_input(tmp_path) -> None:
    vendor = CannedVendor(
        {
            "curriculum_researcher": [{"standards": [STANDARD]}],
            "lesson_planner": [OUTLINE],
            "lesson_writer": [WRITTEN],
            "differentiation_specialist": [ADAPTED],
        }
    )
    kernel = Kernel(plugins=[vendor], home=tmp_path / "home")
    spec = Path(__file__).parents[2] / "specs" / "lesson-plan.yaml"
    run = kernel.run(
        str(spec),
        inputs={"topic": "comparing fractions", "grade": "4", "llm": "canned", "model": "m-2"},
        output_dir=tmp_path / "out",
    )
    assert run.status == "succeeded", run.error
    assert [r.role for r in vendor.requests] == [
        "curriculum_researcher",
        "lesson_planner",
        "lesson_writer",
        "differentiation_specialist",
    ]
    assert {r.model for r in vendor.requests} == {"m-2"}
    assert {
        run.nodes[n].provider for n in ("standards", "outline", "lesson", "differentiated")
    } == {"canned"}
    plan = LessonPlan.model_validate_json(
        (tmp_path / "out" / "lesson-plan.json").read_text("utf-8")
    )
    assert plan.title == OUTLINE["title"] and plan.standards[0].id == STANDARD["id"]
    markdown = (tmp_path / "out" / "lesson-plan.md").read_text("utf-8")
    assert "# Which fraction is greater?" in markdown and STANDARD["notice"] in markdown
