"""The offline feedback roles: analyse_performance (key and rubric) and compose_feedback."""

from __future__ import annotations

import json

import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import Assessment, AssessmentItem, Rubric, RubricCriterion, RubricLevel
from reelgraph.plugins.roles import education_assessment as assess
from reelgraph.plugins.roles import education_feedback as fb
from reelgraph.plugins.roles.education_standards import load_standards
from reelgraph.run.context import NodeContext

DATA = load_standards()
EQUIVALENT = DATA.entry("CCSS.MATH.CONTENT.4.NF.A.1")
MODEL = next(t for t in EQUIVALENT.tasks if t.kind == "constructed_response")


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def level(label: str, points: int) -> RubricLevel:
    return RubricLevel(label=label, points=points, descriptor=f"{label} descriptor")


@pytest.fixture
def test() -> Assessment:
    sid = EQUIVALENT.standard.id
    items = [
        AssessmentItem(
            id="q01",
            kind="multiple_choice",
            prompt="Which term means: the top number?",
            choices=["denominator", "numerator", "whole"],
            answer="numerator",
            standard_id=sid,
        ),
        AssessmentItem(
            id="q02",
            kind="true_false",
            prompt="True or false: 1/2 = 2/3.",
            choices=["True", "False"],
            answer="False",
            standard_id=sid,
        ),
        AssessmentItem(
            id="q03",
            kind="short_answer",
            answer="6/8",
            standard_id=sid,
            prompt="Write a fraction with a denominator of 8 that is equivalent to 3/4.",
        ),
        AssessmentItem(
            id="q04",
            kind="short_answer",
            prompt="What is the area of a 5 ft by 3 ft rug?",
            answer="15",
            rationale="Also accepted: 15 square feet; 15 sq ft",
            standard_id=sid,
        ),
        AssessmentItem(
            id="q05",
            kind="constructed_response",
            prompt=MODEL.prompt,
            answer=MODEL.answer,
            standard_id=sid,
            points=4,
        ),
    ]
    rubric = Rubric(
        title="Rubric",
        criteria=[
            RubricCriterion(
                criterion="Understanding",
                standard_id=sid,
                item_ids=["q05"],
                levels=[
                    level("Exceeds", 4),
                    level("Meets", 3),
                    level("Approaching", 2),
                    level("Beginning", 1),
                ],
            )
        ],
    )
    return Assessment(
        title="Fractions check",
        topic="fractions",
        subject="math",
        grade="4",
        standards=[EQUIVALENT.standard],
        items=items,
        rubric=rubric,
    )


WORK = """# Sam's answers

1. b
2) f
q03: 3/4
Question 4: 15 sq ft
5. Both bars are the same size but one has twice as many
equal parts, so the parts are smaller.
"""


def analyse(ctx, tmp_path, test, work=WORK, student="Sam"):
    path = tmp_path / "work.md"
    path.write_text(work, encoding="utf-8")
    return fb.analyse_performance(work=path, assessment=test, student=student, ctx=ctx)


def test_answers_are_read_by_item_number() -> None:
    text = (
        "Intro line that is not an answer\n"
        "1. B\n"
        "2)  true \n"
        "q03:3/8\n"
        "Q4 - 24 crayons\n"
        "## Question 5\n"
        "The sum is 3.75\n"
        "2.45 is a continuation, not item 2\n"
        "6.\n"
    )
    assert fb.parse_answers(text) == {
        1: "B",
        2: "true",
        3: "3/8",
        4: "24 crayons",
        5: "The sum is 3.75 2.45 is a continuation, not item 2",
        6: "",
    }


@pytest.mark.parametrize(
    ("response", "correct"),
    [
        ("b", True),
        ("(B)", True),
        ("B. numerator", True),
        ("Numerator.", True),
        ("a", False),
        ("denominator", False),
        ("d", False),
        ("", False),
    ],
)
def test_multiple_choice_by_letter_or_text(test, response, correct) -> None:
    result, _ = fb.score_item(test.items[0], response)
    assert result.correct is correct and result.points == (1.0 if correct else 0.0)


@pytest.mark.parametrize(
    ("response", "correct"),
    [("6/8", True), (" 6/8. ", True), ("3/4", False), ("6 / 8", False)],
)
def test_fractions_are_compared_as_written(test, response, correct) -> None:
    assert fb.score_item(test.items[2], response)[0].correct is correct


@pytest.mark.parametrize(
    ("response", "correct"),
    [("15", True), ("15 sq ft", True), ("15 square units", True), ("1,5", False), ("16", False)],
)
def test_a_number_key_accepts_units_after_it(test, response, correct) -> None:
    assert fb.score_item(test.items[3], response)[0].correct is correct


def test_an_equal_fraction_in_another_form_is_a_misconception(test) -> None:
    result, misconception = fb.score_item(test.items[2], "3/4")
    assert result.correct is False
    assert misconception == "q03: gave 3/4, equal in value to 6/8 but not in the form asked"


def test_a_hand_scored_piece_of_work(ctx, tmp_path, test) -> None:
    analysis = analyse(ctx, tmp_path, test)
    assert [(r.item_id, r.correct, r.points, r.max_points) for r in analysis.items] == [
        ("q01", True, 1.0, 1.0),
        ("q02", True, 1.0, 1.0),
        ("q03", False, 0.0, 1.0),
        ("q04", True, 1.0, 1.0),
        ("q05", None, 3.0, 4.0),
    ]
    # q05 uses 4 of the 5 terms the shipped task looks for (not "equivalent"): coverage
    # 0.8 -> level 1 of 0-3 (ceil(0.2 * 3)) = Meets; it gives a reason ("so"), no drop
    (criterion,) = analysis.criteria
    assert (criterion.level, criterion.points, criterion.max_points) == ("Meets", 3.0, 4.0)
    assert criterion.evidence == [
        '"Both bars are the same size but one has twice as many equal parts, so the parts are smaller."',
        "key terms used (4 of 5): same size, equal parts, twice as many, smaller; missing: equivalent",
        "reasons given: so",
    ]
    assert (analysis.score, analysis.max_score) == (6.0, 8.0)
    assert analysis.strengths == [
        "answered 3 of 4 keyed items correctly (q01, q02, q04)",
        "Understanding: Meets",
    ]
    assert analysis.gaps == [
        "items to look at again: q03",
        "Understanding: at Meets; to reach Exceeds: Exceeds descriptor",
    ]
    assert analysis.misconceptions == [
        "q03: gave 3/4, equal in value to 6/8 but not in the form asked"
    ]
    assert analysis.student == "Sam" and analysis.title == "Fractions check"
    assert analysis.objectives[0].startswith("Students can explain why a fraction a/b")


def test_no_reason_drops_a_level_and_no_answer_is_the_lowest(ctx, tmp_path, test) -> None:
    terms_no_reason = "5. same size, equal parts, twice as many, smaller, equivalent"
    (criterion,) = analyse(ctx, tmp_path, test, terms_no_reason).criteria
    assert criterion.level == "Meets"  # every term (Exceeds), but no reason
    (criterion,) = analyse(ctx, tmp_path, test, "1. b").criteria
    assert (criterion.level, criterion.evidence) == ("Beginning", ["no answer"])


def test_every_shipped_model_answer_reaches_the_top_level(ctx, tmp_path) -> None:
    for entry in DATA.entries:
        for task in entry.tasks:
            if task.kind != "constructed_response":
                continue
            item = AssessmentItem(
                id="q01",
                kind="constructed_response",
                prompt=task.prompt,
                answer=task.answer,
                standard_id=entry.standard.id,
            )
            one = Assessment(
                title="t",
                topic="t",
                subject=entry.standard.subject,
                grade=entry.standard.grades[0],
                standards=[entry.standard],
                items=[item],
            )
            one = assess.write_rubric(assessment=one, levels=4, ctx=ctx)
            analysis = analyse(ctx, tmp_path, one, f"1. {task.answer}")
            assert analysis.criteria[0].level == "Exceeds", (
                entry.standard.id,
                analysis.criteria[0].evidence,
            )
            assert analysis.score == analysis.max_score == 4


def test_the_assessment_can_be_its_json_file(ctx, tmp_path, test) -> None:
    path = tmp_path / "assessment.json"
    path.write_text(test.model_dump_json(), encoding="utf-8")
    assert analyse(ctx, tmp_path, path).score == 6.0


def test_bad_inputs_are_refused_with_the_fix(ctx, tmp_path, test) -> None:
    with pytest.raises(InvalidInputError, match="-i assessment=assessment.json"):
        analyse(ctx, tmp_path, None)
    with pytest.raises(InvalidInputError, match=r"work.md: no answers found; start each answer"):
        analyse(ctx, tmp_path, test, "I think it is three quarters.")
    not_json = tmp_path / "a.json"
    not_json.write_text("{nope", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"a.json: not JSON"):
        analyse(ctx, tmp_path, not_json)
    other = tmp_path / "b.json"
    other.write_text(json.dumps({"title": "x", "items": []}), encoding="utf-8")
    with pytest.raises(
        InvalidInputError, match=r"b.json: not an assessment \(topic: Field required\)"
    ):
        analyse(ctx, tmp_path, other)


@pytest.fixture
def analysis(ctx, tmp_path, test):
    return analyse(ctx, tmp_path, test)


def test_feedback_answers_the_three_questions_for_the_student(ctx, analysis) -> None:
    feedback = fb.compose_feedback(analysis=analysis, audience="student", ctx=ctx)
    assert feedback.goal.startswith("You are working towards: explain why a fraction a/b")
    assert feedback.progress == [
        "6 of 8 points (75%).",
        "You answered 3 of 4 keyed items correctly (q01, q02, q04).",
        'Understanding: Meets ("Both bars are the same size but one has twice as many equal parts, so the parts are smaller.")',
    ]
    assert feedback.next_steps == [
        "Look again at q03 and check each against the question.",
        "Understanding: To reach Exceeds: Exceeds descriptor",
        "Talk through this mix-up: q03: gave 3/4, equal in value to 6/8 but not in the form asked.",
    ]
    assert feedback.message.startswith("Sam, you are working towards: explain why")
    assert "You scored 75%." in feedback.message
    assert "Next: Look again at q03" in feedback.message


def test_feedback_for_a_parent_and_a_teacher(ctx, analysis) -> None:
    parent = fb.compose_feedback(analysis=analysis, audience="parent", ctx=ctx)
    assert parent.goal.startswith("Sam is working towards:")
    assert "At home, ask Sam to explain one answer" in parent.message
    assert parent.next_steps[0] == "Revisit q03."
    teacher = fb.compose_feedback(analysis=analysis, audience="teacher", ctx=ctx)
    assert teacher.message.startswith("Sam: 6/8 (75%) on Fractions check.")
    assert "Misconceptions: q03: gave 3/4" in teacher.message
    with pytest.raises(InvalidInputError, match="audience 'class'"):
        fb.compose_feedback(analysis=analysis, audience="class", ctx=ctx)


def test_full_marks_still_give_a_next_step(ctx, tmp_path, test) -> None:
    work = "1. b\n2. false\n3. 6/8\n4. 15\n5. " + MODEL.answer
    perfect = analyse(ctx, tmp_path, test, work)
    assert perfect.score == perfect.max_score == 8 and perfect.gaps == []
    feedback = fb.compose_feedback(analysis=perfect, audience="student", ctx=ctx)
    assert feedback.next_steps == [
        "Keep going: try the extension task or write a problem of your own."
    ]


def test_an_open_item_no_rubric_names_gets_credit_for_its_key_terms(ctx, tmp_path, test) -> None:
    no_rubric = test.model_copy(update={"rubric": None})
    analysis = analyse(ctx, tmp_path, no_rubric)
    open_item = analysis.items[-1]
    # 4 of the 5 terms the shipped task looks for: 4/5 of its 4 points
    assert (open_item.item_id, open_item.correct, open_item.points) == ("q05", None, 3.2)
    assert analysis.criteria == [] and (analysis.score, analysis.max_score) == (6.2, 8.0)
    assert analysis.strengths == ["answered 3 of 4 keyed items correctly (q01, q02, q04)"]
    assert analysis.gaps == ["items to look at again: q03, q05"]


def test_feedback_on_another_providers_analysis_keeps_its_words(ctx) -> None:
    from reelgraph.models import PerformanceAnalysis

    analysis = PerformanceAnalysis(
        student="Li",
        title="Essay",
        score=3,
        max_score=4,
        strengths=["clear claim in the first sentence"],
        gaps=["the second reason has no evidence"],
    )
    feedback = fb.compose_feedback(analysis=analysis, audience="student", ctx=ctx)
    assert feedback.progress == ["3 of 4 points (75%).", "clear claim in the first sentence"]
    assert feedback.next_steps == ["the second reason has no evidence"]
    assert feedback.goal == "You are working towards: Essay."
