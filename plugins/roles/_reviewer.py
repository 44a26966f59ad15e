"""The offline reviewer and optimizer: scores built on the gates, revisions a script can take.

Reviewer criteria, each 0-1 with a reason (the overall score is their mean):

- ``goal``: the goal's content words are said (the ``key_messages`` gate's
  :func:`~reelgraph.plugins.gates.key_messages.is_covered`), and a call to
  action or close carries it.
- ``key_messages``: the fraction of the brief's key messages (else the
  beats') the narration covers, by the same rule as the gate.
- ``duration``: the spoken-length estimate (the writer's: characters at
  ``chars_per_second``, plus ``scene_overhead_s`` per scene) against the
  brief's ``duration_s`` within ``tolerance_s`` (5 s).
- ``structure``: beats in :data:`~reelgraph.models.BEAT_PARTS` order, a
  title scene first and a closing scene last, unique beat ids, and the
  template's required parts (educational: objectives, a check for
  understanding, a recap).
- ``audience``: the audience is addressed, and sentences average at most 20
  words (plain-language guidance: the US Federal Plain Language Guidelines
  advise short sentences, around 20 words).
- ``visuals`` (when shots are given): every scene has shots whose seconds
  add up to the scene's within 0.5 s.

Measurements win: a criterion a gate measured (``key_messages``,
``duration``) takes the gate's value and verdict, and any blocking gate
result caps the overall score under the threshold, so the review never
passes what a gate failed nor fails what a gate passed on that criterion.

Optimizer: applies the revisions it understands, by pattern, to the draft
(feedback accumulates over review rounds, so the draft plus every revision
so far is the revised script): ``missing key message: X`` (X said in the
named or the lightest content beat), ``too long: shorten by about N s``
(the lowest-priority sentences of the longest beats dropped),
``too short: lengthen by about N s`` (the writer's unused lines added), and
``reorder`` / ``structure`` (beats sorted into the 8-part order). Beat
timings are recomputed after every change.
"""

from __future__ import annotations

import re
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import (
    BEAT_PARTS,
    Brief,
    CriterionScore,
    GateResult,
    Review,
    Revision,
    Scene,
    Script,
    ShotList,
)
from reelgraph.plugins.gates.key_messages import is_covered, tokens
from reelgraph.plugins.roles._writer import (
    DEFAULT_OPTIONS,
    beat_index,
    count_words,
    estimate_s,
    message_sentence,
    spoken_s,
)
from reelgraph.plugins.writers.extractive import _STOPWORDS

__all__ = ["optimize", "review"]

#: seconds the video may differ from the brief's duration (the duration gate's default)
TOLERANCE_S = 5.0
#: mean words per sentence that reads easily aloud (Federal Plain Language Guidelines)
MAX_MEAN_WORDS = 20.0
_REQUIRED = {
    "presentation": ("hook", "call_to_action", "close"),
    "educational": ("context", "proof", "close"),
}
_GENERAL_AUDIENCE = Brief.model_fields["audience"].default


def _scene_tokens(script: Script) -> list[list[str]]:
    return [tokens(" ".join(scene.narration)) for scene in script.scenes]


def _latest(measurements: list[GateResult], gate: str) -> list[GateResult]:
    """The results of ``gate`` from the latest stage measured (video > shots > script)."""
    found = [m for m in measurements if m.gate == gate]
    for stage in ("video", "shots", "script"):
        staged = [m for m in found if m.stage == stage]
        if staged:
            return staged
    return found


def _verdict(score: float, passed: bool | None, threshold: float) -> float:
    """``score`` moved to the side of ``threshold`` a measurement decided."""
    if passed is True:
        return max(score, threshold)
    if passed is False:
        return min(score, max(0.0, threshold - 0.05))
    return score


def _messages(brief: Brief, script: Script) -> list[str]:
    if brief.key_messages:
        return list(brief.key_messages)
    return list(dict.fromkeys(m for scene in script.scenes for m in scene.key_messages))


def _content_beat(script: Script, wanted: str | None) -> Scene | None:
    """The named beat, else the content beat with the fewest words."""
    for scene in script.scenes:
        if wanted and scene.beat_id == wanted:
            return scene
    content = [s for s in script.scenes if s.kind == "content"] or script.scenes
    return min(content, key=lambda s: count_words(s.narration)) if content else None


def _key_messages(brief, script, measurements, threshold):  # type: ignore[no-untyped-def]
    messages = _messages(brief, script)
    scenes = _scene_tokens(script)
    missing = [m for m in messages if not is_covered(m, scenes)]
    measured = [m for m in _latest(measurements, "key_messages") if m.severity == "error"]
    if measured:
        fraction = min(float(m.measured or 0.0) for m in measured)
        passed: bool | None = all(m.passed for m in measured)
        missing = [str(m.details.get("message")) for m in measured if m.details.get("message")] or (
            [] if passed else missing
        )
    else:
        fraction = 1.0 if not messages else (len(messages) - len(missing)) / len(messages)
        passed = None
    reason = (
        f"{len(messages) - len(missing)} of {len(messages)} key messages said"
        + (f"; missing: {'; '.join(missing)}" if missing else "")
        + (" (measured by the key_messages gate)" if measured else "")
    )
    target = _content_beat(script, None)
    revisions = [
        Revision(
            beat_id=target.beat_id if target else None, instruction=f"missing key message: {m}"
        )
        for m in missing
    ]
    return CriterionScore(
        criterion="key_messages", score=_verdict(fraction, passed, threshold), reason=reason
    ), revisions


def _duration(brief, script, measurements, threshold, options):  # type: ignore[no-untyped-def]
    target = brief.duration_s
    measured = _latest(measurements, "duration")
    if measured:
        result = measured[0]
        value = float(result.measured or 0.0)
        tolerance = float(result.threshold or TOLERANCE_S)
        passed: bool | None = result.passed or result.severity != "error"
        how = f"measured {value:.1f} s ({result.stage})"
    else:
        value = estimate_s(script, _estimate_options(options))
        tolerance = TOLERANCE_S
        passed = abs(value - target) <= tolerance
        how = f"estimated {value:.1f} s of speech and pauses"
    diff = value - target
    closeness = max(0.0, 1.0 - abs(diff) / target)
    reason = f"{how} for a {target:g} s target (+-{tolerance:g} s)"
    revisions = []
    if abs(diff) > tolerance:
        verb = "too long: shorten" if diff > 0 else "too short: lengthen"
        revisions.append(Revision(instruction=f"{verb} by about {abs(diff):.0f} s"))
    return CriterionScore(
        criterion="duration", score=_verdict(closeness, passed, threshold), reason=reason
    ), revisions


def _structure(brief: Brief, script: Script) -> tuple[CriterionScore, list[Revision]]:
    scenes = script.scenes
    order = [BEAT_PARTS.index(s.part) for s in scenes if s.part is not None]
    parts = {s.part for s in scenes}
    ids = [s.beat_id for s in scenes if s.beat_id]
    required = [p for p in _REQUIRED[brief.template] if p not in parts]
    checks = {
        "beats in the 8-part order": order == sorted(order),
        "a title scene first": bool(scenes) and scenes[0].kind == "title",
        "a closing scene last": bool(scenes) and scenes[-1].kind == "closing",
        "unique beat ids": len(ids) == len(set(ids)) and len(ids) == len(scenes),
        f"the {brief.template} parts ({', '.join(_REQUIRED[brief.template])})": not required,
    }
    failed = [name for name, ok in checks.items() if not ok]
    revisions = []
    if not checks["beats in the 8-part order"]:
        revisions.append(Revision(instruction="reorder the beats to the 8-part structure"))
    revisions += [Revision(instruction=f"add a {p} beat") for p in required]
    reason = "all structure checks hold" if not failed else "fails: " + "; ".join(failed)
    score = (len(checks) - len(failed)) / len(checks)
    return CriterionScore(criterion="structure", score=score, reason=reason), revisions


def _goal(brief: Brief, script: Script) -> CriterionScore:
    scenes = _scene_tokens(script)
    wanted = set(tokens(brief.goal)) - _STOPWORDS or set(tokens(brief.goal))
    said = set().union(*scenes) if scenes else set()
    fraction = 1.0 if is_covered(brief.goal, scenes) else len(wanted & said) / max(len(wanted), 1)
    closes = any(s.part in ("call_to_action", "close") for s in script.scenes)
    score = fraction if closes else fraction * 0.6
    reason = f"{round(fraction * 100)}% of the goal's words said" + (
        "" if closes else "; no call to action or close carries it"
    )
    return CriterionScore(criterion="goal", score=score, reason=reason)


def _audience(brief: Brief, script: Script) -> CriterionScore:
    sentences = [s for scene in script.scenes for s in scene.narration]
    mean = count_words(sentences) / max(len(sentences), 1)
    readable = 1.0 if mean <= MAX_MEAN_WORDS else max(0.0, 1 - (mean - MAX_MEAN_WORDS) / 20)
    general = brief.audience.casefold() == _GENERAL_AUDIENCE.casefold()
    wanted = set(tokens(brief.audience)) - _STOPWORDS
    said = {t for scene in _scene_tokens(script) for t in scene}
    addressed = 1.0 if general or not wanted else len(wanted & said) / len(wanted)
    reason = f"sentences average {mean:.1f} words; " + (
        "a general audience" if general else f"{round(addressed * 100)}% of the audience named"
    )
    return CriterionScore(criterion="audience", score=(readable + addressed) / 2, reason=reason)


def _visuals(script: Script, shots: ShotList) -> tuple[CriterionScore, list[Revision]]:
    off = []
    for scene in script.scenes:
        mine = [s for s in shots.shots if s.scene_index == scene.index]
        want = scene.duration_s
        if not mine or (want is not None and abs(sum(s.duration_s for s in mine) - want) > 0.5):
            off.append(scene)
    score = 1 - len(off) / max(len(script.scenes), 1)
    reason = (
        "every scene has its shots" if not off else f"{len(off)} scene(s) without fitting shots"
    )
    revisions = [
        Revision(target="shots", beat_id=s.beat_id, instruction="design shots that fill this beat")
        for s in off
    ]
    return CriterionScore(criterion="visuals", score=score, reason=reason), revisions


def review(
    brief: Brief,
    script: Script,
    shots: ShotList | None,
    measurements: list[GateResult],
    threshold: float,
    options: dict[str, Any],
) -> Review:
    """Score ``script`` against ``brief`` (see the module docstring).

    Raises:
        InvalidInputError: ``threshold`` outside 0-1.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        raise InvalidInputError(f"review threshold must be a number from 0 to 1, got {threshold!r}")
    measurements = [m for m in measurements or [] if isinstance(m, GateResult)]
    options = options or {}
    scores: list[CriterionScore] = [_goal(brief, script)]
    revisions: list[Revision] = []
    for criterion, asks in (
        _key_messages(brief, script, measurements, threshold),
        _duration(brief, script, measurements, threshold, options),
        _structure(brief, script),
    ):
        scores.append(criterion)
        revisions += asks if criterion.score < threshold else []
    scores.append(_audience(brief, script))
    if shots is not None:
        criterion, asks = _visuals(script, shots)
        scores.append(criterion)
        revisions += asks if criterion.score < threshold else []
    score = sum(c.score for c in scores) / len(scores)
    blocking = [m for m in measurements if m.blocking]
    if blocking:
        score = min(score, max(0.0, threshold - 0.05))
        for m in blocking:
            if m.gate not in ("key_messages", "duration"):
                revisions.append(Revision(instruction=m.remedy or m.message))
    return Review(
        scores=scores,
        score=round(score, 4),
        threshold=threshold,
        revisions=revisions if score < threshold else [],
        measurements=measurements,
    )


# -- the optimizer ------------------------------------------------------------------


def _estimate_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """The writer's estimate options found in ``options`` (others are for other roles)."""
    return {k: v for k, v in (options or {}).items() if k in DEFAULT_OPTIONS}


def _retime(script: Script) -> Script:
    """Indexes, kinds, beat ids and start times made consistent after a change."""
    scenes, start = [], 0.0
    last = len(script.scenes) - 1
    for i, scene in enumerate(script.scenes):
        kind = scene.kind
        if scene.part is not None:
            kind = "title" if i == 0 else "closing" if i == last else "content"
        update: dict[str, Any] = {"index": i, "kind": kind}
        if scene.beat_id is not None:
            update["beat_id"] = f"b{i + 1:02d}"
        if scene.duration_s is not None:
            update["start_s"] = round(start, 1)
            start += scene.duration_s
        scenes.append(scene.model_copy(update=update))
    return script.model_copy(update={"scenes": scenes})


def _seconds(item: str) -> float:
    found = re.search(r"by about (\d+(?:\.\d+)?)\s*s", item)
    return float(found.group(1)) if found else 5.0


def _add_message(script: Script, message: str, beat: str | None, language: str) -> Script:
    if is_covered(message, _scene_tokens(script)):
        return script
    target = _content_beat(script, beat)
    if target is None:
        return script
    sentence = message_sentence(message, language)
    scene = target.model_copy(
        update={
            "narration": [*target.narration, sentence],
            "key_messages": [*target.key_messages, message],
            "speech": [],
        }
    )
    return script.model_copy(
        update={"scenes": [scene if s.index == target.index else s for s in script.scenes]}
    )


def _protected(scene: Scene, sentence: str, position: int) -> bool:
    """A beat's opening line, its key messages and the closing thanks stay."""
    if position == 0 or (scene.kind == "closing" and position == len(scene.narration) - 1):
        return True
    return any(is_covered(m, [tokens(sentence)]) for m in scene.key_messages)


def _shorten(script: Script, seconds: float, opts: dict[str, Any]) -> Script:
    """Drop about ``seconds`` of speech: the last unprotected sentence of the longest beat, repeatedly."""
    scenes = [s.model_copy() for s in script.scenes]
    while seconds > 0:
        candidates = [
            (spoken_s(s.narration, opts), k, i)
            for k, s in enumerate(scenes)
            for i, sentence in enumerate(s.narration)
            if not _protected(s, sentence, i)
        ]
        if not candidates:
            break
        _, k, i = max(candidates)
        seconds -= spoken_s([scenes[k].narration[i]], opts)
        narration = scenes[k].narration[:i] + scenes[k].narration[i + 1 :]
        scenes[k] = scenes[k].model_copy(update={"narration": narration, "speech": []})
    return script.model_copy(update={"scenes": scenes})


def _lengthen(script: Script, brief: Brief, seconds: float, opts: dict[str, Any]) -> Script:
    """Add about ``seconds`` of speech from the writer's unused lines, to the beats with most room."""
    from reelgraph.plugins.roles._director import plan_video
    from reelgraph.plugins.roles._writer import LINES, _expand, _values

    plan = plan_video(brief, None, {}, clarify=False)
    values = _values(brief, plan)
    lines = LINES[brief.template]
    said = {s.casefold() for scene in script.scenes for s in scene.narration}
    scenes = list(script.scenes)
    order = sorted(
        range(len(scenes)),
        key=lambda k: spoken_s(scenes[k].narration, opts) - (scenes[k].duration_s or 0),
    )
    for k in order:
        scene = scenes[k]
        if seconds <= 0 or scene.part is None:
            continue
        pool = [
            s
            for line in lines[scene.part]["fill"] + lines["_any"]["fill"]
            for s in _expand(line, values, brief, plan)
            if s.casefold() not in said
        ]
        added = []
        for sentence in pool[:2]:
            added.append(sentence)
            said.add(sentence.casefold())
            seconds -= spoken_s([sentence], opts)
            if seconds <= 0:
                break
        if added:
            at = len(scene.narration) - (1 if scene.kind == "closing" else 0)
            narration = scene.narration[:at] + added + scene.narration[at:]
            scenes[k] = scene.model_copy(update={"narration": narration, "speech": []})
    return script.model_copy(update={"scenes": scenes})


def _reorder(script: Script) -> Script:
    ranked = sorted(
        script.scenes,
        key=lambda s: (BEAT_PARTS.index(s.part) if s.part is not None else -1, s.index),
    )
    return script.model_copy(update={"scenes": ranked})


def optimize(
    script: Script, brief: Brief | None, feedback: list[str], options: dict[str, Any]
) -> tuple[Script, list[str]]:
    """``script`` with the revisions in ``feedback`` applied; also returns those it did not understand.

    Raises:
        InvalidInputError: a ``missing key message`` or a lengthening with no brief to draw on.
    """
    opts = _estimate_options(options)
    ignored = []
    shorten_s = lengthen_s = 0.0
    reorder = False
    for item in feedback or []:
        beat, text = beat_index(item)
        lowered = text.lower()
        missing = re.search(r"missing key message\s*:?\s*(.+)", text, re.IGNORECASE)
        if missing:
            message = missing.group(1).strip().strip("'\"\u201c\u201d")
            script = _add_message(script, message, beat, script.language)
        elif re.search(r"too long|shorten|shorter", lowered):
            shorten_s += _seconds(lowered)
        elif re.search(r"too short|lengthen|longer", lowered):
            lengthen_s += _seconds(lowered)
        elif re.search(r"\breorder|\border\b|structure", lowered):
            reorder = True
        else:
            ignored.append(item)
    if reorder:
        script = _reorder(script)
    if shorten_s > lengthen_s:
        script = _shorten(script, shorten_s - lengthen_s, opts)
    elif lengthen_s > shorten_s:
        if brief is None:
            raise InvalidInputError("the offline optimizer needs the brief to lengthen a script")
        script = _lengthen(script, brief, lengthen_s - shorten_s, opts)
    return _retime(script), ignored
