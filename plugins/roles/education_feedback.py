"""Offline analysis of student work against an answer key and rubric, and feedback on it.

**Reading the work.** The work file (text or Markdown, any encoding) gives
one answer per item: a line starting ``1.``, ``1)``, ``1:``, ``q01:``,
``Q1 -`` or ``Question 1:`` (or a Markdown heading such as ``## Question
1``) opens the answer to item 1; the following lines, up to the next marker,
continue it.

**Scoring objective items.** A multiple-choice answer may give the letter
(``B``, ``(b)``) or the choice's text; true/false accepts true/false, t/f,
yes/no. A short answer is right when, compared case- and space-insensitively
(a final period dropped), it equals the key or one of the answers the item's
``rationale`` lists after "Also accepted:"; for a key that is a plain number,
an answer whose first number equals it is right (``24 crayons``). Fractions
are compared as written, since "write an equivalent fraction with
denominator 8" is not answered by the same fraction in lowest terms: an
answer of equal value in another form is recorded as a misconception.

**Rubric levels.** For each criterion, the answers to the items it names
are read for the item's key terms (the shipped task's "look for" list when
the prompt is a shipped task, else the glossary terms and numbers in the
model answer) and for reasons (``because``, ``so``, ``since``,
``therefore``, ``means``, ``for example``, ``such as``...). The coverage (key terms found / key
terms) picks the level: from the top, level ``i`` of ``n`` needs coverage
at least ``1 - i/(n-1)`` (the top level every term, the lowest any answer);
an answer that gives no reason at all drops one level. An empty answer is
the lowest level.

**Feedback** answers Hattie and Timperley's three questions (2007, "The
Power of Feedback", Review of Educational Research 77(1), 81-112): the goal
(the standards' objectives), progress (score, what was right, criteria met,
with the work's own words as evidence), next steps (the next level's
descriptor for each criterion below the top, the items to look at again),
phrased for the student ("you"), a parent or the teacher.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    Assessment,
    AssessmentItem,
    CriterionResult,
    Feedback,
    ItemResult,
    PerformanceAnalysis,
    RubricCriterion,
)
from reelgraph.plugins._text import read_source
from reelgraph.plugins.roles.education_standards import load_standards, objective_from

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "AUDIENCES",
    "analyse_performance",
    "compose_feedback",
    "key_terms",
    "load_assessment",
    "parse_answers",
    "score_item",
]

AUDIENCES = ("student", "parent", "teacher")
# "q01: ...", "Question 1 - ...", "## Q1" (a prefix makes the delimiter optional) or
# "1. ...", "1) ..." (a bare number needs a delimiter then a space: "2.45" is an answer)
_MARKERS = (
    re.compile(r"^\s*(?:#{1,6}\s*)?(?:question|q)\s*0*(\d{1,3})\s*[.):\-]?\s*(.*)$", re.I),
    re.compile(r"^\s*(?:#{1,6}\s*)?0*(\d{1,3})\s*[.):\-](?:\s+(.*)|\s*$)"),
)
# words that give a reason or an explanation, matched as whole words
_REASONS = re.compile(
    r"\b(because|so|since|therefore|thus|means|this shows|for example|for instance|"
    r"such as|as a result|which is why|that is why)\b",
    re.IGNORECASE,
)
_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}


# -- analyse_performance -----------------------------------------------------------


@hookimpl
def analyse_performance(
    work: Path, assessment: Assessment | Path | None, student: str, ctx: NodeContext
) -> PerformanceAnalysis:
    """Score ``work`` against ``assessment``'s key and rubric (module docstring)."""
    if assessment is None:
        raise InvalidInputError(
            "the offline analyst scores work against an answer key: give the assessment "
            "(-i assessment=assessment.json, written by `reelgraph run assessment`), or "
            "choose a language model (-i llm=openai|anthropic) for work without one"
        )
    test = load_assessment(assessment)
    answers = parse_answers(read_source(work))
    if not answers:
        raise InvalidInputError(
            f"{work}: no answers found; start each answer with its item number "
            "('1.', 'q01:' or 'Question 1:'), one per item"
        )
    objective_items = []
    misconceptions: list[str] = []
    rubric_items = {i for c in (test.rubric.criteria if test.rubric else []) for i in c.item_ids}
    for number, item in enumerate(test.items, start=1):
        response = answers.get(number, "")
        if item.id in rubric_items:
            continue
        result, misconception = score_item(item, response)
        objective_items.append(result)
        if misconception:
            misconceptions.append(misconception)
    criteria = [
        _score_criterion(c, test, answers) for c in (test.rubric.criteria if test.rubric else [])
    ]
    open_items = [
        ItemResult(
            item_id=item.id,
            response=answers.get(number, ""),
            points=_share(item.id, criteria, test, earned=True),
            max_points=_share(item.id, criteria, test, earned=False),
        )
        for number, item in enumerate(test.items, start=1)
        if item.id in rubric_items
    ]
    order = {item.id: n for n, item in enumerate(test.items)}
    items = sorted([*objective_items, *open_items], key=lambda r: order[r.item_id])
    score = sum(r.points for r in objective_items) + sum(c.points for c in criteria)
    maximum = sum(r.max_points for r in objective_items) + sum(c.max_points for c in criteria)
    return PerformanceAnalysis(
        student=student,
        title=test.title,
        items=items,
        criteria=criteria,
        score=round(score, 2),
        max_score=round(maximum, 2),
        strengths=_strengths(objective_items, criteria),
        gaps=_gaps(objective_items, criteria, test),
        misconceptions=misconceptions,
        objectives=[objective_from(s.statement) for s in test.standards],
    )


def load_assessment(assessment: Assessment | Path | str) -> Assessment:
    """The assessment itself, or read from its JSON file.

    Raises:
        InvalidInputError: the file cannot be read or is not an assessment.
    """
    if isinstance(assessment, Assessment):
        return assessment
    path = Path(assessment)
    try:
        return Assessment.model_validate(json.loads(read_source(path)))
    except json.JSONDecodeError as err:
        raise InvalidInputError(f"{path}: not JSON ({err}); give assessment.json") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise InvalidInputError(
            f"{path}: not an assessment ({where}: {first['msg']}); give the assessment.json "
            "that `reelgraph run assessment` writes"
        ) from err


def parse_answers(text: str) -> dict[int, str]:
    """Answers by item number (1-based) from the work's text (module docstring)."""
    answers: dict[int, list[str]] = {}
    current: int | None = None
    for line in text.splitlines():
        found = _MARKERS[0].match(line) or _MARKERS[1].match(line)
        if found:
            current = int(found.group(1))
            rest = (found.group(2) or "").strip()
            answers[current] = [rest] if rest else []
        elif current is not None and line.strip():
            answers[current].append(line.strip())
    return {n: " ".join(parts).strip() for n, parts in answers.items()}


def score_item(item: AssessmentItem, response: str) -> tuple[ItemResult, str | None]:
    """An item's result by its key, and a misconception it suggests (or ``None``).

    A constructed response no rubric criterion names gets the share of its
    points that the share of its key terms found gives (``correct`` ``None``).
    """
    given = response.strip()
    correct = False
    misconception = None
    if item.kind == "multiple_choice":
        chosen = _chosen(item, given)
        correct = chosen is not None and _norm(chosen) == _norm(item.answer)
        if chosen is not None and not correct:
            misconception = f"{item.id}: confused '{chosen}' with '{item.answer}'"
    elif item.kind == "true_false":
        word = _norm(given).split(" ")[0] if given else ""
        value = "true" if word in _TRUE else "false" if word in _FALSE else None
        correct = value is not None and value == _norm(item.answer)
    elif item.kind == "constructed_response":  # no rubric names it: credit by key terms
        terms = key_terms(item)
        found = sum(1 for term in terms if _found(term, given))
        share = found / len(terms) if terms else float(bool(given))
        points = round(item.points * share, 2)
        return ItemResult(
            item_id=item.id, response=given, points=points, max_points=float(item.points)
        ), None
    else:
        correct = _short_answer_right(item, given)
        if not correct and _same_value(given, item.answer):
            misconception = f"{item.id}: gave {given}, equal in value to {item.answer} but not in the form asked"
    result = ItemResult(
        item_id=item.id,
        response=given,
        correct=correct,
        points=float(item.points) if correct else 0.0,
        max_points=float(item.points),
    )
    return result, misconception


def _chosen(item: AssessmentItem, given: str) -> str | None:
    text = next((c for c in item.choices if _norm(c) == _norm(given)), None)
    # "b", "(b)", "B.", "b) numerator": a letter alone or followed by its delimiter
    letter = re.fullmatch(r"\(?([a-z])\)?[.)]?|\(?([a-z])[.)]\s.*", given.strip().lower())
    if text is None and letter:
        index = ord(letter.group(1) or letter.group(2)) - ord("a")
        return item.choices[index] if index < len(item.choices) else None
    return text


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("×", "x").split()).rstrip(".").strip()


def _accepted(item: AssessmentItem) -> list[str]:
    _, _, also = item.rationale.partition("Also accepted:")
    return [item.answer, *(a for a in also.split(";") if a.strip())]


def _short_answer_right(item: AssessmentItem, given: str) -> bool:
    if not given:
        return False
    if any(_norm(given) == _norm(a) for a in _accepted(item)):
        return True
    if re.fullmatch(r"-?\d+(\.\d+)?", item.answer.strip()):
        digits = re.sub(r"(?<=\d),(?=\d{3}\b)", "", given)  # 1,000 -> 1000; 1,5 stays
        first = re.search(r"-?\d+(?:\.\d+)?", digits)
        return first is not None and float(first.group()) == float(item.answer)
    return False


def _same_value(given: str, answer: str) -> bool:
    def value(text: str) -> float | None:
        found = re.fullmatch(r"\s*(-?\d+)\s*/\s*(\d+)\s*", text)
        if found and int(found.group(2)):
            return int(found.group(1)) / int(found.group(2))
        return None

    a, b = value(given), value(answer)
    return a is not None and b is not None and math.isclose(a, b)


def key_terms(item: AssessmentItem) -> list[str]:
    """What a complete answer to ``item`` uses (module docstring)."""
    data = load_standards()
    for entry in data.entries:
        for task in entry.tasks:
            if task.prompt == item.prompt and task.look_for:
                return list(task.look_for)
    answer = item.answer.lower()
    terms = [t for t in sorted(data.glossary, key=len, reverse=True) if t.lower() in answer]
    numbers = re.findall(r"\d+(?:[/.:]\d+)?", item.answer)
    return list(dict.fromkeys([*terms, *numbers]))[:6]


def _found(term: str, text: str) -> bool:
    if re.fullmatch(r"[\d/.:]+", term):
        return re.search(rf"(?<![\d/.]){re.escape(term)}(?![\d/])", text) is not None
    return term.lower() in text.lower()


def _score_criterion(
    criterion: RubricCriterion, test: Assessment, answers: dict[int, str]
) -> CriterionResult:
    numbers = {item.id: n for n, item in enumerate(test.items, start=1)}
    items = [i for i in test.items if i.id in criterion.item_ids]
    text = " ".join(answers.get(numbers[i.id], "") for i in items).strip()
    levels = sorted(criterion.levels, key=lambda lv: -lv.points)
    terms = list(dict.fromkeys(t for i in items for t in key_terms(i)))
    used = [t for t in terms if _found(t, text)]
    reasons = list(dict.fromkeys(m.lower() for m in _REASONS.findall(text)))
    if not text:
        rank = len(levels) - 1
    else:
        coverage = len(used) / len(terms) if terms else 1.0
        rank = min(len(levels) - 1, math.ceil((1 - coverage) * (len(levels) - 1) - 1e-9))
        if not reasons:
            rank = min(len(levels) - 1, rank + 1)
    evidence = []
    if text:
        missing = [t for t in terms if t not in used]
        evidence.append(f'"{_first_sentence(text)}"')
        evidence.append(
            f"key terms used ({len(used)} of {len(terms)}): {', '.join(used) or 'none'}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
        evidence.append(f"reasons given: {', '.join(reasons) or 'none'}")
    else:
        evidence.append("no answer")
    return CriterionResult(
        criterion=criterion.criterion,
        level=levels[rank].label,
        points=float(levels[rank].points),
        max_points=float(levels[0].points),
        evidence=evidence,
    )


def _first_sentence(text: str, limit: int = 160) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


def _share(
    item_id: str, criteria: list[CriterionResult], test: Assessment, *, earned: bool
) -> float:
    total = 0.0
    for rubric_row, result in zip(
        test.rubric.criteria if test.rubric else [], criteria, strict=True
    ):
        if item_id in rubric_row.item_ids:
            points = result.points if earned else result.max_points
            total += points / len(rubric_row.item_ids)
    return round(total, 2)


def _strengths(items: list[ItemResult], criteria: list[CriterionResult]) -> list[str]:
    found = []
    keyed = [r for r in items if r.correct is not None]
    right = [r.item_id for r in keyed if r.correct]
    if right:
        found.append(
            f"answered {len(right)} of {len(keyed)} keyed items correctly ({', '.join(right)})"
        )
    for c in criteria:
        if c.points >= c.max_points - 1 and c.points > 0:
            found.append(f"{c.criterion}: {c.level}")
    return found


def _gaps(items: list[ItemResult], criteria: list[CriterionResult], test: Assessment) -> list[str]:
    found = []
    wrong = [r.item_id for r in items if r.points < r.max_points]
    if wrong:
        found.append(f"items to look at again: {', '.join(wrong)}")
    rows = {c.criterion: c for c in (test.rubric.criteria if test.rubric else [])}
    for c in criteria:
        if c.points >= c.max_points:
            continue
        levels = sorted(rows[c.criterion].levels, key=lambda lv: lv.points)
        above = next((lv for lv in levels if lv.points > c.points), None)
        if above is not None:
            found.append(f"{c.criterion}: at {c.level}; to reach {above.label}: {above.descriptor}")
    return found


# -- compose_feedback ----------------------------------------------------------------


@hookimpl
def compose_feedback(analysis: PerformanceAnalysis, audience: str, ctx: NodeContext) -> Feedback:
    """Goal, progress and next steps from the analysis, for ``audience`` (module docstring)."""
    if audience not in AUDIENCES:
        raise InvalidInputError(f"audience {audience!r}: use one of {', '.join(AUDIENCES)}")
    name = analysis.student
    you = audience == "student"
    goals = [o.removeprefix("Students can ").rstrip(".") for o in analysis.objectives]
    goal = (
        f"{'You are' if you else f'{name} is'} working towards: {'; '.join(goals)}."
        if goals
        else f"{'You are' if you else f'{name} is'} working towards: {analysis.title}."
    )
    percent = round(100 * analysis.score / analysis.max_score) if analysis.max_score else 0
    progress = [f"{analysis.score:g} of {analysis.max_score:g} points ({percent}%)."]
    strong = [c for c in analysis.criteria if c.points >= c.max_points - 1 and c.points > 0]
    said = {f"{c.criterion}: {c.level}" for c in strong}
    progress += [
        f"{'You' if you else name} {s}." if s.startswith("answered") else s
        for s in analysis.strengths
        if s not in said  # said again below, with its evidence
    ]
    progress += [
        f"{c.criterion}: {c.level}" + (f" ({c.evidence[0]})" if c.evidence else "") for c in strong
    ]
    next_steps = [_next_step(gap, you) for gap in analysis.gaps]
    next_steps += [f"Talk through this mix-up: {m}." for m in analysis.misconceptions]
    if not next_steps:
        next_steps = [
            "Keep going: try the extension task or write a problem of your own."
            if you
            else f"Offer {name} an extension task or a problem to write for others."
        ]
    return Feedback(
        student=name,
        audience=audience,  # type: ignore[arg-type]
        goal=goal,
        progress=progress,
        next_steps=next_steps,
        message=_message(analysis, audience, goal, progress, next_steps, percent),
    )


def _next_step(gap: str, you: bool) -> str:
    if gap.startswith("items to look at again"):
        items = gap.split(":", 1)[1].strip()
        return (
            f"Look again at {items} and check each against the question."
            if you
            else f"Revisit {items}."
        )
    criterion, _, rest = gap.partition(": at ")
    _, _, target = rest.partition("; ")
    if not target:  # a gap in words of its own (another provider's analysis)
        return gap
    return f"{criterion}: {target[:1].upper()}{target[1:]}"


def _message(
    analysis: PerformanceAnalysis,
    audience: str,
    goal: str,
    progress: list[str],
    next_steps: list[str],
    percent: int,
) -> str:
    name = analysis.student
    first_step = next_steps[0].rstrip(".")
    goal = goal.split("; ")[0].rstrip(".") + "."  # the first objective is enough in a message
    if audience == "student":
        return (
            f"{name}, {goal[0].lower()}{goal[1:]} You scored {percent}%. "
            f"{progress[1] if len(progress) > 1 else 'You made a start.'} Next: {first_step}."
        )
    if audience == "parent":
        return (
            f"{goal} {name} scored {percent}% on {analysis.title}. "
            f"At home, ask {name} to explain one answer in their own words. Next: {first_step}."
        )
    return (
        f"{name}: {analysis.score:g}/{analysis.max_score:g} ({percent}%) on {analysis.title}. "
        f"Priority: {first_step}."
        + (
            f" Misconceptions: {'; '.join(analysis.misconceptions)}."
            if analysis.misconceptions
            else ""
        )
    )
