"""The text workflows end to end through the CLI, offline: lesson-plan, assessment, feedback.

Each run is a real ``python -m reelgraph.cli run`` process with the installed
entry points (``offline``, ``report``), a run store in its own REELGRAPH_HOME,
and files checked where the CLI published them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from markdown_it import MarkdownIt

from reelgraph.models import Assessment, Feedback, LessonPlan, PerformanceAnalysis


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def record(out: Path) -> dict:
    return json.loads((out / "run.json").read_text("utf-8"))


def test_lesson_plan_offline(tmp_path) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli(
        "lesson-plan",
        "-i", "topic=fractions",
        "-i", "grade=4",
        "-i", "needs=two students read below grade level,a newcomer who speaks Spanish",
        "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60  # "offline in seconds"; generous for a loaded CI
    assert sorted(p.name for p in out.iterdir()) == [
        "lesson-plan.json",
        "lesson-plan.md",
        "run.json",
    ]
    plan = LessonPlan.model_validate_json((out / "lesson-plan.json").read_text("utf-8"))
    assert plan.grade == "4" and plan.subject == "math" and plan.duration_min == 45
    assert [s.id for s in plan.standards] == [
        "CCSS.MATH.CONTENT.4.NF.A.1",
        "CCSS.MATH.CONTENT.4.NF.A.2",
        "CCSS.MATH.CONTENT.4.NF.B.3.A",
    ]
    assert sum(s.minutes for s in plan.sections) == 45
    assert all(s.teacher_moves and s.student_tasks for s in plan.sections)
    needs = [a.rationale for a in plan.differentiation if a.rationale.startswith("for: ")]
    assert len(needs) == 2
    markdown = (out / "lesson-plan.md").read_text("utf-8")
    assert markdown.startswith("# Fractions: a grade 4 mathematics lesson")
    assert "National Governors Association Center for Best Practices" in markdown
    assert "<h3>1. Opening (5 min)</h3>" in MarkdownIt("commonmark").render(markdown)
    run = record(out)
    assert run["status"] == "succeeded"
    assert [(n["id"], n["provider"]) for n in run["nodes"]] == [
        ("standards", "offline"),
        ("outline", "offline"),
        ("lesson", "offline"),
        ("differentiated", "offline"),
        ("files", "report"),
    ]
    assert run["outputs"]["lesson_plan_md"].endswith("lesson-plan.md")


def test_assessment_then_feedback_on_a_students_answers(tmp_path) -> None:
    quiz = tmp_path / "quiz"
    result = cli("assessment", "-i", "topic=equivalent fractions", "-i", "grade=4", "-o", str(quiz))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in quiz.iterdir()) == [
        "assessment.json",
        "assessment.md",
        "run.json",
    ]
    test = Assessment.model_validate_json((quiz / "assessment.json").read_text("utf-8"))
    assert len(test.items) == 6 and test.rubric is not None
    assert "## Answer key" in (quiz / "assessment.md").read_text("utf-8")

    # a student who gets every keyed item right and answers the open item with the key
    lines = []
    for n, item in enumerate(test.items, start=1):
        lines.append(f"{n}. {item.answer}")
    answers = tmp_path / "answers.md"
    answers.write_text("# Ana\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "fb"
    result = cli(
        "feedback",
        "-i", f"work={answers}",
        "-i", f"assessment={quiz / 'assessment.json'}",
        "-i", "student=Ana",
        "-i", "audience=parent",
        "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "analysis.json",
        "analysis.md",
        "feedback.json",
        "feedback.md",
        "run.json",
    ]
    analysis = PerformanceAnalysis.model_validate_json((out / "analysis.json").read_text("utf-8"))
    assert analysis.score == analysis.max_score == sum(i.points for i in test.items)
    feedback = Feedback.model_validate_json((out / "feedback.json").read_text("utf-8"))
    assert feedback.student == "Ana" and feedback.audience == "parent"
    assert feedback.message.startswith("Ana is working towards:")
    assert (out / "feedback.md").read_text("utf-8").startswith("# Feedback for Ana")


def test_bad_inputs_stop_with_one_line_and_no_files(tmp_path) -> None:
    out = tmp_path / "out"
    result = cli("lesson-plan", "-i", "topic=fractions", "-i", "grade=13", "-o", str(out))
    assert result.returncode != 0
    assert "grade '13' is not a school grade: give K or 1-12" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "lesson-plan.md").exists()

    answers = tmp_path / "answers.md"
    answers.write_text("1. B\n", encoding="utf-8")
    result = cli("feedback", "-i", f"work={answers}", "-o", str(tmp_path / "fb"))
    assert result.returncode != 0
    assert "-i assessment=assessment.json" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "fb" / "feedback.md").exists()

    result = cli("assessment", "-i", "topic=the French revolution", "-i", "grade=8", "-o", str(out))
    assert result.returncode != 0
    assert "no shipped standard to write questions for" in result.stderr
