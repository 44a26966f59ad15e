"""kill -9 while polling a Veo operation, then ``reelgraph resume``: the task is submitted once.

A real CLI process runs a one-clip spec against the fake Gemini API; once the
task is submitted and polled it is killed with SIGKILL. ``reelgraph resume``
in a new process finds the task id in the run's journal and polls the task it
already paid for: the operation name (the fake counts submissions).
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

from tests.fakes.runway_server import tiny_mp4
from tests.fakes.veo_server import FakeVeo

KEY = "AIzaSyResumeVeoPlantedKey0123456789abcd"
CLI = [sys.executable, "-m", "reelgraph.cli"]


def _spec(path: Path) -> Path:
    spec = {
        "name": "one-veo-clip",
        "nodes": [
            {
                "id": "clip",
                "hook": "generate_clip",
                "provider": "veo",
                "with": {
                    "shot": {
                        "id": "s01",
                        "scene_index": 0,
                        "shot_type": "wide",
                        "framing": "wide",
                        "camera_move": "slow pan",
                        "lighting": "overcast",
                        "subject": "a harbour",
                        "prompt": "Fishing boats in a harbour at dawn",
                        "storyboard_frame": "boats in the foreground",
                        "duration_s": 3.0,
                        "mode": "text_to_video",
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
    mp4 = tiny_mp4(tmp_path / "clip.mp4", seconds=5.0)
    with FakeVeo(mp4, key=KEY) as server:
        env = {
            **{k: v for k, v in os.environ.items() if k != "GOOGLE_API_KEY"},
            "REELGRAPH_HOME": str(tmp_path / "home"),
            "GEMINI_API_KEY": KEY,
            "GOOGLE_GEMINI_BASE_URL": server.base_url,
            "REELGRAPH_ALLOW_LOOPBACK": "1",
        }
        yield server, _spec(tmp_path / "spec.yaml"), env


@pytest.mark.slow  # a full render or kill-and-resume; run with -m slow
def test_kill_9_while_polling_then_resume_submits_once(setup, tmp_path):
    server, spec, env = setup
    server.script = ["running"]  # never finishes while the first process lives
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
    polls_before = server.counts()[1]

    server.script = ["done"]  # the task finished while nobody watched
    done = subprocess.run(
        [*CLI, "resume", runs[0]["id"], "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    submissions, polls, downloads = server.counts()
    assert submissions == 1  # polled again, never submitted again
    assert polls > polls_before and downloads == 1
    assert json.loads(done.stdout)["status"] == "succeeded"
    made = list((tmp_path / "home").rglob("s01.mp4"))
    assert made, "the resumed run wrote no clip"
    for text in (done.stdout, done.stderr, (tmp_path / "run.stderr").read_text()):
        assert KEY not in text
