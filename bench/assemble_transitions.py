"""What crossfades and a music bed cost the ``ffmpeg`` assembler, in CPU seconds.

The input of ``bench/assemble_speed.py`` (15 scenes of 1920x1080 slides, three
sine-tone sentences each, 180 s of video), or with ``--clips`` the same
scenes shown by moving clips (ffmpeg ``testsrc``, 1920x1080, 25 fps, as long
as their scene). Each variant runs ``--repeat`` times; the median CPU seconds
(this process and its ffmpeg children) and wall seconds are printed:

- ``cut``: the fast path (still segments encoded once, packet-copy joins);
- ``fade``: ``transition: fade`` (0.4 s crossfades at the 14 boundaries; the
  stills then also lose their quick motion search, see ``_segments``);
- ``cut + music`` and ``fade + music``: an 8 s music file (ffmpeg
  ``aevalsrc``, MP3) looped under the video and ducked.

Wall seconds are noisy when other work shares the machine; CPU seconds less.
Usage::

    python bench/assemble_transitions.py [--scenes 15] [--scene-s 12] [--repeat 3] [--clips]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assemble_speed import FPS, PAUSE_S, build_inputs, cpu_seconds  # noqa: E402

from reelgraph.plugins.assembly.ffmpeg import assemble_video  # noqa: E402
from reelgraph.run.context import NodeContext  # noqa: E402


def make_music(ffmpeg: str, path: Path) -> Path:
    """8 s of two tones with a slow swell, as MP3 (looped under the video)."""
    tone = "0.2*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*330*t)"
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    cmd += ["-i", f"aevalsrc={tone}:s=44100:d=8", "-c:a", "libmp3lame", str(path)]
    subprocess.run(cmd, check=True)
    return path


def as_clips(ffmpeg: str, root: Path, visuals, narrations):
    """Each scene's slide replaced by a moving testsrc clip as long as the scene."""
    clips = []
    for visual, narration in zip(visuals, narrations, strict=True):
        seconds = narration.duration_s + PAUSE_S
        path = root / f"clip_{visual.scene_index:02d}.mp4"
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
        cmd += ["-i", f"testsrc=size=1920x1080:rate=25:duration={seconds:.3f}"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)]
        subprocess.run(cmd, check=True)
        clips.append(
            visual.model_copy(update={"kind": "video", "path": path, "duration_s": seconds})
        )
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=15)
    parser.add_argument("--scene-s", type=float, default=12.0, help="seconds per scene")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clips", action="store_true", help="moving clips instead of slides")
    args = parser.parse_args()
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="reelgraph-bench-") as tmp:
        root = Path(tmp)
        script, visuals, narrations = build_inputs(root, args.scenes, args.scene_s)
        if args.clips:
            visuals = as_clips(ffmpeg, root, visuals, narrations)
        music = str(make_music(ffmpeg, root / "music.mp3"))
        variants = {
            "cut": {},
            "fade": {"transition": "fade"},
            "cut + music": {"music": music},
            "fade + music": {"transition": "fade", "music": music},
        }
        print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
        shown = "clips" if args.clips else "slides"
        for name, options in variants.items():
            cpu, wall = [], []
            for n in range(args.repeat):
                ctx = NodeContext.for_testing(
                    root / f"run_{n}", node_id="video", hook="assemble_video"
                )
                w, c = time.perf_counter(), cpu_seconds()
                video = assemble_video(
                    script=script, visuals=visuals, narrations=narrations, fps=FPS,
                    pause_s=PAUSE_S, options=options, ctx=ctx,
                )  # fmt: skip
                wall.append(time.perf_counter() - w)
                cpu.append(cpu_seconds() - c)
            print(
                f"{name:>13} ({args.scenes} scenes of {shown}, {video.duration_s:.1f} s): "
                f"median {statistics.median(cpu):.2f} CPU s, {statistics.median(wall):.2f} s wall "
                f"(CPU s per run: {', '.join(f'{c:.2f}' for c in cpu)})"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
