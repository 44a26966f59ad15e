"""The offline lesson roles: find_standards, outline_lesson, write_lesson, differentiate."""

from __future__ import annotations

import pytest
import structlog

from reelgraph.errors import InvalidInputError
from reelgraph.models import LessonPlan, Standard
from reelgraph.plugins.roles import education_offline as offline
from reelgraph.plugins.roles.education_offline import apportion
from reelgraph.run.context import NodeContext


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def standards(ctx, topic="equivalent fractions", grade="4", **kw) -> list[Standard]:
    args = {"subject": None, "framework": None, "limit": 3, **kw}
    return offline.find_standards(topic=topic, grade=grade, ctx=ctx, **args)


def outline(ctx, topic="equivalent fractions", grade="4", duration_min=45, **kw) -> LessonPlan:
    found = kw.pop("standards", None)
    return offline.outline_lesson(
        topic=topic,
        grade=grade,
        subject=kw.pop("subject", None),
        duration_min=duration_min,
        standards=standards(ctx, topic, grade) if found is None else found,
        objectives=kw.pop("objectives", []),
        ctx=ctx,
    )


def test_find_standards_answers_with_the_shipped_standards(ctx) -> None:
    found = standards(ctx, grade="grade 4")
    assert [s.id for s in found] == ["CCSS.MATH.CONTENT.4.NF.A.1"]
    assert found[0].framework == "Common Core State Standards for Mathematics"
    assert found[0].subject == "math" and found[0].grades == ["4"]
    assert "National Governors Association" in found[0].notice


def test_find_standards_warns_and_returns_nothing_for_an_uncovered_topic(ctx) -> None:
    with structlog.testing.capture_logs() as logs:
        assert standards(ctx, topic="volcanoes", grade="2") == []
    assert any("no shipped standard" in entry["event"] for entry in logs)


def test_find_standards_refuses_a_subject_the_data_does_not_have(ctx) -> None:
    with pytest.raises(InvalidInputError, match="offline standards cover math, ela, science"):
        standards(ctx, subject="history")


@pytest.mark.parametrize(
    ("total", "shares", "minutes"),
    [
        # gradual release at 45 min: quotas 4.5 6.75 9 9 11.25 4.5 -> floors 4 6 9 9 11 4 (43);
        # the two spare minutes go to the largest remainders (.75, then the first .5)
        (45, [0.10, 0.15, 0.20, 0.20, 0.25, 0.10], [5, 7, 9, 9, 11, 4]),
        # 5E at 50 min: 5 12.5 10 15 7.5 -> 5 12 10 15 7 (49); +1 to the first .5
        (50, [0.10, 0.25, 0.20, 0.30, 0.15], [5, 13, 10, 15, 7]),
        # every phase keeps a minute even when its quota is below one
        (6, [0.10, 0.15, 0.20, 0.20, 0.25, 0.10], [1, 1, 1, 1, 1, 1]),
        (7, [0.10, 0.15, 0.20, 0.20, 0.25, 0.10], [1, 1, 1, 1, 2, 1]),
    ],
)
def test_minutes_are_apportioned_by_largest_remainder(total, shares, minutes) -> None:
    assert apportion(total, shares) == minutes


def test_a_lesson_shorter_than_its_phases_is_refused(ctx) -> None:
    with pytest.raises(InvalidInputError, match="duration_min=5 is too short.*6 phases"):
        outline(ctx, duration_min=5)


def test_a_math_outline_follows_gradual_release(ctx) -> None:
    plan = outline(ctx)
    assert [s.title for s in plan.sections] == [
        "Opening",
        "Focused instruction (I do)",
        "Guided instruction (we do)",
        "Collaborative learning (you do together)",
        "Independent practice (you do alone)",
        "Closure",
    ]
    assert [s.minutes for s in plan.sections] == [5, 7, 9, 9, 11, 4]
    assert plan.subject == "math" and plan.grade == "4" and plan.duration_min == 45
    assert plan.objectives == [
        "Students can explain why a fraction a/b is equivalent to a fraction (n × a)/(n × b) "
        "by using visual fraction models, with attention to how the number and size of the "
        "parts differ even though the two fractions themselves are the same size."
    ]
    assert plan.vocabulary == [
        "equivalent fractions",
        "numerator",
        "denominator",
        "fraction model",
    ]
    assert all(not s.teacher_moves and not s.student_tasks for s in plan.sections)


def test_a_science_outline_follows_the_5e_model(ctx) -> None:
    plan = outline(ctx, topic="photosynthesis", grade="7", duration_min=50)
    assert [s.title for s in plan.sections] == [
        "Engage",
        "Explore",
        "Explain",
        "Elaborate",
        "Evaluate",
    ]
    assert [s.minutes for s in plan.sections] == [5, 13, 10, 15, 7]
    assert plan.standards[0].id == "MS-LS1-6"


def test_the_teachers_objectives_win_and_no_standard_still_gives_a_lesson(ctx) -> None:
    plan = outline(
        ctx, topic="volcanoes", grade="2", standards=[], objectives=["Name three volcano types."]
    )
    assert plan.objectives == ["Name three volcano types."]
    assert plan.subject == "general" and plan.vocabulary == []
    plan = outline(ctx, topic="volcanoes", grade="2", standards=[])
    assert plan.objectives == ["Students can explain and use the key ideas of volcanoes."]


def test_write_lesson_fills_every_phase_from_the_standards_tasks(ctx) -> None:
    plan = offline.write_lesson(plan=outline(ctx), ctx=ctx)
    assert [s.minutes for s in plan.sections] == [5, 7, 9, 9, 11, 4]  # the outline stands
    for section in plan.sections:
        assert section.teacher_moves and section.student_tasks and section.check_for_understanding
    focused, guided = plan.sections[1], plan.sections[2]
    # the shipped 4.NF.A.1 tasks: modelled, then the short answer worked together
    assert "Use a fraction model to explain why 2/3 = 4/6." in focused.teacher_moves[0]
    assert any(
        m.startswith("Introduce the term numerator (the top number") for m in focused.teacher_moves
    )
    assert (
        "Write a fraction with a denominator of 8 that is equivalent to 3/4."
        in guided.teacher_moves[0]
    )
    assert "(answer: 6/8)" in guided.check_for_understanding
    assert "80%" in guided.check_for_understanding


def test_write_lesson_writes_a_generic_phase_it_did_not_outline(ctx) -> None:
    plan = outline(ctx).model_copy(
        update={
            "sections": [outline(ctx).sections[0].model_copy(update={"title": "Station rotation"})]
        }
    )
    written = offline.write_lesson(plan=plan, ctx=ctx)
    assert written.sections[0].teacher_moves[0].startswith("Lead this part toward the objective")


def test_differentiate_adapts_for_each_group_and_each_named_need(ctx) -> None:
    written = offline.write_lesson(plan=outline(ctx), ctx=ctx)
    needs = [
        "3 newcomers who speak Spanish",
        "two students read below grade level",
        "a wheelchair user",
    ]
    plan = offline.differentiate(plan=written, needs=needs, ctx=ctx)
    groups = {a.learners for a in plan.differentiation}
    assert groups == {"support", "extension", "language"}
    by_need = {need: [a for a in plan.differentiation if need in a.rationale] for need in needs}
    assert [a.learners for a in by_need[needs[0]]] == ["language"]
    assert [a.learners for a in by_need[needs[1]]] == ["support"]
    assert "UDL 2.3" in by_need[needs[1]][0].rationale
    assert "no rule of the offline provider matched" in by_need[needs[2]][0].rationale
    # grade 4 equivalent fractions extends to grade 5's fraction standard
    extension = [a.strategy for a in plan.differentiation if a.learners == "extension"]
    assert extension[0].startswith("Go on to the next grade's standard CCSS.MATH.CONTENT.5.NF.A.1")
    # sections named are the plan's own
    titles = {s.title for s in plan.sections}
    assert all(a.section is None or a.section in titles for a in plan.differentiation)
    assert plan.sections == written.sections


def test_the_offline_lesson_is_deterministic(ctx) -> None:
    def whole() -> LessonPlan:
        return offline.differentiate(
            plan=offline.write_lesson(plan=outline(ctx), ctx=ctx), needs=[], ctx=ctx
        )

    assert whole() == whole()
