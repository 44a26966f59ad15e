"""The report provider: render_document writes NAME.json and NAME.md."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt
from pydantic import BaseModel

from reelgraph.errors import InvalidInputError
from reelgraph.models import Assessment, Feedback, LessonPlan
from reelgraph.plugins.roles import education_assessment as assess
from reelgraph.plugins.roles import education_offline as offline
from reelgraph.plugins.roles.education_render import render_document, to_markdown
from reelgraph.run.context import NodeContext


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


@pytest.fixture
def lesson(ctx) -> LessonPlan:
    found = offline.find_standards(
        topic="comparing fractions", grade="4", subject=None, framework=None, limit=3, ctx=ctx
    )
    plan = offline.outline_lesson(
        topic="comparing fractions",
        grade="4",
        subject=None,
        duration_min=45,
        standards=found,
        objectives=[],
        ctx=ctx,
    )
    plan = offline.write_lesson(plan=plan, ctx=ctx)
    return offline.differentiate(plan=plan, needs=["newcomers who speak Arabic"], ctx=ctx)


@pytest.fixture
def quiz(ctx, lesson) -> Assessment:
    test = assess.write_questions(
        topic="comparing fractions",
        grade="4",
        subject=None,
        standards=lesson.standards,
        count=5,
        kinds=[],
        ctx=ctx,
    )
    return assess.write_rubric(assessment=test, levels=4, ctx=ctx)


def html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_both_files_are_written_and_the_json_reads_back(ctx, lesson) -> None:
    files = render_document(document=lesson, name="lesson-plan", ctx=ctx)
    assert files.json_path == ctx.workdir / "lesson-plan.json"
    assert files.markdown_path == ctx.workdir / "lesson-plan.md"
    assert LessonPlan.model_validate(json.loads(files.json_path.read_text("utf-8"))) == lesson
    assert files.markdown_path.read_text("utf-8") == to_markdown(lesson)
    assert not list(ctx.workdir.glob(".*.part"))


def test_the_lesson_reads_as_a_lesson_plan(lesson) -> None:
    text = to_markdown(lesson)
    assert text.startswith("# Comparing fractions: a grade 4 mathematics lesson\n")
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert sections[:6] == [
        f"### {n}. {s.title} ({s.minutes} min)" for n, s in enumerate(lesson.sections, 1)
    ]
    assert "### Language learners" in text and "newcomers who speak Arabic" in text
    # symbols in the standard stay text, not markup: "symbols >, =, or <"
    assert "symbols \\>, =, or \\<" in text
    rendered = html(text)
    assert "symbols &gt;, =, or &lt;" in rendered
    # the CCSS licence asks every publication to carry its notice
    assert text.rstrip().endswith(
        "<small>© Copyright 2010. National Governors Association Center for Best Practices and "
        "Council of Chief State School Officers. All rights reserved.</small>"
    )


def test_the_assessment_has_questions_a_key_and_a_rubric_table(quiz) -> None:
    text = to_markdown(quiz)
    rendered = html(text)
    assert rendered.count("<table>") == 2  # answer key, rubric
    for item in quiz.items:
        assert f"| {item.id} |" in text
    mc = next(i for i in quiz.items if i.kind == "multiple_choice")
    letter = chr(65 + mc.choices.index(mc.answer))
    assert f"| {mc.id} | {letter}. {mc.answer} |" in text
    assert "| Criterion | Items | Level 4 | Level 3 | Level 2 | Level 1 |" in text
    assert "**Exceeds (4)**" in text


def test_pipes_in_text_do_not_break_a_table(quiz) -> None:
    item = quiz.items[-1].model_copy(update={"answer": "a | b"})
    text = to_markdown(quiz.model_copy(update={"items": [*quiz.items[:-1], item]}))
    assert "| a \\| b |" in text
    rendered = html(text)
    row = rendered[rendered.index(f"<td>{item.id}</td>") :].split("</tr>")[0]
    assert row.count("<td>") == 4 and "<td>a | b</td>" in row


def test_feedback_and_unknown_models(ctx) -> None:
    feedback = Feedback(
        student="Ana",
        goal="Compare fractions.",
        progress=["4 of 5 points."],
        next_steps=["Use a benchmark."],
        message="Well done, Ana.",
    )
    text = to_markdown(feedback)
    assert text.startswith("# Feedback for Ana\n\n*For the student.*\n\nWell done, Ana.")
    assert "## Next steps\n\n- Use a benchmark." in text

    class Note(BaseModel):
        heading: str
        points: list[str]

    files = render_document(document=Note(heading="Hi", points=["a", "b"]), name=None, ctx=ctx)
    assert files.markdown_path.name == "note.md"
    assert (
        files.markdown_path.read_text("utf-8")
        == "# Note\n\n**Heading:** Hi\n\n## Points\n\n- a\n- b\n"
    )


@pytest.mark.parametrize("name", ["../escape", "a/b", "plan.md", "", " x"])
def test_a_name_that_is_not_a_plain_stem_is_refused(ctx, lesson, name) -> None:
    with pytest.raises(InvalidInputError, match="not a plain file stem"):
        render_document(document=lesson, name=name or "-", ctx=ctx)
    assert not list(ctx.workdir.iterdir())
