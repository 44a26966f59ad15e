"""The extractive writer's key messages and fitting to a given target.

Sentences are dropped lowest-ranked first (later in their section ranks
lower; sections holding a key message rank higher; each kept scene keeps one
sentence), then whole scenes (code before content, last sections first;
never a key message's section), then the closing scene, then the best
dropped sentences come back while the estimate fits. The estimate is
:func:`.estimate.estimate_s`, the ``duration`` gate's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from reelgraph.models import Document
from reelgraph.plugins._text import words
from reelgraph.plugins.writers._runs import _chunk, _Run, _Sentence
from reelgraph.plugins.writers.estimate import TOLERANCE_S, estimate_s, sentence_s

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "_STOPWORDS",
    "_estimate_s",
    "_fit",
    "_mark_keys",
    "_units",
    "dropped_sections",
    "fitted_length",
    "too_short",
]

_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "is",
        "it", "of", "on", "or", "that", "the", "this", "to", "was", "we", "what", "when",
        "where", "which", "who", "why", "will", "with", "you", "your",
    }
)  # fmt: skip


def _mark_keys(runs: list[_Run], keys: list[str], ctx: NodeContext) -> None:
    """Protect, for each key message, the best-matching section and sentence."""
    for message in keys:
        wanted = set(words(message)) - _STOPWORDS or set(words(message))
        best: tuple[int, int] | None = None  # (overlap, -section)
        for run in runs:
            if run.kind == "closing":
                continue
            text = " ".join([run.heading, *(s.text for s in run.sentences)])
            overlap = len(wanted & set(words(text)))
            if overlap and (best is None or (overlap, -run.section) > best):
                best = (overlap, -run.section)
        if best is None:
            ctx.log.warning("key message not found in document", key_message=message)
            continue
        section = -best[1]
        candidates: list[_Sentence] = []
        for run in runs:
            if run.section == section and run.kind != "closing":
                run.key = True
                candidates.extend(run.sentences)
                for sentence in run.sentences:
                    sentence.score += 2.0
        if candidates:
            top = max(candidates, key=lambda s: len(wanted & set(words(s.text))))
            top.protected = True


def _estimate_s(runs: list[_Run], opts: dict[str, Any]) -> float:
    """Estimated seconds of the script the runs make now: :func:`.estimate.estimate_s`
    (the ``duration`` gate's estimate) of their kept sentences and scenes."""
    sentences: list[str] = []
    scenes = 0
    for run, kept in _units(runs):
        sentences.extend(s.text for s in kept)
        scenes += len(_chunk(kept, opts)) if run.kind == "content" else 1
    return estimate_s(
        sentences, scenes, opts["language"], opts["words_per_minute"], opts["scene_overhead_s"]
    )


def _sentence_s(sentence: _Sentence, opts: dict[str, Any]) -> float:
    return sentence_s(sentence.text, opts["language"], opts["words_per_minute"])


def _units(runs: list[_Run]) -> list[tuple[_Run, list[_Sentence]]]:
    """Live runs with their kept sentences; content runs of one section that
    touch (the code scene between them was dropped) are merged."""
    units: list[tuple[_Run, list[_Sentence]]] = []
    for run in runs:
        if run.dropped:
            continue
        last = units[-1][0] if units else None
        if last and run.kind == last.kind == "content" and run.section == last.section:
            units[-1][1].extend(run.kept())
        else:
            units.append((run, run.kept()))
    return units


def _fit(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Drop sentences, then whole scenes, lowest-ranked first, until the estimate fits.

    The shortest script this can make: the title with the document's first
    sentence (or, when the title scene has none, the first section's best
    sentence), one sentence per key-message section, and the closing line;
    the closing goes too when even that is over ``budget_s``. The caller
    compares the result with the target (it may still be over).
    """
    _keep_substance(runs)
    _drop_sentences(runs, budget_s, opts)
    if _estimate_s(runs, opts) > budget_s:
        _drop_scenes(runs, budget_s, opts)
        if _estimate_s(runs, opts) > budget_s:
            for run in runs:
                if run.kind == "closing":
                    run.dropped = True  # a short video ends on its content
        _restore_sentences(runs, budget_s, opts)
    for run in runs:
        for sentence in run.kept():  # the recap would name dropped sections
            if sentence.recap:
                sentence.keep = False


def _keep_substance(runs: list[_Run]) -> None:
    """Make sure the shortest script still says something of the document besides its title.

    The title scene's first sentence after the title (the document's opening
    sentence) is protected; without one, the first content run that is not
    a key section's is marked ``key`` (never dropped as a whole scene) unless
    a key section already gives the script its content.
    """
    title = runs[0] if runs and runs[0].kind == "title" else None
    intro = [s for s in title.sentences if not s.protected] if title else []
    if intro:
        intro[0].protected = True
        return
    if any(run.key and run.kind == "content" for run in runs):
        return
    first = next((run for run in runs if run.kind == "content"), None)
    if first is not None:
        first.key = True


def dropped_sections(runs: list[_Run]) -> list[str]:
    """Headings of the sections that had a content or code scene and now have none, in
    document order (a section split into runs is named once)."""
    had: dict[int, str] = {}
    live: set[int] = set()
    for run in runs:
        if run.kind not in ("content", "code"):
            continue
        had.setdefault(run.section, run.heading)
        if not run.dropped and run.kept():
            live.add(run.section)
    return [heading for section, heading in had.items() if section not in live]


def fitted_length(runs: list[_Run], length: str, ctx: NodeContext) -> str:
    """``length`` with what fitting the target left out; the same is logged."""
    sections = dropped_sections(runs)
    closing = any(run.kind == "closing" and run.dropped for run in runs)
    if not sections and not closing:
        return length
    ctx.log.info("left out to fit the target", sections=sections, closing=closing)
    parts = []
    if sections:
        named = ", ".join(sections[:_NAMED_SECTIONS])
        more = len(sections) - _NAMED_SECTIONS
        named += f" and {more} more" if more > 0 else ""
        parts.append(f"{len(sections)} section{'s' if len(sections) > 1 else ''} ({named})")
    if closing:
        parts.append("the closing scene")
    return f"{length}; left out to fit it: {' and '.join(parts)}"


def too_short(document: Document, duration_s: float, shortest: float, keys: list[str]) -> str:
    """The one-line refusal of a target the shortest script overshoots (exit 2), naming
    that script's estimated length and the input to change."""
    kept = "its title and first sentence"
    if keys:
        kept = f"its title, first sentence and the sections of {len(keys)} key message(s)"
    need = math.ceil(shortest)
    fix = f"pass -i duration_s={need} or more"
    fix += " or fewer key_messages" if keys else " or leave duration_s out"
    return (
        f"duration_s = {duration_s:g} s is too short for {document.title!r}: the shortest "
        f"script the extractive writer can make ({kept}) is about {need} s, more than "
        f"{TOLERANCE_S:g} s over the target; {fix}"
    )


_NAMED_SECTIONS = 6  # the length record names at most this many left-out sections


def _drop_sentences(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Drop sentences in rank order, keeping one per scene, until the estimate fits.

    The estimate is kept up to date per scene group, so this is linear in the
    number of sentences times the size of the largest group.
    """
    units = [kept for _, kept in _units(runs)]
    content = [run.kind == "content" for run, _ in _units(runs)]
    scenes = [len(_chunk(kept, opts)) if c else 1 for kept, c in zip(units, content, strict=True)]
    alive = [len(kept) for kept in units]
    total = sum(_sentence_s(s, opts) for kept in units for s in kept)
    total += sum(scenes) * opts["scene_overhead_s"]
    order = sorted(
        (s.score, -s.section, -s.pos, u, i)
        for u, kept in enumerate(units)
        for i, s in enumerate(kept)
        if not s.protected
    )
    for *_, u, i in order:
        if total <= budget_s:
            return
        if alive[u] <= 1:
            continue
        sentence = units[u][i]
        sentence.keep = False
        alive[u] -= 1
        total -= _sentence_s(sentence, opts)
        if content[u]:
            count = len(_chunk([s for s in units[u] if s.keep], opts))
            total += (count - scenes[u]) * opts["scene_overhead_s"]
            scenes[u] = count


def _drop_scenes(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Drop the fewest whole scenes (code first, then later sections) that fits.

    Dropping more never lengthens the script, so a binary search finds how
    many; then dropped scenes that still fit come back, highest-ranked first
    (a short scene after a long one: in Chinese or Japanese one sentence can
    take half a minute, and dropping it alone would undershoot the target).
    """
    order = sorted(
        ((run.kind == "content", -run.section, -i), run)
        for i, run in enumerate(runs)
        if run.kind in ("content", "code") and not run.key
    )
    candidates = [run for _, run in order]

    def fits(count: int) -> bool:
        for n, run in enumerate(candidates):
            run.dropped = n < count
        return _estimate_s(runs, opts) <= budget_s

    low, high = 1, len(candidates)
    if not candidates or not fits(high):
        return  # as short as it gets: title, key sections, closing (all candidates dropped)
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    fits(low)
    for run in reversed(candidates[:low]):
        run.dropped = False
        if _estimate_s(runs, opts) > budget_s:
            run.dropped = True


def _restore_sentences(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Give scenes that survived back their best dropped sentences while the estimate fits.

    Dropping whole scenes frees more time than was needed; without this the
    script undershoots its target by up to a scene's worth of narration.
    """
    dropped = sorted(
        (
            (-s.score, s.section, s.pos, id(s), s)
            for run in runs
            if not run.dropped and run.kind == "content"
            for s in run.sentences
            if not s.keep
        ),
        key=lambda entry: entry[:4],
    )
    for *_, sentence in dropped[:_MAX_RESTORE]:
        sentence.keep = True
        if _estimate_s(runs, opts) > budget_s:
            sentence.keep = False


#: Bound on restore attempts: each re-estimates the script (linear in its size).
_MAX_RESTORE = 300
