"""The offline scriptwriter: beats from a brief and its plan, sized to the target duration.

One scene per **beat**. A plan part longer than ``max_beat_s`` (20 s) is
split into several beats, so no slide stays up for long; beat ids run
``b01``, ``b02``...; the first scene is a ``title`` scene, the last a
``closing`` scene, the others ``content``. Each beat's ``start_s`` and
``duration_s`` are its slot in the plan (they sum to the plan's duration
exactly), and its narration is sized to fill that slot less
``scene_overhead_s`` (0.75 s, the pause the assembler adds per scene: the
shipped specs' ``pause_s``).

Spoken length is estimated from characters, not words: a sentence takes
``len(spoken) / chars_per_second + sentence_pause_s``, ``spoken`` being the
sentence as the speech providers normalise it (numbers and units said in
words, :mod:`reelgraph.plugins.speech._normalize`), or the time its captions
need to be read when that is longer (the assembler holds such a sentence).
Words mislead: this writer's plain lines were spoken at ~148 words per
minute where README prose was ~130 at the same setting. Fitted on this
machine over the 82 sentences of this writer's scripts for five briefs and
a document, one WAV per sentence at ``rate_wpm`` 130: espeak-ng 14.5
characters per second plus 0.21 s per sentence, piper's joe voice 14.3 plus
0.33 s (residual 0.33-0.39 s per sentence; by words it was 1.3-1.5 s).
14.3 and 0.3 s follow piper, the voice the shipped specs use when it is
installed; espeak-ng then runs a little short. Time a part leaves unfilled
goes to the parts after it, so the whole script stays on target.

What a beat says, in order: the part's fixed opening line (:data:`LINES`),
the key messages placed in it (each said in full, so the ``key_messages``
gate finds it), then sentences of the source document related to those
messages (taken with the ``extractive`` writer's own sentence rules, so
nothing unspeakable is read), then the part's fixed filler lines, until the
word budget is met. Fixed lines are connective phrases with no factual
claim. No model, no network, deterministic output.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import Brief, Document, Scene, Script, VideoPlan
from reelgraph.plugins._sentences import end_sentence
from reelgraph.plugins._text import clean_for_speech, normalize_space, shorten
from reelgraph.plugins.gates.key_messages import tokens
from reelgraph.plugins.roles._director import audience_of, key_messages_of, objectives_of
from reelgraph.plugins.roles._lines import HEADINGS, LINES
from reelgraph.plugins.writers.extractive import _STOPWORDS, _block_sentences

__all__ = [
    "DEFAULT_OPTIONS",
    "HEADINGS",
    "LINES",
    "count_words",
    "estimate_s",
    "spoken_s",
    "write_beats",
]

#: Options and their defaults (sources in the module docstring).
DEFAULT_OPTIONS: dict[str, Any] = {
    "chars_per_second": 14.3,
    "sentence_pause_s": 0.3,
    "scene_overhead_s": 0.75,
    "max_beat_s": 20.0,
    "bullet_chars": 70,
}
_LIMITS = {
    "chars_per_second": (4, 40),
    "sentence_pause_s": (0, 5),
    "scene_overhead_s": (0, 10),
    "max_beat_s": (5, 600),
    "bullet_chars": (20, 200),
}

_GENERAL_AUDIENCE = Brief.model_fields["audience"].default
_CONTENT_PARTS = ("problem", "stakes", "approach", "proof")


def count_words(sentences: list[str]) -> int:
    """Words as the ``duration`` gate counts them (split on whitespace)."""
    return sum(len(s.split()) for s in sentences)


def spoken_s(
    sentences: list[str], options: dict[str, Any] | None = None, language: str | None = None
) -> float:
    """Estimated seconds ``sentences`` take as one scene's speech, the pause after it excluded.

    Each takes ``len / chars_per_second + sentence_pause_s``, or the time its
    captions need to be read when that is longer
    (:func:`~reelgraph.plugins._media.captions.required_seconds`): the
    assembler holds a sentence spoken faster than its captions can be read
    (the scene's last one has the scene's pause for that).
    """
    from reelgraph.plugins._media.captions import required_seconds
    from reelgraph.plugins.speech._normalize import normalize

    opts = {**DEFAULT_OPTIONS, **(options or {})}
    cps, pause = float(opts["chars_per_second"]), float(opts["sentence_pause_s"])
    overhead = float(opts["scene_overhead_s"])
    total = 0.0
    for i, sentence in enumerate(sentences):
        readable = required_seconds(sentence, language) - (
            overhead if i == len(sentences) - 1 else 0
        )
        spoken = normalize(sentence, language).text
        total += max(len(spoken) / cps + pause, readable)
    return total


def estimate_s(script: Script, options: dict[str, Any] | None = None) -> float:
    """Estimated seconds of the video: every scene's speech plus ``scene_overhead_s``."""
    overhead = float({**DEFAULT_OPTIONS, **(options or {})}["scene_overhead_s"])
    return sum(
        spoken_s(scene.narration, options, script.language) + overhead for scene in script.scenes
    )


def options_of(options: dict[str, Any] | None) -> dict[str, Any]:
    """:data:`DEFAULT_OPTIONS` updated with ``options``, each checked.

    Raises:
        InvalidInputError: an unknown option or a value out of range.
    """
    opts = dict(DEFAULT_OPTIONS)
    for name, value in (options or {}).items():
        if name in ("model", "temperature"):
            continue  # meant for an LLM writer; the offline one has no model
        if name not in DEFAULT_OPTIONS:
            raise InvalidInputError(
                f"unknown offline writer option {name!r}; known: {', '.join(DEFAULT_OPTIONS)}"
            )
        low, high = _LIMITS[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise InvalidInputError(
                f"option {name!r} must be a number from {low:g} to {high:g}, got {value!r}"
            )
        opts[name] = value
    return opts


def sentence_of(text: str, language: str) -> str:
    """``text`` as one spoken sentence: markup removed, first letter up, ended."""
    spoken = normalize_space(clean_for_speech(text))
    if not spoken:
        return ""
    return end_sentence(spoken[0].upper() + spoken[1:], language)


def clause_of(text: str) -> str:
    """``text`` to follow other words: first letter down (unless an acronym), no end mark."""
    text = normalize_space(text).rstrip(".!?;:")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def message_sentence(message: str, language: str) -> str:
    """A key message said in full; a heading-like one (under 4 words) is introduced."""
    if len(message.split()) < 4:
        return sentence_of(f"Next: {normalize_space(message).rstrip('.')}", language)
    return sentence_of(message, language)


def _ordinal(index: int, count: int) -> str:
    """ "First", "Second"... for a recap; the last of several is "Finally"."""
    from num2words import num2words

    if count > 1 and index == count - 1:
        return "Finally"
    return str(num2words(index + 1, to="ordinal")).capitalize()


def _duration_words(seconds: float) -> str:
    """How long the video is, as said: "forty-five seconds", "two and a half minutes"."""
    from num2words import num2words

    if seconds < 75:
        return "minute" if round(seconds) == 60 else f"{num2words(round(seconds))} seconds"
    halves = round(seconds / 30)
    minutes, half = divmod(halves, 2)
    words = num2words(minutes) + (" and a half" if half else "")
    return f"{words} minute{'s' if halves > 2 else ''}"


@dataclass
class _Part:
    """A plan part being written: its slot, messages and sentences."""

    part: str
    start_s: float
    duration_s: float
    messages: list[str]
    head: list[str] = field(default_factory=list)
    pool: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)


@dataclass
class _Beat:
    """One beat: a slice of a part's slot and sentences."""

    part: str
    start_s: float
    duration_s: float
    messages: list[str]
    said: list[str]


def _parts(plan: VideoPlan) -> list[_Part]:
    parts, start = [], 0.0
    for part in plan.parts:
        parts.append(_Part(part.part, round(start, 1), part.duration_s, list(part.key_messages)))
        start += part.duration_s
    return parts


def _values(brief: Brief, plan: VideoPlan) -> dict[str, str]:
    from num2words import num2words

    audience = audience_of(brief, plan)
    messages = key_messages_of(brief, plan)
    count = len(messages)
    return {
        "title": normalize_space(clean_for_speech(plan.title)) or "Untitled",
        "goal": sentence_of(brief.goal, brief.language),
        "audience": clause_of(audience),
        "audience_phrase": (
            "many of us" if audience.casefold() == _GENERAL_AUDIENCE.casefold() else audience
        ),
        "tone": clause_of(brief.tone),
        "duration_words": _duration_words(plan.duration_s),
        "count_words": f"{num2words(count)} key point{'s' if count != 1 else ''}",
        "first_objective": clause_of(objectives_of(brief, plan)[0]),
        "first_message": message_sentence(messages[0], brief.language) if messages else "",
    }


def _expand(line: str, values: dict[str, str], brief: Brief, plan: VideoPlan) -> list[str]:
    """The sentences one fixed line stands for (a list line gives one per item)."""
    language = brief.language
    if line == "{objectives}":
        return [
            sentence_of(f"You will be able to {clause_of(o)}", language)
            for o in objectives_of(brief, plan)
        ]
    if line == "{messages}":  # a recap: "First, ...", "Second, ...", "Finally, ..."
        messages = key_messages_of(brief, plan)
        return [
            sentence_of(f"{_ordinal(i, len(messages))}, {clause_of(m)}", language)
            for i, m in enumerate(messages)
        ]
    text = line.format(**values)
    return [sentence_of(text, language)] if text.strip(" .?") else []


def _document_sentences(document: Document, language: str) -> list[tuple[set[str], list[str]]]:
    """Per section with prose: (its content words, its speakable sentences)."""
    out = []
    for section in document.sections:
        sentences = [s[0] for b in section.blocks for s in _block_sentences(b, language)]
        if sentences:
            vocabulary = set(tokens(section.heading + " " + " ".join(sentences))) - _STOPWORDS
            out.append((vocabulary, sentences))
    return out


def _assign_document(parts: list[_Part], document: Document, language: str) -> None:
    """Give each content part the document sentences that best match its messages."""
    content = [p for p in parts if p.part in _CONTENT_PARTS] or parts[1:-1] or parts
    sections = _document_sentences(document, language)
    for i, (vocabulary, sentences) in enumerate(sections):
        wanted = [set(tokens(" ".join(p.messages))) - _STOPWORDS for p in content]
        overlaps = [len(vocabulary & w) for w in wanted]
        best = max(range(len(content)), key=lambda k: overlaps[k])
        if overlaps[best] == 0:  # nothing shared: spread the sections in document order
            best = min(i * len(content) // max(len(sections), 1), len(content) - 1)
        content[best].pool.extend(sentences)


def _fill(part: _Part, budget_s: float, said: set[str], opts: dict[str, Any]) -> None:
    """Add pool sentences until ``budget_s`` seconds are filled, skipping repeats and long ones."""
    used = spoken_s(part.said + part.tail, opts)
    slack = max(1.0, budget_s * 0.1)
    for sentence in part.pool:
        if used >= budget_s - 0.8:
            break
        key = sentence.casefold()
        seconds = spoken_s([sentence], opts)
        if key in said or used + seconds > budget_s + slack:
            continue
        part.said.append(sentence)
        said.add(key)
        used += seconds


def _allowances(parts: list[_Part], budgets: list[float], opts: dict[str, Any]) -> list[float]:
    """Seconds each part may fill, fixed lines included, so the whole script meets its budget.

    The words left once every part's fixed lines are counted go to the parts
    in proportion to the room each has left (a part whose fixed lines already
    overrun its slot gets none, and the others make up for it).
    """
    fixed = [spoken_s(p.said + p.tail, opts) for p in parts]
    free = sum(budgets) - sum(fixed)
    room = [max(b - f, 0.0) for b, f in zip(budgets, fixed, strict=True)]
    if free <= 0 or sum(room) <= 0:
        return [float(f) for f in fixed]
    return [f + free * r / sum(room) for f, r in zip(fixed, room, strict=True)]


def _split(part: _Part, max_beat_s: float) -> list[_Beat]:
    """A part as beats of at most ``max_beat_s`` seconds, its sentences shared by word count."""
    n = max(1, min(math.ceil(part.duration_s / max_beat_s - 1e-9), len(part.said)))
    lengths = [round(part.duration_s / n, 1)] * n
    lengths[-1] = round(part.duration_s - sum(lengths[:-1]), 1)
    total = max(count_words(part.said), 1)
    groups: list[list[str]] = [[] for _ in range(n)]
    done = 0
    for k, sentence in enumerate(part.said):
        left = len(part.said) - k
        slot = min(done * n // total, n - 1)
        slot = max(slot, n - left)  # every later beat keeps at least one sentence
        groups[slot].append(sentence)
        done += len(sentence.split())
    beats, start = [], part.start_s
    for seconds, group in zip(lengths, groups, strict=True):
        keys = {s.casefold() for s in group}
        mine = [m for m in part.messages if any(m.casefold().rstrip(".") in k for k in keys)]
        beats.append(_Beat(part.part, round(start, 1), seconds, mine, group))
        start += seconds
    return beats


def write_beats(
    brief: Brief, plan: VideoPlan, document: Document | None, options: dict[str, Any]
) -> Script:
    """The script for ``plan`` (see the module docstring).

    Raises:
        InvalidInputError: an option out of range; a plan with no part.
    """
    opts = options_of(options)
    if not plan.parts:
        raise InvalidInputError("the plan has no part to write; plan_video returned an empty plan")
    values = _values(brief, plan)
    lines = LINES[plan.template]
    language = brief.language
    parts = _parts(plan)
    for part in parts:
        spec = lines[part.part]
        for line in spec["head"]:
            part.head += _expand(line, values, brief, plan)
        part.head += [message_sentence(m, language) for m in part.messages]
        for line in spec.get("recap", []):
            part.head += _expand(line, values, brief, plan)
        for line in spec.get("tail", []):
            part.tail += _expand(line, values, brief, plan)
    if document is not None:
        _assign_document(parts, document, language)
    if "context" not in {p.part for p in parts}:  # a short video still names its audience
        parts[0].pool += [
            s for line in lines["context"]["head"] if "{audience}" in line
            for s in _expand(line, values, brief, plan)
        ]  # fmt: skip
    for part in parts:
        for line in lines[part.part]["fill"] + lines["_any"]["fill"]:
            part.pool += _expand(line, values, brief, plan)
    overhead = float(opts["scene_overhead_s"])
    max_beat_s = float(opts["max_beat_s"])
    said: set[str] = set()
    for part in parts:
        part.said = [s for s in part.head if s]
        said.update(s.casefold() for s in part.said)
    scenes_per_part = [max(1, math.ceil(p.duration_s / max_beat_s - 1e-9)) for p in parts]
    budgets = [
        max(0.0, p.duration_s - overhead * n) for p, n in zip(parts, scenes_per_part, strict=True)
    ]
    carry = 0.0
    for part, allowance in zip(parts, _allowances(parts, budgets, opts), strict=True):
        _fill(part, allowance + carry, said, opts)
        part.said += part.tail
        carry = allowance + carry - spoken_s(part.said, opts)
    beats = [beat for part in parts for beat in _split(part, max_beat_s)]
    return _script(brief, plan, beats, values, int(opts["bullet_chars"]))


def _bullets(beat: _Beat, brief: Brief, plan: VideoPlan, chars: int) -> list[str]:
    """On-screen points: the beat's messages (objectives on the objectives beat), else its lines."""
    if beat.part == "context" and plan.template == "educational":
        points = objectives_of(brief, plan)
    elif beat.part == "proof" and plan.template == "educational":
        points = [s for s in beat.said if s.endswith("?")]
    else:
        points = list(beat.messages)
    if not points:  # the beat's own lines, its short fixed opener left out
        points = [s for s in beat.said[1:] if len(s.split()) > 4][:3] or beat.said[:1]
    return [shorten(normalize_space(p).rstrip("."), chars) for p in points[:6]]


_INTENTS = {
    "hook": "an opening image that makes the title the promise",
    "context": "the audience in their setting",
    "problem": "the problem as the audience sees it",
    "stakes": "what is at stake, made concrete",
    "approach": "the approach as clear, ordered steps",
    "proof": "evidence that the approach works",
    "call_to_action": "the one next step, large and clear",
    "close": "a calm closing card with the key points",
}


def _script(
    brief: Brief, plan: VideoPlan, beats: list[_Beat], values: dict[str, str], chars: int
) -> Script:
    headings = HEADINGS[plan.template]
    scenes = []
    for i, beat in enumerate(beats):
        kind = "title" if i == 0 else "closing" if i == len(beats) - 1 else "content"
        scenes.append(
            Scene(
                index=i,
                kind=kind,
                title=headings[beat.part].format(title=values["title"]),
                bullets=[] if kind != "content" else _bullets(beat, brief, plan, chars),
                narration=beat.said,
                beat_id=f"b{i + 1:02d}",
                part=beat.part,  # type: ignore[arg-type]
                start_s=beat.start_s,
                duration_s=beat.duration_s,
                key_messages=list(beat.messages),
                visual_intent=_INTENTS[beat.part],
            )
        )
    return Script(
        title=values["title"], scenes=scenes, language=brief.language, duration_s=plan.duration_s
    )


def beat_index(feedback_item: str) -> tuple[str | None, str]:
    """``("b03", "the rest")`` for ``"b03: the rest"`` (a reviewer's remedy), else ``(None, item)``."""
    found = re.match(r"^\s*(b\d{2,})\s*:\s*(.*)$", feedback_item, re.DOTALL)
    return (found.group(1), found.group(2)) if found else (None, feedback_item)
