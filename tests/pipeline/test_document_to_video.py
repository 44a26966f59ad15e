"""The offline main job end to end: a Markdown file becomes a narrated, captioned MP4."""

from __future__ import annotations

import json
import subprocess
import sys
from array import array
from pathlib import Path

import av
import pytest
import srt
import webvtt

from reelgraph import Kernel

DOC = """# Growing tomatoes

Tomatoes like sun and warmth. This short guide covers the basics.

## Planting

- Start seeds indoors six weeks before the last frost.
- Plant seedlings deep, up to the first leaves.

Water the soil, not the leaves, as explained on [our site](https://example.org/water).

## Harvest

Pick the fruit when it is fully coloured and slightly soft.

```python
ripe = [t for t in tomatoes if t.colour == "red"]
```
"""


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        info = {
            "codecs": sorted(s.codec_context.name for s in container.streams),
            "subtitle": [s.codec_context.name for s in container.streams.subtitles],
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": float(video.average_rate),
            "pix_fmt": video.codec_context.pix_fmt,
            "audio_rate": audio.codec_context.sample_rate,
            "duration_s": float(container.duration) / av.time_base,
        }
        peak = 0.0
        for frame in container.decode(audio=0):
            # AAC decodes to planar 32-bit float; read it without numpy
            assert frame.format.name == "fltp"
            samples = array("f", bytes(frame.planes[0]))[: frame.samples]
            peak = max(peak, max(map(abs, samples), default=0.0))
        info["audio_peak"] = peak
    return info


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple:
    root = tmp_path_factory.mktemp("render")
    doc = root / "tomatoes.md"
    doc.write_text(DOC)
    out = root / "out"
    kernel = Kernel(home=root / "home")
    run = kernel.run("document-to-video", inputs={"document": doc}, output_dir=out)
    return run, out


def test_run_succeeds_and_publishes_files(rendered) -> None:
    run, out = rendered
    assert run.status == "succeeded", run.error
    assert {p.name for p in out.iterdir()} >= {"video.mp4", "video.srt", "video.vtt"}
    # 6 steps (the voice check included), 4 gate nodes; the stock footage credits node
    # is skipped when the visuals are slides (-i visuals)
    statuses = {node_id: n.status for node_id, n in run.nodes.items()}
    assert statuses.pop("credits") == "skipped"
    assert list(statuses.values()) == ["succeeded"] * 10
    scenes = run.nodes["slides"].items
    assert scenes == run.nodes["narration"].items
    assert scenes >= 4  # title, two sections (one with code), closing


def test_mp4_is_web_safe_1080p_with_sound_and_a_caption_track(rendered) -> None:
    run, out = rendered
    info = probe(out / "video.mp4")
    assert info["codecs"] == ["aac", "h264", "mov_text"]
    assert (info["width"], info["height"]) == (1920, 1080)
    assert info["fps"] == pytest.approx(30.0)
    assert info["pix_fmt"] == "yuv420p"
    assert info["audio_rate"] == 48000
    assert info["audio_peak"] > 0.05  # speech, not silence


def test_duration_matches_the_narration(rendered) -> None:
    run, out = rendered
    info = probe(out / "video.mp4")
    narration_dir = run.run_dir / "narration"
    import wave

    speech_s = 0.0
    for wav in sorted(narration_dir.rglob("*.wav")):
        with wave.open(str(wav)) as handle:
            speech_s += handle.getnframes() / handle.getframerate()
    scenes = run.nodes["narration"].items
    expected = speech_s + scenes * run.inputs["pause_s"]
    assert info["duration_s"] == pytest.approx(expected, abs=0.5)


def test_captions_parse_in_order_inside_the_video(rendered) -> None:
    run, out = rendered
    duration = probe(out / "video.mp4")["duration_s"]
    cues = list(srt.parse((out / "video.srt").read_text(encoding="utf-8")))
    assert len(cues) >= 6
    starts = [c.start.total_seconds() for c in cues]
    assert starts == sorted(starts)
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start
    assert cues[-1].end.total_seconds() <= duration + 0.05
    text = " ".join(c.content for c in cues)
    assert "https://" not in text and "example.org" not in text
    assert "colour ==" not in text  # code is shown, never read
    assert "Water the soil" in text.replace("\n", " ")
    vtt = webvtt.read(str(out / "video.vtt"))
    assert [c.text for c in vtt] == [c.content for c in cues]


def test_cli_writes_run_json_with_node_timings(tmp_path) -> None:
    doc = tmp_path / "note.md"
    doc.write_text("# A note\n\nJust one line of text to say hello.\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reelgraph.cli",
            "run",
            "document-to-video",
            "-i",
            f"document={doc}",
            "-i",
            "aspect=9:16",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    first_line = result.stderr.splitlines()[0]
    record = json.loads((out / "run.json").read_text())
    assert first_line.startswith(f"run {record['id']}")
    assert record["status"] == "succeeded"
    assert [n["id"] for n in record["nodes"]] == [
        "document",
        "script",
        "script_quality",
        "slides",
        "shots_quality",
        "credits",  # stock footage's credits: skipped for slides (-i visuals)
        "voice",
        "narration",
        "video",
        "video_quality",
        "frames_quality",
    ]
    quality = json.loads((out / "quality.json").read_text())
    assert quality["run"] == record["id"] and quality["status"] == "succeeded"
    gates = {g["gate"] for g in quality["gates"]}
    assert {"captions", "accessibility", "loudness", "conformance", "black_silence"} <= gates
    assert all(g["passed"] or g["severity"] != "error" for g in quality["gates"])
    ran = [n for n in record["nodes"] if n["id"] != "credits"]
    assert all(n["status"] == "succeeded" and n["seconds"] >= 0 for n in ran)
    assert record["nodes"][5]["status"] == "skipped" and "credits" not in record["outputs"]
    assert record["outputs"]["video"].endswith("video.mp4")
    info = probe(out / "video.mp4")
    assert (info["width"], info["height"]) == (1080, 1920)
