"""What every speech provider does around its engine: one WAV per sentence, progress, a log line."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph.models import Narration, SpeechSegment

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["speak_sentences"]


def speak_sentences(
    texts: Sequence[str],
    name: str,
    speak: Callable[[str, Path], SpeechSegment],
    ctx: NodeContext,
) -> Narration:
    """Speak ``texts`` one by one into ``ctx.workdir/sentence-NNN.wav``.

    Args:
        texts: the sentences, checked by the provider.
        name: the engine and voice, ``"espeak:fr"`` or ``"piper:en_US-joe-medium"``.
        speak: ``speak(text, wav_path)`` synthesises one sentence.
        ctx: the node context (progress per sentence, one log line at the end).

    Returns:
        The narration: one segment per sentence; its duration is their sum, in seconds.
    """
    started = time.perf_counter()
    segments = []
    for i, text in enumerate(texts):
        segments.append(speak(text, ctx.workdir / f"sentence-{i:03d}.wav"))
        ctx.progress(i + 1, len(texts))
    duration_s = sum(segment.duration_s for segment in segments)
    ctx.log.info(
        "speech synthesized",
        voice=name,
        sentences=len(segments),
        duration_s=round(duration_s, 3),
        wall_s=round(time.perf_counter() - started, 3),
    )
    return Narration(segments=segments, voice=name, duration_s=duration_s)
