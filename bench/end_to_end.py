"""End to end: ``reelgraph run document-to-video`` on real documents, against moviepy.

For each document, ``--runs`` times (a fresh ``REELGRAPH_HOME`` each time, so
nothing comes from the memo cache):

1. ``python -m reelgraph.cli run document-to-video -i document=DOC -i voice=en-us`` as a
   subprocess, as a user runs it: wall seconds, CPU seconds (user + system of
   the process tree), video seconds (PyAV) and the realtime factor (video s /
   wall s); per-node seconds from ``run.json``, and the seconds before the
   run starts (start-up: imports, plugins, plan) and after it ends (exit);
2. the ``ffmpeg`` assembler alone, in this process, on the run's own script,
   slides and narration (loaded from the run store): wall and CPU seconds;
3. (``--moviepy-runs``, default 1 per document) moviepy 2.x assembling the
   **same** slides and narration WAVs: one ``ImageClip`` per slide lasting its
   scene (speech + pause, whole frames, as the assembler times it) with the
   scene's sentence WAVs concatenated (``AudioFileClip``), the scenes
   concatenated and written with libx264 (preset medium, 2 threads) and AAC at
   the same frame size and fps. moviepy does less (no loudness normalisation,
   no captions), so the ratio flatters it.

The CLI runs with Python's bytecode cache, as an installed package does (pip
compiles a wheel's modules when it installs it): with the source tree's
modules compiled once into ``--pycache`` (``PYTHONPYCACHEPREFIX``, nothing
written into the tree) before the first timed run. An environment with
``PYTHONDONTWRITEBYTECODE=1`` otherwise compiles every reelgraph module from
source in every run (0.3 CPU s of a run's start-up, measured); pass
``--no-bytecode-cache`` to time that.

Prints best and median of each (the VM's speed swings up to 2x from minute to
minute; the load average before and after is printed too). A run whose quality
gate fails (exit 3) is still timed and says so: its other nodes all ran unless
the failing gate cancelled a slower one.

Documents: paths to Markdown, reStructuredText, text or HTML files; a
``*.dist-info/METADATA`` file stands for its long description (written to a
temporary ``.md``/``.rst``/``.txt`` by its ``Description-Content-Type``).
The default is three installed packages' descriptions (structlog, attrs, h11).

Needs moviepy for step 3: ``pip install -e ".[bench]"`` (moviepy 2.2 pins
Pillow < 12: install it into a separate virtualenv, or with ``--no-deps``,
to keep the project's Pillow), or pass ``--moviepy-runs 0``.

Usage::

    python bench/end_to_end.py [--document PATH ...] [--runs 3] [--moviepy-runs 1] [--json]
        [--pycache DIR | --no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import email
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from importlib import metadata
from pathlib import Path
from typing import Any

import av

DEFAULT_PACKAGES = ("structlog", "attrs", "h11")
FPS = 30
PAUSE_S = 0.75  # the shipped spec's default pause_s
_EXTENSIONS = {"text/markdown": ".md", "text/x-rst": ".rst", "text/plain": ".txt"}


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (ffmpeg, the CLI run)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def document_file(path: Path, work: Path) -> Path:
    """``path``, or for a wheel's METADATA its long description as a file of its own."""
    if path.name != "METADATA":
        return path
    message = email.message_from_bytes(path.read_bytes())
    kind = (message.get("Description-Content-Type") or "text/plain").split(";")[0].strip()
    name = f"{message.get('Name', path.parent.name)}{_EXTENSIONS.get(kind, '.txt')}"
    out = work / name
    out.write_text(str(message.get_payload()), encoding="utf-8")
    return out


def default_documents() -> list[Path]:
    found = []
    for name in DEFAULT_PACKAGES:
        files = metadata.distribution(name).files or []
        meta = next((f for f in files if f.name == "METADATA"), None)
        if meta is not None:
            found.append(Path(str(meta.locate())))
    return found


def video_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration) / av.time_base


# -- 1. the CLI run --------------------------------------------------------------------


#: the voice of the timed runs: espeak-ng's (the issue's figure is "with espeak"); piper,
#: the default English voice when installed, is timed by bench/speech_speed.py
VOICE = "en-us"


#: environment of the timed CLI runs (the bytecode cache's settings; see :func:`bytecode_cache`)
CLI_ENV: dict[str, str] = {}


def bytecode_cache(folder: Path | None) -> str:
    """Compile reelgraph's modules into ``folder`` and have the CLI runs read them from there.

    With ``PYTHONPYCACHEPREFIX`` set, Python keeps every module's bytecode
    under that folder (the standard library's and other packages' too), so
    an untimed run on a two-line document compiles what the run imports
    before the timed runs. ``None``: the runs inherit this environment as it
    is. Returns how the runs get their bytecode, for the report.
    """
    if folder is None:
        return "as this environment has it" + (
            " (PYTHONDONTWRITEBYTECODE=1: every run compiles reelgraph from source)"
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else ""
        )
    import reelgraph
    import reelgraph.plugins

    folder.mkdir(parents=True, exist_ok=True)
    CLI_ENV.update(PYTHONPYCACHEPREFIX=str(folder.resolve()), PYTHONDONTWRITEBYTECODE="")
    trees = [*reelgraph.__path__, *reelgraph.plugins.__path__]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *trees],
        env={**os.environ, **CLI_ENV},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="reelgraph-e2e-warm-") as tmp:
        warm = Path(tmp) / "warm.md"
        warm.write_text("# Warm-up\n\nThis run compiles what a run imports.\n", encoding="utf-8")
        run_pipeline(warm, Path(tmp))
    return f"compiled once into {folder} (PYTHONPYCACHEPREFIX), as an installed package's"


def run_pipeline(document: Path, work: Path) -> dict[str, Any]:
    home, out = work / "home", work / "out"
    env = {**os.environ, **CLI_ENV, "REELGRAPH_HOME": str(home)}
    command = [sys.executable, "-m", "reelgraph.cli", "run", "document-to-video"]
    command += ["-i", f"document={document}", "-i", f"voice={VOICE}", "-o", str(out), "--json"]
    launched = time.time()  # the run's own times (run.json) are wall-clock seconds
    wall, cpu = time.perf_counter(), cpu_seconds()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    exited = time.time()
    record_path = out / "run.json"
    if not record_path.is_file() or not (out / "video.mp4").is_file():
        raise SystemExit(f"the run made no video (exit {done.returncode}):\n{done.stderr[-3000:]}")
    record = json.loads(record_path.read_text())
    seconds = video_seconds(out / "video.mp4")
    return {
        "exit_code": done.returncode,
        "error": record.get("error"),
        "wall_s": wall,
        "cpu_s": cpu,
        "video_s": seconds,
        "realtime": seconds / wall,
        "nodes_s": {n["id"]: n["seconds"] for n in record["nodes"]},
        # serial costs around the nodes: process start to the run's start (imports,
        # plugins, plan, store), and the run's end to the process's exit
        "startup_s": record["started_at"] - launched,
        "after_run_s": exited - record["ended_at"],
        "home": home,
        "run_id": record["id"],
    }


def load_inputs(home: Path, run_id: str) -> tuple[Any, list[Any], list[Any]]:
    """The ``video`` node's inputs (script, slides, narrations) from the run store.

    Reads the ``nodes`` table read-only (no migration: the run just wrote it).
    """
    import sqlite3

    from reelgraph.store.artifacts import ArtifactStore
    from reelgraph.store.serialize import load_value

    artifacts = ArtifactStore(home / "artifacts")
    db = sqlite3.connect(f"file:{home / 'reelgraph.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT node_id, output FROM nodes WHERE run_id = ? AND node_id IN "
            "('script', 'slides', 'narration')",
            (run_id,),
        ).fetchall()
    finally:
        db.close()
    outputs = {node_id: json.loads(output) for node_id, output in rows}
    return tuple(  # type: ignore[return-value]
        load_value(outputs[key], artifacts, verify=False)
        for key in ("script", "slides", "narration")
    )


# -- 2. the assembler alone --------------------------------------------------------------


def run_assembler(inputs: tuple[Any, list[Any], list[Any]], work: Path) -> dict[str, Any]:
    from reelgraph.plugins.assembly.ffmpeg import assemble_video
    from reelgraph.run.context import NodeContext

    script, slides, narrations = inputs
    ctx = NodeContext.for_testing(work / "assemble", node_id="video", hook="assemble_video")
    wall, cpu = time.perf_counter(), cpu_seconds()
    video = assemble_video(
        script=script, visuals=slides, narrations=narrations, fps=FPS,
        pause_s=PAUSE_S, options={}, ctx=ctx,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "video_s": video.duration_s}


# -- 3. moviepy ----------------------------------------------------------------------


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def run_moviepy(inputs: tuple[Any, list[Any], list[Any]], work: Path) -> dict[str, Any]:
    from moviepy import (
        AudioFileClip,
        ImageClip,
        concatenate_audioclips,
        concatenate_videoclips,
    )

    _, slides, narrations = inputs
    width, height = slides[0].width_px, slides[0].height_px
    wall, cpu = time.perf_counter(), cpu_seconds()
    scenes, opened = [], []
    for slide, narration in zip(slides, narrations, strict=True):
        paths = [Path(segment.path) for segment in narration.segments]
        speech = sum(wav_seconds(p) for p in paths)
        frames = max(1, round((speech + PAUSE_S) * FPS)) if speech else 2 * FPS
        clip = ImageClip(str(slide.path)).with_duration(frames / FPS)
        if (clip.w, clip.h) != (width, height):
            clip = clip.resized((width, height))
        if paths:
            sounds = [AudioFileClip(str(p)) for p in paths]
            opened += sounds
            clip = clip.with_audio(concatenate_audioclips(sounds))
        scenes.append(clip)
    movie = concatenate_videoclips(scenes)
    out = work / "moviepy.mp4"
    movie.write_videofile(
        str(out), fps=FPS, codec="libx264", audio_codec="aac", audio_fps=48_000,
        preset="medium", threads=2, logger=None,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    for sound in opened:
        sound.close()
    return {"wall_s": wall, "cpu_s": cpu, "video_s": video_seconds(out)}


# -- report -------------------------------------------------------------------------


def best_median(values: list[float], *, high: bool = False) -> str:
    best = max(values) if high else min(values)
    return f"best {best:.1f}, median {statistics.median(values):.1f}"


def bench(document: Path, runs: int, moviepy_runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {"document": str(document), "pipeline": [], "assembler": []}
    results["moviepy"] = []
    results["load_before"] = os.getloadavg()[0]
    for index in range(runs):
        with tempfile.TemporaryDirectory(prefix="reelgraph-e2e-") as tmp:
            work = Path(tmp)
            pipeline = run_pipeline(document, work)
            inputs = load_inputs(pipeline.pop("home"), pipeline.pop("run_id"))
            results["pipeline"].append(pipeline)
            results["assembler"].append(run_assembler(inputs, work))
            if index < moviepy_runs:
                results["moviepy"].append(run_moviepy(inputs, work))
    results["load_after"] = os.getloadavg()[0]
    return results


def report(results: dict[str, Any]) -> None:
    pipeline, assembler, movie = results["pipeline"], results["assembler"], results["moviepy"]
    video_s = pipeline[0]["video_s"]
    print(
        f"\n{results['document']}: {video_s:.1f} s of video, {len(pipeline)} runs "
        f"(load average {results['load_before']:.1f} before, {results['load_after']:.1f} after)"
    )
    walls = [r["wall_s"] for r in pipeline]
    print(
        f"  end to end (reelgraph run): wall s {best_median(walls)}; "
        f"realtime x {best_median([r['realtime'] for r in pipeline], high=True)}; "
        f"CPU s {best_median([r['cpu_s'] for r in pipeline])}"
    )
    for r in pipeline:
        failed = f" (exit {r['exit_code']}: {str(r['error'])[:120]})" if r["exit_code"] else ""
        nodes = ", ".join(f"{k} {v:.2f}" for k, v in r["nodes_s"].items() if v is not None)
        print(
            f"    {r['wall_s']:.1f} s{failed} (CPU {r['cpu_s']:.1f}): start-up "
            f"{r['startup_s']:.2f}, {nodes}, after the run {r['after_run_s']:.2f}"
        )
    a_walls = [r["wall_s"] for r in assembler]
    print(
        f"  assembler alone: wall s {best_median(a_walls)} "
        f"({video_s / min(a_walls):.1f}x realtime at best); "
        f"CPU s {best_median([r['cpu_s'] for r in assembler])}"
    )
    if movie:
        m_walls = [r["wall_s"] for r in movie]
        print(
            f"  moviepy assembly of the same slides and WAVs: wall s {best_median(m_walls)} "
            f"({video_s / min(m_walls):.1f}x realtime at best); "
            f"CPU s {best_median([r['cpu_s'] for r in movie])}"
        )
        print(
            f"  moviepy / reelgraph end to end (median walls): "
            f"{statistics.median(m_walls) / statistics.median(walls):.1f}x; "
            f"moviepy / assembler alone: {statistics.median(m_walls) / statistics.median(a_walls):.1f}x"
        )
        # CPU seconds move less than wall seconds on a shared machine
        m_cpu = statistics.median(r["cpu_s"] for r in movie)
        print(
            f"  by CPU seconds (medians): moviepy / reelgraph end to end "
            f"{m_cpu / statistics.median(r['cpu_s'] for r in pipeline):.1f}x; "
            f"moviepy / assembler alone {m_cpu / statistics.median(r['cpu_s'] for r in assembler):.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--document", type=Path, action="append", default=[])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--moviepy-runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--pycache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "reelgraph-bench-pycache",
        help="where reelgraph's bytecode is compiled for the timed runs",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="time the runs with this environment's bytecode settings as they are",
    )
    args = parser.parse_args()
    documents = args.document or default_documents()
    bytecode = bytecode_cache(None if args.no_bytecode_cache else args.pycache)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    print(f"bytecode of the CLI runs: {bytecode}")
    everything = []
    with tempfile.TemporaryDirectory(prefix="reelgraph-docs-") as tmp:
        for document in documents:
            path = document_file(document.resolve(), Path(tmp))
            results = bench(path, args.runs, args.moviepy_runs)
            results["source"] = str(document)
            everything.append(results)
            if not args.json:
                report(results)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        print(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
