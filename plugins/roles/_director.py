"""The offline director: a plan from a brief by rules, with clarifying questions.

Structure: the eight parts of :data:`~reelgraph.models.BEAT_PARTS` (hook,
context, problem, stakes, approach, proof, call to action, close), the
problem-solution arc of explainer and persuasive video, each given a share
of the brief's ``duration_s`` (:data:`WEIGHTS`). A part that would get less
than :data:`MIN_PART_S` seconds is dropped, in :data:`DROP_ORDER`, until
every part has room for a slide and a sentence or two; the shares left are
scaled to fill the duration exactly.

The ``educational`` template reads the same parts as a lesson: context
states the **learning objectives**, proof is a **check for understanding**
(a question, a pause, the answer) and close is the **recap**; those three
are never dropped.

Questions: a brief that names no audience, no key messages (and has no
document whose headings could stand in) or, for a lesson, no learning
objectives leaves something essential open. With ``clarify`` the director
asks (:class:`~reelgraph.errors.NeedsInput`); without, it assumes and
records the assumption. Answers (``answers[key]``) fill them; a list answer
is split on ``;`` or new lines.
"""

from __future__ import annotations

import re
from typing import Any

from reelgraph.errors import NeedsInput
from reelgraph.models import BEAT_PARTS, Brief, Document, PlanPart, Question, VideoPlan

__all__ = [
    "DROP_ORDER",
    "MIN_PART_S",
    "PURPOSES",
    "WEIGHTS",
    "audience_of",
    "key_messages_of",
    "objectives_of",
    "plan_video",
    "split_answer",
]

#: share of the video per part (a project choice: the hook short, the approach longest)
WEIGHTS: dict[str, dict[str, float]] = {
    "presentation": {
        "hook": 0.08, "context": 0.12, "problem": 0.14, "stakes": 0.10,
        "approach": 0.20, "proof": 0.14, "call_to_action": 0.11, "close": 0.11,
    },
    "educational": {
        "hook": 0.08, "context": 0.14, "problem": 0.14, "stakes": 0.08,
        "approach": 0.20, "proof": 0.14, "call_to_action": 0.10, "close": 0.12,
    },
}  # fmt: skip
#: parts dropped first when the video is too short for all eight
DROP_ORDER: dict[str, tuple[str, ...]] = {
    "presentation": ("stakes", "proof", "context", "problem"),
    "educational": ("stakes", "call_to_action", "problem"),
}
#: seconds a part needs at least: one slide, one or two sentences
MIN_PART_S = 6.0
#: the parts a key message is placed in, in order
MESSAGE_PARTS: dict[str, tuple[str, ...]] = {
    "presentation": ("problem", "stakes", "approach", "proof"),
    "educational": ("problem", "stakes", "approach"),
}
PURPOSES: dict[str, dict[str, str]] = {
    "presentation": {
        "hook": "open with the title and a reason to keep watching",
        "context": "say who this is for and what the video sets out to do",
        "problem": "name the problem the audience has",
        "stakes": "show why it matters now",
        "approach": "present the approach, one step at a time",
        "proof": "show why the approach works",
        "call_to_action": "say what to do next",
        "close": "recap the key messages and thank the viewer",
    },
    "educational": {
        "hook": "open with the title and a question the lesson answers",
        "context": "state the learning objectives",
        "problem": "introduce the key idea",
        "stakes": "say why it matters to the learner",
        "approach": "explain it step by step",
        "proof": "check for understanding: a question, a pause, then the answer",
        "call_to_action": "give the learner something to practise",
        "close": "recap what was learned",
    },
}
_GENERAL_AUDIENCE = Brief.model_fields["audience"].default


def split_answer(text: str) -> list[str]:
    """A list answer (``"a; b"`` or one per line) as items, blanks dropped."""
    return [item.strip(" -*\u2022\t") for item in re.split(r"[;\n]", text) if item.strip(" -*")]


def audience_of(brief: Brief, plan: VideoPlan | None) -> str:
    """Who watches: the answer to the ``audience`` question, else the brief's."""
    answered = (plan.answers.get("audience") if plan else None) or ""
    return answered.strip() or brief.audience


def key_messages_of(brief: Brief, plan: VideoPlan | None) -> list[str]:
    """The messages to say: the plan's (answers and assumptions included), else the brief's."""
    return list(plan.key_messages) if plan and plan.key_messages else list(brief.key_messages)


def objectives_of(brief: Brief, plan: VideoPlan | None) -> list[str]:
    """Learning objectives: answered, else the brief's, else one assumed from the title."""
    answered = (plan.answers.get("learning_objectives") if plan else None) or ""
    if answered.strip():
        return split_answer(answered)
    if brief.learning_objectives:
        return list(brief.learning_objectives)
    return [f"explain the main idea of {brief.title}"]


def _headings(document: Document | None, title: str) -> list[str]:
    if document is None:
        return []
    seen = {title.casefold()}
    found = []
    for section in document.sections:
        heading = " ".join(section.heading.split())
        if section.level >= 1 and heading and heading.casefold() not in seen:
            seen.add(heading.casefold())
            found.append(heading)
    return found[:5]


def _questions(brief: Brief, document: Document | None) -> list[Question]:
    """What the brief leaves essential and open."""
    asked = []
    if brief.audience.strip().casefold() == _GENERAL_AUDIENCE.casefold():
        asked.append(
            Question(
                key="audience",
                question="Who will watch this video, and what do they already know about the topic?",
                why="the brief names no audience",
                assumption=f"{_GENERAL_AUDIENCE}, with no prior knowledge of the topic",
            )
        )
    if not brief.key_messages and not _headings(document, brief.title):
        asked.append(
            Question(
                key="key_messages",
                question="Which two or three points must the viewer remember? (separate them with ';')",
                why="the brief lists no key messages and there is no document to take them from",
                assumption=f"one key message, the goal: {brief.goal}",
            )
        )
    if brief.template == "educational" and not brief.learning_objectives:
        asked.append(
            Question(
                key="learning_objectives",
                question="What should the learner be able to do after the video? (separate them with ';')",
                why="an educational video needs learning objectives and the brief lists none",
                assumption=f"the learner can explain the main idea of {brief.title}",
            )
        )
    return asked


def _durations(template: str, total_s: float) -> list[tuple[str, float]]:
    """``(part, seconds)`` in structure order, summing to ``total_s`` exactly (0.1 s steps)."""
    weights = dict(WEIGHTS[template])
    for part in DROP_ORDER[template]:
        if min(weights.values()) / sum(weights.values()) * total_s >= MIN_PART_S:
            break
        del weights[part]
    scale = total_s / sum(weights.values())
    parts = [p for p in BEAT_PARTS if p in weights]
    seconds = [round(weights[p] * scale, 1) for p in parts]
    seconds[-1] = round(total_s - sum(seconds[:-1]), 1)
    return list(zip(parts, seconds, strict=True))


def _place(messages: list[str], parts: list[str], template: str) -> dict[str, list[str]]:
    """Each message in one part: spread in order over the template's message parts."""
    targets = [p for p in MESSAGE_PARTS[template] if p in parts] or [
        p for p in parts if p not in ("hook", "close")
    ]
    placed: dict[str, list[str]] = {p: [] for p in parts}
    for i, message in enumerate(messages):
        placed[targets[min(i * len(targets) // len(messages), len(targets) - 1)]].append(message)
    return placed


def _audience_analysis(audience: str, brief: Brief) -> str:
    plain = re.search(
        r"\b(beginner|new|novice|student|learner|non-technical|executive|manager|public|general)",
        audience,
        re.IGNORECASE,
    )
    need = (
        "they need the why before the how, in plain words, with jargon explained"
        if plain
        else "they know the field, so the video can be direct and skip the basics"
    )
    return (
        f"Audience: {audience}; {need}. Tone: {brief.tone}. Every part makes one point, "
        "each key message is said plainly once and repeated in the close."
    )


def plan_video(
    brief: Brief, document: Document | None, answers: dict[str, str], clarify: bool
) -> VideoPlan:
    """The plan for ``brief`` (see the module docstring for the rules).

    Raises:
        NeedsInput: ``clarify`` and a question is unanswered.
    """
    answers = {k: str(v) for k, v in (answers or {}).items() if v is not None and str(v).strip()}
    questions = _questions(brief, document)
    open_questions = [q for q in questions if q.key not in answers]
    if clarify and open_questions:
        raise NeedsInput(
            "the brief leaves open: " + "; ".join(q.question for q in open_questions),
            questions=[q.model_dump() for q in open_questions],
        )
    assumptions = [f"{q.key}: {q.assumption}" for q in open_questions]
    messages = list(brief.key_messages)
    if "key_messages" in answers:
        messages = split_answer(answers["key_messages"])
    elif not messages:
        messages = _headings(document, brief.title)
        if messages:
            assumptions.append("key_messages: the document's headings")
        else:
            messages = [brief.goal.rstrip(".") + "."]
    template = brief.template
    durations = _durations(template, brief.duration_s)
    placed = _place(messages, [p for p, _ in durations], template)
    parts = [
        PlanPart(
            part=part,
            purpose=PURPOSES[template][part],
            duration_s=seconds,
            key_messages=placed[part],
        )
        for part, seconds in durations
    ]
    draft = VideoPlan(
        title=brief.title,
        audience_analysis="",
        parts=parts,
        key_messages=messages,
        questions=questions,
        assumptions=assumptions,
        answers=answers,
        language=brief.language,
        duration_s=brief.duration_s,
        template=template,
    )
    analysis = _audience_analysis(audience_of(brief, draft), brief)
    return draft.model_copy(update={"audience_analysis": analysis})


def summary(plan: VideoPlan) -> dict[str, Any]:
    """A short description of a plan for a log line."""
    return {
        "parts": [f"{p.part}:{p.duration_s:g}s" for p in plan.parts],
        "messages": len(plan.key_messages),
        "questions": len(plan.questions),
        "assumptions": len(plan.assumptions),
    }
