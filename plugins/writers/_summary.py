"""The extractive writer's length rule and its proportional summary.

The rule (issue 18, "a length people will watch"):

- ``duration_s`` given: that is the target;
- option ``full`` (spec input ``-i full=true``): everything is narrated;
- neither: a document whose full narration is estimated at
  :data:`DEFAULT_TARGET_S` (300 s, 5 minutes) or less is narrated whole; a
  longer one becomes a summary of about 300 s (:func:`summarize`).

Five minutes is the figure issue 18 asks for (a length a viewer of an
explainer sits through); it is a module constant, not a measured optimum.

The summary takes sentences from every top-level section in proportion to
the words the section has: section ``g`` with ``w_g`` narratable words keeps
about ``f * w_g`` words, ``f`` found by bisection as the largest share whose
estimate fits the target. Within a section the sentences are ranked: those a
key message protects first, then whole sentences before fragments (under
6 words, or starting in lower case: "Yes.", "followed by."), then higher
score (the writer's: a key message's section, earlier in its section), then
paragraph leads (a paragraph's first sentence states its topic), then
document order; each top-level section keeps at least its best sentence.
Code scenes are left out of a summary unless a key message is in their
section, or their top-level section has nothing else to narrate (its first
code scene stays: "Installation" over ``pip install``). Every kept sentence is logged with the section it came from
(``summary.sentence``), and every top-level section with its share
(``summary.section``), so the choice can be explained.

"Top-level" is the shallowest heading level below the title: a document with
one level-1 heading (its title) and level-2 sections groups by level 2; text
before the first such heading is a group of its own. Headings of one level
are told apart by their numbering, as plain text and PDF documents number
them: "Chapter 2. Getting Debian" or "2. Getting Debian" is above "2.1. What
is the latest version?" (depth = the count of numbers). In a document with
numbered headings an unnumbered one ("Abstract", a command line a plain-text
reader took for a heading) belongs to the numbered section around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reelgraph.models import Document

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULT_TARGET_S", "choose_target", "summarize", "top_sections"]

#: The default length of a long document's video, in seconds (see above).
DEFAULT_TARGET_S = 300.0
_BISECTIONS = 24


def choose_target(
    duration_s: float | None, full: bool, full_s: float
) -> tuple[float | None, str, bool]:
    """``(target seconds or None, why, summarize?)`` for a script whose whole narration takes ``full_s``.

    ``summarize`` is true only when the target is the default one (a
    proportional summary); a given target keeps the writer's own fitting.
    """
    if duration_s is not None:
        return float(duration_s), f"given: duration_s = {duration_s:g} s", False
    if full:
        return None, f"full: every sentence narrated (about {full_s:.0f} s)", False
    if full_s <= DEFAULT_TARGET_S:
        return (
            None,
            f"whole: the full narration (about {full_s:.0f} s) fits in {DEFAULT_TARGET_S:.0f} s",
            False,
        )
    return (
        DEFAULT_TARGET_S,
        f"summary: the full narration would take about {full_s:.0f} s; a summary of about "
        f"{DEFAULT_TARGET_S:.0f} s from every top-level section in proportion to its length "
        "(-i duration_s=N sets a length, -i full=true narrates everything)",
        True,
    )


def top_sections(document: Document) -> list[int]:
    """For each section, the index of the top-level section it belongs to (see module doc)."""
    numbered = any(_NUMBERED.match(s.heading) for s in document.sections if s.level > 0)
    ranks = [_rank(s.level, s.heading, numbered) for s in document.sections]
    levels = [rank for rank, s in zip(ranks, document.sections, strict=True) if s.level > 0]
    if not levels:
        return list(range(len(document.sections)))
    top = min(levels)
    deeper = [level for level in levels if level > top]
    if levels.count(top) == 1 and deeper:
        top = min(deeper)  # the single shallowest heading is the title
    groups: list[int] = []
    current = 0
    for i, (section, rank) in enumerate(zip(document.sections, ranks, strict=True)):
        if i == 0 or (section.level > 0 and rank <= top):
            current = i
        groups.append(current)
    return groups


# "Chapter 2.", "Appendix A.", "2.", "2.1.", "2.1.3" at the start of a heading
_NUMBERED = re.compile(
    r"^\s*(?:(?:chapter|part|appendix|section)\s+)?([0-9]+(?:\.[0-9]+)*|[A-Z])\.?(?:\s|$)",
    re.IGNORECASE,
)


def _rank(level: int, heading: str, numbered: bool) -> tuple[int, int]:
    """``(heading level, numbering depth)``: lower is nearer the top."""
    found = _NUMBERED.match(heading)
    if found:
        return (level, found.group(1).count(".") + 1)
    return (level, _UNNUMBERED if numbered else 1)


_UNNUMBERED = 99  # below every numbered heading of its level


def _words(sentence: Any) -> float:
    return len(sentence.text.split())


#: A sentence this short ("Yes.", "Go ahead.") says little on its own.
_FRAGMENT_WORDS = 6


def _fragment(sentence: Any, words: Callable[[Any], float] = _words) -> bool:
    """Whether a sentence is a poor summary line: very short, or the tail of a broken one
    (it starts in lower case: "followed by.")."""
    text = sentence.text.strip()
    return words(sentence) < _FRAGMENT_WORDS or text[:1].islower()


def summarize(
    runs: Sequence[Any],
    document: Document,
    budget_s: float,
    estimate_s: Callable[[], float],
    ctx: NodeContext,
    words: Callable[[Any], float] = _words,
) -> None:
    """Keep sentences from every top-level section in proportion to its length, to fit ``budget_s``.

    Args:
        runs: the writer's runs (``kind``, ``section``, ``key``, ``dropped``,
            ``sentences`` with ``text``, ``section``, ``pos``, ``lead``,
            ``protected``, ``score``, ``keep``, ``recap``); changed in place.
        document: the document the runs come from (its headings group them).
        budget_s: the target in seconds.
        estimate_s: the writer's estimate of the script as the runs now stand.
        ctx: the node context (the choice is logged).
        words: a sentence's length in words (default: split on spaces); the
            writer passes word equivalents of its spoken length, so that
            Chinese and Japanese, written without spaces, are measured too.
    """
    groups = top_sections(document)
    spoken = {groups[r.section] for r in runs if r.kind == "content" and r.sentences}
    shown: set[int] = set()
    for run in runs:
        if run.kind == "code" and not run.key:
            # a top-level section of code only ("Installation": pip install ...) keeps
            # its first code scene, as every other top-level section keeps a sentence
            group = groups[run.section]
            run.dropped = group in spoken or group in shown
            shown.add(group)
    content = [r for r in runs if r.kind == "content"]
    by_group: dict[int, list[Any]] = {}
    for run in content:
        by_group.setdefault(groups[run.section], []).extend(run.sentences)
    ranked = {
        g: sorted(
            sentences,
            key=lambda s: (
                not s.protected,
                _fragment(s, words),
                -s.score,
                not s.lead,
                s.section,
                s.pos,
            ),
        )
        for g, sentences in by_group.items()
    }
    totals = {g: sum(words(s) for s in sentences) for g, sentences in by_group.items()}

    def select(share: float) -> None:
        for g, sentences in ranked.items():
            quota = share * totals[g]
            taken, full = 0.0, False
            for n, sentence in enumerate(sentences):
                size = words(sentence)
                # in rank order until the quota is met: no short sentence fills the rest
                full = full or (n > 0 and taken + size > quota)
                sentence.keep = sentence.protected or not full
                taken += size if sentence.keep else 0
        for run in content:
            run.dropped = not any(s.keep for s in run.sentences)

    low, high = 0.0, 1.0
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        select(middle)
        if estimate_s() <= budget_s:
            low = middle
        else:
            high = middle
    select(low)
    for run in runs:
        for sentence in run.sentences:
            if sentence.recap:  # it would name sections the summary left out
                sentence.keep = False
    _explain(runs, document, groups, by_group, totals, low, ctx, words)


def _explain(
    runs: Sequence[Any],
    document: Document,
    groups: list[int],
    by_group: dict[int, list[Any]],
    totals: dict[int, float],
    share: float,
    ctx: NodeContext,
    words: Callable[[Any], float],
) -> None:
    for g, sentences in by_group.items():
        kept = [s for s in sentences if s.keep]
        ctx.log.info(
            "summary.section",
            section=document.sections[g].heading,
            sentences_kept=len(kept),
            sentences=len(sentences),
            words_kept=round(sum(words(s) for s in kept)),
            words=round(totals[g]),
        )
    for run in runs:
        if run.kind != "content" or run.dropped:
            continue
        for sentence in run.sentences:
            if sentence.keep:
                ctx.log.info(
                    "summary.sentence",
                    section=document.sections[sentence.section].heading,
                    top_section=document.sections[groups[sentence.section]].heading,
                    text=sentence.text[:80],
                )
    ctx.log.info("summary", share=round(share, 3), sections=len(by_group))
