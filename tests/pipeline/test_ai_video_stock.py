"""A whole ``ai-video`` run on stock footage against the fake Pexels and Pixabay APIs, offline
roles, captions burned on the clips (issue 18).

Slow (a whole render per library): ``pytest -m slow tests/pipeline/test_ai_video_stock.py -s``
prints wall and CPU seconds, burned and soft, for the closing note.
"""

from __future__ import annotations

import difflib
import json
import os
import resource
import time
from pathlib import Path

import av
import pytest
import webvtt
import yaml

from reelgraph import Kernel, load_spec
from tests.fakes.runway_server import tiny_mp4
from tests.plugins.test_stock_footage import LIBRARIES

SPEC = Path(__file__).resolve().parents[2] / "specs" / "ai-video.yaml"
BRIEF = {
    "title": "Solar power at home",
    "goal": "Show how a household can run on sunlight.",
    "audience": "home owners",
    "key_messages": [
        "Panels on the roof turn sunlight into electricity",
        "A battery keeps the lights on at night",
    ],
    "duration_s": 25,
    "tone": "plain",
    "style": "clean",
    "template": "presentation",
}


def _cpu_s() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _seconds(stamp: str) -> float:
    """``HH:MM:SS.mmm`` (WebVTT) in seconds (webvtt-py's ``start_in_seconds`` is whole)."""
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _ocr_match(expected: str, read: str) -> float:
    """Share of the cue's characters (spaces ignored) that OCR read, in order."""
    a, b = "".join(expected.split()), "".join(read.split())
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(a)


def _run(name: str, tmp_path: Path, monkeypatch, captions: str) -> tuple[object, float, float]:
    library = LIBRARIES[name]
    brief = tmp_path / "brief.yaml"
    brief.write_text(yaml.safe_dump(BRIEF), encoding="utf-8")
    mp4 = tiny_mp4(tmp_path / "source.mp4", seconds=3.0, size="640x360")
    with library.fake(mp4, key=library.key) as fake:
        monkeypatch.setenv(library.key_variable, library.key)
        monkeypatch.setenv(library.base_variable, fake.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        inputs = {"brief": str(brief), "video": name, "captions": captions}
        wall, cpu = time.perf_counter(), _cpu_s()
        run = Kernel(home=tmp_path / "home").run(load_spec(SPEC), inputs)
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        assert fake.downloads, "no clip was downloaded"
    return run, wall, cpu


@pytest.mark.slow  # a whole render per library; run with -m slow
@pytest.mark.parametrize("name", ["pexels", "pixabay"])
def test_ai_video_on_stock_footage_with_burned_captions(name, tmp_path, monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    pytesseract.get_tesseract_version()  # fails (not skips) without the tesseract binary
    run, wall, cpu = _run(name, tmp_path, monkeypatch, "burned")
    assert run.status == "succeeded", run.error
    assert run.nodes["clips"].fallback is None and run.cost_usd == 0
    # every gate passed
    record = run.to_dict()
    failed = [g for g in record["quality"] if not g["passed"]]
    assert not failed, failed
    checks = {g["details"].get("check") for g in record["quality"] if g["gate"] == "accessibility"}
    assert {"caption_contrast", "caption_glyphs"} <= checks
    # credits.txt lists every clip
    shots = run.outputs["shots"].shots
    credits = Path(run.outputs["credits"]).read_text()
    assert credits.count("video by") == len(shots) >= 2
    # the captions are burned on the clips: no soft track, and OCR reads a cue on a clip
    video = Path(run.outputs["video"])
    burned = json.loads(Path(run.outputs["burned_captions"]).read_text())["cues"]
    on_clip = [r for r in burned if r.get("on") == "clip"]
    assert on_clip and all(r["contrast"] >= 4.5 for r in burned)
    with av.open(str(video)) as container:
        assert not container.streams.subtitles
    # the caption track's cues (webvtt-py): the burned text is theirs, at their times
    cues = list(webvtt.read(run.outputs["captions_vtt"]))
    entry = on_clip[len(on_clip) // 2]
    cue = cues[entry["cue"] - 1]
    assert cue.text == entry["text"]
    middle = (_seconds(cue.start) + _seconds(cue.end)) / 2
    with av.open(str(video)) as container:
        frame = next(
            f for f in container.decode(video=0) if f.time is not None and f.time >= middle
        )
        picture = frame.to_image()
    text = pytesseract.image_to_string(picture.crop(tuple(entry["box"])), lang="eng")
    assert _ocr_match(cue.text, text) >= 0.8, (cue.text, text)
    print(
        f"\nai-video -i video={name} -i captions=burned: {len(shots)} shots, "
        f"{len(cues)} cues ({len(on_clip)} on clips), {wall:.1f} s wall, {cpu:.1f} CPU s "
        f"(load average {os.getloadavg()[0]:.1f}); OCR {_ocr_match(cue.text, text):.0%} "
        f"of cue {entry['cue']}"
    )


@pytest.mark.slow  # four whole renders: the figure for the closing note
def test_burned_against_soft_on_stock_footage(tmp_path, monkeypatch):
    # alternated, so the process's warm caches (voice, fonts) favour neither
    figures: dict[str, list[tuple[float, float]]] = {"soft": [], "burned": []}
    for round_ in range(2):
        for captions in ("soft", "burned"):
            where = tmp_path / f"{captions}{round_}"
            where.mkdir()
            run, wall, cpu = _run("pexels", where, monkeypatch, captions)
            assert run.status == "succeeded", run.error
            assert (run.outputs.get("burned_captions") is None) == (captions == "soft")
            figures[captions].append((wall, cpu))
    line = "; ".join(
        f"{captions} " + ", ".join(f"{w:.1f} s wall / {c:.1f} CPU s" for w, c in runs)
        for captions, runs in figures.items()
    )
    soft_cpu = sum(c for _, c in figures["soft"])
    burned_cpu = sum(c for _, c in figures["burned"])
    print(
        f"\nai-video -i video=pexels: {line}; burned/soft CPU {burned_cpu / soft_cpu:.2f}x "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
