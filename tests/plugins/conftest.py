"""Small real media for plugin tests: Pillow PNGs, sine-tone WAVs, ffmpeg test clips."""

from __future__ import annotations

import math
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

from reelgraph.models import Narration, Scene, Script, SpeechSegment, Visual


def make_png(
    path: Path, size: tuple[int, int], color: tuple[int, int, int], label: str = ""
) -> Path:
    """A solid-colour PNG (``size`` in pixels) with an optional white label in a corner."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, color)
    if label:
        draw = ImageDraw.Draw(image)
        draw.text((20, 20), label, fill=(255, 255, 255), font=ImageFont.load_default(size=40))
    image.save(path)
    return path


def make_tone_wav(
    path: Path,
    seconds: float,
    *,
    rate_hz: int = 22_050,
    freq_hz: float = 440.0,
    channels: int = 1,
    amplitude: int = 8_000,
) -> int:
    """A 16-bit PCM sine tone; returns its length in samples (per channel)."""
    samples = round(seconds * rate_hz)
    tone = array(
        "h",
        (round(amplitude * math.sin(2 * math.pi * freq_hz * i / rate_hz)) for i in range(samples)),
    )
    if channels == 2:
        tone = array("h", (s for pair in zip(tone, tone, strict=True) for s in pair))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(tone.tobytes())
    return samples


def make_test_clip(path: Path, seconds: float, *, fps: int = 25, size: str = "320x240") -> Path:
    """A moving test pattern (ffmpeg ``testsrc``) encoded as H.264 MP4."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


class MediaFactory:
    """Builds a script with its visuals and narrations from a compact description."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def narration(self, sentences: list[tuple[str, float]], scene: int, **wav) -> Narration:
        segments = []
        for j, (text, seconds) in enumerate(sentences):
            path = self.root / f"speech_{scene}_{j}.wav"
            rate = wav.get("rate_hz", 22_050)
            samples = make_tone_wav(path, seconds, freq_hz=300 + 100 * j, **wav)
            segments.append(
                SpeechSegment(text=text, path=path, duration_s=samples / rate, sample_rate_hz=rate)
            )
        total = sum(s.duration_s for s in segments)
        return Narration(segments=segments, voice="tone", duration_s=total)

    def image(self, scene: int, size: tuple[int, int], color: tuple[int, int, int]) -> Visual:
        path = make_png(self.root / f"slide_{scene}.png", size, color, label=f"scene {scene}")
        return Visual(
            scene_index=scene, path=path, width_px=size[0], height_px=size[1], alt_text="slide"
        )

    def clip(self, scene: int, seconds: float) -> Visual:
        path = make_test_clip(self.root / f"clip_{scene}.mp4", seconds)
        return Visual(
            scene_index=scene,
            kind="video",
            path=path,
            width_px=320,
            height_px=240,
            alt_text="test pattern",
            duration_s=seconds,
        )

    @staticmethod
    def script(narrations: list[Narration], language: str = "en") -> Script:
        scenes = [
            Scene(index=i, title=f"Scene {i}", narration=[s.text for s in n.segments])
            for i, n in enumerate(narrations)
        ]
        return Script(title="Test video", scenes=scenes, language=language)


@pytest.fixture(scope="session")
def make_media() -> type[MediaFactory]:
    """The factory class, for module-scoped fixtures: ``make_media(root)``."""
    return MediaFactory


@pytest.fixture
def media(tmp_path: Path) -> MediaFactory:
    return MediaFactory(tmp_path / "media")
