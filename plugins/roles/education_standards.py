"""The shipped standards (``standards.yaml``) and how a topic finds them.

The data file holds a few dozen real standards (Common Core mathematics and
ELA/literacy, NGSS science) quoted verbatim, with their source URL and the
copyright notice their licence asks for, plus reelgraph's own topic words,
vocabulary and sample tasks (see the file's header for terms of use).

Matching (:func:`match_standards`) is a ranking, not a search engine: a
standard qualifies when its grade and subject fit and at least one of its
topic phrases shares a word with the topic; it scores 3 per topic phrase the
topic contains whole, 1 per shared topic word and 0.25 per shared statement
word; ties keep the file's order, and standards scoring half the best or
less are left out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reelgraph.errors import ConfigurationError, InvalidInputError
from reelgraph.models import Standard

__all__ = [
    "SUBJECTS",
    "Entry",
    "StandardsData",
    "load_standards",
    "match_standards",
    "normalize_grade",
    "normalize_subject",
    "objective_from",
    "words",
]

DATA_FILE = Path(__file__).with_name("standards.yaml")

#: subject name -> the words a user may write for it
SUBJECTS: dict[str, tuple[str, ...]] = {
    "math": ("math", "maths", "mathematics", "arithmetic", "algebra", "geometry"),
    "ela": ("ela", "english", "english language arts", "reading", "writing", "literacy"),
    "science": ("science", "sciences", "biology", "physics", "chemistry", "earth science"),
}
FRAMEWORK_ALIASES = {"ccss": ("ccss_math", "ccss_ela"), "common core": ("ccss_math", "ccss_ela")}
GRADES = ("K", *(str(n) for n in range(1, 13)))

_GRADE_WORDS = {"k": "K", "kindergarten": "K", "kg": "K"}
# words too common to say anything about a topic (plus the standards' own verbs)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "their",
        "them",
        "this",
        "to",
        "use",
        "using",
        "with",
        "what",
        "when",
        "which",
        "who",
        "why",
        "its",
        "two",
        "one",
        "e",
        "g",
    ]
)


@dataclass(frozen=True)
class Task:
    """A sample task shipped with a standard (reelgraph's own, not the framework's)."""

    kind: str
    prompt: str
    answer: str
    accept: tuple[str, ...] = ()
    look_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One standard with reelgraph's matching words, vocabulary and tasks."""

    standard: Standard
    framework_key: str
    topics: tuple[str, ...]
    vocabulary: tuple[str, ...]
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class StandardsData:
    """The data file, read: frameworks by key, entries in file order, the glossary."""

    frameworks: dict[str, dict[str, str]]
    entries: tuple[Entry, ...]
    glossary: dict[str, str] = field(default_factory=dict)

    def entry(self, standard_id: str) -> Entry | None:
        """The entry of a standard id (case-insensitive), or ``None``."""
        wanted = standard_id.strip().upper()
        return next((e for e in self.entries if e.standard.id.upper() == wanted), None)

    def define(self, term: str) -> str | None:
        """The glossary's definition of ``term`` (case-insensitive), or ``None``."""
        low = {k.lower(): v for k, v in self.glossary.items()}
        return low.get(term.lower())


def words(text: str) -> list[str]:
    """Lowercase content words of ``text``, a final plural ``s`` dropped (``fractions`` -> ``fraction``)."""
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def normalize_grade(grade: str | int) -> str:
    """``"4"``, ``"grade 4"``, ``"4th"``, ``"Grade 04"`` -> ``"4"``; ``"kindergarten"`` -> ``"K"``.

    Raises:
        InvalidInputError: not K or 1-12.
    """
    text = str(grade).strip().lower()
    text = re.sub(r"^(grade|gr\.?|year)\s*", "", text)
    if text in _GRADE_WORDS:
        return "K"
    found = re.fullmatch(r"0*(\d{1,2})(st|nd|rd|th)?(\s*grade)?", text)
    if found and 1 <= int(found.group(1)) <= 12:
        return str(int(found.group(1)))
    raise InvalidInputError(
        f"grade {grade!r} is not a school grade: give K or 1-12 (e.g. -i grade=4)"
    )


def normalize_subject(subject: str | None) -> str | None:
    """A subject's canonical name (``math``, ``ela``, ``science``), ``None`` for none given.

    An unknown subject is returned lowercased: a remote provider may know it
    even where the shipped data does not.
    """
    if subject is None or not str(subject).strip():
        return None
    text = str(subject).strip().lower()
    for name, aliases in SUBJECTS.items():
        if text == name or text in aliases:
            return name
    return text


def objective_from(statement: str) -> str:
    """A learner-facing objective from a standard: its first sentence, examples left out.

    ``"Compare two fractions with different numerators ..., e.g., by creating
    common denominators ...`` -> ``"Students can compare two fractions with
    different numerators ..."``.
    """
    first = re.split(r"(?<=[.;])\s", " ".join(statement.split()), maxsplit=1)[0].rstrip(".;")
    first = re.sub(r",?\s*e\.g\.,[^.;]*", "", first).rstrip(",")
    return f"Students can {first[:1].lower()}{first[1:]}."


@functools.cache
def load_standards(path: Path = DATA_FILE) -> StandardsData:
    """Read and check the standards file.

    Raises:
        ConfigurationError: the file is missing or does not have the documented shape.
    """
    try:
        # libyaml's loader when PyYAML was built with it: 10x faster on this file
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        frameworks = raw["frameworks"]
        entries = tuple(_entry(item, frameworks) for item in raw["standards"])
        glossary = {str(k): str(v) for k, v in raw.get("glossary", {}).items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValidationError) as err:
        raise ConfigurationError(f"{path}: not a readable standards file: {err}") from err
    return StandardsData(frameworks=frameworks, entries=entries, glossary=glossary)


def _entry(item: dict[str, Any], frameworks: dict[str, dict[str, str]]) -> Entry:
    framework = frameworks[item["framework"]]
    standard = Standard(
        id=item["id"],
        statement=" ".join(item["statement"].split()),
        framework=framework["name"],
        subject=framework["subject"],
        grades=[str(g) for g in item["grades"]],
        url=item.get("url"),
        notice=" ".join(framework.get("notice", "").split()),
    )
    tasks = tuple(
        Task(
            kind=t["kind"],
            prompt=" ".join(t["prompt"].split()),
            answer=" ".join(str(t["answer"]).split()),
            accept=tuple(str(a) for a in t.get("accept", [])),
            look_for=tuple(str(w) for w in t.get("look_for", [])),
        )
        for t in item.get("tasks", [])
    )
    return Entry(
        standard=standard,
        framework_key=item["framework"],
        topics=tuple(item.get("topics", [])),
        vocabulary=tuple(item.get("vocabulary", [])),
        tasks=tasks,
    )


def match_standards(
    data: StandardsData,
    topic: str,
    grade: str,
    subject: str | None = None,
    framework: str | None = None,
    limit: int = 3,
) -> list[Entry]:
    """The entries for ``topic`` at ``grade``, best first, at most ``limit``.

    Args:
        data: the standards (:func:`load_standards`).
        topic: a few words.
        grade: a normalized grade (:func:`normalize_grade`).
        subject: a normalized subject, or ``None`` for any.
        framework: a framework key of the file (``ccss_math``, ``ngss``) or
            ``ccss``; ``None`` for any.
        limit: the most entries to return.

    Raises:
        InvalidInputError: an unknown framework, or ``limit < 1``.
    """
    if limit < 1:
        raise InvalidInputError(f"limit must be at least 1, got {limit}")
    keys = _framework_keys(data, framework)
    topic_words = set(words(topic))
    topic_text = " ".join(words(topic))
    scored = []
    for order, entry in enumerate(data.entries):
        if entry.framework_key not in keys or grade not in entry.standard.grades:
            continue
        if subject is not None and entry.standard.subject != subject:
            continue
        phrase_words = [set(words(phrase)) for phrase in entry.topics]
        shared = topic_words & set().union(*phrase_words) if phrase_words else set()
        if not shared:
            continue
        whole = sum(
            1 for phrase in entry.topics if f" {' '.join(words(phrase))} " in f" {topic_text} "
        )
        statement_hits = len(topic_words & set(words(entry.standard.statement)))
        scored.append((-(3 * whole + len(shared) + 0.25 * statement_hits), order, entry))
    scored.sort(key=lambda row: (row[0], row[1]))
    best = scored[0][0] if scored else 0.0
    # a standard that shares only a general word ("fraction") with a specific topic
    # ("equivalent fractions") scores half the best match or less: it is left out
    return [entry for score, _, entry in scored[:limit] if score < best / 2]


def _framework_keys(data: StandardsData, framework: str | None) -> set[str]:
    if framework is None or not framework.strip():
        return set(data.frameworks)
    key = framework.strip().lower()
    if key in FRAMEWORK_ALIASES:
        return set(FRAMEWORK_ALIASES[key])
    names = {k: v["name"].lower() for k, v in data.frameworks.items()}
    found = {k for k, name in names.items() if key in (k, name)}
    if not found:
        known = ", ".join(sorted({*data.frameworks, *FRAMEWORK_ALIASES}))
        raise InvalidInputError(f"unknown framework {framework!r}; the shipped data has: {known}")
    return found


def covered_topics(data: StandardsData, grade: str, subject: str | None) -> list[str]:
    """The first topic phrase of each standard at ``grade`` (for 'nothing matched' messages)."""
    return sorted(
        {
            e.topics[0]
            for e in data.entries
            if grade in e.standard.grades
            and e.topics
            and (subject is None or e.standard.subject == subject)
        }
    )
