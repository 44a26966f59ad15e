"""How fast the ``ffmpeg`` assembler is, against a naive frame-by-frame encode.

Builds a synthetic input -- 15 scenes of 1920x1080 Pillow slides with text and
three sine-tone WAV sentences each (22050 Hz mono, 16-bit), pause 0.75 s, scenes
of 11.2-12.8 s (uneven, so most end mid-segment) adding up to 15 x 12 s = 180 s of
video -- then times:

1. ``assemble_video`` (segment encoded once + stream copies, 2 workers);
2. the naive way: each slide encoded frame by frame with
   ``-loop 1 -framerate 30 -t D`` (libx264, same CRF and preset, one scene at
   a time), joined by stream copy and muxed with the same audio.

Prints the realtime factor (video seconds / wall seconds) of each. Usage::

    python bench/assemble_speed.py [--scenes 15] [--scene-s 12] [--skip-naive]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import tempfile
import time
import wave
from array import array
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from reelgraph.models import Narration, Scene, Script, SpeechSegment, Visual
from reelgraph.plugins.assembly.ffmpeg import DEFAULT_OPTIONS, assemble_video
from reelgraph.run.context import NodeContext

RATE_HZ = 22_050
FPS = 30
PAUSE_S = 0.75
SENTENCES_PER_SCENE = 3


def make_slide(path: Path, index: int) -> Path:
    image = Image.new("RGB", (1920, 1080), (18 + 9 * index, 28, 58))
    draw = ImageDraw.Draw(image)
    draw.text((140, 110), f"Scene {index + 1}: a heading", fill="white", font=_font(84))
    for row in range(5):
        text = f"- Bullet point {row + 1} says something about topic {index + 1}"
        draw.text((170, 300 + 120 * row), text, fill=(230, 230, 230), font=_font(56))
    image.save(path)
    return path


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def make_tone(path: Path, seconds: float, freq_hz: float) -> int:
    """A sine tone WAV; returns its length in samples."""
    samples = round(seconds * RATE_HZ)
    period = array(
        "h", (round(9000 * math.sin(2 * math.pi * freq_hz * i / RATE_HZ)) for i in range(RATE_HZ))
    )
    pcm = (period * (samples // RATE_HZ + 1))[:samples]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE_HZ)
        wav.writeframes(pcm.tobytes())
    return samples


def build_inputs(root: Path, scenes: int, scene_s: float):
    script_scenes, visuals, narrations = [], [], []
    for i in range(scenes):
        # Scenes of uneven length (total unchanged), so most end mid-segment.
        jitter = 0.0 if scenes % 2 and i == scenes - 1 else (-1) ** i * (0.23 + 0.11 * (i // 2))
        speech_s = (scene_s + jitter - PAUSE_S) / SENTENCES_PER_SCENE
        sentences = [f"Scene {i + 1} sentence {j + 1} is spoken here." for j in range(3)]
        script_scenes.append(Scene(index=i, title=f"Scene {i + 1}", narration=sentences))
        slide = make_slide(root / f"slide_{i:02d}.png", i)
        visuals.append(
            Visual(scene_index=i, path=slide, width_px=1920, height_px=1080, alt_text="slide")
        )
        segments = []
        for j, text in enumerate(sentences):
            path = root / f"speech_{i:02d}_{j}.wav"
            n = make_tone(path, speech_s, 220 + 40 * j)
            segments.append(
                SpeechSegment(text=text, path=path, duration_s=n / RATE_HZ, sample_rate_hz=RATE_HZ)
            )
        total = sum(s.duration_s for s in segments)
        narrations.append(Narration(segments=segments, voice="tone", duration_s=total))
    return Script(title="Bench", scenes=script_scenes), visuals, narrations


def naive(ffmpeg: str, root: Path, visuals, narrations) -> float:
    """Frame-by-frame encode of each slide, then concat by copy and mux the audio."""
    parts = []
    for i, (visual, narration) in enumerate(zip(visuals, narrations, strict=True)):
        out = root / f"naive_{i:02d}.mp4"
        seconds = round((narration.duration_s + PAUSE_S) * FPS) / FPS
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-loop", "1"]
        cmd += ["-framerate", str(FPS), "-i", str(visual.path), "-t", f"{seconds:.6f}"]
        cmd += ["-c:v", "libx264", "-profile:v", "high", "-preset", DEFAULT_OPTIONS["preset"]]
        cmd += ["-tune", "stillimage", "-crf", str(DEFAULT_OPTIONS["crf"]), "-pix_fmt", "yuv420p"]
        subprocess.run([*cmd, str(out)], check=True)
        parts.append(out)
    listing = root / "naive.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    audio = root / "naive_audio.wav"
    with wave.open(str(audio), "wb") as out_wav:
        out_wav.setnchannels(1)
        out_wav.setsampwidth(2)
        out_wav.setframerate(RATE_HZ)
        for narration in narrations:
            for seg in narration.segments:
                with wave.open(str(seg.path), "rb") as wav:
                    out_wav.writeframes(wav.readframes(wav.getnframes()))
            out_wav.writeframes(b"\0" * 2 * round(PAUSE_S * RATE_HZ))
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0"]
    cmd += ["-i", str(listing), "-i", str(audio), "-c:v", "copy", "-c:a", "aac", "-ar", "48000"]
    subprocess.run([*cmd, "-movflags", "+faststart", str(root / "naive.mp4")], check=True)
    return sum(round((n.duration_s + PAUSE_S) * FPS) for n in narrations) / FPS


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg), in seconds."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def report(name: str, video_s: float, wall_s: float, cpu_s: float) -> None:
    print(
        f"{name}: {wall_s:.1f} s wall, {video_s / wall_s:.1f}x realtime; "
        f"{cpu_s:.1f} CPU s ({video_s / cpu_s:.1f} video s per CPU s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=15)
    parser.add_argument("--scene-s", type=float, default=12.0, help="seconds per scene")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="reelgraph-bench-") as tmp:
        root = Path(tmp)
        script, visuals, narrations = build_inputs(root, args.scenes, args.scene_s)
        ctx = NodeContext.for_testing(root / "run", node_id="assemble", hook="assemble_video")
        print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
        wall, cpu = time.perf_counter(), cpu_seconds()
        video = assemble_video(
            script=script, visuals=visuals, narrations=narrations, fps=FPS,
            pause_s=PAUSE_S, options={}, ctx=ctx,
        )  # fmt: skip
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(f"input: {args.scenes} scenes, {video.duration_s:.1f} s of 1920x1080 at {FPS} fps")
        report("assembler (segment + stream copy)", video.duration_s, wall, cpu)
        if not args.skip_naive:
            wall, cpu = time.perf_counter(), cpu_seconds()
            seconds = naive(ffmpeg, root, visuals, narrations)
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            report(f"naive -loop 1 -framerate {FPS} -t D", seconds, wall, cpu)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
