"""Speed of the offline plugins, measured here (figures, not tests).

  slides   median seconds to render one 1920x1080 content slide with six
           bullets (drawing, PNG encode, atomic write), over 20 renders
  espeak   realtime factor (audio seconds / wall seconds) of libespeak-ng
           through the plugin, WAV writing included, over ~60 s of speech

Usage: python bench/plugin_speed.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import reelgraph.plugins.speech.espeak as espeak
import reelgraph.plugins.visuals.slides as slides
from reelgraph.models import Scene
from reelgraph.observe.logs import configure_logging
from reelgraph.run.context import NodeContext

SENTENCE = (
    "The scheduler runs every node as soon as its inputs exist, and independent "
    "nodes run at the same time up to a limit."
)


def slide_seconds(work: Path) -> float:
    scene = Scene(
        index=0,
        kind="content",
        title="How it works",
        bullets=[f"Point number {i} says something useful about the kernel" for i in range(6)],
    )
    ctx = NodeContext.for_testing(work)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def espeak_realtime(work: Path) -> tuple[float, float]:
    audio_s = 0.0
    started = time.perf_counter()
    for i in range(10):
        audio_s += espeak.synthesize_to_wav(SENTENCE, work / f"s{i}.wav").duration_s
    wall_s = time.perf_counter() - started
    return audio_s, audio_s / wall_s


def main() -> None:
    configure_logging("console", "warning")  # the plugins log every render at debug
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"slides: {slide_seconds(work) * 1000:.0f} ms per 1080p slide (median of 20)")
        audio_s, factor = espeak_realtime(work)
        print(f"espeak: {audio_s:.1f} s of speech at {factor:.0f}x realtime")


if __name__ == "__main__":
    main()
