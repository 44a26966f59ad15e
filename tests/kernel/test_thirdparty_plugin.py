"""A third-party plugin installed with pip, found through its own entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.steps import pip_install_fixtures

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    """The two fixture plugins pip-installed into a folder of their own.

    Returns the environment for a subprocess that sees them (``PYTHONPATH``)
    besides everything installed here, as a user's environment would.
    """
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    pip_install_fixtures(target, build, "reelgraph_shout", "broken_plugin")
    return {**os.environ, "PYTHONPATH": str(target)}


def test_plugins_lists_the_third_party_plugin_and_names_the_broken_package(site: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "plugins", "--json"],
        env=site,
        capture_output=True,
        text=True,
        check=True,
    )
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["shout"]["package"] == "reelgraph-shout"
    assert plugins["shout"]["version"] == "1.2.3"
    assert plugins["shout"]["hooks"] == ["write_script"]
    assert plugins["broken"]["package"] == "reelgraph-broken"
    assert "reelgraph_dependency_that_does_not_exist" in plugins["broken"]["error"]
    assert plugins["markdown"]["error"] is None  # the rest still work


def test_a_spec_uses_the_third_party_provider(site: dict, tmp_path: Path) -> None:
    doc = tmp_path / "talk.md"
    doc.write_text("# Small talk\n\n## Weather\n\nIt rains.\n\n## Sports\n\nWe won.\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reelgraph.cli",
            "run",
            str(FIXTURES / "reelgraph_shout" / "shout.yaml"),
            "-i",
            f"document={doc}",
            "-o",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=site,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "succeeded"
    assert record["outputs"]["title"] == "SMALL TALK"
    assert [n["provider"] for n in record["nodes"]] == [None, "shout"]
