"""The models of the text workflows: lessons, assessments, feedback.

Part of :mod:`reelgraph.models`, which re-exports every model: import them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from reelgraph._models_media import _Model

# -- text workflows: lessons, assessments, feedback ------------------------------
# The education hooks exchange these; units in the names (minutes: ``_min``).


class Standard(_Model):
    """A published learning standard a lesson or an assessment is aligned to.

    Attributes:
        id: the framework's code (``CCSS.MATH.CONTENT.4.NF.A.1``, ``MS-LS1-6``).
        statement: the standard as the framework publishes it, verbatim.
        framework: its name (``Common Core State Standards for Mathematics``).
        subject: ``math``, ``ela``, ``science``...
        grades: the grade levels it belongs to (``K``, ``1`` ... ``12``).
        url: where the statement is published.
        notice: the copyright notice its licence asks a publication to carry.
    """

    id: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    framework: str
    subject: str
    grades: list[str] = Field(default_factory=list)
    url: str | None = None
    notice: str = ""


class LessonSection(_Model):
    """One phase of a lesson: its length, purpose and (once written) what happens.

    ``teacher_moves`` to ``materials`` are empty in an outline; ``write_lesson`` fills them.
    """

    title: str
    minutes: int = Field(gt=0)
    purpose: str
    teacher_moves: list[str] = Field(default_factory=list)
    student_tasks: list[str] = Field(default_factory=list)
    check_for_understanding: str | None = None
    materials: list[str] = Field(default_factory=list)


class Adaptation(_Model):
    """One differentiation strategy.

    ``learners``: ``support`` (learners who need help to reach the objective),
    ``extension`` (learners ready to go further) or ``language`` (learners of the
    language of instruction); ``section``: the lesson section it applies to,
    ``None`` for the whole lesson.
    """

    learners: Literal["support", "extension", "language"]
    section: str | None = None
    strategy: str
    rationale: str = ""


class LessonPlan(_Model):
    """A lesson plan: outlined, then written, then differentiated.

    Attributes:
        title, topic, subject: what the lesson teaches.
        grade: the grade level (``K``, ``1`` ... ``12``).
        duration_min: its length in minutes; the sections' ``minutes`` sum to it.
        objectives: what learners can do afterwards, one sentence each.
        standards: the standards it is aligned to.
        vocabulary: terms the lesson teaches.
        materials: what the teacher prepares.
        sections: the lesson's phases, in order.
        differentiation: adaptations (set by ``differentiate``).
        language: BCP 47 tag of the plan's text.
    """

    title: str
    topic: str
    subject: str
    grade: str
    duration_min: int = Field(gt=0, le=600)
    objectives: list[str] = Field(min_length=1)
    standards: list[Standard] = Field(default_factory=list)
    vocabulary: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    sections: list[LessonSection] = Field(min_length=1)
    differentiation: list[Adaptation] = Field(default_factory=list)
    language: str = "en"


ItemKind = Literal["multiple_choice", "true_false", "short_answer", "constructed_response"]


class AssessmentItem(_Model):
    """One question with its answer key.

    ``choices`` are the options of a ``multiple_choice`` item (``true_false``:
    ``["True", "False"]``); ``answer`` is the correct choice's text, or a model
    answer for the other kinds. A ``constructed_response`` item is scored with
    the rubric criteria that name it.
    """

    id: str = Field(pattern=r"^q\d{2,}$")
    kind: ItemKind
    prompt: str
    choices: list[str] = Field(default_factory=list)
    answer: str
    standard_id: str | None = None
    points: int = Field(1, ge=1)
    rationale: str = ""


class RubricLevel(_Model):
    """A performance level of a rubric criterion: its label, points and descriptor."""

    label: str
    points: int = Field(ge=0)
    descriptor: str


class RubricCriterion(_Model):
    """A rubric row: what is judged, on which items, at which levels (highest first)."""

    criterion: str
    standard_id: str | None = None
    item_ids: list[str] = Field(default_factory=list)
    levels: list[RubricLevel] = Field(min_length=2)


class Rubric(_Model):
    """An analytic rubric: criteria by performance levels."""

    title: str
    criteria: list[RubricCriterion] = Field(min_length=1)


class Assessment(_Model):
    """An assessment: items with an answer key, and (once written) its rubric.

    ``grade`` as in :class:`LessonPlan`; the total points are the items' ``points``.
    """

    title: str
    topic: str
    subject: str
    grade: str
    standards: list[Standard] = Field(default_factory=list)
    items: list[AssessmentItem] = Field(min_length=1)
    rubric: Rubric | None = None
    language: str = "en"


class ItemResult(_Model):
    """How one item was answered: the response, and points out of ``max_points``.

    ``correct`` is ``None`` for items scored with the rubric.
    """

    item_id: str
    response: str
    correct: bool | None = None
    points: float = Field(ge=0)
    max_points: float = Field(ge=0)


class CriterionResult(_Model):
    """The level reached on one rubric criterion, with evidence quoted from the work."""

    criterion: str
    level: str
    points: float = Field(ge=0)
    max_points: float = Field(ge=0)
    evidence: list[str] = Field(default_factory=list)


class PerformanceAnalysis(_Model):
    """A piece of student work analysed against an assessment.

    Attributes:
        student: who did the work.
        title: what was assessed.
        items: one result per item answered or expected.
        criteria: one result per rubric criterion.
        score, max_score: points earned and possible.
        strengths, gaps: what the work shows, one sentence each.
        misconceptions: errors that suggest a wrong idea, when seen.
        objectives: what the work was meant to show (the standards' statements).
    """

    student: str
    title: str
    items: list[ItemResult] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    strengths: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    misconceptions: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(default_factory=list)


class Feedback(_Model):
    """Feedback on a piece of work: where the learner is going, how, and what next.

    The three questions of Hattie and Timperley (2007, "The Power of Feedback",
    Review of Educational Research 77(1), 81-112): where am I going (``goal``),
    how am I going (``progress``), where to next (``next_steps``). ``message``
    says it to ``audience`` in a few sentences.
    """

    student: str
    audience: Literal["student", "parent", "teacher"] = "student"
    goal: str
    progress: list[str] = Field(min_length=1)
    next_steps: list[str] = Field(min_length=1)
    message: str


class DocumentFiles(_Model):
    """A model written as files: ``json_path`` (the data) and ``markdown_path`` (for people)."""

    json_path: Path
    markdown_path: Path
