"""The shipped presentation and educational specs end to end, offline: brief -> video and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from reelgraph import Kernel
from reelgraph.models import BEAT_PARTS, Review, Script, ShotList

BRIEFS = Path(__file__).resolve().parents[1] / "fixtures" / "briefs"


def duration_s(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration) / av.time_base


def gate_results(run) -> list:
    return [r for results in run.quality.values() for r in results]


@pytest.fixture(scope="module")
def presented(tmp_path_factory) -> tuple:
    root = tmp_path_factory.mktemp("presentation")
    out = root / "out"
    kernel = Kernel(home=root / "home")
    run = kernel.run("presentation", inputs={"brief": BRIEFS / "trunk-based.yaml"}, output_dir=out)
    return run, out


def test_the_run_passes_every_gate_and_publishes_video_and_json(presented) -> None:
    run, out = presented
    assert run.status == "succeeded", run.error
    assert {p.name for p in out.iterdir()} >= {
        "video.mp4", "video.srt", "video.vtt", "script.json", "shots.json", "review.json",
    }  # fmt: skip
    results = gate_results(run)
    assert {"duration", "key_messages", "captions", "loudness", "conformance", "review"} <= {
        r.gate for r in results
    }
    failed = [r for r in results if not r.passed and r.severity != "info"]
    assert not failed, [(r.gate, r.message) for r in failed]
    assert all(n.status == "succeeded" for n in run.nodes.values())


def test_the_video_is_on_target(presented) -> None:
    _, out = presented
    assert abs(duration_s(out / "video.mp4") - 60) <= 5


def test_script_json_is_beats_in_the_structure_with_prepared_speech(presented) -> None:
    _, out = presented
    script = Script.model_validate(json.loads((out / "script.json").read_text()))
    assert [s.beat_id for s in script.scenes] == [
        f"b{i:02d}" for i in range(1, len(script.scenes) + 1)
    ]
    ranks = [BEAT_PARTS.index(s.part) for s in script.scenes]
    assert ranks == sorted(ranks) and script.scenes[0].kind == "title"
    assert sum(s.duration_s for s in script.scenes) == pytest.approx(60.0)
    for scene in script.scenes:  # the narrator prepared one entry per sentence
        assert len(scene.speech) == len(scene.narration) > 0


def test_shots_and_review_json(presented) -> None:
    run, out = presented
    script = Script.model_validate(json.loads((out / "script.json").read_text()))
    shots = ShotList.model_validate(json.loads((out / "shots.json").read_text()))
    assert {s.scene_index for s in shots.shots} == {s.index for s in script.scenes}
    assert shots.shots[0].shot_type == "title_card"
    review = Review.model_validate(json.loads((out / "review.json").read_text()))
    assert review.passed and review.measurements  # it saw the measured gates
    assert {m.gate for m in review.measurements} >= {"duration", "captions"}


def test_a_brief_that_leaves_the_audience_open_stops_with_questions(tmp_path: Path) -> None:
    kernel = Kernel(home=tmp_path / "home")
    run = kernel.run(
        "presentation", inputs={"brief": BRIEFS / "thin.yaml"}, output_dir=tmp_path / "out"
    )
    assert run.status == "needs_input"
    assert [q["key"] for q in run.questions] == ["audience", "key_messages"]
    assert run.nodes["draft"].status != "succeeded"  # nothing after the director ran
    assert not (tmp_path / "out" / "video.mp4").exists()


@pytest.mark.slow
def test_answers_resume_the_run_to_a_video(tmp_path: Path) -> None:
    kernel = Kernel(home=tmp_path / "home")
    first = kernel.run(
        "presentation", inputs={"brief": BRIEFS / "thin.yaml"}, output_dir=tmp_path / "out"
    )
    answered = kernel.answer(
        first.id,
        {"audience": "finance staff", "key_messages": "Submit receipts within thirty days"},
        output_dir=tmp_path / "out",
    )
    assert answered.status == "succeeded", answered.error
    assert answered.nodes["brief"].cached or answered.nodes["brief"].status == "succeeded"
    script = json.loads((tmp_path / "out" / "script.json").read_text())
    said = " ".join(x for s in script["scenes"] for x in s["narration"])
    assert "Submit receipts within thirty days" in said and "finance staff" in said


@pytest.mark.slow
def test_cli_runs_the_educational_spec_offline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "run", "educational",
         "-i", f"brief={BRIEFS / 'photosynthesis.yaml'}", "-o", str(out)],
        capture_output=True, text=True, env={**_env(), "REELGRAPH_HOME": str(tmp_path / "home")},
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    quality = json.loads((out / "quality.json").read_text())
    assert quality and abs(duration_s(out / "video.mp4") - 90) <= 5
    script = Script.model_validate(json.loads((out / "script.json").read_text()))
    parts = [s.part for s in script.scenes]
    assert {"context", "proof", "close"} <= set(parts)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
