"""``reelgraph stats`` and the estimates of ``reelgraph plan``, run as a user runs them:
a subprocess with its own REELGRAPH_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelgraph.store.runs import RunStore
from reelgraph.store.stats import read_stats
from tests.kernel.test_stats import run_history

CLI = [sys.executable, "-m", "reelgraph.cli"]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    environ = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "200"}
    environ.pop("REELGRAPH_STORE", None)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=environ)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stats-cli") / "home"
    run_history(folder).close()
    return folder


def test_stats_json_round_trip(home: Path) -> None:
    result = cli("stats", "--json", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    with RunStore(home / "reelgraph.db") as store:
        expected = read_stats(store)  # the CLI cannot plan the tests' own hook: no DAG
    assert data.pop("store") == str(home / "reelgraph.db")
    assert data == json.loads(json.dumps(expected))
    flaky = next(p for p in data["providers"] if p["provider"] == "flaky")
    assert (flaky["calls"], flaky["retries"], flaky["retry_succeeded"]) == (3, 3, 3)


def test_stats_tables_and_filters(home: Path) -> None:
    result = cli("stats", home=home)
    assert result.returncode == 0, result.stderr
    for text in ("per hook and provider", "flaky", "broken", "3/3", "per spec", "ads"):
        assert text in result.stdout
    none = cli("stats", "--spec", "nothing-like-it", home=home)
    assert none.returncode == 0 and "no runs of spec 'nothing-like-it'" in none.stdout
    recent = json.loads(cli("stats", "--since", "1h", "--json", home=home).stdout)
    assert [s["spec"] for s in recent["specs"]] == ["ads"]
    help_text = cli("stats", "--help", home=home).stdout
    assert "Examples" in help_text and "reelgraph stats --spec" in help_text
    bad = cli("stats", "--since", "yesterday", home=home)
    assert bad.returncode == 2 and "--since 'yesterday'" in bad.stderr
    assert "Traceback" not in bad.stderr


# -- plan estimates ---------------------------------------------------------------------

#: seconds of document-to-video's nodes in the first history run; runs 2 and 3 take 2x, 3x
BASE_S = {
    "document": 0.1, "script": 0.2, "script_quality": 0.1, "slides": 3.0,
    "shots_quality": 0.1, "voice": 1.0, "narration": 1.0, "video": 4.0,
    "video_quality": 0.5, "frames_quality": 0.6,
}  # fmt: skip


def _history(path: Path) -> None:
    """Three complete runs of document-to-video (node seconds x1, x2, x3; the video node
    costs $0.5 per x), one failed run that took ages, one run whose nodes were cached."""
    with RunStore(path) as store:
        for k, status in [(1, "succeeded"), (2, "failed_quality"), (3, "succeeded"),
                          (50, "failed"), (60, "succeeded")]:  # fmt: skip
            run_id = f"run-{k}"
            store.create_run(run_id, spec="document-to-video", spec_path=None, spec_text="{}",
                             inputs={}, output_dir=None, started_at=1000.0 * k)  # fmt: skip
            for node, seconds in BASE_S.items():
                store.node_finished(
                    run_id, node, status="succeeded", ended_at=1000.0 * k + 50,
                    seconds=seconds * k, hook="h", provider="p" if node == "video" else None,
                    cached=k == 60,
                )  # fmt: skip
            store.add_cost(run_id, "video", 0.5 * k, "assembly")
            store.set_run_status(run_id, status, ended_at=1000.0 * k + 60, seconds=60.0 * k)


def test_plan_without_history_says_so_and_creates_no_store(tmp_path: Path) -> None:
    result = cli("plan", "document-to-video", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "no history of spec 'document-to-video'" in result.stdout
    assert not (tmp_path / "home" / "reelgraph.db").exists()
    data = json.loads(cli("plan", "document-to-video", "--json", home=tmp_path / "home").stdout)
    assert data["estimate"]["history_runs"] == 0 and data["estimate"]["nodes"] == []


def test_plan_estimates_from_history(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _history(home / "reelgraph.db")
    result = cli("plan", "document-to-video", "--json", home=home)
    assert result.returncode == 0, result.stderr
    estimate = json.loads(result.stdout)["estimate"]
    assert estimate["history_runs"] == 3  # the failed run is not complete; run-60 was cached
    nodes = {n["node"]: n for n in estimate["nodes"]}
    # the recorded history has no credits node (stock footage), so it is the one unmeasured
    assert set(nodes) == set(BASE_S) and estimate["unmeasured"] == ["credits"]
    for node, seconds in BASE_S.items():
        assert nodes[node]["median_s"] == pytest.approx(2 * seconds, abs=1e-3)
        assert nodes[node]["p95_s"] == pytest.approx(2.9 * seconds, abs=1e-3)  # 2 + 0.9 (3 - 2)
        assert nodes[node]["runs"] == 3
    assert nodes["video"]["median_cost_usd"] == pytest.approx(1.0)
    assert nodes["video"]["provider"] == "p"
    # through slides (3 s) rather than voice and narration (1 + 1 s), doubled by the median
    assert estimate["critical_path"] == [
        "document", "script", "script_quality", "slides", "video", "frames_quality",
    ]  # fmt: skip
    assert estimate["critical_path_s"] == pytest.approx(16.0)
    assert estimate["cost_usd"] == pytest.approx(1.0)
    table = cli("plan", "document-to-video", "--last", "1", home=home)
    assert table.returncode == 0, table.stderr
    assert "estimate from the last 1 complete runs" in table.stdout
    assert "estimated duration 24.00 s" in table.stdout  # run-3 alone: 8 s x 3
    assert "slides *" in table.stdout and "voice *" not in table.stdout
