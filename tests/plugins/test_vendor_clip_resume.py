"""kill -9 while polling a vendor's task, then ``reelgraph resume``: the clip is submitted once.

A real CLI process runs a one-clip spec against the vendor's fake API (the
real SDK, or httpx for Kling); once the task is submitted and polled it is
killed with SIGKILL. ``reelgraph resume`` in a new process finds the task id
in the run's journal, polls the task it already paid for, never submits
again (the fake counts submissions), and stores the price the killed process
reported but never stored, once. Runway runs by default; the others are
``slow`` (the same harness, tests/fakes/clip_vendors.py).
"""

from __future__ import annotations

import json

import pytest

from reelgraph.plugins.vendors._clips import clip_inputs
from tests.fakes.clip_vendors import CASES, kill_while_polling, one_clip_spec, resume

SLOW = pytest.mark.slow  # a kill-and-resume of two CLI processes; run with -m slow


@pytest.mark.parametrize(
    "name",
    ["runway", pytest.param("luma", marks=SLOW), pytest.param("kling", marks=SLOW),
     pytest.param("veo", marks=SLOW)],
)  # fmt: skip
def test_kill_9_while_polling_then_resume_submits_once(name, tmp_path):
    from PIL import Image

    case = CASES[name]
    frame = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (90, 90, 90)).save(frame)
    spec = one_clip_spec(case, frame)
    with case.server(tmp_path) as fake:
        run_id, env = kill_while_polling(case, fake, spec, tmp_path)
        polls_before = fake.counts()[1]
        fake.script = [case.finished]  # the task finished while nobody watched
        done = resume(run_id, env)
        assert done.returncode == 0, done.stdout + done.stderr
        submissions, polls, downloads = fake.counts()
    assert submissions == 1  # polled again, never submitted again
    assert polls > polls_before and downloads == 1
    run = json.loads(done.stdout)
    assert run["status"] == "succeeded"
    # the killed process reported the price but died before the kernel stored it: the
    # resumed attempt reports it once, as the vendor quotes it
    with_ = spec["nodes"][0]["with"]
    item = clip_inputs(with_["shot"], with_.get("first_frame"), with_["options"], name)
    quote = case.plugin().quote(
        case.plugin().request(item.shot, item.first_frame, case.aspect, item.options)
    )
    assert quote > 0 and run.get("cost_usd") == pytest.approx(quote), sorted(run)
    assert list((tmp_path / "home").rglob("s01.mp4")), "the resumed run wrote no clip"
    for text in (done.stdout, done.stderr, (tmp_path / "run.stderr").read_text()):
        for secret in case.secret.split(":"):
            assert secret not in text
