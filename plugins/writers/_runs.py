"""The extractive writer's working material: sentences, runs of one section, scene chunks.

Moved out of ``extractive.py`` unchanged (issue 18's split of that module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["_Run", "_Sentence", "_chunk"]


@dataclass
class _Sentence:
    """One narratable sentence and where it came from."""

    text: str  # spoken form
    display: str  # on-screen form (for bullets)
    section: int
    pos: int  # position among the section's sentences
    lead: bool = False  # first sentence of its block
    item: str | None = None  # the whole list item, on its lead sentence
    keep: bool = True
    protected: bool = False
    score: float = 0.0
    items: list[str] = field(default_factory=list)  # a list read as a series: its items
    recap: bool = False  # the closing recap of section headings


@dataclass
class _Run:
    """Consecutive material of one section that becomes one or more scenes."""

    kind: str  # title | content | code | closing
    section: int
    heading: str
    sentences: list[_Sentence] = field(default_factory=list)
    code: str | None = None
    language: str | None = None
    key: bool = False
    dropped: bool = False

    def kept(self) -> list[_Sentence]:
        return [s for s in self.sentences if s.keep]


def _chunk(sentences: list[_Sentence], opts: dict[str, Any]) -> list[list[_Sentence]]:
    """Greedy split into scenes of at most N sentences / M words each.

    A lone last sentence takes one from the scene before, or joins it when that
    scene has two (then it holds three, one over a limit of two), so that every
    scene has sentences enough for two bullets.
    """
    chunks: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    count = 0
    for sentence in sentences:
        n = len(sentence.text.split())
        full = len(current) >= opts["max_sentences_per_scene"]
        if current and (full or count + n > opts["max_words_per_scene"]):
            chunks.append(current)
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        chunks.append(current)
    if len(chunks) > 1 and len(chunks[-1]) == 1:  # no lone sentence at the end
        if len(chunks[-2]) > 2:
            chunks[-1].insert(0, chunks[-2].pop())
        else:
            chunks[-2].extend(chunks.pop())
    return chunks
