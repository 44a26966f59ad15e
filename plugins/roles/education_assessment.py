"""Offline assessment writing: items with an answer key, then an analytic rubric.

``write_questions`` builds a pool per standard from the shipped data
(``standards.yaml``): the standard's sample tasks (short answer,
constructed response), a multiple-choice item per vocabulary term ("which
term means ...?", distractors from the other terms of the same subject) and
a true/false item per term (the right definition, or another term's, in
turn). Items are drawn round-robin over the standards, cycling through the
kinds, then laid out objective items first. The correct choice's position
moves with the item number, so keys are not all "A".

``write_rubric`` writes one criterion per standard that has constructed
response items, "understanding and explanation", with 2-5 levels (labels
in :data:`LEVELS`; 4 by default: Exceeds 4, Meets 3, Approaching 2,
Beginning 1, a common four-point analytic scale, e.g. Brookhart, *How to
Create and Use Rubrics*, ASCD 2013). Descriptors name the standard's
objective; each constructed response item's ``points`` become its
criterion's top level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    Assessment,
    AssessmentItem,
    ItemKind,
    Rubric,
    RubricCriterion,
    RubricLevel,
    Standard,
)
from reelgraph.plugins.roles.education_standards import (
    Entry,
    StandardsData,
    covered_topics,
    load_standards,
    normalize_grade,
    normalize_subject,
    objective_from,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "KINDS",
    "LEVELS",
    "attach_rubric",
    "check_kinds",
    "short_id",
    "write_questions",
    "write_rubric",
]

KINDS: tuple[str, ...] = get_args(ItemKind)
#: the order objective kinds are drawn in; the layout order of the finished assessment
_DRAW = ("multiple_choice", "short_answer", "true_false")
_LAYOUT = {"multiple_choice": 0, "true_false": 1, "short_answer": 2, "constructed_response": 3}
_MAX_ITEMS = 50

#: number of levels -> (label, descriptor template) from the highest level down
LEVELS: dict[int, tuple[tuple[str, str], ...]] = {
    2: (("Meets", "meets"), ("Not yet", "beginning")),
    3: (("Meets", "meets"), ("Approaching", "approaching"), ("Beginning", "beginning")),
    4: (
        ("Exceeds", "exceeds"),
        ("Meets", "meets"),
        ("Approaching", "approaching"),
        ("Beginning", "beginning"),
    ),
    5: (
        ("Exceeds", "exceeds"),
        ("Meets", "meets"),
        ("Approaching", "approaching"),
        ("Developing", "developing"),
        ("Beginning", "beginning"),
    ),
}
_DESCRIPTORS = {
    "exceeds": "Shows fully and accurately that {goal}, uses every key term precisely, "
    "explains each step with reasons, and goes further (a second method or an example of their own).",
    "meets": "Shows accurately that {goal}, uses the key terms correctly and explains the main steps.",
    "approaching": "Shows in part that {goal}: some key terms are missing or misused, "
    "or the explanation skips a step.",
    "developing": "Shows a little of the idea that {goal}; most key terms are missing "
    "and the explanation is unclear.",
    "beginning": "Does not yet show that {goal}: few or no key terms, major errors, or no answer.",
}


# -- write_questions ---------------------------------------------------------------


@hookimpl
def write_questions(
    topic: str,
    grade: str,
    subject: str | None,
    standards: list[Standard],
    count: int,
    kinds: list[str],
    ctx: NodeContext,
) -> Assessment:
    """Items with keys from the standards' shipped tasks and vocabulary (module docstring)."""
    allowed = check_kinds(kinds)
    if not 1 <= count <= _MAX_ITEMS:
        raise InvalidInputError(f"count must be 1-{_MAX_ITEMS}, got {count}")
    data = load_standards()
    entries = [e for s in standards if (e := data.entry(s.id)) is not None]
    if not entries:
        named = ", ".join(s.id for s in standards) or "none"
        level = normalize_grade(grade)
        covered = ", ".join(covered_topics(data, level, normalize_subject(subject))) or "nothing"
        raise InvalidInputError(
            f"no shipped standard to write questions for (standards found: {named}); the "
            f"offline writer builds items from its own data, which at grade {level} covers: "
            f"{covered}; choose one of those topics or -i llm=openai|anthropic"
        )
    pools = [_pool(entry, data, allowed) for entry in entries]
    drawn = _draw(pools, count)
    if len(drawn) < count:
        raise InvalidInputError(
            f"the offline writer has only {len(drawn)} items of kinds {', '.join(allowed)} "
            f"for these standards; ask for at most {len(drawn)} (-i count={len(drawn)})"
        )
    drawn.sort(key=lambda item: _LAYOUT[item.kind])  # stable: draw order within a kind
    items = [_numbered(item, n) for n, item in enumerate(drawn, start=1)]
    subject_name = normalize_subject(subject) or entries[0].standard.subject
    return Assessment(
        title=f"{topic.strip()[:1].upper()}{topic.strip()[1:]}: grade {normalize_grade(grade)} check",
        topic=topic.strip(),
        subject=subject_name,
        grade=normalize_grade(grade),
        standards=[e.standard for e in entries],
        items=items,
    )


def check_kinds(kinds: list[str]) -> tuple[str, ...]:
    """The allowed item kinds: ``kinds`` checked, or every kind when empty.

    Raises:
        InvalidInputError: an unknown kind.
    """
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInputError(
            f"unknown item kind(s) {', '.join(map(repr, unknown))}; use {', '.join(KINDS)}"
        )
    return tuple(k for k in KINDS if k in kinds) if kinds else KINDS


def _pool(entry: Entry, data: StandardsData, allowed: tuple[str, ...]) -> list[AssessmentItem]:
    sid = entry.standard.id
    items = [
        AssessmentItem(
            id="q00",
            kind=task.kind,  # type: ignore[arg-type]
            prompt=task.prompt,
            answer=task.answer,
            standard_id=sid,
            rationale=("Also accepted: " + "; ".join(task.accept)) if task.accept else "",
        )
        for task in entry.tasks
    ]
    for i, term in enumerate(t for t in entry.vocabulary if data.define(t)):
        definition = data.define(term) or ""
        wrong = _distractors(term, entry, data)
        if len(wrong) < 2:  # a multiple-choice item needs at least three choices
            continue
        items.append(
            AssessmentItem(
                id="q00",
                kind="multiple_choice",
                prompt=f"Which term means: {definition}?",
                choices=[term, *wrong],  # reordered when numbered
                answer=term,
                standard_id=sid,
                rationale=f"{term}: {definition}.",
            )
        )
        true_statement = i % 2 == 0 or not wrong
        shown = definition if true_statement else (data.define(wrong[0]) or "")
        items.append(
            AssessmentItem(
                id="q00",
                kind="true_false",
                prompt=f"True or false: '{term}' means {shown}.",
                choices=["True", "False"],
                answer="True" if true_statement else "False",
                standard_id=sid,
                rationale=f"{term}: {definition}.",
            )
        )
    return [item for item in items if item.kind in allowed]


def _distractors(term: str, entry: Entry, data: StandardsData) -> list[str]:
    """Three other terms, the closest first: this standard's, then its grade's, then its subject's."""
    same_grade = [
        e
        for e in data.entries
        if e.standard.subject == entry.standard.subject
        and set(e.standard.grades) & set(entry.standard.grades)
    ]
    same_subject = [e for e in data.entries if e.standard.subject == entry.standard.subject]
    candidates = [
        t for group in ([entry], same_grade, same_subject) for e in group for t in e.vocabulary
    ]
    return [t for t in dict.fromkeys(candidates) if t != term and data.define(t)][:3]


def _draw(pools: list[list[AssessmentItem]], count: int) -> list[AssessmentItem]:
    """About a third constructed responses (at least one when any is allowed), then
    objective items, the kinds of ``_DRAW`` in turn; both round-robin over the standards."""
    opened = [[item for item in pool if item.kind == "constructed_response"] for pool in pools]
    closed = [[item for item in pool if item.kind != "constructed_response"] for pool in pools]
    available = sum(map(len, opened))
    quota = min(available, max(1, count // 3)) if available else 0
    drawn = _round_robin(opened, quota)
    drawn += _round_robin(closed, count - len(drawn))
    return drawn + _round_robin(opened, count - len(drawn))  # when too few objective items


def _round_robin(pools: list[list[AssessmentItem]], count: int) -> list[AssessmentItem]:
    """Up to ``count`` items taken from the pools in turn (removed from them); each turn
    prefers the kind ``_DRAW[turn]`` names."""
    taken: list[AssessmentItem] = []
    turn = 0
    while len(taken) < count and any(pools):
        pool = pools[turn % len(pools)]
        if pool:
            wanted = _DRAW[len(taken) % len(_DRAW)]
            pick = next((i for i, item in enumerate(pool) if item.kind == wanted), 0)
            taken.append(pool.pop(pick))
        turn += 1
    return taken


def _numbered(item: AssessmentItem, number: int) -> AssessmentItem:
    update: dict[str, object] = {"id": f"q{number:02d}"}
    if item.kind == "multiple_choice":
        wrong = [c for c in item.choices if c != item.answer]
        slot = (number - 1) % len(item.choices)
        update["choices"] = [*wrong[:slot], item.answer, *wrong[slot:]]
    return item.model_copy(update=update)


# -- write_rubric ---------------------------------------------------------------------


@hookimpl
def write_rubric(assessment: Assessment, levels: int, ctx: NodeContext) -> Assessment:
    """One "understanding and explanation" criterion per standard with open items."""
    if levels not in LEVELS:
        raise InvalidInputError(f"levels must be {min(LEVELS)}-{max(LEVELS)}, got {levels}")
    by_standard: dict[str, list[str]] = {}
    for item in assessment.items:
        if item.kind == "constructed_response":
            by_standard.setdefault(item.standard_id or "", []).append(item.id)
    if not by_standard:
        raise InvalidInputError(
            "a rubric scores constructed responses and this assessment has none; "
            "allow the constructed_response kind (leave -i kinds empty)"
        )
    statements = {s.id: s.statement for s in assessment.standards}
    criteria = []
    for sid, item_ids in by_standard.items():
        goal = _goal(statements.get(sid)) if sid else f"they understand {assessment.topic}"
        criteria.append(
            RubricCriterion(
                criterion=f"Understanding and explanation: {short_id(sid) or assessment.topic}",
                standard_id=sid or None,
                item_ids=item_ids,
                levels=[
                    RubricLevel(
                        label=label,
                        points=levels - rank,
                        descriptor=_DESCRIPTORS[key].format(goal=goal),
                    )
                    for rank, (label, key) in enumerate(LEVELS[levels])
                ],
            )
        )
    rubric = Rubric(title=f"Rubric: {assessment.title}", criteria=criteria)
    return attach_rubric(assessment, rubric)


def attach_rubric(assessment: Assessment, rubric: Rubric) -> Assessment:
    """``assessment`` with ``rubric`` set and each rubric-scored item's ``points`` made
    the sum of its criteria's top levels (split evenly when a criterion scores several)."""
    share: dict[str, float] = {}
    for criterion in rubric.criteria:
        top = max(level.points for level in criterion.levels)
        for item_id in criterion.item_ids:
            share[item_id] = share.get(item_id, 0.0) + top / len(criterion.item_ids)
    items = [
        item.model_copy(update={"points": max(1, round(share[item.id]))})
        if item.id in share
        else item
        for item in assessment.items
    ]
    return assessment.model_copy(update={"rubric": rubric, "items": items})


def short_id(standard_id: str | None) -> str:
    """``CCSS.MATH.CONTENT.4.NF.A.1`` -> ``4.NF.A.1``; ``CCSS.ELA-LITERACY.W.4.1`` -> ``W.4.1``."""
    if not standard_id:
        return ""
    for prefix in ("CCSS.MATH.CONTENT.", "CCSS.ELA-LITERACY."):
        if standard_id.upper().startswith(prefix):
            return standard_id[len(prefix) :]
    return standard_id


def _goal(statement: str | None) -> str:
    if not statement:
        return "they understand the standard"
    objective = objective_from(statement).removeprefix("Students can ").rstrip(".")
    return f"they can {objective}"
