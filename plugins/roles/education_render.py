"""The ``report`` provider: a model written as ``NAME.json`` and ``NAME.md``.

The JSON file is the model's own ``model_dump_json`` (indent 2, UTF-8), so a
later run can read it back (the ``feedback`` spec reads ``assessment.json``).
The Markdown is CommonMark with GFM tables: a layout per education model
(lesson plan, assessment with answer key and rubric, performance analysis,
feedback) and, for any other model, its fields as headings and lists. Every
document that quotes standards ends with their frameworks' copyright notices,
as the CCSS public license and the NGSS guidelines ask (``standards.yaml``).

Both files are written to temporary names under ``ctx.workdir`` and renamed,
so a failure never leaves half a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
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

__all__ = ["render_document", "to_markdown"]

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_GROUPS = {
    "support": "Learners who need support",
    "extension": "Learners ready for extension",
    "language": "Language learners",
}
_KIND_NAMES = {
    "multiple_choice": "multiple choice",
    "true_false": "true/false",
    "short_answer": "short answer",
    "constructed_response": "constructed response",
}


@hookimpl
def render_document(document: BaseModel, name: str | None, ctx: NodeContext) -> DocumentFiles:
    """Write ``document`` as JSON and Markdown under ``ctx.workdir`` (module docstring)."""
    if not isinstance(document, BaseModel):
        raise InvalidInputError(
            f"render_document takes a model (a node's output), got {type(document).__name__}"
        )
    stem = name or re.sub(r"(?<!^)(?=[A-Z])", "-", type(document).__name__).lower()
    if not _STEM.fullmatch(stem) or stem.endswith((".json", ".md")):
        raise InvalidInputError(
            f"name {stem!r} is not a plain file stem: use letters, digits, '.', '_' and '-' "
            "(e.g. lesson-plan), without a suffix"
        )
    folder = ctx.workdir
    json_path = _write(folder / f"{stem}.json", document.model_dump_json(indent=2) + "\n")
    markdown_path = _write(folder / f"{stem}.md", to_markdown(document))
    return DocumentFiles(json_path=json_path, markdown_path=markdown_path)


def _write(path: Path, text: str) -> Path:
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
    return path


def to_markdown(document: BaseModel) -> str:
    """The Markdown rendering of a model: a layout per known model, else a generic one."""
    if isinstance(document, LessonPlan):
        lines = _lesson(document)
    elif isinstance(document, Assessment):
        lines = _assessment(document)
    elif isinstance(document, PerformanceAnalysis):
        lines = _analysis(document)
    elif isinstance(document, Feedback):
        lines = _feedback(document)
    else:
        lines = [f"# {type(document).__name__}", "", *_generic(document.model_dump(mode="json"), 2)]
    return "\n".join(lines).rstrip() + "\n"


# -- layouts ---------------------------------------------------------------------


def _lesson(plan: LessonPlan) -> list[str]:
    lines = [
        f"# {_inline(plan.title)}",
        "",
        f"**Grade** {plan.grade} · **Subject** {plan.subject} · **Duration** {plan.duration_min} min",
        "",
        *_standards(plan.standards),
        "## Objectives",
        "",
        *[f"- {_inline(o)}" for o in plan.objectives],
        "",
    ]
    if plan.vocabulary:
        lines += ["## Vocabulary", "", ", ".join(_inline(v) for v in plan.vocabulary), ""]
    if plan.materials:
        lines += ["## Materials", "", *[f"- {_inline(m)}" for m in plan.materials], ""]
    lines += ["## Lesson sequence", ""]
    for n, section in enumerate(plan.sections, start=1):
        lines += [
            f"### {n}. {_inline(section.title)} ({section.minutes} min)",
            "",
            f"*{_inline(section.purpose)}*",
            "",
        ]
        if section.teacher_moves:
            lines += ["**Teacher**", "", *[f"- {_inline(m)}" for m in section.teacher_moves], ""]
        if section.student_tasks:
            lines += ["**Students**", "", *[f"- {_inline(t)}" for t in section.student_tasks], ""]
        if section.check_for_understanding:
            lines += [
                f"**Check for understanding:** {_inline(section.check_for_understanding)}",
                "",
            ]
        if section.materials:
            lines += [f"**Materials:** {', '.join(_inline(m) for m in section.materials)}", ""]
    if plan.differentiation:
        lines += ["## Differentiation", ""]
        for group, heading in _GROUPS.items():
            rows = [a for a in plan.differentiation if a.learners == group]
            if rows:
                lines += [f"### {heading}", ""]
                for a in rows:
                    where = f"*{_inline(a.section)}:* " if a.section else ""
                    why = f" ({_inline(a.rationale)})" if a.rationale else ""
                    lines.append(f"- {where}{_inline(a.strategy)}{why}")
                lines.append("")
    return lines + _notices(plan.standards)


def _assessment(test: Assessment) -> list[str]:
    lines = [
        f"# {_inline(test.title)}",
        "",
        f"**Grade** {test.grade} · **Subject** {test.subject} · **Items** {len(test.items)}"
        f" · **Points** {sum(i.points for i in test.items)}",
        "",
        *_standards(test.standards),
        "## Questions",
        "",
    ]
    for n, item in enumerate(test.items, start=1):
        lines.append(f"{n}. {_inline(item.prompt)} *({_KIND_NAMES[item.kind]}, {item.points} pt)*")
        lines += [f"   {chr(65 + i)}. {_inline(c)}" for i, c in enumerate(item.choices)]
        lines.append("")
    lines += ["## Answer key", "", "| Item | Answer | Standard | Points |", "|---|---|---|---|"]
    for item in test.items:
        answer = item.answer
        if item.kind == "multiple_choice" and item.answer in item.choices:
            answer = f"{chr(65 + item.choices.index(item.answer))}. {item.answer}"
        lines.append(
            f"| {item.id} | {_cell(answer)} | {_cell(item.standard_id or '')} | {item.points} |"
        )
    lines.append("")
    if test.rubric:
        levels = max(len(c.levels) for c in test.rubric.criteria)
        lines += [f"## {_inline(test.rubric.title)}", ""]
        lines += [
            "| Criterion | Items | "
            + " | ".join(f"Level {levels - i}" for i in range(levels))
            + " |"
        ]
        lines += ["|---|---|" + "---|" * levels]
        for c in test.rubric.criteria:
            cells = [
                f"**{_cell(lv.label)} ({lv.points})** {_cell(lv.descriptor)}" for lv in c.levels
            ]
            cells += [""] * (levels - len(cells))
            lines.append(
                f"| {_cell(c.criterion)} | {', '.join(c.item_ids)} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    return lines + _notices(test.standards)


def _analysis(analysis: PerformanceAnalysis) -> list[str]:
    percent = round(100 * analysis.score / analysis.max_score) if analysis.max_score else 0
    lines = [
        f"# {_inline(analysis.title)}: {_inline(analysis.student)}",
        "",
        f"**Score** {analysis.score:g} / {analysis.max_score:g} ({percent}%)",
        "",
    ]
    if analysis.items:
        lines += ["## Items", "", "| Item | Response | Result | Points |", "|---|---|---|---|"]
        for r in analysis.items:
            result = {True: "correct", False: "incorrect", None: "rubric"}[r.correct]
            lines.append(
                f"| {r.item_id} | {_cell(r.response) or '—'} | {result} | {r.points:g} / {r.max_points:g} |"
            )
        lines.append("")
    if analysis.criteria:
        lines += ["## Rubric", "", "| Criterion | Level | Points | Evidence |", "|---|---|---|---|"]
        for c in analysis.criteria:
            evidence = "; ".join(_cell(e) for e in c.evidence)
            lines.append(
                f"| {_cell(c.criterion)} | {_cell(c.level)} | {c.points:g} / {c.max_points:g} | {evidence} |"
            )
        lines.append("")
    for heading, rows in (
        ("Strengths", analysis.strengths),
        ("Gaps", analysis.gaps),
        ("Possible misconceptions", analysis.misconceptions),
    ):
        if rows:
            lines += [f"## {heading}", "", *[f"- {_inline(r)}" for r in rows], ""]
    return lines


def _feedback(feedback: Feedback) -> list[str]:
    return [
        f"# Feedback for {_inline(feedback.student)}",
        "",
        f"*For the {feedback.audience}.*",
        "",
        _inline(feedback.message),
        "",
        "## Where the work is going",
        "",
        _inline(feedback.goal),
        "",
        "## How it is going",
        "",
        *[f"- {_inline(p)}" for p in feedback.progress],
        "",
        "## Next steps",
        "",
        *[f"- {_inline(s)}" for s in feedback.next_steps],
        "",
    ]


def _standards(standards: list[Standard]) -> list[str]:
    if not standards:
        return []
    lines = ["## Standards", ""]
    for s in standards:
        source = f" ([source]({s.url}))" if s.url else ""
        lines.append(
            f"- **{_inline(s.id)}** ({_inline(s.framework)}): {_inline(s.statement)}{source}"
        )
    return [*lines, ""]


def _notices(standards: list[Standard]) -> list[str]:
    notices = list(dict.fromkeys(s.notice for s in standards if s.notice))
    return ["---", "", *[f"<small>{_inline(n)}</small>" for n in notices], ""] if notices else []


def _generic(value: Any, depth: int) -> list[str]:
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines += [f"{'#' * min(depth, 6)} {key.replace('_', ' ').capitalize()}", ""]
                lines += _generic(item, depth + 1)
            else:
                lines += [f"**{key.replace('_', ' ').capitalize()}:** {_inline(str(item))}", ""]
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict):
                lines += _generic(item, depth) + ["---", ""]
            else:
                lines.append(f"- {_inline(str(item))}")
        return [*lines, ""]
    return [_inline(str(value)), ""]


def _inline(text: str) -> str:
    """One line of text, with characters that would start Markdown markup escaped."""
    flat = " ".join(str(text).split())
    return re.sub(r"([\\`*_<>\[\]])", r"\\\1", flat)


def _cell(text: str) -> str:
    """Text for a GFM table cell: one line, pipes escaped."""
    return _inline(text).replace("|", "\\|")
