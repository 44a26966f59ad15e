"""The system prompts of the six production roles, and how documents are shown to a model.

Each prompt states the role, the 8-part structure with the template's
purpose for each part (:data:`~._director.PURPOSES`), the rules the answer
is checked against (:mod:`._llm_checks`) and the brief's essentials. The
user message carries the inputs as JSON.
"""

from __future__ import annotations

import json

from reelgraph.models import BEAT_PARTS, Brief, Document, VideoPlan
from reelgraph.plugins.roles._director import PURPOSES
from reelgraph.plugins.roles._writer import DEFAULT_OPTIONS

__all__ = [
    "designer",
    "director",
    "document_outline",
    "document_text",
    "narrator",
    "optimizer",
    "reviewer",
    "scriptwriter",
]

#: characters of a source document shown to the scriptwriter (about 3,000 tokens)
DOCUMENT_CHARS = 12_000
#: spoken characters per second the script is sized at (the offline writer's measured rate)
_CPS = float(DEFAULT_OPTIONS["chars_per_second"])


def _structure(template: str) -> str:
    lines = [f"{i}. {p}: {PURPOSES[template][p]}" for i, p in enumerate(BEAT_PARTS, start=1)]
    return "The 8-part structure, in this order (a short video may leave parts out):\n" + "\n".join(
        lines
    )


def _brief(brief: Brief | None) -> str:
    if brief is None:
        return "There is no brief."
    essentials = {
        "title": brief.title,
        "goal": brief.goal,
        "audience": brief.audience,
        "key_messages": brief.key_messages,
        "duration_s": brief.duration_s,
        "tone": brief.tone,
        "style": brief.style,
        "template": brief.template,
        "language": brief.language,
        "constraints": brief.constraints,
        "learning_objectives": brief.learning_objectives,
    }
    return "The brief:\n" + json.dumps(essentials, ensure_ascii=False, indent=1)


def _template_rules(template: str) -> str:
    if template == "educational":
        return (
            "This is a lesson: the context part states the learning objectives, the proof part "
            "is a check for understanding (a question, a pause, then the answer), and the close "
            "is a recap."
        )
    return "This is a professional presentation: clear, direct, one point per part."


def director(brief: Brief, clarify: bool) -> str:
    """The director's system prompt."""
    ask = (
        "If the brief leaves something essential open (who the audience is, what the key "
        "messages are, for a lesson its learning objectives), add a question for each, with a "
        "short snake_case key, unless the user message already answers it under that key."
        if clarify
        else "Ask nothing: where the brief leaves something open, assume, and list each assumption."
    )
    return "\n\n".join(
        [
            "You are the director of a short video. Plan it from the brief: analyse the "
            "audience, choose the parts of the structure, give each a duration in seconds, and "
            "place every key message in the part that should say it.",
            _structure(brief.template),
            _template_rules(brief.template),
            "Rules: parts in the order above, each at most once; the part durations add up to "
            f"{brief.duration_s:g} seconds; every key message of the brief appears word for word "
            "in exactly one part's key_messages.",
            ask,
            _brief(brief),
        ]
    )


def _sizing(brief: Brief) -> str:
    return (
        f"Size the narration to the time: about {_CPS:g} spoken characters per second, so a "
        f"10-second beat holds about {round(_CPS * 9)} characters. Beat durations add up to "
        f"{brief.duration_s:g} seconds. Sentences are plain spoken English (or the brief's "
        "language), at most about 20 words, with no markup, URLs, file paths or code; write "
        "numbers the way they are said."
    )


def scriptwriter(brief: Brief, plan: VideoPlan | None) -> str:
    """The scriptwriter's system prompt."""
    follow = (
        "Follow the plan in the user message: its parts, durations and placed key messages."
        if plan is not None
        else "There is no plan: choose the parts yourself."
    )
    return "\n\n".join(
        [
            "You are the scriptwriter of a short video. Write it as beats: each beat belongs to "
            "one part of the structure and has on-screen text (a short heading), up to six short "
            "bullets, narration sentences, a duration in seconds, the key messages it says and "
            "its visual intent (one sentence on what the picture conveys).",
            _structure(brief.template),
            _template_rules(brief.template),
            follow,
            "Rules: beats in the order of the structure (a long part may take several beats); "
            "the first beat opens with the title, the last closes; every key message is said "
            "in the narration; when a document is given, take its facts, never invent any.",
            _sizing(brief),
            _brief(brief),
        ]
    )


def optimizer(brief: Brief) -> str:
    """The optimizer's system prompt."""
    return "\n\n".join(
        [
            "You are the optimizer of a short video script. Apply the revisions in the user "
            "message to the draft and return the whole revised script as beats. Change only what "
            "the revisions ask; keep everything else as it is.",
            _structure(brief.template),
            "Rules: beats stay in the order of the structure; every key message stays said.",
            _sizing(brief),
            _brief(brief),
        ]
    )


def designer(brief: Brief | None, aspect: str) -> str:
    """The visual designer's system prompt, with the shot library's types."""
    from reelgraph.plugins.roles._designer import load_library

    library = load_library()["shots"]
    types = "\n".join(f"- {name}: {entry['typical_use']}" for name, entry in library.items())
    return "\n\n".join(
        [
            "You are the visual designer of a short video. For every scene of the script, plan "
            "one or more shots: shot type, framing, camera move, lighting, subject, continuity "
            "with the other shots, a generation prompt, a negative prompt, a storyboard frame "
            "described in words, its complexity and its duration.",
            f"Shot types (use only these):\n{types}",
            f"Rules: every scene (by scene_index) gets at least one shot; a scene's shots add up "
            f"to its duration_s; the frame is {aspect}; mode is slide unless the shot needs "
            "motion footage; the negative prompt carries the brief's prohibitions.",
            _brief(brief),
        ]
    )


def narrator(engine: str, language: str) -> str:
    """The narrator's system prompt for one speech engine."""
    markup = (
        "espeak-ng takes SSML: give each sentence as one <speak> element; you may use "
        '<say-as interpret-as="characters"> for letters spelled out, <break time="300ms"/> '
        "for pauses (under one second), <emphasis> and <sub alias=...>. Escape &, < and >."
        if engine == "espeak"
        else f"The {engine} engine reads plain text: no markup at all."
    )
    return "\n\n".join(
        [
            "You are the narrator of a short video. For every narration sentence, give the text "
            "the speech engine should speak: numbers, dates, units and symbols written out as "
            "words, abbreviations expanded the way a speaker says them, pauses where a speaker "
            "would take them. Keep the meaning and the words; captions show the original.",
            markup,
            f"The language is {language}. Give one entry per sentence, scene by scene, in order.",
        ]
    )


def reviewer(brief: Brief, threshold: float) -> str:
    """The reviewer's system prompt."""
    return "\n\n".join(
        [
            "You are the reviewer of a short video. Score the script (and shots, when given) "
            "against the brief, from 0 (fails) to 1 (fully met), each with a one-sentence "
            "reason, on these criteria: goal, key_messages, duration, structure, audience "
            "(add visuals when shots are given).",
            "The measurements in the user message are facts measured on the work (gates): never "
            "argue with one. A criterion a gate measured takes the gate's verdict.",
            f"When the overall score (the mean) is under {threshold:g}, list revisions: each one "
            "concrete change, naming its beat_id when it concerns one beat, target script or "
            "shots. Revisions the optimizer applies best read like 'missing key message: X', "
            "'too long: shorten by about N s', 'reorder the beats to the 8-part structure'.",
            _structure(brief.template),
            _brief(brief),
        ]
    )


def document_outline(document: Document | None) -> dict[str, object] | None:
    """A document as the director sees it: title, headings, its first paragraph."""
    if document is None:
        return None
    first = next(
        (b.text for s in document.sections for b in s.blocks if b.kind == "paragraph" and b.text),
        "",
    )
    return {
        "title": document.title,
        "headings": [s.heading for s in document.sections if s.heading][:40],
        "first_paragraph": first[:1000],
    }


def document_text(document: Document | None) -> str | None:
    """A document's prose as the scriptwriter sees it: headings and paragraphs, cut at
    :data:`DOCUMENT_CHARS` characters (code and tables left out: never narrated)."""
    if document is None:
        return None
    parts = [f"# {document.title}"]
    for section in document.sections:
        parts.append(f"## {section.heading}")
        for block in section.blocks:
            if block.kind in ("paragraph", "quote"):
                parts.append(block.text)
            elif block.kind == "list":
                parts += [f"- {item}" for item in block.items]
    text = "\n".join(parts)
    return text if len(text) <= DOCUMENT_CHARS else text[:DOCUMENT_CHARS] + "\n[...]"
