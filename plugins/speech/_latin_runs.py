"""Runs of Latin-script words inside Japanese text, marked for espeak-ng's English voice.

espeak-ng's Japanese voice spells Latin words out letter by letter (measured
at 165 words a minute: "Debian" 1.66 s against 0.48 s in the English voice,
"Free Software Foundation" 6.26 s against 1.49 s); its Mandarin and Korean
voices switch to English rules by themselves. So in a Japanese sentence each
run of Latin words is wrapped in an SSML ``<voice xml:lang="en-us">`` element
(espeak-ng ``docs/markup.md``: ``voice`` with ``xml:lang`` selects a voice by
language for its content) and the sentence is spoken as one utterance: no
pause at the switches (none of 0.2 s or more in the Debian FAQ's "Debian
プロジェクトは Free Software Foundation の GNU プロジェクト..." sentence,
17.3 s as spelled, 11.1 s marked).

espeak's word events then point into the markup;
:meth:`Marked.source_index` maps them back onto the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MIN_RUN_LETTERS", "Marked", "mark_latin_runs"]

#: A run needs this many letters to switch voice: a single letter ("j キー")
#: reads much the same in either voice.
MIN_RUN_LETTERS = 2
# Latin words (ASCII letters first, then letters, digits and the marks inside
# names: GNU/Linux, e.g., C++, don't), separated by spaces.
_RUN = re.compile(r"[A-Za-z][\w'’./+-]*(?:[ \t]+[A-Za-z][\w'’./+-]*)*", re.ASCII)
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


@dataclass(frozen=True, slots=True)
class Marked:
    """SSML for espeak (``espeakSSML``, no ``<speak>`` root) and, per markup
    character, the index of the text character it stands for (-1: a tag)."""

    ssml: str
    owners: tuple[int, ...]
    runs: int

    def source_index(self, position: int) -> int:
        """The text index of 0-based markup ``position``: its own, or the next text
        character's when it falls on a tag (the end of the text past the last)."""
        for owner in self.owners[max(0, position) :]:
            if owner >= 0:
                return owner
        return max((o for o in self.owners if o >= 0), default=-1) + 1


def mark_latin_runs(text: str, voice: str = "en-us") -> Marked | None:
    """``text`` as SSML with each run of Latin words of :data:`MIN_RUN_LETTERS`
    letters or more in ``<voice xml:lang="VOICE">``; ``None`` when it has no such run.

    Everything else is XML-escaped (``&``, ``<``, ``>``, ``"``), so the text
    is never read as markup.
    """
    runs = [m for m in _RUN.finditer(text) if sum(ch.isalpha() for ch in m.group()) >= 2]
    if not runs:
        return None
    parts: list[str] = []
    owners: list[int] = []

    def plain(start: int, end: int) -> None:
        for i in range(start, end):
            escaped = _ESCAPES.get(text[i], text[i])
            parts.append(escaped)
            owners.extend([i] * len(escaped))

    def tag(markup: str) -> None:
        parts.append(markup)
        owners.extend([-1] * len(markup))

    at = 0
    for match in runs:
        plain(at, match.start())
        tag(f'<voice xml:lang="{voice}">')
        plain(match.start(), match.end())
        tag("</voice>")
        at = match.end()
    plain(at, len(text))
    return Marked("".join(parts), tuple(owners), len(runs))
