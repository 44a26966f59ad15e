"""The text workflows' hookspecs: lessons, assessments, feedback, documents.

Part of :mod:`reelgraph.hookspecs`, which re-exports every hook: import them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from reelgraph._markers import defaults, hookspec
from reelgraph.models import (
    Assessment,
    DocumentFiles,
    Feedback,
    LessonPlan,
    PerformanceAnalysis,
    Standard,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext


# -- text workflows: lessons, assessments, feedback ------------------------------
# research standards -> outline -> content -> differentiation (specs/lesson-plan.yaml);
# standards -> questions -> rubric (assessment.yaml); analyse -> feedback (feedback.yaml).
# A step that adds to a plan returns the whole plan, as prepare_narration does.


@hookspec(firstresult=True)
@defaults(subject=None, framework=None, limit=3, options={})
def find_standards(
    topic: str,
    grade: str,
    subject: str | None,
    framework: str | None,
    limit: int,
    options: dict[str, Any],
    ctx: NodeContext,
) -> list[Standard] | None:
    """Research the published standards a lesson or assessment on a topic aligns to.

    Args:
        topic: what is taught, a few words (``"equivalent fractions"``).
        grade: the grade level: ``K`` or ``1`` ... ``12`` (``"4"``, ``"grade 4"``
            and ``"4th"`` are read as ``4``).
        subject: ``math``, ``ela`` or ``science``; ``None`` infers it from the topic.
        framework: restrict to one framework (``ccss``, ``ngss``); ``None`` for any.
        limit: the most standards to return, best match first.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The standards, best match first, each statement verbatim with its
        framework, source URL and copyright notice; empty when none matches
        (the lesson is then aligned to its own objectives).

    Raises:
        InvalidInputError: an unknown grade, subject or framework, or ``limit < 1``.
        ConfigurationError: a remote researcher has no key or a rejected one.

    Example provider: ``offline`` (a shipped set of Common Core and NGSS
    standards, matched by subject, grade and topic words), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(subject=None, duration_min=45, standards=[], objectives=[], options={})
def outline_lesson(
    topic: str,
    grade: str,
    subject: str | None,
    duration_min: int,
    standards: list[Standard],
    objectives: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> LessonPlan | None:
    """Outline a lesson: objectives from the standards, and timed sections.

    Args:
        topic: what is taught.
        grade: the grade level (as for ``find_standards``).
        subject: ``math``, ``ela``, ``science``...; ``None``: the standards' subject.
        duration_min: the lesson's length in minutes.
        standards: the standards it aligns to (``find_standards``).
        objectives: the teacher's own objectives; empty: derived from the standards.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        A plan whose sections have titles, purposes and ``minutes`` summing to
        ``duration_min``, with no teaching content yet.

    Raises:
        InvalidInputError: a duration too short for the lesson's sections, or
            an unknown grade.
        ConfigurationError: a remote planner has no key or a rejected one.

    Example provider: ``offline`` (gradual release of responsibility for
    math and ELA, the BSCS 5E model for science), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(options={})
def write_lesson(plan: LessonPlan, options: dict[str, Any], ctx: NodeContext) -> LessonPlan | None:
    """Write each section of an outlined lesson: teacher moves, student tasks, checks.

    Args:
        plan: the outline (``outline_lesson``).
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same plan with each section's ``teacher_moves``, ``student_tasks``,
        ``check_for_understanding`` and ``materials`` set; titles and minutes unchanged.

    Raises:
        InvalidInputError: a plan with no section.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (templates per phase, filled from the
    standards' vocabulary and tasks), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(needs=[], options={})
def differentiate(
    plan: LessonPlan, needs: list[str], options: dict[str, Any], ctx: NodeContext
) -> LessonPlan | None:
    """Adapt a written lesson for learners who need support, extension or language help.

    Args:
        plan: the written lesson (``write_lesson``).
        needs: the class's needs in the teacher's words (``"3 newcomers who
            speak Spanish"``, ``"two students read below grade level"``).
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same plan with ``differentiation`` set: at least one adaptation for
        each of ``support``, ``extension`` and ``language``, and one per need.

    Raises:
        InvalidInputError: a plan with no section.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (rules after CAST's UDL guidelines and WIDA's
    language supports), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(subject=None, count=6, kinds=[], options={})
def write_questions(
    topic: str,
    grade: str,
    subject: str | None,
    standards: list[Standard],
    count: int,
    kinds: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Assessment | None:
    """Write assessment items aligned to standards, each with its answer key.

    Args:
        topic: what is assessed.
        grade: the grade level (as for ``find_standards``).
        subject: as for ``outline_lesson``.
        standards: what the items assess; every item names one of them.
        count: how many items.
        kinds: the item kinds allowed (:data:`~reelgraph.models.ItemKind`);
            empty allows all.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        An assessment of ``count`` items, ids ``q01``... in order, spread over
        the standards, with no rubric yet.

    Raises:
        InvalidInputError: no standards to align to, ``count`` out of 1-50, or
            an unknown kind.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (items from the standards' shipped tasks
    and vocabulary), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(levels=4, options={})
def write_rubric(
    assessment: Assessment, levels: int, options: dict[str, Any], ctx: NodeContext
) -> Assessment | None:
    """Write the analytic rubric that scores an assessment's open items.

    Args:
        assessment: the items (``write_questions``).
        levels: performance levels per criterion, 2-5.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same assessment with ``rubric`` set: criteria by ``levels`` levels,
        highest first, each with a descriptor and points; every constructed
        response item named by a criterion, its ``points`` the sum of its
        criteria's top levels.

    Raises:
        InvalidInputError: ``levels`` out of range.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (a criterion per assessed standard plus
    one for reasoning, four levels from Beginning to Exceeds), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(assessment=None, student="the student", options={})
def analyse_performance(
    work: Path,
    assessment: Assessment | Path | None,
    student: str,
    options: dict[str, Any],
    ctx: NodeContext,
) -> PerformanceAnalysis | None:
    """Analyse a student's work against an assessment's key and rubric.

    Args:
        work: a text or Markdown file (any encoding) of answers, one per
            item, each starting ``1.``, ``1)``, ``q01:`` or ``Question 1:``
            (later lines continue the answer).
        assessment: the assessment with its rubric, or the path of its JSON
            file (``assessment.json`` from the ``assessment`` spec); ``None``
            for work without one (a provider that needs a key refuses it).
        student: the student's name, as feedback addresses them.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        Points per item and per rubric criterion with evidence quoted from the
        work, the total score, strengths and gaps.

    Raises:
        InvalidInputError: an unreadable or empty work file, no answer found,
            an assessment file that is not an assessment, or no assessment for
            a provider that scores against a key.
        ConfigurationError: a remote analyst has no key or a rejected one.

    Example provider: ``offline`` (the answer key for objective items; key
    terms and reasons in the answer for rubric levels), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(audience="student", options={})
def compose_feedback(
    analysis: PerformanceAnalysis, audience: str, options: dict[str, Any], ctx: NodeContext
) -> Feedback | None:
    """Compose feedback from an analysis: the goal, progress so far, next steps.

    Args:
        analysis: the analysed work (``analyse_performance``).
        audience: ``student`` (addressed as "you"), ``parent`` or ``teacher``.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        Feedback with at least one point of progress and one next step, each
        tied to the work's evidence.

    Raises:
        InvalidInputError: an unknown audience.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (Hattie and Timperley's three questions
    answered from the analysis), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(name=None, options={})
def render_document(
    document: BaseModel, name: str | None, options: dict[str, Any], ctx: NodeContext
) -> DocumentFiles | None:
    """Write a model as a JSON file and a Markdown file a person reads.

    Args:
        document: any pydantic model (a lesson plan, an assessment, feedback...).
        name: the files' stem (``lesson-plan`` gives ``lesson-plan.json`` and
            ``lesson-plan.md``); ``None``: from the model's class name.
        options: provider-specific settings.
        ctx: the node context; files are written under ``ctx.workdir``.

    Returns:
        The two paths. The JSON is ``document.model_dump_json()``; the Markdown
        has a layout per known model and a generic one for others.

    Raises:
        InvalidInputError: a name that is not a plain file stem.

    Example provider: ``report``.
    """
