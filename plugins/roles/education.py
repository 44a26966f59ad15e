"""The education hooks for language-model vendors: one ``structured`` call per step.

:class:`EducationRoles` implements the eight education hooks
(``find_standards`` ... ``compose_feedback``, see ``kernel/hookspecs.py``)
on a single method, :meth:`EducationRoles.structured`, which a vendor
plugin provides (``LLMRoles`` in :mod:`.llm` inherits from this class, so
``openai``, ``anthropic`` and a third party's ``LLMRoles`` subclass answer
these hooks too). Each hook builds a :class:`~.llm.StructuredRequest`: a
system prompt that states the role and its rules, and a user message that
carries the inputs as JSON. What comes back is checked beyond its schema
(the rules each step's ``_check_*`` function lists: minutes summing to the
lesson's length, answers among the choices, every item aligned to a given
standard...); an answer that breaks them gets one more call carrying the
problems, then an :class:`~reelgraph.errors.InvalidInputError`.

The model answers only what it must: ``differentiate`` asks for the
adaptations and merges them into the plan, ``write_lesson`` asks for the
sections' content and keeps the outline's titles and minutes, and the
student's name, the audience and the standards are set from the inputs, not
from the answer.

Options (a node's ``options``): ``model`` (the vendor's model name; empty or
missing: the vendor's default), ``temperature``, ``max_tokens`` (default
4096; 8192 for ``write_lesson``); the rest reach the vendor in
``StructuredRequest.options``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, Field

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    Adaptation,
    Assessment,
    AssessmentItem,
    Feedback,
    LessonPlan,
    LessonSection,
    PerformanceAnalysis,
    Rubric,
    Standard,
)
from reelgraph.plugins._text import read_source
from reelgraph.plugins.roles.education_assessment import attach_rubric, check_kinds
from reelgraph.plugins.roles.education_feedback import AUDIENCES, load_assessment
from reelgraph.plugins.roles.education_standards import normalize_grade, normalize_subject

if TYPE_CHECKING:
    from reelgraph.plugins.roles.llm import StructuredRequest
    from reelgraph.run.context import NodeContext

__all__ = ["EducationRoles"]

M = TypeVar("M", bound=BaseModel)

_TEACHER = (
    "You are an experienced {subject} teacher and curriculum designer writing for "
    "grade {grade}. Write in plain, precise language a teacher can use as is. "
)


# -- what a model is asked to return, where a hook's own result is more -----------------


class _Standards(BaseModel):
    standards: list[Standard]


class _Outline(BaseModel):
    title: str
    objectives: list[str] = Field(min_length=1)
    vocabulary: list[str]
    materials: list[str]
    sections: list[LessonSection] = Field(min_length=1)


class _Sections(BaseModel):
    sections: list[LessonSection] = Field(min_length=1)


class _Adaptations(BaseModel):
    adaptations: list[Adaptation] = Field(min_length=3)


class _Items(BaseModel):
    title: str
    items: list[AssessmentItem] = Field(min_length=1)


class EducationRoles:
    """The education hooks, each one ``structured`` call (module docstring).

    A subclass implements :meth:`structured`; ``LLMRoles`` does, by vendor.
    """

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        """Answer ``request`` with an instance of ``request.output`` (``LLMRoles.structured``)."""
        raise NotImplementedError

    # -- lesson ------------------------------------------------------------------

    @hookimpl
    def find_standards(
        self,
        topic: str,
        grade: str,
        subject: str | None,
        framework: str | None,
        limit: int,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> list[Standard]:
        """Standards from the model's knowledge, statements verbatim, best first."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        level = normalize_grade(grade)
        system = (
            "You are a curriculum specialist. Name the published learning standards a "
            f"grade {level} lesson on the topic aligns to, best match first, at most {limit}. "
            "Quote each statement verbatim from the framework; give the framework's own code as "
            "id, the framework's full name, the subject (math, ela, science or another), the "
            "grades as strings (K, 1-12), the URL where it is published, and the copyright "
            "notice the framework's licence asks publications to carry. Never invent a "
            "standard: return an empty list when none fits."
        )
        payload = {"topic": topic, "grade": level, "subject": subject, "framework": framework}
        answer = self._ask(
            "curriculum_researcher",
            system,
            payload,
            _Standards,
            options,
            ctx,
            lambda a: _check_standards(a, level),
        )
        return answer.standards[:limit]

    @hookimpl
    def outline_lesson(
        self,
        topic: str,
        grade: str,
        subject: str | None,
        duration_min: int,
        standards: list[Standard],
        objectives: list[str],
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> LessonPlan:
        """Objectives, vocabulary and timed sections; content comes from ``write_lesson``."""
        level = normalize_grade(grade)
        subject_name = normalize_subject(subject) or (
            standards[0].subject if standards else "general"
        )
        system = _TEACHER.format(subject=subject_name, grade=level) + (
            f"Outline a {duration_min}-minute lesson: a title, learner-facing objectives "
            "(use the teacher's objectives when given, else derive them from the standards), "
            "the vocabulary it teaches, materials, and 4-7 sections in teaching order, each "
            "with a title, a one-sentence purpose and whole minutes. The sections' minutes must "
            f"sum to exactly {duration_min}. Leave teacher_moves, student_tasks, "
            "check_for_understanding and materials of each section empty."
        )
        payload = {
            "topic": topic,
            "grade": level,
            "subject": subject_name,
            "duration_min": duration_min,
            "standards": _dump(standards),
            "objectives": objectives,
        }
        answer = self._ask(
            "lesson_planner",
            system,
            payload,
            _Outline,
            options,
            ctx,
            lambda a: _check_outline(a, duration_min),
        )
        return LessonPlan(
            title=answer.title,
            topic=topic,
            subject=subject_name,
            grade=level,
            duration_min=duration_min,
            objectives=answer.objectives,
            standards=standards,
            vocabulary=answer.vocabulary,
            materials=answer.materials,
            sections=answer.sections,
        )

    @hookimpl
    def write_lesson(
        self, plan: LessonPlan, options: dict[str, Any], ctx: NodeContext
    ) -> LessonPlan:
        """Each section's teacher moves, student tasks, check and materials."""
        if not plan.sections:
            raise InvalidInputError("the lesson plan has no section to write")
        system = _TEACHER.format(subject=plan.subject, grade=plan.grade) + (
            "Write the content of each section of the outlined lesson, in the same order with "
            "the same titles and minutes: concrete teacher moves (what to say, show, ask, with "
            "worked examples and their answers), student tasks, one check for understanding "
            "with what a correct response looks like, and the section's materials. Every task "
            "serves the objectives and fits the section's minutes."
        )
        answer = self._ask(
            "lesson_writer",
            system,
            {"plan": _dump(plan)},
            _Sections,
            options,
            ctx,
            lambda a: _check_sections(a, plan),
            max_tokens=8192,
        )
        sections = [
            written.model_copy(update={"title": outline.title, "minutes": outline.minutes})
            for outline, written in zip(plan.sections, answer.sections, strict=True)
        ]
        return plan.model_copy(update={"sections": sections})

    @hookimpl
    def differentiate(
        self, plan: LessonPlan, needs: list[str], options: dict[str, Any], ctx: NodeContext
    ) -> LessonPlan:
        """Adaptations for support, extension and language learners, and one per named need."""
        if not plan.sections:
            raise InvalidInputError("the lesson plan has no section to differentiate")
        system = _TEACHER.format(subject=plan.subject, grade=plan.grade) + (
            "Differentiate the lesson. Give concrete adaptations for learners who need support "
            "to reach the objectives (learners: support), learners ready to go further "
            "(extension) and learners of the language of instruction (language): at least one "
            "of each, and at least one for each need the teacher names (say which need in its "
            "rationale). Name the section each applies to by its exact title, or leave it null "
            "for the whole lesson. Ground each rationale in a recognised framework (CAST's UDL "
            "guidelines, WIDA) where one applies."
        )
        titles = {s.title for s in plan.sections}
        answer = self._ask(
            "differentiation_specialist",
            system,
            {"plan": _dump(plan), "needs": needs},
            _Adaptations,
            options,
            ctx,
            lambda a: _check_adaptations(a, titles, needs),
        )
        return plan.model_copy(update={"differentiation": answer.adaptations})

    # -- assessment ------------------------------------------------------------------

    @hookimpl
    def write_questions(
        self,
        topic: str,
        grade: str,
        subject: str | None,
        standards: list[Standard],
        count: int,
        kinds: list[str],
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Assessment:
        """``count`` items with keys, each aligned to one of ``standards``."""
        allowed = check_kinds(kinds)
        if not standards:
            raise InvalidInputError("no standards to align the questions to")
        if not 1 <= count <= 50:
            raise InvalidInputError(f"count must be 1-50, got {count}")
        level = normalize_grade(grade)
        subject_name = normalize_subject(subject) or standards[0].subject
        system = _TEACHER.format(subject=subject_name, grade=level) + (
            f"Write an assessment of exactly {count} items of the kinds {', '.join(allowed)}, "
            "spread over the standards, each with its standard's id as standard_id. "
            "multiple_choice: 4 choices, answer is the correct choice's exact text, the "
            'distractors plausible errors; true_false: choices ["True", "False"]; '
            "short_answer: answer is the expected answer; constructed_response: answer is a "
            "model answer a rubric can score. Give each item a rationale (why the key is "
            "right). Number the ids q01, q02... in order."
        )
        payload = {"topic": topic, "grade": level, "standards": _dump(standards)}
        answer = self._ask(
            "assessment_writer",
            system,
            payload,
            _Items,
            options,
            ctx,
            lambda a: _check_items(a, count, allowed, {s.id for s in standards}),
        )
        items = [
            item.model_copy(update={"id": f"q{n:02d}"}) for n, item in enumerate(answer.items, 1)
        ]
        return Assessment(
            title=answer.title,
            topic=topic,
            subject=subject_name,
            grade=level,
            standards=standards,
            items=items,
        )

    @hookimpl
    def write_rubric(
        self, assessment: Assessment, levels: int, options: dict[str, Any], ctx: NodeContext
    ) -> Assessment:
        """An analytic rubric for the open items; item points follow its top levels."""
        if not 2 <= levels <= 5:
            raise InvalidInputError(f"levels must be 2-5, got {levels}")
        system = _TEACHER.format(subject=assessment.subject, grade=assessment.grade) + (
            f"Write an analytic rubric for the assessment's constructed_response items: criteria "
            f"with exactly {levels} levels each, highest first, points strictly decreasing to 1, "
            "each level with an observable descriptor. Every constructed_response item must be "
            "named in some criterion's item_ids; name only existing item ids; give each "
            "criterion the standard_id it judges."
        )
        open_ids = [i.id for i in assessment.items if i.kind == "constructed_response"]
        if not open_ids:
            raise InvalidInputError(
                "a rubric scores constructed responses and this assessment has none"
            )
        answer = self._ask(
            "rubric_writer",
            system,
            {"assessment": _dump(assessment)},
            Rubric,
            options,
            ctx,
            lambda a: _check_rubric(a, levels, open_ids, {i.id for i in assessment.items}),
        )
        return attach_rubric(assessment, answer)

    # -- feedback ----------------------------------------------------------------------

    @hookimpl
    def analyse_performance(
        self,
        work: Path,
        assessment: Assessment | Path | None,
        student: str,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> PerformanceAnalysis:
        """Points per item and criterion with quoted evidence, strengths and gaps."""
        text = read_source(work)
        if not text.strip():
            raise InvalidInputError(f"{work}: the work file is empty")
        test = load_assessment(assessment) if assessment is not None else None
        system = (
            "You are an experienced teacher marking a student's work. Score each item against "
            "the answer key and each rubric criterion at one of its levels (level label and its "
            "points exactly as the rubric gives them), quoting the student's own words as "
            "evidence. Without an assessment, judge the work on its own merits with 2-4 "
            "criteria you name. List strengths, gaps (with what the next level asks) and any "
            "misconceptions. score and max_score are the totals of items and criteria."
        )
        payload = {"student": student, "work": text, "assessment": _dump(test) if test else None}
        answer = self._ask(
            "assessor",
            system,
            payload,
            PerformanceAnalysis,
            options,
            ctx,
            lambda a: _check_analysis(a, test),
        )
        return answer.model_copy(update={"student": student})

    @hookimpl
    def compose_feedback(
        self,
        analysis: PerformanceAnalysis,
        audience: str,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Feedback:
        """Goal, progress and next steps, addressed to ``audience``."""
        if audience not in AUDIENCES:
            raise InvalidInputError(f"audience {audience!r}: use one of {', '.join(AUDIENCES)}")
        system = (
            "You are a teacher writing feedback on analysed work, answering Hattie and "
            "Timperley's three questions: where am I going (goal), how am I going (progress: "
            "specific, tied to evidence in the work), where to next (next_steps: actionable, "
            f"one per gap). Address the {audience}"
            + (" as 'you'" if audience == "student" else "")
            + "; be encouraging and honest, never vague praise. message: 3-5 sentences."
        )
        payload = {"analysis": _dump(analysis), "audience": audience}
        answer = self._ask("feedback_writer", system, payload, Feedback, options, ctx, _no_check)
        return answer.model_copy(update={"student": analysis.student, "audience": audience})

    # -- the one call, with its repair turn ------------------------------------------------

    def _ask(
        self,
        role: str,
        system: str,
        payload: dict[str, Any],
        output: type[M],
        options: dict[str, Any],
        ctx: NodeContext,
        check: Callable[[M], list[str]],
        *,
        max_tokens: int = 4096,
    ) -> M:
        from reelgraph.plugins.roles.llm import StructuredRequest

        settings = dict(options or {})
        request = StructuredRequest(
            role=role,
            system=system,
            user=json.dumps(payload, ensure_ascii=False, indent=1),
            output=output,
            model=str(settings.pop("model", None) or ""),
            max_tokens=int(settings.pop("max_tokens", None) or max_tokens),
            temperature=settings.pop("temperature", None),
            options=settings,
        )
        answer = self._answer(request, output, ctx)
        problems = check(answer)
        if not problems:
            return answer
        ctx.log.info("answer breaks the rules; asking once more", role=role, problems=problems)
        retry = StructuredRequest(
            role=role,
            system=system,
            user=request.user
            + "\n\nYour previous answer:\n"
            + answer.model_dump_json()
            + "\n\nIt breaks these rules; answer again, fixing them:\n"
            + "\n".join(f"- {p}" for p in problems),
            output=output,
            model=request.model,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            options=request.options,
        )
        answer = self._answer(retry, output, ctx)
        problems = check(answer)
        if problems:
            raise InvalidInputError(
                f"{role}: the model's answer still breaks the rules after a repair: "
                + "; ".join(problems)
            )
        return answer

    def _answer(self, request: StructuredRequest, output: type[M], ctx: NodeContext) -> M:
        answer = self.structured(request, ctx)
        if not isinstance(answer, output):
            raise InvalidInputError(
                f"{request.role}: structured() returned {type(answer).__name__}, not {output.__name__}"
            )
        return answer


# -- checks beyond the schema: each returns the problems, in words the model can act on --------


def _no_check(_: BaseModel) -> list[str]:
    return []


def _check_standards(answer: _Standards, grade: str) -> list[str]:
    problems = []
    for s in answer.standards:
        if s.grades and grade not in s.grades:
            problems.append(
                f"standard {s.id} is for grades {', '.join(s.grades)}, not grade {grade}"
            )
    return problems


def _check_outline(answer: _Outline, duration_min: int) -> list[str]:
    total = sum(s.minutes for s in answer.sections)
    if total != duration_min:
        return [f"the sections' minutes sum to {total}, not {duration_min}"]
    return []


def _check_sections(answer: _Sections, plan: LessonPlan) -> list[str]:
    if len(answer.sections) != len(plan.sections):
        return [
            f"write exactly {len(plan.sections)} sections (got {len(answer.sections)}), one per outlined section"
        ]
    return [
        f"section {n} ({outline.title!r}) has no teacher moves or no student tasks"
        for n, (outline, s) in enumerate(zip(plan.sections, answer.sections, strict=True), 1)
        if not s.teacher_moves or not s.student_tasks
    ]


def _check_adaptations(answer: _Adaptations, titles: set[str], needs: list[str]) -> list[str]:
    problems = [
        f"no adaptation for {group} learners"
        for group in ("support", "extension", "language")
        if not any(a.learners == group for a in answer.adaptations)
    ]
    problems += [
        f"section {a.section!r} is not a section of the lesson (use one of {sorted(titles)} or null)"
        for a in answer.adaptations
        if a.section is not None and a.section not in titles
    ]
    rationales = " ".join(a.rationale.lower() for a in answer.adaptations)
    problems += [
        f"no adaptation names the need {need!r} in its rationale"
        for need in needs
        if need.lower() not in rationales
    ]
    return problems


def _check_items(answer: _Items, count: int, kinds: tuple[str, ...], ids: set[str]) -> list[str]:
    problems = (
        []
        if len(answer.items) == count
        else [f"write exactly {count} items, not {len(answer.items)}"]
    )
    for n, item in enumerate(answer.items, 1):
        if item.kind not in kinds:
            problems.append(f"item {n} is {item.kind}; allowed kinds: {', '.join(kinds)}")
        if item.standard_id not in ids:
            problems.append(
                f"item {n} names standard {item.standard_id!r}; use one of {sorted(ids)}"
            )
        if item.kind == "multiple_choice" and (
            len(item.choices) < 3 or item.answer not in item.choices
        ):
            problems.append(
                f"item {n}: a multiple-choice answer must be one of 3+ choices, verbatim"
            )
        if item.kind == "true_false" and (
            item.choices != ["True", "False"] or item.answer not in item.choices
        ):
            problems.append(
                f'item {n}: true/false choices are ["True", "False"] and the answer one of them'
            )
    return problems


def _check_rubric(answer: Rubric, levels: int, open_ids: list[str], ids: set[str]) -> list[str]:
    problems = []
    named = {i for c in answer.criteria for i in c.item_ids}
    problems += [f"no criterion scores item {i}" for i in open_ids if i not in named]
    problems += [f"criteria name unknown item {i}" for i in sorted(named - ids)]
    for c in answer.criteria:
        points = [lv.points for lv in c.levels]
        if len(points) != levels:
            problems.append(f"criterion {c.criterion!r} has {len(points)} levels, not {levels}")
        if points != sorted(points, reverse=True) or len(set(points)) != len(points):
            problems.append(
                f"criterion {c.criterion!r}: points must decrease from the highest level"
            )
    return problems


def _check_analysis(answer: PerformanceAnalysis, test: Assessment | None) -> list[str]:
    problems = []
    if answer.score > answer.max_score:
        problems.append(f"score {answer.score} is more than max_score {answer.max_score}")
    if test is not None:
        ids = {i.id for i in test.items}
        problems += [f"unknown item {r.item_id}" for r in answer.items if r.item_id not in ids]
    return problems


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value
