"""The LLM roles, written once for every language-model vendor.

A vendor plugin subclasses :class:`LLMRoles` and implements one method,
:meth:`LLMRoles.structured`: send a system and a user message, get back an
instance of a pydantic model (structured output), with the vendor's own
repair turn, error classification, usage and cost reporting. Everything else
(the prompts for each role, the role hook implementations, the checks on what
comes back) is here, so ``openai``, ``anthropic`` and a third party's provider
behave the same way.

Each role hook builds a :class:`StructuredRequest`: a system prompt that
states the role, the 8-part structure, the constraints and the brief, and a
user message carrying the brief, plan or script as JSON. The model answers
only what needs judgement (:mod:`._llm_models`: beats without ids or start
times, shots without ids); ids, start times, scene kinds, the brief's title
and target come from the inputs, so they are right by construction. What
comes back is checked beyond its schema (:mod:`._llm_checks`: parts in
order, durations summing to the target within +-5 s, every key message
said, one speech entry per sentence...); an answer that breaks a rule gets
one more call carrying the problems, then an
:class:`~reelgraph.errors.InvalidInputError`. Timings that pass are then
scaled to the target exactly (FIELD.md: small models return valid JSON with
absurd values; fit timings by construction).

Options (a node's ``options``): ``model`` (the vendor's model name),
``temperature``, ``max_tokens`` (default 4096); the rest reach the vendor in
``StructuredRequest.options``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from reelgraph import hookimpl
from reelgraph.errors import NeedsInput
from reelgraph.models import (
    Brief,
    Document,
    GateResult,
    Review,
    Script,
    ShotList,
    VideoPlan,
)
from reelgraph.plugins.roles import _llm_checks as checks
from reelgraph.plugins.roles import _llm_prompts as prompts
from reelgraph.plugins.roles._llm_models import Beats, Plan, Shots, Speech, Verdict
from reelgraph.plugins.roles.education import EducationRoles

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["LLMRoles", "StructuredRequest"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StructuredRequest:
    """One structured-output call.

    Attributes:
        role: the production role asking (``director``, ``scriptwriter``,
            ``visual_designer``, ``narrator``, ``reviewer``, ``optimizer``);
            goes on the span as the operation's name.
        system: the system prompt.
        user: the user message (the brief, the script... as text or JSON).
        output: the pydantic model the answer must validate against; its JSON
            Schema is what the vendor is asked to follow.
        model: the vendor's model name; empty for the plugin's default.
        max_tokens: the most output tokens the answer may use.
        temperature: sampling temperature, ``None`` for the vendor's default.
        options: the node's remaining provider options.
    """

    role: str
    system: str
    user: str
    output: type[BaseModel]
    model: str = ""
    max_tokens: int = 4096
    temperature: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _dump(model: BaseModel | None) -> Any:
    return None if model is None else json.loads(model.model_dump_json(exclude_defaults=False))


class LLMRoles(EducationRoles):
    """Base class of a language-model vendor plugin: the six role hooks on one method.

    Subclasses set ``reelgraph_name`` and implement :meth:`structured`. The
    education hooks come from :class:`~.education.EducationRoles`.
    """

    reelgraph_name = "llm"

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        """Answer ``request`` with an instance of ``request.output``.

        Raises:
            ConfigurationError: no key, or the vendor rejected it (never retried).
            RateLimitedError, TransientError: 429, 5xx, timeouts (the node's
                retry policy applies).
            InvalidInputError: the answer still does not validate after one
                repair turn, a refusal, a content filter, or a length cut.
        """
        raise NotImplementedError

    # -- the director ---------------------------------------------------------------

    @hookimpl
    def plan_video(
        self,
        brief: Brief,
        document: Document | None,
        answers: dict[str, str],
        clarify: bool,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> VideoPlan:
        """Plan ``brief``: parts, durations, placed messages, and questions when it is unclear.

        Raises:
            NeedsInput: ``clarify`` and the model asked questions not answered yet.
            InvalidInputError: the plan still breaks the rules after one repair call.
        """
        answers = {k: str(v) for k, v in (answers or {}).items() if str(v).strip()}
        payload = {
            "brief": _dump(brief),
            "answers": answers,
            "document": prompts.document_outline(document),
        }
        answer = self._ask(
            "director",
            prompts.director(brief, clarify),
            payload,
            Plan,
            options,
            ctx,
            lambda a: checks.plan(a, brief),
        )
        plan = checks.to_video_plan(answer, brief, answers)
        unanswered = [q for q in plan.questions if q.key not in answers]
        if clarify and unanswered:
            raise NeedsInput(
                "the director asks: " + "; ".join(q.question for q in unanswered),
                questions=[q.model_dump() for q in unanswered],
            )
        assumed = [f"{q.key}: {q.assumption}" for q in unanswered]
        return plan.model_copy(update={"assumptions": [*plan.assumptions, *assumed]})

    # -- the scriptwriter and the optimizer ---------------------------------------------

    @hookimpl
    def write_script(
        self,
        document: Document | None,
        brief: Brief | None,
        plan: VideoPlan | None,
        duration_s: float | None,
        key_messages: list[str],
        feedback: list[str],
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Script:
        """Beats for the plan (or the brief, or the document), timed to the target.

        Raises:
            InvalidInputError: nothing to write from; the beats still break the
                rules after one repair call.
        """
        brief = checks.brief_for(brief, document, duration_s, key_messages)
        payload = {
            "brief": _dump(brief),
            "plan": _dump(plan),
            "document": prompts.document_text(document),
            "feedback": list(feedback or []),
        }
        answer = self._ask(
            "scriptwriter",
            prompts.scriptwriter(brief, plan),
            payload,
            Beats,
            options,
            ctx,
            lambda a: checks.beats(a, brief, plan),
        )
        return checks.to_script(answer, brief)

    @hookimpl
    def optimize(
        self,
        script: Script,
        brief: Brief | None,
        feedback: list[str],
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Script:
        """The draft with the revisions applied; no revision returns the draft unchanged.

        Raises:
            InvalidInputError: the revised beats still break the rules after one repair call.
        """
        if not feedback:
            return script
        target = checks.brief_for(brief, None, script.duration_s, [], title=script.title)
        payload = {"brief": _dump(target), "draft": _dump(script), "revisions": list(feedback)}
        answer = self._ask(
            "optimizer",
            prompts.optimizer(target),
            payload,
            Beats,
            options,
            ctx,
            lambda a: checks.beats(a, target, None),
        )
        return checks.to_script(answer, target, language=script.language)

    # -- the visual designer ---------------------------------------------------------------

    @hookimpl
    def design_shots(
        self,
        script: Script,
        brief: Brief | None,
        aspect: str,
        feedback: list[str],
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> ShotList:
        """A shot list from the shot library for the script's beats.

        Raises:
            InvalidInputError: an unknown aspect, no scene, or shots that still
                break the rules after one repair call.
        """
        checks.check_design_inputs(script, aspect)
        payload = {
            "brief": _dump(brief),
            "script": _dump(script),
            "aspect": aspect,
            "feedback": list(feedback or []),
        }
        answer = self._ask(
            "visual_designer",
            prompts.designer(brief, aspect),
            payload,
            Shots,
            options,
            ctx,
            lambda a: checks.shots(a, script),
        )
        return checks.to_shot_list(answer, script, aspect)

    # -- the narrator --------------------------------------------------------------------

    @hookimpl
    def prepare_narration(
        self,
        script: Script,
        voice: str | None,
        language: str | None,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Script:
        """Speakable text per narration sentence, in the markup the engine takes.

        Raises:
            InvalidInputError: the speech still breaks the rules after one repair call.
        """
        from reelgraph.plugins.roles._narrator import engine_of

        engine = engine_of(voice, {k: v for k, v in (options or {}).items() if k == "engine"})
        settings = {k: v for k, v in (options or {}).items() if k != "engine"}
        payload = {
            "language": language or script.language,
            "engine": engine,
            "scenes": [s.narration for s in script.scenes],
        }
        answer = self._ask(
            "narrator",
            prompts.narrator(engine, language or script.language),
            payload,
            Speech,
            settings,
            ctx,
            lambda a: checks.speech(a, script, engine),
        )
        scenes = [
            scene.model_copy(update={"speech": list(entries.sentences)})
            for scene, entries in zip(script.scenes, answer.scenes, strict=True)
        ]
        return script.model_copy(update={"scenes": scenes})

    # -- the reviewer ----------------------------------------------------------------------

    @hookimpl
    def review(
        self,
        brief: Brief,
        script: Script,
        shots: ShotList | None,
        measurements: list[GateResult],
        threshold: float,
        options: dict[str, Any],
        ctx: NodeContext,
    ) -> Review:
        """Scores per criterion and revisions; the measured gates are facts it cannot overrule.

        Raises:
            InvalidInputError: a threshold outside 0-1; scores that still break
                the rules after one repair call.
        """
        checks.check_threshold(threshold)
        measured = [m for m in measurements or [] if isinstance(m, GateResult)]
        payload = {
            "brief": _dump(brief),
            "script": _dump(script),
            "shots": _dump(shots),
            "measurements": [_dump(m) for m in measured],
            "threshold": threshold,
        }
        answer = self._ask(
            "reviewer",
            prompts.reviewer(brief, threshold),
            payload,
            Verdict,
            options,
            ctx,
            checks.verdict,
        )
        return checks.to_review(answer, measured, threshold)
