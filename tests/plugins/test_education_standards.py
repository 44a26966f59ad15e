"""The shipped standards file and how a topic finds its standards (plugins/roles/education_standards.py)."""

from __future__ import annotations

import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.plugins.roles.education_assessment import short_id
from reelgraph.plugins.roles.education_standards import (
    GRADES,
    load_standards,
    match_standards,
    normalize_grade,
    normalize_subject,
    objective_from,
    words,
)

DATA = load_standards()


def ids(entries) -> list[str]:
    return [e.standard.id for e in entries]


def test_every_standard_is_complete_and_cites_its_source() -> None:
    assert len(DATA.entries) >= 30
    assert len({e.standard.id for e in DATA.entries}) == len(DATA.entries)
    for entry in DATA.entries:
        s = entry.standard
        assert s.statement and s.statement == " ".join(s.statement.split()), s.id
        assert set(s.grades) <= set(GRADES), s.id
        assert s.url and s.url.startswith("https://"), s.id
        assert s.notice, s.id  # the copyright notice / disclaimer the licence asks for
        assert entry.topics and entry.vocabulary and entry.tasks, s.id
        assert all(DATA.define(term) for term in entry.vocabulary), s.id
        if s.framework.startswith("Common Core"):
            # the official URL encodes the id: CCSS.MATH.CONTENT.4.NF.A.1 -> /Math/Content/4/NF/A/1/
            tail = short_id(s.id)
            assert s.url.lower().rstrip("/").endswith("/".join(tail.split(".")).lower()), s.id
        else:
            assert s.url.endswith(f"keys={s.id}"), s.id


def test_statements_are_quoted_verbatim() -> None:
    # typed from thecorestandards.org and nextgenscience.org, not from the data file
    assert DATA.entry("CCSS.MATH.CONTENT.4.NF.A.1").standard.statement == (
        "Explain why a fraction a/b is equivalent to a fraction (n × a)/(n × b) by using "
        "visual fraction models, with attention to how the number and size of the parts "
        "differ even though the two fractions themselves are the same size. Use this "
        "principle to recognize and generate equivalent fractions."
    )
    assert DATA.entry("ms-ls1-6").standard.statement == (
        "Construct a scientific explanation based on evidence for the role of photosynthesis "
        "in the cycling of matter and flow of energy into and out of organisms."
    )
    assert DATA.entry("CCSS.ELA-LITERACY.W.4.1").standard.statement == (
        "Write opinion pieces on topics or texts, supporting a point of view with reasons "
        "and information."
    )


def test_model_answers_use_every_term_a_complete_answer_needs() -> None:
    for entry in DATA.entries:
        for task in entry.tasks:
            if task.kind == "constructed_response":
                assert task.look_for, (entry.standard.id, task.prompt)
                missing = [w for w in task.look_for if w.lower() not in task.answer.lower()]
                assert not missing, (entry.standard.id, missing)


@pytest.mark.parametrize(
    ("given", "grade"),
    [
        ("4", "4"),
        ("grade 4", "4"),
        ("4th", "4"),
        ("Grade 04", "4"),
        ("12", "12"),
        ("K", "K"),
        ("kindergarten", "K"),
        (7, "7"),
        ("3rd grade", "3"),
    ],
)
def test_grades_are_normalized(given, grade) -> None:
    assert normalize_grade(given) == grade


@pytest.mark.parametrize("given", ["13", "0", "grade", "four", "4.5", ""])
def test_a_grade_that_is_not_a_school_grade_is_refused(given) -> None:
    with pytest.raises(InvalidInputError, match="K or 1-12"):
        normalize_grade(given)


def test_subjects_are_normalized() -> None:
    assert normalize_subject("Mathematics") == "math"
    assert normalize_subject("English") == "ela"
    assert normalize_subject("Biology") == "science"
    assert normalize_subject("History") == "history"  # unknown: kept for remote providers
    assert normalize_subject(None) is None and normalize_subject(" ") is None


def test_words_drop_plurals_and_filler() -> None:
    assert words("The Equivalent Fractions of a whole") == ["equivalent", "fraction", "whole"]


def test_a_specific_topic_finds_its_standard_and_leaves_general_ones_out() -> None:
    # "equivalent fraction" is a whole topic phrase of 4.NF.A.1 only; 4.NF.A.2 and
    # 4.NF.B.3.A share just "fraction" and score half as much or less
    assert ids(match_standards(DATA, "equivalent fractions", "4")) == ["CCSS.MATH.CONTENT.4.NF.A.1"]


def test_a_general_topic_finds_every_standard_of_the_grade_in_file_order() -> None:
    assert ids(match_standards(DATA, "fractions", "4")) == [
        "CCSS.MATH.CONTENT.4.NF.A.1",
        "CCSS.MATH.CONTENT.4.NF.A.2",
        "CCSS.MATH.CONTENT.4.NF.B.3.A",
    ]
    assert ids(match_standards(DATA, "fractions", "4", limit=1)) == ["CCSS.MATH.CONTENT.4.NF.A.1"]


def test_grade_subject_and_framework_narrow_the_match() -> None:
    assert ids(match_standards(DATA, "photosynthesis", "7")) == ["MS-LS1-6"]
    assert ids(match_standards(DATA, "photosynthesis", "5")) == ["5-LS1-1"]
    assert ids(match_standards(DATA, "photosynthesis", "7", subject="math")) == []
    assert ids(match_standards(DATA, "opinion writing", "4", framework="ccss")) == [
        "CCSS.ELA-LITERACY.W.4.1"
    ]
    assert match_standards(DATA, "opinion writing", "4", framework="ngss") == []


def test_a_topic_the_data_does_not_cover_finds_nothing() -> None:
    assert match_standards(DATA, "the French revolution", "8") == []


def test_bad_framework_and_limit_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown framework 'iso'"):
        match_standards(DATA, "fractions", "4", framework="iso")
    with pytest.raises(InvalidInputError, match="limit"):
        match_standards(DATA, "fractions", "4", limit=0)


def test_objectives_are_the_first_sentence_without_examples() -> None:
    statement = DATA.entry("CCSS.MATH.CONTENT.4.NF.A.2").standard.statement
    assert objective_from(statement) == (
        "Students can compare two fractions with different numerators and different denominators."
    )
    assert objective_from("Solve linear equations in one variable.") == (
        "Students can solve linear equations in one variable."
    )
    ratio = DATA.entry("CCSS.MATH.CONTENT.6.RP.A.3").standard.statement
    assert "e.g." in ratio and "e.g." not in objective_from(ratio)
