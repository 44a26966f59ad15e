"""The offline assessment roles: write_questions and write_rubric."""

from __future__ import annotations

import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import Assessment, Rubric, RubricCriterion, RubricLevel
from reelgraph.plugins.roles import education_assessment as assess
from reelgraph.plugins.roles.education_standards import load_standards
from reelgraph.run.context import NodeContext

DATA = load_standards()
FRACTIONS = [
    DATA.entry(i).standard
    for i in (
        "CCSS.MATH.CONTENT.4.NF.A.1",
        "CCSS.MATH.CONTENT.4.NF.A.2",
        "CCSS.MATH.CONTENT.4.NF.B.3.A",
    )
]


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def questions(ctx, count=6, kinds=(), standards=FRACTIONS) -> Assessment:
    return assess.write_questions(
        topic="fractions",
        grade="4",
        subject=None,
        standards=list(standards),
        count=count,
        kinds=list(kinds),
        ctx=ctx,
    )


def test_six_items_spread_over_the_standards_objective_first(ctx) -> None:
    test = questions(ctx)
    assert [i.id for i in test.items] == ["q01", "q02", "q03", "q04", "q05", "q06"]
    # a third are constructed responses (2 of 6: 4.NF.A.1's, then 4.NF.A.2's); the 4
    # objective items go round the standards wanting MC, SA, TF, MC in turn; laid out
    # objective kinds first
    assert [(i.kind, i.standard_id[-8:]) for i in test.items] == [
        ("multiple_choice", "4.NF.A.1"),
        ("multiple_choice", "4.NF.A.1"),
        ("true_false", "NF.B.3.A"),
        ("short_answer", "4.NF.A.2"),
        ("constructed_response", "4.NF.A.1"),
        ("constructed_response", "4.NF.A.2"),
    ]
    assert {i.standard_id for i in test.items} == {s.id for s in FRACTIONS}
    assert test.title == "Fractions: grade 4 check" and test.subject == "math"
    assert test.standards == FRACTIONS and test.rubric is None


def test_every_item_has_a_key_that_fits_its_kind(ctx) -> None:
    test = questions(ctx, count=20)
    for item in test.items:
        if item.kind == "multiple_choice":
            assert len(item.choices) >= 3 and item.answer in item.choices
            assert len(set(item.choices)) == len(item.choices)
            assert item.prompt.startswith("Which term means: ")
            # the key is the term whose glossary definition the prompt quotes
            assert item.prompt == f"Which term means: {DATA.define(item.answer)}?"
        elif item.kind == "true_false":
            assert item.choices == ["True", "False"] and item.answer in item.choices
            term = item.prompt.split("'")[1]
            shown = item.prompt.split("' means ", 1)[1].rstrip(".")
            assert (item.answer == "True") == (shown == DATA.define(term))
        else:
            assert item.answer and not item.choices


def test_the_multiple_choice_key_moves_between_positions(ctx) -> None:
    test = questions(ctx, count=12, kinds=["multiple_choice"])  # one per vocabulary term
    positions = {item.choices.index(item.answer) for item in test.items}
    assert len(positions) >= 3
    # distractors come from the same standard first: numerator, denominator, fraction model
    first = next(i for i in test.items if i.answer == "equivalent fractions")
    assert set(first.choices) == {
        "equivalent fractions",
        "numerator",
        "denominator",
        "fraction model",
    }


def test_kinds_restrict_the_items(ctx) -> None:
    test = questions(ctx, count=4, kinds=["short_answer", "constructed_response"])
    assert {i.kind for i in test.items} == {"short_answer", "constructed_response"}
    only_open = questions(ctx, count=3, kinds=["constructed_response"])
    assert [i.kind for i in only_open.items] == ["constructed_response"] * 3


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kinds": ["essay"]}, "unknown item kind"),
        ({"count": 0}, "count must be 1-50"),
        ({"count": 51}, "count must be 1-50"),
        ({"count": 4, "kinds": ["constructed_response"]}, "has only 3 items.*at most 3"),
        ({"standards": []}, "no shipped standard to write questions for"),
    ],
)
def test_impossible_requests_are_refused(ctx, kw, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        questions(ctx, **kw)


def test_a_four_level_rubric_scores_each_standards_open_items(ctx) -> None:
    test = assess.write_rubric(assessment=questions(ctx), levels=4, ctx=ctx)
    assert test.rubric is not None
    open_items = [i for i in test.items if i.kind == "constructed_response"]
    named = [c.item_ids for c in test.rubric.criteria]
    assert sorted(sum(named, [])) == sorted(i.id for i in open_items)
    for criterion in test.rubric.criteria:
        assert [(lv.label, lv.points) for lv in criterion.levels] == [
            ("Exceeds", 4),
            ("Meets", 3),
            ("Approaching", 2),
            ("Beginning", 1),
        ]
        assert criterion.criterion.startswith("Understanding and explanation: 4.NF.")
    first = test.rubric.criteria[0]
    assert first.standard_id == "CCSS.MATH.CONTENT.4.NF.A.1"
    assert first.levels[1].descriptor.startswith(
        "Shows accurately that they can explain why a fraction a/b is equivalent"
    )
    # each open item is worth its criterion's top level; objective items keep 1 point
    assert [i.points for i in open_items] == [4, 4]
    assert sum(i.points for i in test.items) == 4 + 8


@pytest.mark.parametrize(
    ("levels", "labels"),
    [
        (2, ["Meets", "Not yet"]),
        (5, ["Exceeds", "Meets", "Approaching", "Developing", "Beginning"]),
    ],
)
def test_other_level_counts(ctx, levels, labels) -> None:
    test = assess.write_rubric(assessment=questions(ctx), levels=levels, ctx=ctx)
    criterion = test.rubric.criteria[0]
    assert [lv.label for lv in criterion.levels] == labels
    assert [lv.points for lv in criterion.levels] == list(range(levels, 0, -1))


def test_rubric_refusals(ctx) -> None:
    with pytest.raises(InvalidInputError, match="levels must be 2-5"):
        assess.write_rubric(assessment=questions(ctx), levels=6, ctx=ctx)
    closed = questions(ctx, count=3, kinds=["multiple_choice"])
    with pytest.raises(InvalidInputError, match="has none"):
        assess.write_rubric(assessment=closed, levels=4, ctx=ctx)


def test_attach_rubric_splits_a_criterion_over_the_items_it_scores(ctx) -> None:
    test = questions(ctx)
    open_ids = [i.id for i in test.items if i.kind == "constructed_response"]
    rubric = Rubric(
        title="r",
        criteria=[
            RubricCriterion(
                criterion="both",
                item_ids=open_ids,
                levels=[
                    RubricLevel(label="a", points=6, descriptor="x"),
                    RubricLevel(label="b", points=1, descriptor="y"),
                ],
            )
        ],
    )
    attached = assess.attach_rubric(test, rubric)
    assert attached.rubric == rubric
    assert [i.points for i in attached.items if i.id in open_ids] == [3, 3]


def test_short_ids() -> None:
    assert assess.short_id("CCSS.MATH.CONTENT.4.NF.A.1") == "4.NF.A.1"
    assert assess.short_id("CCSS.ELA-LITERACY.W.4.1") == "W.4.1"
    assert assess.short_id("MS-LS1-6") == "MS-LS1-6"
