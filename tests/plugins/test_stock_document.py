"""``reelgraph run document-to-video -i visuals=pexels`` against the fake Pexels API (issue 18).

Slow (a whole render): ``pytest -m slow tests/plugins/test_stock_document.py -s``
prints the figure for the closing note (searches, downloads, seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import av
import pytest

from tests.fakes.pexels_server import FakePexels
from tests.fakes.runway_server import tiny_mp4

KEY = "Zq8pX2mNcV7bR4tY1uI9oP3aS6dF5gH0jK2lQ8wE4rT7yU1iO9pA3sDf"

DOC = """# Solar power at home

Solar panels turn sunlight into electricity on the roof of a house.

## Storage

A battery stores what the panels make during the day for the night.

## Savings

A household with panels buys less electricity from the grid every month.
"""


@pytest.mark.slow
def test_document_to_video_with_pexels_footage(tmp_path):
    mp4 = tiny_mp4(tmp_path / "source.mp4", seconds=3.0, size="640x360")
    doc = tmp_path / "solar.md"
    doc.write_text(DOC)
    out = tmp_path / "out"
    with FakePexels(mp4, key=KEY) as fake:
        env = {
            **os.environ,
            "PEXELS_API_KEY": KEY,
            "PEXELS_BASE_URL": fake.url,
            "REELGRAPH_ALLOW_LOOPBACK": "1",
            "REELGRAPH_HOME": str(tmp_path / "home"),
        }
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "reelgraph.cli", "run", "document-to-video",
             "-i", f"document={doc}", "-i", "visuals=pexels", "-o", str(out)],
            capture_output=True, text=True, timeout=1200, env=env,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        searches, downloads = len(fake.searches), len(fake.downloads)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((out / "run.json").read_text())
    scenes = next(n for n in record["nodes"] if n["id"] == "slides")["items"]
    # every scene searched once (answers for the same terms are reused) and got a clip
    assert 1 <= searches <= scenes and downloads == scenes
    credits = (out / "credits.txt").read_text()
    assert credits.count("video by") == scenes and "Videos provided by Pexels" in credits
    (gate,) = [g for g in record["quality"] if g["gate"] == "credits"]
    assert gate["passed"] and len(gate["details"]["credits"]) == scenes
    with av.open(str(out / "video.mp4")) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (1920, 1080)
        assert container.streams.audio and container.streams.subtitles
        video_s = float(container.duration) / av.time_base
    blob = "\n".join(
        [done.stdout, done.stderr, (out / "run.json").read_text(), credits]
        + [p.read_text(errors="replace") for p in (tmp_path / "home").rglob("*.log")]
    )
    assert KEY not in blob
    print(
        f"\ndocument-to-video -i visuals=pexels: {scenes} scenes, {searches} searches, "
        f"{downloads} downloads, {video_s:.1f} s of video in {seconds:.1f} s wall "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
