"""Resuming from another working directory.

File inputs and ``output_dir`` are stored as absolute paths, so a resume from
another directory finds the same inputs and publishes where the run started;
``reelgraph resume`` with an input file that has vanished gives a one-line
error and exit status 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import reelgraph.specs
from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.store.runs import RunStore


class CopySpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def copy_file(source, ctx):
        """Copy a file into the node's workdir; return the copy's path."""


class Copier:
    reelgraph_name = "copier"

    @hookimpl
    def copy_file(self, source, ctx):
        target = ctx.workdir / "copy.txt"
        target.write_text(Path(source).read_text(encoding="utf-8"), encoding="utf-8")
        return target


SPEC = {
    "name": "copy",
    "inputs": {"source": {"type": "file"}},
    "nodes": [{"id": "copy", "hook": "copy_file", "with": {"source": "$inputs.source"}}],
}


def _kernel(home: Path) -> Kernel:
    return Kernel(plugins=[Copier()], hookspecs=[CopySpecs], entry_points=False, home=home)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    started, other = tmp_path / "started_here", tmp_path / "resumed_here"
    started.mkdir()
    other.mkdir()
    (started / "in.txt").write_text("hello", encoding="utf-8")
    return tmp_path / "home", started, other


def test_resume_from_another_directory_finds_relative_file_inputs(
    dirs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, started, other = dirs
    monkeypatch.chdir(started)
    run = _kernel(home).run(SPEC, {"source": "in.txt"}, output_dir=started / "out")
    assert run.status == "succeeded", run.error
    monkeypatch.chdir(other)
    resumed = _kernel(home).resume(run.id)
    assert resumed.status == "succeeded"


def test_resume_from_another_directory_publishes_where_the_run_started(
    dirs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, started, other = dirs
    monkeypatch.chdir(started)
    run = _kernel(home).run(SPEC, {"source": started / "in.txt"}, output_dir="out")
    assert run.status == "succeeded", run.error
    monkeypatch.chdir(other)
    resumed = _kernel(home).resume(run.id)
    assert resumed.status == "succeeded", resumed.error
    assert resumed.published["copy"].resolve() == (started / "out" / "copy.txt").resolve()
    assert not (other / "out").exists()


def test_cli_resume_with_a_vanished_input_is_a_one_line_error(
    tmp_path: Path, reelgraph_home: Path
) -> None:
    spec_file = Path(reelgraph.specs.__file__).parent / "document-to-video.yaml"
    spec_text = json.dumps(yaml.safe_load(spec_file.read_text(encoding="utf-8")))
    with RunStore(reelgraph_home / "reelgraph.db") as store:
        store.create_run(
            "20260101-000000-abcdef",
            spec="document-to-video",
            spec_path=str(spec_file),
            spec_text=spec_text,
            inputs={"document": str(tmp_path / "gone.md")},
            output_dir=str(tmp_path / "out"),
            started_at=1.0,
        )
    done = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "resume", "20260101-000000-abcdef", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.returncode == 2
    assert "gone.md" in done.stderr
