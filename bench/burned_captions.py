"""Soft vs burned captions on a real document: what burning costs the assembler, two ways.

Runs document-to-video's nodes up to the narration once on a document (the
README by default: script, slides, espeak-ng speech), then times
``assemble_video`` on them, each ``--repeat`` times (median):

1. ``soft``: today's default, a mov_text track;
2. ``burned (Pillow)``: ``captions: burned``, each cue drawn onto its still,
   each distinct picture one IDR frame completed by shared skip frames, the
   pictures of consecutive stills piped to one ffmpeg run (the shipped way,
   ``assembly/_burn.py``);
3. ``burned (libass)``: the soft render, then its picture re-encoded through
   ffmpeg's ``ass`` filter (libass, in the imageio-ffmpeg build) with an ASS
   file written by pysubs2 from the same cues in the ``clean`` style (same
   x264 settings, 2 threads, audio copied): the cost of burning with libass
   where the stills' segments cannot be reused.

Prints wall and CPU seconds (this process plus its ffmpeg children) per way
and the burned/soft ratios. Wall time depends on the machine's load: the
load average is printed too. Usage::

    python bench/burned_captions.py [--document README.md] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from reelgraph import Kernel
from reelgraph.models import Narration, Script, Visual
from reelgraph.observe.logs import configure_logging
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.run.context import NodeContext

_SPEC = Path(__file__).resolve().parents[1] / "specs" / "document-to-video.yaml"
_KEEP = ("document", "script", "script_quality", "slides", "voice", "narration")


def prepare(document: Path, out: Path) -> tuple[Script, list[Visual], list[Narration]]:
    """The script, slides and narrations of document-to-video for ``document``."""
    spec = yaml.safe_load(_SPEC.read_text())
    spec["name"] = "bench-burned-captions"
    spec["nodes"] = [n for n in spec["nodes"] if n["id"] in _KEEP]
    spec["outputs"] = {"script": "$script", "slides": "$slides", "narration": "$narration"}
    run = Kernel().run(spec, {"document": str(document)}, output_dir=str(out))
    run.raise_for_status()
    o = run.outputs
    return (
        Script.model_validate(o["script"]),
        [Visual.model_validate(v) for v in o["slides"]],
        [Narration.model_validate(n) for n in o["narration"]],
    )


def cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def assemble(inputs: tuple[Any, ...], options: dict[str, Any], workdir: Path) -> Any:
    script, visuals, narrations = inputs
    ctx = NodeContext.for_testing(workdir, node_id="video")
    return assemble_video(
        script=script, visuals=visuals, narrations=narrations, fps=30, pause_s=0.75,
        options=options, ctx=ctx,
    )  # fmt: skip


def libass_pass(video: Any, workdir: Path) -> None:
    """Re-encode the soft render's picture through libass with the cues as ASS (pysubs2)."""
    import imageio_ffmpeg
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(video.width_px), str(video.height_px)
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname="DejaVu Sans", fontsize=48, primarycolor=pysubs2.Color(255, 255, 255),
        outlinecolor=pysubs2.Color(0, 0, 0), backcolor=pysubs2.Color(0, 0, 0, 115),
        outline=3, shadow=0, borderstyle=1, alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginv=54,
    )  # fmt: skip
    for cue in video.captions:
        text = cue.text.replace("\n", "\\N")
        subs.append(pysubs2.SSAEvent(start=round(cue.start_s * 1000), end=round(cue.end_s * 1000),
                                     text=text))  # fmt: skip
    ass = workdir / "captions.ass"
    subs.save(str(ass))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-i", str(video.path), "-vf", f"ass={ass}", "-map", "0:v", "-map", "0:a"]
    cmd += ["-c:v", "libx264", "-profile:v", "high", "-preset", "medium", "-crf", "20"]
    cmd += ["-tune", "stillimage", "-threads", "2", "-c:a", "copy"]
    subprocess.run([*cmd, str(workdir / "burned_libass.mp4")], check=True)


def timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = fn()
    return time.perf_counter() - wall, cpu_seconds() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--document", type=Path, default=Path("README.md"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-libass", action="store_true", help="time soft and Pillow only")
    args = parser.parse_args()
    configure_logging(level="warning")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reelgraph-bench-burn-") as tmp:
        root = Path(tmp)
        inputs = prepare(args.document, root / "prep")
        print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
        figures: dict[str, list[tuple[float, float]]] = {"soft": [], "pillow": [], "libass": []}
        video = None
        for k in range(args.repeat):
            wall, cpu, video = timed(partial(assemble, inputs, {}, root / f"soft{k}"))
            figures["soft"].append((wall, cpu))
            opts = {"captions": "burned", "caption_style": "clean"}
            wall_b, cpu_b, _ = timed(partial(assemble, inputs, opts, root / f"burn{k}"))
            figures["pillow"].append((wall_b, cpu_b))
            wall_l, cpu_l = float("nan"), float("nan")
            if not args.skip_libass:
                wall_l, cpu_l, _ = timed(partial(libass_pass, video, root / f"soft{k}"))
            figures["libass"].append((wall + wall_l, cpu + cpu_l))
            print(
                f"round {k + 1}: soft {wall:.1f} s wall {cpu:.1f} CPU s; Pillow {wall_b:.1f} / "
                f"{cpu_b:.1f}; libass {wall + wall_l:.1f} / {cpu + cpu_l:.1f} "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        assert video is not None
        print(
            f"{args.document}: {video.duration_s:.1f} s of video, {len(video.captions)} cues, "
            f"{len(inputs[0].scenes)} scenes; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs; medians of {args.repeat}"
        )
        soft_wall = statistics.median(w for w, _ in figures["soft"])
        soft_cpu = statistics.median(c for _, c in figures["soft"])
        for name, label in (("soft", "soft"), ("pillow", "burned (Pillow)"),
                            ("libass", "burned (libass)")):  # fmt: skip
            wall = statistics.median(w for w, _ in figures[name])
            cpu = statistics.median(c for _, c in figures[name])
            print(
                f"  {label:<16} {wall:6.1f} s wall ({wall / soft_wall:.2f}x soft), "
                f"{cpu:6.1f} CPU s ({cpu / soft_cpu:.2f}x soft)"
            )


if __name__ == "__main__":
    main()
