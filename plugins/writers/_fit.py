"""The extractive writer's key messages and fitting to a given target.

Moved out of ``extractive.py`` unchanged (issue 18's split of that module):
sentences are dropped lowest-ranked first (later in their section ranks
lower; sections holding a key message rank higher; each kept scene keeps one
sentence), then whole scenes (code before content, last sections first),
then the best dropped sentences come back while the estimate fits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reelgraph.plugins._text import words
from reelgraph.plugins.writers._runs import _chunk, _Run, _Sentence

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["_STOPWORDS", "_estimate_s", "_fit", "_mark_keys", "_units"]

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
    """Estimated seconds: kept words at ``words_per_minute`` plus the per-scene overhead."""
    count_words = 0
    scenes = 0
    for run, kept in _units(runs):
        count_words += sum(len(s.text.split()) for s in kept)
        scenes += len(_chunk(kept, opts)) if run.kind == "content" else 1
    return count_words / opts["words_per_minute"] * 60 + scenes * opts["scene_overhead_s"]


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
    """Drop sentences, then whole scenes, lowest-ranked first, until the estimate fits."""
    _drop_sentences(runs, budget_s, opts)
    if _estimate_s(runs, opts) > budget_s:
        _drop_scenes(runs, budget_s, opts)
        _restore_sentences(runs, budget_s, opts)
    for run in runs:
        for sentence in run.kept():  # the recap would name dropped sections
            if sentence.recap:
                sentence.keep = False


def _drop_sentences(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Drop sentences in rank order, keeping one per scene, until the estimate fits.

    The estimate is kept up to date per scene group, so this is linear in the
    number of sentences times the size of the largest group.
    """
    units = [kept for _, kept in _units(runs)]
    content = [run.kind == "content" for run, _ in _units(runs)]
    scenes = [len(_chunk(kept, opts)) if c else 1 for kept, c in zip(units, content, strict=True)]
    alive = [len(kept) for kept in units]
    per_word = 60.0 / opts["words_per_minute"]
    total = sum(len(s.text.split()) for kept in units for s in kept) * per_word
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
        total -= len(sentence.text.split()) * per_word
        if content[u]:
            count = len(_chunk([s for s in units[u] if s.keep], opts))
            total += (count - scenes[u]) * opts["scene_overhead_s"]
            scenes[u] = count


def _drop_scenes(runs: list[_Run], budget_s: float, opts: dict[str, Any]) -> None:
    """Drop the fewest whole scenes (code first, then later sections) that fits.

    Dropping more never lengthens the script, so a binary search finds how many.
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
    if not fits(high):
        return  # as short as it gets: title, key sections, closing
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    fits(low)


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
