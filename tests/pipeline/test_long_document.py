"""A long document at the default length: a ~5-minute video with chapters and a thumbnail
(issue 18). Slow: it renders about 300 s of video."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import pytest
from PIL import Image

from reelgraph import Kernel

SECTIONS = {"Origins": 20, "Design": 40, "Materials": 30, "Racing": 50, "Cities": 60}


def _document() -> str:
    parts = ["# Bicycles", "", "Bicycles are machines that people ride on two wheels.", ""]
    for name, count in SECTIONS.items():
        parts += [f"## {name}", ""]
        for start in range(0, count, 4):
            parts.append(
                " ".join(
                    f"{name} fact {n} tells how riders and builders changed the bicycle over time."
                    for n in range(start, min(start + 4, count))
                )
            )
            parts.append("")
    return "\n".join(parts)


@pytest.mark.slow
def test_a_long_document_becomes_a_five_minute_video_with_chapters(tmp_path: Path) -> None:
    doc = tmp_path / "bicycles.md"
    doc.write_text(_document(), encoding="utf-8")
    out = tmp_path / "out"
    run = Kernel(home=tmp_path / "home").run(
        "document-to-video", inputs={"document": doc}, output_dir=out
    )
    assert run.status == "succeeded", run.error
    record = run.to_dict()
    assert record["outputs"]["target_s"] == 300
    assert record["outputs"]["length"].startswith("summary:")
    json.dumps(record)  # run.json holds it
    with av.open(str(out / "video.mp4")) as container:
        duration_s = container.duration / av.time_base
        marks = [c["metadata"]["title"] for c in container.chapters()]
    assert 240 <= duration_s <= 330, duration_s
    spoken = (out / "video.srt").read_text(encoding="utf-8")
    for name in SECTIONS:  # every section is narrated
        assert re.search(rf"{name}\s+fact", spoken), name
    lines = (out / "chapters.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("0:00 ") and len(lines) >= 3
    assert [line.split(" ", 1)[1] for line in lines] == marks
    assert set(SECTIONS) <= set(marks)
    with Image.open(out / "thumbnail.jpg") as thumb:
        assert thumb.size == (1280, 720)
    assert (out / "thumbnail.jpg").stat().st_size < 2 * 1024 * 1024
