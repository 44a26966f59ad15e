"""The offline education roles: lessons, assessments and feedback by rules, with no network.

Registered under the provider name ``offline`` together with the video roles:
``plugins/roles/offline.py`` imports the hook implementations listed in
``__all__`` (one plugin name, one module; pluggy registers the functions a
module holds). Everything here is deterministic: the same inputs give the
same plan, items and feedback.

The lesson workflow (``specs/lesson-plan.yaml``):

* ``find_standards``: the shipped standards (``standards.yaml``, see
  :mod:`.education_standards`) matched by subject, grade and topic words.
* ``outline_lesson``: math and ELA lessons follow the gradual release of
  responsibility (focused instruction, guided instruction, collaborative
  learning, independent learning: Fisher and Frey, *Better Learning Through
  Structured Teaching*, ASCD 2008/2013, after Pearson and Gallagher 1983),
  between an opening and a closure; science lessons follow the BSCS 5E model
  (engage, explore, explain, elaborate, evaluate: Bybee et al., *The BSCS 5E
  Instructional Model: Origins and Effectiveness*, BSCS 2006). The share of
  time per phase (:data:`PHASES`) is reelgraph's choice, apportioned to whole
  minutes by the largest-remainder method.
* ``write_lesson``: a template per phase, filled with the objectives, the
  standards' vocabulary (glossary definitions) and their sample tasks.
* ``differentiate``: rules after CAST's Universal Design for Learning
  Guidelines 2.2 (2018, https://udlguidelines.cast.org; the checkpoint each
  adaptation follows is in its rationale) and WIDA's English Language
  Development Standards Framework (2020) for language supports.

Assessments and feedback are in :mod:`.education_assessment` and
:mod:`.education_feedback`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Adaptation, LessonPlan, LessonSection, Standard
from reelgraph.plugins.roles.education_assessment import write_questions, write_rubric
from reelgraph.plugins.roles.education_feedback import analyse_performance, compose_feedback
from reelgraph.plugins.roles.education_standards import (
    SUBJECTS,
    Entry,
    StandardsData,
    Task,
    covered_topics,
    load_standards,
    match_standards,
    normalize_grade,
    normalize_subject,
    objective_from,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "analyse_performance",
    "compose_feedback",
    "differentiate",
    "find_standards",
    "outline_lesson",
    "write_lesson",
    "write_questions",
    "write_rubric",
]

#: model -> phases (title, share of the lesson's minutes, purpose); sources in the module docstring
PHASES: dict[str, tuple[tuple[str, float, str], ...]] = {
    "gradual_release": (
        ("Opening", 0.10, "Activate prior knowledge and share the objective."),
        ("Focused instruction (I do)", 0.15, "The teacher models the skill and thinks aloud."),
        ("Guided instruction (we do)", 0.20, "Students try the skill with prompts and cues."),
        (
            "Collaborative learning (you do together)",
            0.20,
            "Pairs apply the skill and talk it through.",
        ),
        ("Independent practice (you do alone)", 0.25, "Each student applies the skill alone."),
        ("Closure", 0.10, "Return to the objective and check it with an exit ticket."),
    ),
    "5e": (
        ("Engage", 0.10, "Spark curiosity with a phenomenon and surface prior ideas."),
        ("Explore", 0.25, "Students investigate before any explanation."),
        ("Explain", 0.20, "Connect observations to the scientific idea and its vocabulary."),
        ("Elaborate", 0.30, "Apply the idea to a new situation."),
        ("Evaluate", 0.15, "Students show what they understand; return to their questions."),
    ),
}
_MATERIALS = {
    "math": ["mini whiteboards and markers", "manipulatives or grid paper for the models"],
    "ela": ["a short grade-level text for each pair", "highlighters and sticky notes"],
    "science": ["materials for the investigation", "science notebooks"],
}


# -- find_standards -------------------------------------------------------------


@hookimpl
def find_standards(
    topic: str,
    grade: str,
    subject: str | None,
    framework: str | None,
    limit: int,
    ctx: NodeContext,
) -> list[Standard]:
    """The shipped standards for ``topic`` at ``grade``, best match first (see the hookspec)."""
    data = load_standards()
    level = normalize_grade(grade)
    wanted = _known_subject(subject)
    found = match_standards(data, topic, level, wanted, framework, limit)
    if not found:
        covered = ", ".join(covered_topics(data, level, wanted)) or "nothing at this grade"
        ctx.log.warning(
            "no shipped standard matches the topic; the lesson is aligned to its own objectives",
            topic=topic,
            grade=level,
            covered=covered,
        )
    return [entry.standard for entry in found]


def _known_subject(subject: str | None) -> str | None:
    wanted = normalize_subject(subject)
    if wanted is not None and wanted not in SUBJECTS:
        raise InvalidInputError(
            f"subject {subject!r}: the offline standards cover {', '.join(SUBJECTS)}; "
            "for another subject choose a language model (-i llm=openai or anthropic)"
        )
    return wanted


# -- outline_lesson ---------------------------------------------------------------


@hookimpl
def outline_lesson(
    topic: str,
    grade: str,
    subject: str | None,
    duration_min: int,
    standards: list[Standard],
    objectives: list[str],
    ctx: NodeContext,
) -> LessonPlan:
    """Objectives, vocabulary and timed phases for a lesson (see the module docstring)."""
    level = normalize_grade(grade)
    subject_name = normalize_subject(subject) or (standards[0].subject if standards else "general")
    model = "5e" if subject_name == "science" else "gradual_release"
    minutes = apportion(duration_min, [share for _, share, _ in PHASES[model]])
    sections = [
        LessonSection(title=title, minutes=m, purpose=purpose)
        for (title, _, purpose), m in zip(PHASES[model], minutes, strict=True)
    ]
    entries = _entries(standards)
    goals = [" ".join(o.split()) for o in objectives if o.strip()] or [
        objective_from(s.statement) for s in standards
    ]
    if not goals:
        goals = [f"Students can explain and use the key ideas of {topic}."]
    label = {"math": "mathematics", "ela": "English language arts"}.get(subject_name, subject_name)
    return LessonPlan(
        title=f"{topic.strip()[:1].upper()}{topic.strip()[1:]}: a grade {level} {label} lesson",
        topic=topic.strip(),
        subject=subject_name,
        grade=level,
        duration_min=duration_min,
        objectives=goals,
        standards=standards,
        vocabulary=_unique(term for entry in entries for term in entry.vocabulary),
        materials=[*_MATERIALS.get(subject_name, []), "exit ticket slips"],
        sections=sections,
    )


def apportion(total: int, shares: list[float]) -> list[int]:
    """Whole minutes per share summing to ``total``, each at least 1 (largest remainder).

    Raises:
        InvalidInputError: ``total`` is smaller than the number of shares.
    """
    if total < len(shares):
        raise InvalidInputError(
            f"duration_min={total} is too short for a lesson of {len(shares)} phases; "
            f"give at least {len(shares)} minutes (e.g. -i duration_min=45)"
        )
    weight = sum(shares)
    quotas = [total * share / weight for share in shares]
    minutes = [max(1, math.floor(q)) for q in quotas]
    by_remainder = sorted(
        range(len(shares)), key=lambda i: (-(quotas[i] - math.floor(quotas[i])), i)
    )
    i = 0
    while sum(minutes) < total:
        minutes[by_remainder[i % len(shares)]] += 1
        i += 1
    while sum(minutes) > total:  # the 1-minute floors took more than the quotas gave
        largest = max(range(len(minutes)), key=lambda j: (minutes[j], -j))
        minutes[largest] -= 1
    return minutes


def _entries(standards: list[Standard]) -> list[Entry]:
    data = load_standards()
    found = (data.entry(s.id) for s in standards)
    return [entry for entry in found if entry is not None]


def _unique(items: Any) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# -- write_lesson ------------------------------------------------------------------


@hookimpl
def write_lesson(plan: LessonPlan, ctx: NodeContext) -> LessonPlan:
    """Teacher moves, student tasks and checks for each phase, from templates (module docstring)."""
    if not plan.sections:
        raise InvalidInputError("the lesson plan has no section to write")
    kit = _Kit.of(plan)
    sections = [
        section.model_copy(update=_write_section(section.title, kit)) for section in plan.sections
    ]
    return plan.model_copy(update={"sections": sections})


class _Kit:
    """What the templates draw on: objective, topic, vocabulary with definitions, tasks."""

    def __init__(self, plan: LessonPlan, data: StandardsData, entries: list[Entry]) -> None:
        self.topic = plan.topic
        self.objective = plan.objectives[0]
        self.terms = [
            f"{term} ({definition})" if (definition := data.define(term)) else term
            for term in plan.vocabulary[:4]
        ]
        tasks = [task for entry in entries for task in entry.tasks]
        generic = Task(
            kind="constructed_response",
            prompt=f"Work through one example about {plan.topic} and explain each step.",
            answer="A complete, explained example.",
        )
        self.open = [t for t in tasks if t.kind == "constructed_response"] or [generic]
        self.short = [t for t in tasks if t.kind == "short_answer"] or self.open
        self.statement = plan.standards[0].statement if plan.standards else plan.objectives[0]

    @classmethod
    def of(cls, plan: LessonPlan) -> _Kit:
        return cls(plan, load_standards(), _entries(plan.standards))

    def open_task(self, i: int) -> Task:
        return self.open[i % len(self.open)]

    def short_task(self, i: int) -> Task:
        return self.short[i % len(self.short)]


def _write_section(title: str, kit: _Kit) -> dict[str, Any]:
    writer = _SECTION_WRITERS.get(title.split(" (")[0].lower())
    if writer is None:  # a section this provider did not outline
        return {
            "teacher_moves": [f"Lead this part toward the objective: {kit.objective}"],
            "student_tasks": [f"Work on: {kit.open_task(0).prompt}"],
            "check_for_understanding": f"Ask students to restate the objective: {kit.objective}",
        }
    return writer(kit)


def _opening(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [
            f"Post and read the objective: {kit.objective}",
            f"Ask: what do you already know about {kit.topic}? Record ideas on the board.",
        ],
        "student_tasks": [f"Tell a partner one thing you know or wonder about {kit.topic}."],
        "check_for_understanding": "Listen for prior knowledge and misconceptions to address next.",
    }


def _focused(kit: _Kit) -> dict[str, Any]:
    vocabulary = [f"Introduce the term {term}." for term in kit.terms]
    return {
        "teacher_moves": [
            f"Model this task, thinking aloud at each step: {kit.open_task(0).prompt}",
            *vocabulary,
        ],
        "student_tasks": ["Watch the model and note each step.", "Add new terms to the word wall."],
        "check_for_understanding": f"Ask two students to restate the objective: {kit.objective}",
        "materials": ["the modelled example, kept on display"],
    }


def _guided(kit: _Kit) -> dict[str, Any]:
    task = kit.short_task(0)
    return {
        "teacher_moves": [
            f"Work this problem with the class: {task.prompt}",
            "Prompt with questions and cues rather than telling; fade the prompts as students succeed.",
        ],
        "student_tasks": ["Answer each step on a mini whiteboard and hold it up."],
        # Rosenshine (2012), "Principles of Instruction", American Educator 36(1):
        # guided practice continues until about 80% of answers are correct
        "check_for_understanding": (
            f"Whiteboard check (answer: {task.answer}); reteach with the model "
            "if fewer than 80% of the class is correct."
        ),
    }


def _collaborative(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [
            "Pair students and circulate; listen for the vocabulary and for reasons."
        ],
        "student_tasks": [
            f"In pairs, solve and explain: {kit.open_task(1).prompt}",
            "Each partner explains one step to the other.",
        ],
        "check_for_understanding": "Ask each pair to justify one answer to the class.",
    }


def _independent(kit: _Kit) -> dict[str, Any]:
    prompts = _unique([kit.short_task(1).prompt, kit.open_task(2).prompt])
    return {
        "teacher_moves": [
            "Confer first with students who needed the most prompts in guided practice."
        ],
        "student_tasks": [f"Complete on your own: {p}" for p in prompts],
        "check_for_understanding": "Collect the work and check it against the answer key.",
    }


def _closure(kit: _Kit) -> dict[str, Any]:
    task = kit.short_task(2)
    return {
        "teacher_moves": ["Return to the objective; students rate their confidence from 1 to 4."],
        "student_tasks": [f"Exit ticket: {task.prompt}"],
        "check_for_understanding": f"Exit ticket answer: {task.answer}",
        "materials": ["exit ticket slips"],
    }


def _engage(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [
            f"Show a short phenomenon about {kit.topic}; ask what students notice and wonder.",
        ],
        "student_tasks": ["Write one question about the phenomenon in your notebook."],
        "check_for_understanding": "Record the class's questions to return to in Evaluate.",
    }


def _explore(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [f"Set up a hands-on investigation: {kit.open_task(0).prompt}"],
        "student_tasks": ["In groups, investigate and record observations and data."],
        "check_for_understanding": "Circulate: can each group say what it observed and measured?",
        "materials": ["materials for the investigation"],
    }


def _explain(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [
            f"Connect the groups' observations to the idea: {kit.statement}",
            *[f"Introduce the term {term}." for term in kit.terms],
        ],
        "student_tasks": ["Use the new terms to explain your group's observations."],
        "check_for_understanding": f"Ask: {kit.short_task(0).prompt}",
    }


def _elaborate(kit: _Kit) -> dict[str, Any]:
    return {
        "teacher_moves": [f"Pose a new situation: {kit.open_task(1).prompt}"],
        "student_tasks": ["Apply the idea to the new situation and explain it with evidence."],
        "check_for_understanding": "Listen for explanations that cite observations as evidence.",
    }


def _evaluate(kit: _Kit) -> dict[str, Any]:
    task = kit.open_task(2)
    return {
        "teacher_moves": ["Give the task below; then return to the questions from Engage."],
        "student_tasks": [f"On your own: {task.prompt}"],
        "check_for_understanding": f"A complete answer: {task.answer}",
    }


_SECTION_WRITERS = {
    "opening": _opening,
    "focused instruction": _focused,
    "guided instruction": _guided,
    "collaborative learning": _collaborative,
    "independent practice": _independent,
    "closure": _closure,
    "engage": _engage,
    "explore": _explore,
    "explain": _explain,
    "elaborate": _elaborate,
    "evaluate": _evaluate,
}


# -- differentiate ------------------------------------------------------------------

#: need keyword -> (learners, strategy, rationale); the first rule whose word appears wins
_NEED_RULES: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (
        ("newcomer", "english learner", "ell", "esl", "emergent bilingual", "speak", "language"),
        "language",
        "Seat with a partner who shares a language; give a bilingual glossary of the key terms.",
        "UDL 2.4 promote understanding across languages",
    ),
    (
        ("read", "dyslexi", "decod"),
        "support",
        "Read the task text aloud (or give an audio version) and highlight the key words.",
        "UDL 2.3 support decoding of text, mathematical notation, and symbols",
    ),
    (
        ("attention", "adhd", "focus"),
        "support",
        "Chunk the independent practice into short parts with a check after each.",
        "UDL 6.3 facilitate managing information and resources",
    ),
    (
        ("vision", "visual impair", "blind"),
        "support",
        "Give enlarged or tactile versions of the models and describe every drawing aloud.",
        "UDL 1.3 offer alternatives for visual information",
    ),
    (
        ("hearing", "deaf"),
        "support",
        "Give every spoken instruction in writing too and face the class when speaking.",
        "UDL 1.2 offer alternatives for auditory information",
    ),
    (
        ("advanced", "gifted", "ahead", "fast finisher", "early finisher"),
        "extension",
        "Start these students on the extension tasks once the guided practice is correct.",
        "UDL 8.2 vary demands and resources to optimize challenge",
    ),
)


@hookimpl
def differentiate(plan: LessonPlan, needs: list[str], ctx: NodeContext) -> LessonPlan:
    """Support, extension and language adaptations, one more per named need (module docstring)."""
    if not plan.sections:
        raise InvalidInputError("the lesson plan has no section to differentiate")
    kit = _Kit.of(plan)
    titles = [s.title for s in plan.sections]
    practice = _section_like(titles, ("independent", "elaborate"), titles[-1])
    modelled = _section_like(titles, ("focused", "explain"), titles[0])
    terms = ", ".join(plan.vocabulary[:4]) or f"the key words of {plan.topic}"
    adaptations = [
        Adaptation(
            learners="support",
            section=modelled,
            strategy=f"Keep a labelled worked example of this task on display: {kit.open_task(0).prompt}",
            rationale="UDL 3.3 guide information processing and visualization",
        ),
        Adaptation(
            learners="support",
            section=practice,
            strategy="Start with the first problem partly done and keep to the essential items.",
            rationale="UDL 5.3 build fluencies with graduated levels of support",
        ),
        *_extensions(plan, practice),
        Adaptation(
            learners="language",
            section=modelled,
            strategy=f"Pre-teach {terms} with a picture and an example each; keep them on a word wall.",
            rationale="UDL 2.1 clarify vocabulary and symbols",
        ),
        Adaptation(
            learners="language",
            section=None,
            strategy=(
                "Give sentence frames: 'I think ___ because ___.' and 'First I ___, then I ___.'"
            ),
            rationale="WIDA ELD Standards Framework 2020: the language of explaining and arguing",
        ),
    ]
    for need in needs:
        adaptations.append(_for_need(need))
    return plan.model_copy(update={"differentiation": adaptations})


def _section_like(titles: list[str], words: tuple[str, ...], default: str) -> str:
    return next((t for t in titles if any(w in t.lower() for w in words)), default)


def _extensions(plan: LessonPlan, practice: str) -> list[Adaptation]:
    found = [
        Adaptation(
            learners="extension",
            section=practice,
            strategy=f"Go on to the next grade's standard {nxt.id}: {objective_from(nxt.statement)}",
            rationale="UDL 8.2 vary demands and resources to optimize challenge",
        )
        for nxt in _next_grade(plan)[:1]
    ]
    found.append(
        Adaptation(
            learners="extension",
            section=practice,
            strategy=(
                f"Write a new problem about {plan.topic} with its answer key, "
                "swap with a partner and check each other's keys."
            ),
            rationale="UDL 7.1 optimize individual choice and autonomy",
        )
    )
    return found


def _next_grade(plan: LessonPlan) -> list[Standard]:
    """Standards one grade up sharing a topic word with this lesson's standards."""
    if not plan.grade.isdigit():
        return []
    data = load_standards()
    topics = {t for e in _entries(plan.standards) for t in e.topics}
    up = str(int(plan.grade) + 1)
    return [
        e.standard
        for e in data.entries
        if up in e.standard.grades and e.standard.subject == plan.subject and topics & set(e.topics)
    ]


def _for_need(need: str) -> Adaptation:
    low = need.lower()
    for keywords, learners, strategy, rationale in _NEED_RULES:
        if any(word in low for word in keywords):
            return Adaptation(
                learners=learners,  # type: ignore[arg-type]
                strategy=strategy,
                rationale=f"for: {need} ({rationale})",
            )
    return Adaptation(
        learners="support",
        strategy=f"Plan one adjustment for '{need}' with the student's support staff before the lesson.",
        rationale=f"for: {need} (no rule of the offline provider matched this need)",
    )
