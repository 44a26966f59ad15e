"""Checks on a language model's answers beyond their schema, and the models built from them.

Each ``check`` returns the problems in words a model can act on (an empty
list: the answer is usable); the role sends them back in one repair call.
Each ``to_*`` builds the hook's model from a usable answer, setting by
construction what the model was not asked (ids ``b01``/``s01``, start
times, scene kinds, the brief's title) and scaling timings that passed the
+-5 s check onto the target exactly.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    ASPECT_SIZES,
    BEAT_PARTS,
    Brief,
    Document,
    GateResult,
    PlanPart,
    Review,
    Revision,
    Scene,
    Script,
    Shot,
    ShotList,
    VideoPlan,
)
from reelgraph.plugins.gates.key_messages import is_covered, tokens
from reelgraph.plugins.gates.spoken_text import problems as unspeakable
from reelgraph.plugins.roles._llm_models import Beats, Plan, Shots, Speech, Verdict

__all__ = [
    "REQUIRED_CRITERIA",
    "TOLERANCE_S",
    "beats",
    "brief_for",
    "plan",
    "scaled",
    "shots",
    "speech",
    "to_review",
    "to_script",
    "to_shot_list",
    "to_video_plan",
    "verdict",
]

#: the promise of the issue: beats sum to the target within +-5 s
TOLERANCE_S = 5.0
#: criteria every review scores
REQUIRED_CRITERIA = ("goal", "key_messages", "duration", "structure", "audience")


def scaled(seconds: list[float], total_s: float) -> list[float]:
    """``seconds`` scaled to sum to ``total_s`` exactly (0.1 s steps, the last takes the rest)."""
    factor = total_s / sum(seconds)
    out = [round(s * factor, 1) for s in seconds]
    out[-1] = round(total_s - sum(out[:-1]), 1)
    return out


def _order(parts: list[str]) -> list[str]:
    """Problems with the order of ``parts`` against the 8-part structure."""
    found = []
    ranks = [BEAT_PARTS.index(p) for p in parts]
    for (a, ra), (b, rb) in zip(
        zip(parts, ranks, strict=True), zip(parts[1:], ranks[1:], strict=True), strict=False
    ):
        if rb < ra:
            found.append(f"part {b!r} comes after {a!r}; the order is {', '.join(BEAT_PARTS)}")
    return found


def _sum(durations: list[float], target: float, what: str) -> list[str]:
    if any(d <= 0 for d in durations):
        return [f"every {what} needs a duration_s above 0 seconds"]
    total = sum(durations)
    if abs(total - target) > TOLERANCE_S:
        return [
            f"the {what} durations add up to {total:g} s; they must add up to {target:g} s "
            f"(within {TOLERANCE_S:g} s)"
        ]
    return []


# -- the director ------------------------------------------------------------------------


def plan(answer: Plan, brief: Brief) -> list[str]:
    """Parts in order and once each, durations summing to the brief's, every key message placed."""
    found = []
    parts = [p.part for p in answer.parts]
    if not parts:
        return ["the plan has no part; use the 8-part structure"]
    if len(set(parts)) != len(parts):
        found.append("each part may appear once in the plan")
    found += _order(parts)
    found += _sum([p.duration_s for p in answer.parts], brief.duration_s, "part")
    placed = {m.casefold().strip() for p in answer.parts for m in p.key_messages}
    for message in brief.key_messages:
        if message.casefold().strip() not in placed:
            found.append(
                f"key message {message!r} is placed in no part; put it in one, word for word"
            )
    return found


def to_video_plan(answer: Plan, brief: Brief, answers: dict[str, str]) -> VideoPlan:
    """The plan, on the brief's title, template, language and exact duration."""
    seconds = scaled([p.duration_s for p in answer.parts], brief.duration_s)
    parts = [
        PlanPart(part=p.part, purpose=p.purpose, duration_s=s, key_messages=p.key_messages)
        for p, s in zip(answer.parts, seconds, strict=True)
    ]
    return VideoPlan(
        title=brief.title,
        audience_analysis=answer.audience_analysis,
        parts=parts,
        key_messages=answer.key_messages or list(brief.key_messages),
        questions=answer.questions,
        assumptions=answer.assumptions,
        answers=answers,
        language=brief.language,
        duration_s=brief.duration_s,
        template=brief.template,
    )


# -- the scriptwriter and the optimizer --------------------------------------------------------


def brief_for(
    brief: Brief | None,
    document: Document | None,
    duration_s: float | None,
    key_messages: list[str],
    *,
    title: str | None = None,
) -> Brief:
    """The brief to write to: given, else derived from the document; targets override it.

    Raises:
        InvalidInputError: no brief, no document and no title to write from.
    """
    if brief is None:
        if document is not None:
            from reelgraph.plugins.roles._brief import load_brief

            brief = load_brief(None, document, {})
        elif title is not None:
            brief = Brief(title=title, goal=f"Revise the script of {title}.")
        else:
            raise InvalidInputError(
                "the scriptwriter needs a brief or a document; pass brief: $brief or document: $document"
            )
    update: dict[str, Any] = {}
    if duration_s is not None:
        update["duration_s"] = duration_s
    if key_messages:
        update["key_messages"] = list(key_messages)
    return brief.model_copy(update=update) if update else brief


def beats(answer: Beats, brief: Brief, plan: VideoPlan | None) -> list[str]:
    """Parts in order, durations summing to the target, every sentence speakable, every message said."""
    found = []
    if len(answer.beats) < 2:
        return ["write at least two beats: an opening (hook) and a close"]
    found += _order([b.part for b in answer.beats])
    found += _sum([b.duration_s for b in answer.beats], brief.duration_s, "beat")
    for i, beat in enumerate(answer.beats, start=1):
        if not beat.narration or not all(s.strip() for s in beat.narration):
            found.append(f"beat {i} ({beat.part}) needs narration: one or more non-empty sentences")
        for sentence in beat.narration:
            for problem in unspeakable(sentence):
                found.append(
                    f"beat {i}: {sentence!r} cannot be read aloud ({problem}); rewrite it as plain words"
                )
    said = [tokens(" ".join(b.narration)) for b in answer.beats]
    messages = plan.key_messages if plan is not None and plan.key_messages else brief.key_messages
    for message in messages:
        if not is_covered(message, said):
            found.append(f"the narration never says the key message {message!r}; say it in a beat")
    return found


def to_script(answer: Beats, brief: Brief, *, language: str | None = None) -> Script:
    """The beats as a script: ids, kinds, start times and exact durations set here."""
    seconds = scaled([b.duration_s for b in answer.beats], brief.duration_s)
    scenes, start = [], 0.0
    last = len(answer.beats) - 1
    for i, (beat, length) in enumerate(zip(answer.beats, seconds, strict=True)):
        kind = "title" if i == 0 else "closing" if i == last else "content"
        scenes.append(
            Scene(
                index=i,
                kind=kind,
                title=beat.on_screen_text.strip() or (brief.title if i == 0 else beat.part),
                bullets=[b for b in beat.bullets if b.strip()][:6] if kind == "content" else [],
                narration=[s.strip() for s in beat.narration if s.strip()],
                beat_id=f"b{i + 1:02d}",
                part=beat.part,
                start_s=round(start, 1),
                duration_s=length,
                key_messages=beat.key_messages,
                visual_intent=beat.visual_intent,
            )
        )
        start += length
    return Script(
        title=brief.title,
        scenes=scenes,
        language=language or brief.language,
        duration_s=brief.duration_s,
    )


# -- the visual designer ------------------------------------------------------------------------


def check_design_inputs(script: Script, aspect: str) -> None:
    """Raises InvalidInputError for an unknown aspect or a script with no scene."""
    if aspect not in ASPECT_SIZES:
        raise InvalidInputError(f"unknown aspect {aspect!r}; use one of {', '.join(ASPECT_SIZES)}")
    if not script.scenes:
        raise InvalidInputError(f"script {script.title!r} has no scene to design shots for")


def _library_types() -> list[str]:
    from reelgraph.plugins.roles._designer import load_library

    return list(load_library()["shots"])


def shots(answer: Shots, script: Script) -> list[str]:
    """Every scene has a shot, each from the shot library, each with a positive duration."""
    found = []
    known = _library_types()
    indexes = {s.index for s in script.scenes}
    for shot in answer.shots:
        if shot.scene_index not in indexes:
            found.append(
                f"shot for scene_index {shot.scene_index}: no such scene (0-{len(indexes) - 1})"
            )
        if shot.shot_type not in known:
            found.append(
                f"shot_type {shot.shot_type!r} is not in the shot library: {', '.join(known)}"
            )
        if shot.duration_s <= 0:
            found.append("every shot needs a duration_s above 0 seconds")
    covered = {s.scene_index for s in answer.shots}
    missing = sorted(indexes - covered)
    if missing:
        found.append(f"scenes {missing} have no shot; give every scene at least one")
    return found


def to_shot_list(answer: Shots, script: Script, aspect: str) -> ShotList:
    """The shots in scene order, ids ``s01``..., each scene's shots scaled to its length."""
    out: list[Shot] = []
    for scene in script.scenes:
        mine = [s for s in answer.shots if s.scene_index == scene.index]
        want = scene.duration_s or sum(s.duration_s for s in mine)
        for shot, seconds in zip(mine, scaled([s.duration_s for s in mine], want), strict=True):
            data = shot.model_dump()
            data.update(
                id=f"s{len(out) + 1:02d}", beat_id=scene.beat_id, duration_s=max(seconds, 0.1)
            )
            out.append(Shot.model_validate(data))
    return ShotList(title=script.title, aspect=aspect, shots=out)  # type: ignore[arg-type]


# -- the narrator -------------------------------------------------------------------------------


def speech(answer: Speech, script: Script, engine: str) -> list[str]:
    """One entry per sentence per scene, in the engine's markup (well-formed SSML for espeak-ng)."""
    if len(answer.scenes) != len(script.scenes):
        return [f"give {len(script.scenes)} scenes, one per script scene, got {len(answer.scenes)}"]
    found = []
    for i, (entry, scene) in enumerate(zip(answer.scenes, script.scenes, strict=True)):
        if len(entry.sentences) != len(scene.narration):
            found.append(
                f"scene {i}: give {len(scene.narration)} entries, one per narration sentence, "
                f"got {len(entry.sentences)}"
            )
            continue
        for text in entry.sentences:
            if not text.strip():
                found.append(f"scene {i}: an entry is empty")
            elif engine == "espeak":
                try:
                    root = ElementTree.fromstring(text)
                except ElementTree.ParseError as err:
                    found.append(f"scene {i}: {text[:60]!r} is not well-formed SSML ({err})")
                    continue
                if root.tag != "speak":
                    found.append(f"scene {i}: {text[:60]!r} must be one <speak> element")
            elif re.search(r"<[A-Za-z/][^>]*>", text):
                found.append(
                    f"scene {i}: {text[:60]!r} holds markup; {engine} reads plain text only"
                )
    return found


# -- the reviewer -------------------------------------------------------------------------------


def check_threshold(threshold: Any) -> None:
    """Raises InvalidInputError for a threshold that is not a number from 0 to 1."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        raise InvalidInputError(f"review threshold must be a number from 0 to 1, got {threshold!r}")


def verdict(answer: Verdict) -> list[str]:
    """Every required criterion scored once."""
    names = [s.criterion for s in answer.scores]
    found = [f"score the criterion {c!r}" for c in REQUIRED_CRITERIA if c not in names]
    if len(set(names)) != len(names):
        found.append("score each criterion once")
    found += [
        "every revision needs an instruction" for r in answer.revisions if not r.instruction.strip()
    ]
    return found


def to_review(answer: Verdict, measured: list[GateResult], threshold: float) -> Review:
    """The verdict with the measurements as facts: a gate's verdict wins on its criterion.

    ``key_messages`` and ``duration`` take the side of ``threshold`` their
    gate decided; a blocking gate result caps the overall score under the
    threshold and adds its remedy as a revision.
    """
    from reelgraph.plugins.roles._reviewer import _latest, _verdict

    scores = []
    for score in answer.scores:
        gate = [m for m in _latest(measured, score.criterion) if m.severity == "error"]
        if gate:
            passed = all(m.passed for m in gate)
            note = f" (gate {score.criterion}: {'passed' if passed else 'failed'})"
            score = score.model_copy(
                update={
                    "score": _verdict(score.score, passed, threshold),
                    "reason": score.reason + note,
                }
            )
        scores.append(score)
    overall = sum(s.score for s in scores) / len(scores)
    revisions = list(answer.revisions)
    blocking = [m for m in measured if m.blocking]
    if blocking:
        overall = min(overall, max(0.0, threshold - 0.05))
        revisions += [Revision(instruction=m.remedy or m.message) for m in blocking]
    passed = overall >= threshold
    return Review(
        scores=scores,
        score=round(overall, 4),
        threshold=threshold,
        revisions=[] if passed else revisions,
        measurements=measured,
    )
