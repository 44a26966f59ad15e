"""The ``offline`` provider: every production role by rules, with no model and no network.

- ``load_brief``: YAML, JSON or Markdown-front-matter briefs, or a brief
  derived from a document (:mod:`._brief`);
- ``ingest_document`` (``tryfirst``, brief files only): a brief file is its
  own source document when it names no other, so a spec can always ingest
  ``$brief.document``;
- ``plan_video``: the director's rules and clarifying questions (:mod:`._director`);
- ``write_script``: beats sized to the plan (:mod:`._writer`); feedback is
  applied with the optimizer's rules;
- ``design_shots``: beat parts mapped onto the shipped shot library (:mod:`._designer`);
- ``prepare_narration``: SSML for espeak-ng, plain text for piper (:mod:`._narrator`);
- ``review`` and ``optimize``: scores built on the gates, revisions applied
  by pattern (:mod:`._reviewer`).
- ``find_standards`` ... ``compose_feedback``: the lesson-plan, assessment
  and feedback specs' steps by rules (:mod:`.education_offline`).

Deterministic: the same arguments give the same output.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    Brief,
    Document,
    GateResult,
    Review,
    Script,
    ShotList,
    VideoPlan,
)
from reelgraph.plugins.roles import _brief, _designer, _director, _narrator, _reviewer, _writer

# the education hooks of the lesson-plan, assessment and feedback specs answer under
# this provider name too: pluggy registers the hook functions a plugin module holds
from reelgraph.plugins.roles.education_offline import (
    analyse_performance,
    compose_feedback,
    differentiate,
    find_standards,
    outline_lesson,
    write_lesson,
    write_questions,
    write_rubric,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "analyse_performance",
    "compose_feedback",
    "design_shots",
    "differentiate",
    "find_standards",
    "ingest_document",
    "load_brief",
    "optimize",
    "outline_lesson",
    "plan_video",
    "prepare_narration",
    "review",
    "write_lesson",
    "write_questions",
    "write_rubric",
    "write_script",
]


@hookimpl
def load_brief(
    source: Path | None, document: Document | None, overrides: dict[str, Any], ctx: NodeContext
) -> Brief:
    """The brief from ``source``, completed from ``document``, with ``overrides`` winning.

    See :func:`reelgraph.plugins.roles._brief.load_brief`.
    """
    brief = _brief.load_brief(source, document, overrides)
    ctx.log.info(
        "brief loaded",
        title=brief.title,
        messages=len(brief.key_messages),
        duration_s=brief.duration_s,
        template=brief.template,
    )
    return brief


@hookimpl(tryfirst=True)
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """A brief file read as a document (its Markdown body, else its own fields).

    Returns ``None`` for anything that is not a brief file (a YAML/JSON
    mapping or front-matter Markdown with a ``goal``), or for a Markdown
    brief with a body of its own (the ``markdown`` provider reads that), so
    the other ingest providers answer.
    """
    if format is not None or source is None or not _brief.is_brief_file(source):
        return None
    fields, body = _brief.read_brief_file(Path(source))
    if body.strip():
        return None
    document = _brief.brief_document(Path(source), fields, body)
    ctx.log.info("brief read as its own document", source=str(source))
    return document


@hookimpl
def plan_video(
    brief: Brief,
    document: Document | None,
    answers: dict[str, str],
    clarify: bool,
    options: dict[str, Any],
    ctx: NodeContext,
) -> VideoPlan:
    """Plan ``brief`` by rules; see :mod:`reelgraph.plugins.roles._director`."""
    plan = _director.plan_video(brief, document, answers, clarify)
    ctx.log.info("video planned", **_director.summary(plan))
    return plan


@hookimpl
def write_script(
    document: Document | None,
    brief: Brief | None,
    plan: VideoPlan | None,
    duration_s: float | None,
    key_messages: list[str],
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script:
    """Beats for ``plan`` (planned here when absent; a brief is derived from a lone document).

    ``duration_s`` and ``key_messages``, when given, override the brief's.
    Feedback (gate remedies) is applied with the optimizer's rules.

    Raises:
        InvalidInputError: neither a brief nor a document; an option out of range.
    """
    if brief is None:
        if document is None:
            raise InvalidInputError(
                "the offline writer needs a brief or a document; pass brief: $brief "
                "(from load_brief) or document: $document"
            )
        brief = _brief.load_brief(None, document, {})
    update: dict[str, Any] = {}
    if duration_s is not None:
        update["duration_s"] = duration_s
    if key_messages:
        update["key_messages"] = list(key_messages)
    if update:
        brief = brief.model_copy(update=update)
        plan = None  # the plan was made for other targets
    if plan is None:
        plan = _director.plan_video(brief, document, {}, clarify=False)
    script = _writer.write_beats(brief, plan, document, options)
    if feedback:
        script, ignored = _reviewer.optimize(script, brief, feedback, options)
        if ignored:
            ctx.log.info("feedback the offline writer cannot act on", items=ignored)
    estimate = _writer.estimate_s(script, _writer.options_of(options))
    if abs(estimate - plan.duration_s) > _reviewer.TOLERANCE_S:
        ctx.log.warning(
            "script length off target: the brief has too little or too much to say",
            estimated_s=round(estimate, 1),
            target_s=plan.duration_s,
        )
    ctx.log.info("script written", beats=len(script.scenes), estimated_s=round(estimate, 1))
    return script


@hookimpl
def design_shots(
    script: Script,
    brief: Brief | None,
    aspect: str,
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> ShotList:
    """A shot per beat from the shot library; see :mod:`reelgraph.plugins.roles._designer`."""
    shots = _designer.design_shots(script, brief, aspect, feedback, options)
    ctx.log.info("shots designed", shots=len(shots.shots))
    return shots


@hookimpl
def prepare_narration(
    script: Script,
    voice: str | None,
    language: str | None,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script:
    """Speech text per sentence for the engine; see :mod:`reelgraph.plugins.roles._narrator`."""
    prepared = _narrator.prepare_narration(script, voice, language, options)
    ctx.log.info("narration prepared", engine=_narrator.engine_of(voice, options))
    return prepared


@hookimpl
def review(
    brief: Brief,
    script: Script,
    shots: ShotList | None,
    measurements: list[GateResult],
    threshold: float,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Review:
    """Scores built on the gates; see :mod:`reelgraph.plugins.roles._reviewer`."""
    verdict = _reviewer.review(brief, script, shots, measurements, threshold, options)
    ctx.log.info(
        "reviewed",
        score=verdict.score,
        threshold=verdict.threshold,
        revisions=len(verdict.revisions),
        scores={c.criterion: round(c.score, 2) for c in verdict.scores},
    )
    return verdict


@hookimpl
def optimize(
    script: Script,
    brief: Brief | None,
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script:
    """The draft with the revisions it understands applied; see :mod:`._reviewer`."""
    revised, ignored = _reviewer.optimize(script, brief, feedback, options)
    if ignored:
        ctx.log.info("revisions the offline optimizer cannot apply", items=ignored)
    ctx.log.info("script optimized", revisions=len(feedback or []) - len(ignored))
    return revised
