"""Speech speed: realtime factor of espeak-ng and piper over a real README's narration.

The narration is what the shipped spec speaks: the document is ingested and
the extractive writer makes the script; every scene's sentences are then
spoken one at a time, as the ``synthesize_speech`` providers do (text
normalisation included), into WAV files in a temporary folder, at the shipped
spec's rate of 140 words per minute (piper: through its measured
length_scale curve).

Prints, per engine: sentences, seconds of audio, wall seconds (model load
excluded and printed apart), realtime factor = audio s / wall s, and the
speaking rate in words per minute of audio. Also the CPU count and the load
average when the bench started: the figures are from a shared machine.

Usage: python bench/speech_speed.py [--document README.md] [--limit N] [--json]
piper needs ``pip install 'reelgraph[piper]'``; without it only espeak is measured.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _call(function: Callable[..., Any], **available: Any) -> Any:
    """Call a hook implementation with the parameters it declares."""
    names = inspect.signature(function).parameters
    return function(**{k: v for k, v in available.items() if k in names})


def narration(document: Path, work: Path) -> tuple[list[str], str]:
    """The script's sentences for ``document`` and its language, as the shipped spec makes them."""
    from reelgraph.plugins.ingest import markdown
    from reelgraph.plugins.writers import extractive
    from reelgraph.run.context import NodeContext

    ctx = NodeContext.for_testing(work / "script")
    doc = _call(markdown.ingest_document, source=document, format=None, ctx=ctx)
    script = _call(
        extractive.write_script,
        document=doc,
        duration_s=None,
        key_messages=[],
        feedback=[],
        options={},
        language=None,
        ctx=ctx,
    )
    return [s for scene in script.scenes for s in scene.narration], script.language


def measure(
    name: str,
    speak: Callable[[str, Path], Any],
    sentences: list[str],
    work: Path,
    load_s: float,
) -> dict[str, Any]:
    audio_s = 0.0
    started = time.perf_counter()
    for i, sentence in enumerate(sentences):
        audio_s += speak(sentence, work / f"{name}-{i:04d}.wav").duration_s
    wall_s = time.perf_counter() - started
    words = sum(len(s.split()) for s in sentences)
    return {
        "engine": name,
        "sentences": len(sentences),
        "audio_s": round(audio_s, 2),
        "wall_s": round(wall_s, 3),
        "load_s": round(load_s, 3),
        "realtime_factor": round(audio_s / wall_s, 1),
        "words_per_minute": round(words / (audio_s / 60), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--document", type=Path, default=ROOT / "README.md")
    parser.add_argument("--limit", type=int, default=None, help="speak only the first N sentences")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    from reelgraph.observe.logs import configure_logging
    from reelgraph.plugins.speech import espeak

    configure_logging(level="warning")  # plugin logs to stderr, warnings only
    load = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="speech-speed-") as tmp:
        work = Path(tmp)
        sentences, language = narration(args.document.resolve(), work)
        sentences = sentences[: args.limit] if args.limit else sentences
        voice = espeak.voice_for_language(language) or espeak.DEFAULT_VOICE

        started = time.perf_counter()
        espeak.synthesize_to_wav("Warm up.", work / "warm-espeak.wav", voice=voice)
        espeak_load = time.perf_counter() - started
        results.append(
            measure(
                f"espeak:{voice}",
                lambda text, path: espeak.synthesize_to_wav(
                    text, path, voice=voice, rate_wpm=140, language=language
                ),
                sentences,
                work,
                espeak_load,
            )
        )
        try:
            from reelgraph.plugins.speech import piper as piper_tts

            model = piper_tts.default_voice_path()
            piper_tts._piper()
        except Exception as err:  # noqa: BLE001 - report and go on with espeak only
            print(f"piper not measured: {err}", file=sys.stderr)
        else:
            started = time.perf_counter()
            with piper_tts._LOCK:
                piper_tts.load_voice(model)
            piper_load = time.perf_counter() - started
            results.append(
                measure(
                    f"piper:{model.stem}",
                    lambda text, path: piper_tts.synthesize_to_wav(
                        text, path, model, language, piper_tts.length_scale_for(140, model)
                    ),
                    sentences,
                    work,
                    piper_load,
                )
            )

    report = {
        "document": str(args.document),
        "language": language,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(load[0], 2),
        "engines": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{report['document']} ({language}): {results[0]['sentences']} sentences; "
        f"{report['cpus']} CPUs, load average {report['load_average_1m_at_start']} at start"
    )
    print(
        f"{'engine':28} {'audio s':>8} {'wall s':>8} {'load s':>7} {'realtime x':>10} {'words/min':>9}"
    )
    for r in results:
        print(
            f"{r['engine']:28} {r['audio_s']:8.1f} {r['wall_s']:8.2f} {r['load_s']:7.2f} "
            f"{r['realtime_factor']:10.1f} {r['words_per_minute']:9.1f}"
        )


if __name__ == "__main__":
    main()
