"""``reelgraph fork``, ``reelgraph diff`` and the lineage in ``reelgraph show``, as a user runs
them (a subprocess), on a small spec of real in-tree plugins: a Markdown document, the
extractive writer and Pillow slides (no speech, no video, so it stays fast).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "reelgraph.cli"]

SPEC = """\
name: slides-only
inputs:
  document: {type: file}
  aspect: {type: string, default: "16:9", enum: ["16:9", "9:16"]}
  duration_s: {type: number, default: null}
nodes:
  - id: document
    hook: ingest_document
    with: {source: $inputs.document}
  - id: script
    hook: write_script
    provider: extractive
    with: {document: $document, duration_s: $inputs.duration_s}
  - id: slides
    hook: render_shot
    provider: slides
    map: $script.scenes
    with: {scene: $item, aspect: $inputs.aspect}
  - id: shots_quality
    hook: check_quality
    with: {visuals: $slides, gates: [accessibility]}
outputs:
  first_slide: $slides.0.path
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300, env=None
    )


@pytest.fixture
def parent(tmp_path: Path) -> str:
    (tmp_path / "slides.yaml").write_text(SPEC)
    (tmp_path / "doc.md").write_text(
        "# Tea\n\nTea is a drink.\n\n## Green\n\nGreen tea is fresh.\n"
    )
    result = cli(
        "run", "slides.yaml", "-i", "document=doc.md", "-o", "out", "--no-cache", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / "out" / "run.json").read_text())["id"]


def test_fork_diff_and_show(parent: str, tmp_path: Path) -> None:
    result = cli("fork", parent[:15], "-i", "aspect=9:16", "-o", "tall", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    assert child["status"] == "succeeded"
    from PIL import Image

    with Image.open(tmp_path / "tall" / Path(child["outputs"]["first_slide"]).name) as slide:
        assert slide.height > slide.width  # 9:16

    diff = cli("diff", parent, child["id"], "--json", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    data = json.loads(diff.stdout)
    assert data["inputs"] == {"aspect": ["16:9", "9:16"]}
    assert data["recomputed"] == ["slides", "shots_quality"]
    assert data["reused"] == ["document", "script"]
    assert data["b"]["parent"] == parent
    assert data["nodes"]["script"][1]["how"] == f"reused from {parent}"
    assert data["nodes"]["script"][0]["how"] == "ran"
    assert data["gates"]["shots_quality/accessibility (contrast)"][1]["verdict"] == "pass"

    table = cli("diff", parent, child["id"], cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "recomputed in B: slides, shots_quality" in table.stdout

    shown = cli("show", child["id"], "--json", cwd=tmp_path)
    record = json.loads(shown.stdout)
    assert record["parent"] == {"id": parent, "changed": {"aspect": ["16:9", "9:16"]}}
    assert {n["id"]: n["how"] for n in record["nodes"]}["slides"] == "ran"
    shown = cli("show", parent, cwd=tmp_path)
    assert f"forked  {child['id']} (aspect: '16:9' -> '9:16')" in shown.stdout


def test_fork_refuses_bad_input_with_one_line(parent: str, tmp_path: Path) -> None:
    unknown = cli("fork", parent, "-i", "aspcet=9:16", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "unknown input 'aspcet'" in unknown.stderr and "aspect" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    bad = cli("fork", parent, "-i", "aspect=4:3", cwd=tmp_path)
    assert bad.returncode == 2 and "is not one of" in bad.stderr
    missing = cli("fork", "20000101-000000-000000", "-i", "aspect=9:16", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no run '20000101-000000-000000'" in missing.stderr
    runs = json.loads(cli("runs", "--json", cwd=tmp_path).stdout)
    assert [r["id"] for r in runs] == [parent]  # nothing was started
    gone = cli("diff", parent, "nope", cwd=tmp_path)
    assert gone.returncode == 2 and "no run 'nope'" in gone.stderr


@pytest.mark.parametrize("command", ["fork", "diff"])
def test_help_teaches_with_an_example(command: str, tmp_path: Path) -> None:
    result = cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "Example" in result.stdout and f"reelgraph {command} " in result.stdout
