"""``reelgraph tools``, run as a user runs it: a subprocess with its own home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "reelgraph.cli"]


def cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "120", **env}
    environ.pop("REELGRAPH_TOOLS", None)
    environ.update(env)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=environ)


def test_list_json_is_the_shipped_catalog(tmp_path: Path) -> None:
    result = cli("tools", "list", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    tools = {t["name"]: t for t in json.loads(result.stdout)}
    assert {"slides", "runway-gen4-turbo", "luma-ray-2", "kling-v2.6-std", "veo-3.1-fast"} <= set(
        tools
    )
    turbo = tools["runway-gen4-turbo"]
    assert turbo["price_usd_per_s"] == 0.05 and turbo["credits_per_s"] == 5
    assert turbo["modes"] == ["image_to_video"]
    assert tools["slides"]["price_usd_per_s"] == 0


def test_list_table_and_show_cite_sources(tmp_path: Path) -> None:
    table = cli("tools", "list", home=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "runway-gen4-turbo" in table.stdout and "veo-3.1-fast" in table.stdout
    shown = cli("tools", "show", "veo-3.1-fast", home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "veo-3.1-fast-generate-preview" in shown.stdout
    assert "https://ai.google.dev/gemini-api/docs/pricing" in shown.stdout


def test_users_tools_file_changes_a_figure(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text(
        "tools:\n  - {name: runway-gen4-turbo, concurrency: 5}\n", encoding="utf-8"
    )
    result = cli("tools", "show", "runway-gen4-turbo", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["concurrency"] == 5


def test_unknown_tool_and_bad_tools_file_are_one_line_errors(tmp_path: Path) -> None:
    result = cli("tools", "show", "runway-gen4", home=tmp_path)
    assert result.returncode == 2
    assert "no tool 'runway-gen4'" in result.stderr and "did you mean" in result.stderr
    assert "Traceback" not in result.stderr
    bad = tmp_path / "mine.yaml"
    bad.write_text("tools:\n  - {name: runway-gen4-turbo, price_usd_per_s: -1}\n")
    result = cli("tools", "list", home=tmp_path, REELGRAPH_TOOLS=str(bad))
    assert result.returncode == 2
    assert "runway-gen4-turbo" in result.stderr and "price_usd_per_s" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_loads_neither_the_solver_nor_the_catalog(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from reelgraph.cli.main import app\n"
        "try:\n"
        "    app(['tools', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pulp', 'yaml', 'reelgraph.plugins'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_stats_reads_what_runs_measured_without_writing(tmp_path: Path) -> None:
    """A real production-plan run, then `tools stats`: one plan_production attempt by solver."""
    import hashlib

    from reelgraph.kernel import Kernel

    home = tmp_path / "home"
    brief = Path(__file__).resolve().parents[1] / "fixtures" / "briefs" / "onboarding.json"
    run = Kernel(home=home).run(
        "production-plan", inputs={"brief": str(brief)}, output_dir=tmp_path / "out"
    )
    assert run.status == "succeeded"
    db = home / "reelgraph.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = cli("tools", "stats", "--json", "--hook", "plan_production", home=home)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["provider"] == "solver" and row["runs"] == 1
    assert row["attempts"] == 1 and row["succeeded"] == 1 and row["success_rate"] == 1.0
    assert 0 < row["median_s"] < 60 and row["cost_usd"] == 0
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    empty = cli("tools", "stats", "--json", home=tmp_path / "nothing")
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
