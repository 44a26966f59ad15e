"""Render this project's README.md into a video and report how fast it went.

Prints, from one run on this machine:
  - wall seconds, video seconds and realtime factor (video s / wall s) of
    ``reelgraph run document-to-video -i document=README.md`` (a subprocess,
    as a user runs it), and its peak RSS (largest process: Python or ffmpeg);
  - per-node seconds from run.json;
  - the realtime factor of a naive frame-by-frame encode of the same slides
    (``ffmpeg -loop 1 -framerate 30 -t D``, libx264, one run per slide), which
    is what the segment-and-stream-copy assembler avoids;
  - the wall time of ``reelgraph --help`` (median of 10).

Usage: python bench/render_readme.py [--document README.md] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent


def video_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration) / av.time_base


def render(document: Path, work: Path) -> dict:
    out = work / "out"
    env = {**__import__("os").environ, "REELGRAPH_HOME": str(work / "home")}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reelgraph.cli",
            "run",
            "document-to-video",
            "-i",
            f"document={document}",
            "-o",
            str(out),
            "--json",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    record = json.loads((out / "run.json").read_text())
    seconds = video_seconds(out / "video.mp4")
    return {
        "wall_s": wall,
        "video_s": seconds,
        "realtime_factor": seconds / wall,
        "peak_rss_mib": peak_kib / 1024,
        "nodes_s": {n["id"]: n["seconds"] for n in record["nodes"]},
        "run_dir": record["run_dir"],
    }


def naive_encode(run_dir: Path, work: Path) -> dict:
    """Frame-by-frame encode of every slide for its scene's duration, as ffmpeg -loop 1 does."""
    import wave

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    slides = sorted((run_dir / "slides").rglob("*.png"))
    total_video = 0.0
    started = time.perf_counter()
    for index, slide in enumerate(slides):
        scene_dir = run_dir / "narration" / slide.parent.name
        speech = 0.0
        for wav in scene_dir.glob("*.wav"):
            with wave.open(str(wav)) as handle:
                speech += handle.getnframes() / handle.getframerate()
        duration = speech + 0.75
        total_video += duration
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-loop",
                "1",
                "-framerate",
                "30",
                "-t",
                f"{duration:.3f}",
                "-i",
                str(slide),
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-r",
                "30",
                str(work / f"naive-{index:03d}.mp4"),
            ],
            check=True,
        )
    wall = time.perf_counter() - started
    return {
        "slides": len(slides),
        "video_s": total_video,
        "wall_s": wall,
        "realtime_factor": total_video / wall,
    }


def help_seconds() -> float:
    exe = shutil.which("reelgraph")
    command = [exe, "--help"] if exe else [sys.executable, "-m", "reelgraph.cli", "--help"]
    times = []
    for _ in range(10):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--document", type=Path, default=ROOT / "README.md")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelgraph-bench-") as tmp:
        work = Path(tmp)
        pipeline = render(args.document.resolve(), work)
        naive = naive_encode(Path(pipeline.pop("run_dir")), work)
    result = {"pipeline": pipeline, "naive_loop1": naive, "help_s": help_seconds()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    p, n = pipeline, naive
    print(
        f"document-to-video on {args.document.name}: {p['video_s']:.1f} s of video in "
        f"{p['wall_s']:.1f} s wall = {p['realtime_factor']:.1f}x realtime, peak RSS {p['peak_rss_mib']:.0f} MiB"
    )
    print("  nodes: " + ", ".join(f"{k} {v:.2f}s" for k, v in p["nodes_s"].items()))
    print(
        f"naive -loop 1 encode of the same {n['slides']} slides: {n['video_s']:.1f} s of video in "
        f"{n['wall_s']:.1f} s = {n['realtime_factor']:.1f}x realtime (video only, no audio or captions)"
    )
    print(f"reelgraph --help: {result['help_s'] * 1000:.0f} ms (median of 10)")


if __name__ == "__main__":
    main()
