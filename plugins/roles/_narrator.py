"""The offline narrator: each narration sentence made speakable for the engine that speaks it.

Numbers, versions, units, dates, currency and acronyms are rewritten by the
speech providers' own rules (:func:`reelgraph.plugins.speech._normalize.normalize`),
so captions keep the sentence as written. Then, by engine:

- **espeak-ng**: SSML (espeak-ng ``docs/markup.md``: ``<speak>``,
  ``<say-as interpret-as="characters">``, ``<break time=...>`` and
  ``strength``, ``<emphasis>``, ``<sub>``, ``<prosody>`` are recognised).
  An acronym the rules spell letter by letter (CLI, CI, UX) becomes
  ``<say-as interpret-as="characters">`` around the written letters; a colon
  or semicolon inside a sentence gets a ``<break time="250ms"/>``; a sentence
  asking the viewer to pause gets ``<break time="800ms"/>`` after it (under
  the ``black_silence`` gate's 2 s with the gap to the next sentence). Text is
  XML-escaped.
- **piper**: plain text (piper reads no markup), normalised the same way.

The engine comes from ``voice``: a ``Narration.voice`` such as
``"espeak:en-us"`` or ``"piper:en_US-joe-medium"`` (what the spec's voice
check node returns), a ``.onnx`` path (piper), or an espeak voice name.
With no voice the engine is unknown, so the text is plain: markup read
aloud by an engine that takes none would be worse than no markup.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from reelgraph.errors import InvalidInputError
from reelgraph.models import Script
from reelgraph.plugins.speech._normalize import normalize

__all__ = ["engine_of", "prepare_narration", "speakable"]

_ENGINES = ("espeak", "piper", "plain")
_SPELLED = re.compile(r"(?:[A-Z] )+[A-Z]")
_CLAUSE_BREAK = re.compile(r"([:;])(\s+)")
_BREAK_MARK = "\ue001"  # a private-use character: stands for a break until the text is escaped
_PAUSE_ASKED = re.compile(r"\bpause the video\b|\bthink about (?:it|your answer)\b", re.I)


def engine_of(voice: str | None, options: dict[str, Any] | None = None) -> str:
    """``"espeak"``, ``"piper"`` or ``"plain"`` for a voice (see the module docstring).

    Raises:
        InvalidInputError: ``options.engine`` names no known engine.
    """
    named = (options or {}).get("engine")
    if named is not None:
        if named not in _ENGINES:
            raise InvalidInputError(f"option engine must be one of {_ENGINES}, got {named!r}")
        return str(named)
    if not voice:
        return "plain"
    text = str(voice)
    if text.startswith("piper:") or text.endswith(".onnx"):
        return "piper"
    return "espeak"


def _text(plain: str) -> str:
    """Plain text as SSML character data, with a break after an inner colon or semicolon."""
    marked = _CLAUSE_BREAK.sub(rf"\1{_BREAK_MARK}\2", plain)
    return escape(marked).replace(_BREAK_MARK, '<break time="250ms"/>')


def _ssml(sentence: str, language: str) -> str:
    """``sentence`` as espeak-ng SSML (see the module docstring)."""
    spoken = normalize(sentence.replace(_BREAK_MARK, ""), language)
    sentence = spoken.source
    pieces, at = [], 0
    for source_start, source_end, spoken_start, spoken_end in spoken.edits:
        pieces.append(_text(sentence[at:source_start]))
        written = sentence[source_start:source_end]
        said = spoken.text[spoken_start:spoken_end]
        if _SPELLED.fullmatch(said) and said.replace(" ", "") == written:
            pieces.append(f'<say-as interpret-as="characters">{escape(written)}</say-as>')
        else:
            pieces.append(_text(said))
        at = source_end
    pieces.append(_text(sentence[at:]))
    body = "".join(pieces)
    if _PAUSE_ASKED.search(sentence):
        body += '<break time="800ms"/>'
    return f"<speak>{body}</speak>"


def speakable(sentence: str, engine: str, language: str) -> str:
    """What ``engine`` is given for one narration sentence."""
    if engine == "espeak":
        return _ssml(sentence, language)
    return normalize(sentence, language).text


def prepare_narration(
    script: Script, voice: str | None, language: str | None, options: dict[str, Any]
) -> Script:
    """``script`` with ``speech`` set on every scene, one entry per narration sentence.

    Raises:
        InvalidInputError: an unknown option or engine.
    """
    unknown = sorted(set(options or {}) - {"engine", "model", "temperature"})
    if unknown:
        raise InvalidInputError(f"unknown offline narrator option(s) {unknown}; known: engine")
    engine = engine_of(voice, options)
    tag = language or script.language
    scenes = [
        scene.model_copy(update={"speech": [speakable(s, engine, tag) for s in scene.narration]})
        for scene in script.scenes
    ]
    return script.model_copy(update={"scenes": scenes})
