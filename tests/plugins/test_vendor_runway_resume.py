"""kill -9 while polling a Runway task, then ``reelgraph resume``: the clip is submitted once.

A real CLI process runs a one-clip spec against the fake Runway API; once the
task is submitted and polled it is killed with SIGKILL. ``reelgraph resume``
in a new process finds the task id in the run's journal, polls the task it
already paid for, and never submits again (the fake counts submissions).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.fakes.runway_server import FakeRunway, tiny_mp4

KEY = "rw-resume-secret-16180339887498"
CLI = [sys.executable, "-m", "reelgraph.cli"]


def _spec(path: Path, frame: Path) -> Path:
    spec = {
        "name": "one-clip",
        "nodes": [
            {
                "id": "clip",
                "hook": "generate_clip",
                "provider": "runway",
                "with": {
                    "shot": {
                        "id": "s01",
                        "scene_index": 0,
                        "shot_type": "wide",
                        "framing": "wide",
                        "camera_move": "slow pan",
                        "lighting": "overcast",
                        "subject": "a lighthouse",
                        "prompt": "A lighthouse on a cliff in the rain",
                        "storyboard_frame": "the lighthouse right of centre",
                        "duration_s": 3.0,
                        "mode": "image_to_video",
                    },
                    "first_frame": {
                        "scene_index": 0,
                        "path": str(frame),
                        "width_px": 640,
                        "height_px": 360,
                        "alt_text": "a grey frame",
                    },
                    "aspect": "16:9",
                    "options": {"poll_s": 0.05, "poll_max_s": 0.1, "timeout_s": 300},
                },
            }
        ],
        "outputs": {"clip": "$clip.path"},
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def setup(tmp_path):
    from PIL import Image

    frame = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (90, 90, 90)).save(frame)
    mp4 = tiny_mp4(tmp_path / "clip.mp4", seconds=2.0)
    with FakeRunway(mp4, key=KEY) as server:
        env = {
            **os.environ,
            "REELGRAPH_HOME": str(tmp_path / "home"),
            "RUNWAYML_API_SECRET": KEY,
            "RUNWAYML_BASE_URL": server.url,
            "REELGRAPH_ALLOW_LOOPBACK": "1",
        }
        yield server, _spec(tmp_path / "spec.yaml", frame), env


def test_kill_9_while_polling_then_resume_submits_once(setup, tmp_path):
    server, spec, env = setup
    server.script = ["RUNNING"]  # never finishes while the first process lives
    err = (tmp_path / "run.stderr").open("wb")
    proc = subprocess.Popen(
        [*CLI, "run", str(spec), "-o", str(tmp_path / "out"), "--json"],
        stdout=subprocess.PIPE,
        stderr=err,
        env=env,
    )
    try:
        _wait_for(lambda: server.counts()[0] == 1 and server.counts()[1] >= 2, 60, "polling")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    listed = subprocess.run(
        [*CLI, "runs", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    runs = json.loads(listed.stdout)
    assert [r["status"] for r in runs] == ["running"], runs  # killed: never finished
    run_id = runs[0]["id"]
    polls_before = server.counts()[1]

    server.script = ["SUCCEEDED"]  # the task finished while nobody watched
    done = subprocess.run(
        [*CLI, "resume", run_id, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    submissions, polls, downloads = server.counts()
    assert submissions == 1  # polled again, never submitted again
    assert polls > polls_before and downloads == 1
    run = json.loads(done.stdout)
    assert run["status"] == "succeeded"
    # the killed process reported the price but died before the kernel stored it: the
    # resumed attempt reports it once (gen4.5: 12 credits/s x $0.01 x 3 s)
    assert run.get("cost_usd") == pytest.approx(0.36), sorted(run)
    clip = Path(run["outputs"]["clip"]) if "outputs" in run else None
    assert clip is None or clip.is_file()
    made = list((tmp_path / "home").rglob("s01.mp4"))
    assert made, "the resumed run wrote no clip"
