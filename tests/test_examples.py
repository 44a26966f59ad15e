"""Every script in examples/ runs, as a user runs it (a subprocess), and does what it says.

The third-party package (examples/reelgraph-cards) is pip-installed, offline
and without its dependencies (reelgraph and Pillow are installed here), into
a folder of its own that the script's ``PYTHONPATH`` names: its entry points
are then found as they are after ``pip install``. The examples that render
a whole video are slow-marked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(script: str, cwd: Path, *args: str, env: dict[str, str] | None = None):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_every_example_is_tested() -> None:
    tested = {"embed.py", "fork.py", "builder.py", "function_node.py", "third_party.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
    readme = (EXAMPLES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in tested)


def test_builder(tmp_path: Path) -> None:
    out = example("builder.py", tmp_path, str(EXAMPLES / "tea.md"), "slides")
    from reelgraph import load_spec

    yaml_text = out.split("\nrun ")[0]
    (tmp_path / "slides.yaml").write_text(yaml_text)
    assert load_spec(tmp_path / "slides.yaml").name == "slides"  # to_yaml reads back
    import re

    slides = re.search(r": succeeded, (\d+) slides", out)
    assert slides and int(slides.group(1)) >= 3  # a title, a scene per section, ...
    assert (tmp_path / "slides" / "scene-000.png").stat().st_size > 0


def test_function_node(tmp_path: Path) -> None:
    out = example("function_node.py", tmp_path, str(EXAMPLES / "tea.md"), "agenda")
    assert "agenda node: hook python:__main__.agenda, succeeded" in out
    from PIL import Image

    with Image.open(tmp_path / "agenda" / "scene-000.png") as slide:
        assert slide.size == (1920, 1080)


def test_third_party_package(tmp_path: Path) -> None:
    package = tmp_path / "reelgraph-cards"  # a copy: pip builds in the source folder
    shutil.copytree(EXAMPLES / "reelgraph-cards", package)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--target", str(site), str(package)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = example("third_party.py", tmp_path, str(EXAMPLES / "tea.md"), "cards", env=env)
    assert "plugin cards 0.1.0 from reelgraph-cards: render_shot" in out
    assert "plugin title_length 0.1.0 from reelgraph-cards: check_quality" in out
    assert "gate title_length: pass (longest title: 9 characters" in out  # "Green tea"
    from PIL import Image

    with Image.open(tmp_path / "cards" / "card-000.png") as card:
        assert card.getpixel((5, 5)) == (0x1D, 0x35, 0x57)  # the default background


def test_third_party_example_says_how_to_install(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "third_party.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "cards is not installed: pip install ./examples/reelgraph-cards" in result.stdout


@pytest.mark.slow
def test_embed(tmp_path: Path) -> None:
    out = example("embed.py", tmp_path, str(EXAMPLES / "tea.md"), "video")
    assert ": succeeded in" in out and "quality: 19 of 19 passed" in out
    assert (tmp_path / "video" / "video.mp4").stat().st_size > 0


@pytest.mark.slow
def test_fork(tmp_path: Path) -> None:
    out = example("fork.py", tmp_path, str(EXAMPLES / "tea.md"))
    voice, aspect = out.split("(voice en-gb)")[1].split("(aspect 9:16)")
    assert "script          reused" in voice and "slides          reused" in voice
    assert "narration       ran" in voice
    assert "narration       reused" in aspect and "slides          ran" in aspect
    assert (tmp_path / "out-fork-9x16" / "video.mp4").stat().st_size > 0
