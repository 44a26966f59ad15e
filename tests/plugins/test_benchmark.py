"""``reelgraph tools benchmark``: the suite through the kernel, measured, in the run store.

Against the offline ``slides`` provider (real ffmpeg Ken Burns clips) and
against the fake Runway API on loopback driven by the real ``runwayml`` SDK
(``tests/fakes/runway_server.py``). Every figure asserted is read back from
the SQLite run store the command wrote.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reelgraph.store.benchmarks import clip_measurements, read_benchmarks
from tests.fakes.runway_server import FakeRunway, tiny_mp4

KEY = "rw-bench-secret-5a4b3c2d1e0f99887766"
FAST = ["--option", "poll_s=0.05", "--option", "poll_max_s=0.1"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("REELGRAPH_HOME", str(path))
    monkeypatch.delenv("REELGRAPH_TOOLS", raising=False)
    return path


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=5.0)


@pytest.fixture
def runway(mp4, home, monkeypatch):
    with FakeRunway(mp4, key=KEY) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


def reelgraph(*args: str, input: str = ""):
    """The CLI as a user runs it: a subprocess (this test's environment, its home)."""
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        capture_output=True, text=True, timeout=600, env=env, input=input,
    )  # fmt: skip


def invoke(*args: str, input: str = ""):
    return reelgraph("tools", "benchmark", *args, input=input)


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_slides_offline_clip_is_measured_and_stored(home):
    result = invoke("slides", "--prompts", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["succeeded"] == 1 and report["summary"]["cost_usd"] == 0
    db = home / "reelgraph.db"
    (row,) = read_benchmarks(db, provider="slides")
    assert (row.status, row.mode, row.aspect, row.attempts) == ("succeeded", "slide", "16:9", 1)
    # the delivered clip, decoded frame by frame: 4 s at 30 fps, 1920x1080
    assert (row.width_px, row.height_px, row.fps, row.frames) == (1920, 1080, 30.0, 120)
    assert row.duration_s == pytest.approx(4.0, abs=1 / 30)
    assert row.decodable is True and row.cost_usd == 0
    assert row.latency_s is not None and row.latency_s > 0
    # the case ran as an ordinary run: a generate_clip node, its attempt
    with sqlite3.connect(db) as con:
        node = con.execute(
            "SELECT hook, provider, status FROM nodes WHERE run_id = ?", (row.run_id,)
        ).fetchone()
        (latency,) = con.execute(
            "SELECT seconds FROM attempts WHERE run_id = ?", (row.run_id,)
        ).fetchone()
    assert node == ("generate_clip", "slides", "succeeded")
    assert row.latency_s == pytest.approx(latency, abs=0.01)
    (measure,) = clip_measurements(db)
    assert (measure.provider, measure.model, measure.attempts, measure.succeeded) == (
        "slides",
        None,
        1,
        1,
    )
    shown = reelgraph("tools", "show", "slides", "--json")
    assert shown.returncode == 0, shown.stderr
    measured = json.loads(shown.stdout)["measured"]
    assert measured["benchmark"]["clips"] == 1 and measured["benchmark"]["decodable"] == 1
    assert measured["runs"]["attempts"] == 1


def test_runway_fake_server_clips_cost_and_properties(runway, home):
    runway.script = ["PENDING", "RUNNING", "SUCCEEDED"]
    result = invoke("runway", "--model", "gen4_turbo", "--prompts", "2", "--yes", "--json", *FAST)
    assert result.returncode == 0, result.stderr
    # gen4_turbo makes image-to-video only: the two image-to-video cases, 16:9 then 9:16
    assert runway.counts()[0] == 2
    rows = sorted(read_benchmarks(home / "reelgraph.db", provider="runway"), key=lambda r: r.aspect)
    assert [(r.case_id, r.aspect, r.mode) for r in rows] == [
        ("i2v-lighthouse", "16:9", "image_to_video"),
        ("i2v-field", "9:16", "image_to_video"),
    ]
    for row, size in zip(rows, [(1920, 1080), (1080, 1920)], strict=True):
        assert row.status == "succeeded" and row.model == "gen4_turbo"
        # 4 s asked for at $0.05/s (tools.yaml: 5 credits x $0.01)
        assert row.cost_usd == pytest.approx(0.20)
        assert (row.width_px, row.height_px, row.fps) == (*size, 30.0)
        assert row.duration_s == pytest.approx(4.0, abs=1 / 30) and row.decodable
    # each submission asked for the case's ratio and 4 s with the benchmark's frame
    bodies = [runway.tasks[t]["body"] for t in runway.submissions]
    assert sorted(b["ratio"] for b in bodies) == ["1280:720", "720:1280"]
    assert {b["duration"] for b in bodies} == {4}
    (measure,) = [m for m in clip_measurements(home / "reelgraph.db") if m.provider == "runway"]
    assert (measure.model, measure.attempts, measure.succeeded) == ("gen4_turbo", 2, 2)
    assert measure.billed_s == 8 and measure.usd_per_s == pytest.approx(0.05)
    stored = (home / "reelgraph.db").read_bytes()
    assert KEY.encode() not in stored


def test_the_budget_skips_a_case_before_it_is_submitted(runway, home):
    result = invoke("runway", "--prompts", "2", "--yes", "--max-cost-usd", "0.3", *FAST)
    assert result.returncode == 0, result.stderr
    assert runway.counts()[0] == 1
    statuses = {r.case_id: r.status for r in read_benchmarks(home / "reelgraph.db")}
    assert statuses == {"i2v-lighthouse": "succeeded", "i2v-field": "skipped"}
    assert "cases past --max-cost-usd will be skipped" in result.stderr


def test_nothing_is_submitted_without_confirmation(runway, home):
    result = invoke("runway", "--prompts", "2", *FAST, input="n\n")
    assert result.returncode != 0
    assert "estimated $0.40" in result.stderr
    assert runway.counts() == (0, 0, 0)
    assert read_benchmarks(home / "reelgraph.db") == []


def test_a_failed_generation_is_recorded_as_a_failure(runway, home):
    runway.script = ["RUNNING", "FAILED"]
    result = invoke("runway", "--prompts", "1", "--yes", "--json", *FAST)
    assert result.returncode == 1  # no clip succeeded
    (row,) = read_benchmarks(home / "reelgraph.db")
    assert row.status == "failed" and row.decodable is None and row.duration_s is None
    assert "SAFETY.INPUT.TEXT" in (row.error or "")
    assert row.attempts == 1  # a refused generation is not retried
    (measure,) = clip_measurements(home / "reelgraph.db")
    assert (measure.attempts, measure.succeeded, measure.success_rate) == (1, 0, 0.0)


def test_bad_requests_are_one_line_errors(home):
    result = invoke("nosuch")
    assert result.returncode == 2
    assert "no tool of provider 'nosuch'" in result.stderr
    result = invoke("runway", "--model", "gen9")
    assert result.returncode == 2 and "has no model 'gen9'" in result.stderr
    result = invoke("slides", "--option", "novalue")
    assert result.returncode == 2 and "expected KEY=VALUE" in result.stderr
