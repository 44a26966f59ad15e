"""Budgets from the command line: a paid third-party plugin, exit code 4, resume with more money."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.steps import pip_install_fixtures

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    target = tmp_path_factory.mktemp("site")
    pip_install_fixtures(target, tmp_path_factory.mktemp("build"), "reelgraph_paid")
    home = tmp_path_factory.mktemp("home")
    return {**os.environ, "PYTHONPATH": str(target), "REELGRAPH_HOME": str(home)}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_over_budget_exits_4_and_resumes_with_a_raised_budget(env, tmp_path) -> None:
    spec = str(FIXTURES / "reelgraph_paid" / "paid.yaml")
    doc = str(FIXTURES / "docs" / "guide.md")
    out = tmp_path / "out"
    first = cli(env, "run", spec, "-i", f"document={doc}", "-o", str(out), "--max-cost-usd", "2.5")
    assert first.returncode == 4, first.stderr
    assert "not started: cost budget $2.5000 would be exceeded" in first.stderr
    assert "--max-cost-usd" in first.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "over_budget"
    statuses = {n["id"]: n["status"] for n in record["nodes"]}
    assert statuses == {
        "document": "succeeded",
        "draft_a": "succeeded",
        "draft_b": "succeeded",
        "draft_c": "blocked",
    }
    assert sum(n["cost_usd"] for n in record["nodes"]) == 2.0

    again = cli(env, "resume", record["id"], "--json")
    assert again.returncode == 4  # the stored budget still holds

    resumed = cli(env, "resume", record["id"], "--max-cost-usd", "10", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "succeeded"
    db = sqlite3.connect(Path(env["REELGRAPH_HOME"]) / "reelgraph.db")
    (total,) = db.execute("SELECT cost_usd FROM runs WHERE id = ?", (record["id"],)).fetchone()
    assert total == pytest.approx(3.0)  # three scripts paid for once each, across three executions
    shown = cli(env, "show", record["id"], "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["cost_usd"] == pytest.approx(3.0)
    costs = {n["id"]: n["cost_usd"] for n in data["nodes"]}
    assert costs == {"document": 0.0, "draft_a": 1.0, "draft_b": 1.0, "draft_c": 1.0}
    paid = [a for a in data["attempts"] if a["provider"] == "paid"]
    assert sorted(a["node"] for a in paid) == ["draft_a", "draft_b", "draft_c"]
    assert all(a["status"] == "succeeded" and a["cost_usd"] == 1.0 for a in paid)
