"""The commands that start or continue runs share one declaration of their options
(kernel/cli/_options.py): the same flags, the same help where it means the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption

from reelgraph.cli._options import RUN_FLAGS
from reelgraph.cli.main import app

COMMANDS = ["run", "fork", "resume", "answer", "batch"]
#: declared once, so their help is the same everywhere (the others say what the command does)
SAME_HELP = ["--trace", "--max-cost-usd", "--max-duration-s", "--concurrency", "--executor",
             "--scheduler", "--workers"]  # fmt: skip


def _options(command: str) -> dict[str, TyperOption]:
    """The options of ``reelgraph COMMAND`` by flag, as the parser sees them."""
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    return {flag: p for p in params if isinstance(p, TyperOption) for flag in p.opts}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_run_command_accepts_the_shared_options(command: str) -> None:
    options = _options(command)
    assert set(RUN_FLAGS) <= set(options), sorted(set(RUN_FLAGS) - set(options))
    for flag in RUN_FLAGS:
        assert len(options[flag].help or "") > 20, f"{command} {flag}: no help"


def test_shared_options_read_the_same_in_every_command() -> None:
    by_command = {c: _options(c) for c in COMMANDS}
    for flag in SAME_HELP:
        helps = {c: options[flag].help for c, options in by_command.items()}
        assert len(set(helps.values())) == 1, (flag, helps)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "REELGRAPH_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_resume_and_fork_now_honour_the_executor_option(tmp_path: Path) -> None:
    """Before: resume, answer and fork ran on the default executor whatever was asked."""
    for command in ("resume", "fork"):
        result = _cli(command, "20261205-000000-abcdef", "--executor", "nope", home=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_a_negative_budget_is_refused_by_batch_as_by_run(tmp_path: Path) -> None:
    result = _cli("batch", "hello", "--inputs", "x.csv", "--max-cost-usd", "-1", home=tmp_path)
    assert result.returncode == 2 and "--max-cost-usd" in result.stderr
