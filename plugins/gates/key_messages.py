"""The ``key_messages`` quality gate: does the narration say what it must?

Messages: ``targets["key_messages"]``; when none are given, the document's
section headings (level 1-6, except the title) stand in for them, those of
sections with something of their own to narrate (not a heading over
subsections only, a table, or a licence notice); for a script the writer
made a summary of (``Script.length`` "summary: ..."), only top-level
sections' headings. Without a script, or
without messages and a document, the gate returns ``None``; with a document
that has no such heading, one passing result that says there was nothing to
check.

A message is covered when the narration contains it, ignoring case and
punctuation, or when every content word of it (stopwords ignored, the same
list as the ``extractive`` writer's) appears in one scene's narration. For a
heading, a scene taken from that section (``Scene.section``) also covers it:
its title is on screen and its sentences are narrated.

The stage is ``video`` when a video is given, ``shots`` when visuals are,
else ``script``; the narration checked is always the script's.

Result: ``measured`` = the fraction of messages covered, ``threshold`` =
``min_coverage``. When it falls short there is one result per missing
message, whose remedy is exactly ``missing key message: <message>``: the
review loop passes each failing result's remedy as one feedback item, and
the ``extractive`` writer reads one message from each item. Severity is
``error`` for explicit key messages and ``warning`` for headings.

Thresholds (``thresholds["key_messages"]``):
    min_coverage: 1.0 -- every key message must be said (the issue's
        acceptance criterion; a project choice, not a standard).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Document, GateResult, Script, Video, Visual
from reelgraph.plugins.gates._common import gate_selected, resolve_thresholds
from reelgraph.plugins.writers._boilerplate import is_boilerplate
from reelgraph.plugins.writers.extractive import _STOPWORDS, narrates

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "check_quality", "is_covered", "tokens"]

GATE = "key_messages"

#: Default thresholds; sources in the module docstring.
DEFAULTS: dict[str, float] = {"min_coverage": 1.0}
_LIMITS: dict[str, tuple[float, float]] = {"min_coverage": (0.0, 1.0)}

_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Case-folded word tokens; punctuation dropped, ``don't`` -> ``dont``."""
    return _WORD.findall(_APOSTROPHES.sub("", text.casefold()))


def is_covered(message: str, scenes: Sequence[Sequence[str]]) -> bool:
    """Whether ``message`` is said: as a phrase anywhere, or its content words in one scene.

    ``scenes`` holds each scene's narration as tokens (see :func:`tokens`).
    """
    wanted = tokens(message)
    if not wanted:
        return True
    flat = [token for scene in scenes for token in scene]
    n = len(wanted)
    if any(flat[i : i + n] == wanted for i in range(len(flat) - n + 1)):
        return True
    content = set(wanted) - _STOPWORDS or set(wanted)
    return any(content <= set(scene) for scene in scenes)


def _messages(
    targets: dict[str, Any], document: Document | None, language: str | None = None
) -> tuple[list[str], bool]:
    """``(messages, explicit)``: the key messages, else the document's headings.

    A heading stands in for a key message only when its section has
    something of its own to narrate (:func:`~reelgraph.plugins.writers.extractive.narrates`,
    in the script's ``language``) and is not a copyright line: "FAQ" or
    "Release Information" heading only subsections, a "Copyright © 1996-2021
    SPI" heading over a licence notice, say nothing to check.
    """
    given = (targets or {}).get("key_messages") or []
    if isinstance(given, str) or not all(isinstance(m, str) for m in given):
        raise InvalidInputError(
            f"gate {GATE!r}: targets.key_messages must be a list of strings, got {given!r}"
        )
    explicit = [m.strip() for m in given if m.strip()]
    if explicit or document is None:
        return explicit, True
    title = tokens(document.title)
    headings: list[str] = []
    for section in document.sections:
        heading = " ".join(section.heading.split())
        key = tokens(heading)
        if (
            section.level >= 1
            and key
            and key != title
            and key not in map(tokens, headings)
            and not is_boilerplate(heading)
            and narrates(section, language, document.title)
        ):
            headings.append(heading)
    return headings, False


def _top_level(headings: list[str], document: Document) -> list[str]:
    """The headings of top-level sections only: what a 5-minute summary of a long
    document promises to cover (the extractive writer's ``_summary.top_sections``)."""
    from reelgraph.plugins.writers._summary import top_sections

    heads = {" ".join(document.sections[i].heading.split()) for i in set(top_sections(document))}
    return [h for h in headings if h in heads]


def _stage(video: Video | None, visuals: list[Visual] | None) -> str:
    if video is not None:
        return "video"
    return "shots" if visuals is not None else "script"


@hookimpl
def check_quality(
    document: Document | None,
    script: Script | None,
    visuals: list[Visual] | None,
    video: Video | None,
    targets: dict[str, Any],
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check that the script's narration covers each key message (or section heading).

    Default: ``min_coverage`` 1.0 (every message). Returns ``None`` without a
    script or without any message to look for.
    """
    if not gate_selected(GATE, gates) or script is None:
        return None
    messages, explicit = _messages(targets, document, script.language)
    if not explicit and document is not None and (script.length or "").startswith("summary:"):
        messages = _top_level(messages, document)
    limits = resolve_thresholds(GATE, DEFAULTS, _LIMITS, thresholds)
    if not messages:
        if document is None:
            return None
        # a document without section headings (a plain README, one web page):
        # nothing to check, said in the report rather than left out of it
        return [
            GateResult(
                gate=GATE,
                passed=True,
                severity="warning",
                measured=1.0,
                threshold=limits["min_coverage"],
                unit="fraction",
                stage=_stage(video, visuals),
                message="no key messages given and no section heading with narration "
                "of its own: nothing to check",
                details={"source": "section headings", "covered": [], "missing": []},
            )
        ]
    scenes = [tokens(" ".join(scene.narration)) for scene in script.scenes]
    sections = {tuple(tokens(scene.section or "")) for scene in script.scenes}
    covered, missing = [], []
    for message in messages:
        by_section = not explicit and tuple(tokens(message)) in sections
        (covered if by_section or is_covered(message, scenes) else missing).append(message)
    fraction = len(covered) / len(messages)
    source = "key messages" if explicit else "section headings"
    common = {
        "gate": GATE,
        "severity": "error" if explicit else "warning",
        "measured": round(fraction, 4),
        "threshold": limits["min_coverage"],
        "unit": "fraction",
        "stage": _stage(video, visuals),
    }
    details = {"source": source, "covered": covered, "missing": missing}
    ctx.log.info("key messages gate", covered=len(covered), missing=missing, source=source)
    if fraction >= limits["min_coverage"]:
        message = f"narration covers {len(covered)} of {len(messages)} {source}"
        remedy = "; ".join(f"missing key message: {m}" for m in missing)
        return [GateResult(passed=True, message=message, remedy=remedy, details=details, **common)]
    return [
        GateResult(
            passed=False,
            message=f"narration does not say {source[:-1]} {m!r} "
            f"({len(covered)} of {len(messages)} covered)",
            remedy=f"missing key message: {m}",
            details={**details, "message": m},
            **common,
        )
        for m in missing
    ]
