"""``reelgraph tools show`` prints what the run store measured beside the catalog's claim.

Four ordinary runs of the real runway plugin against the fake Runway API
(three succeed, one FAILED) fill a real run store; the CLI then runs as a
subprocess on that home.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from reelgraph import Kernel
from tests.fakes.runway_server import FakeRunway, tiny_mp4
from tests.kernel.test_cli_tools import cli
from tests.plugins.test_solver_measured import _clip_run

KEY = "rw-show-secret-11223344556677889900"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "frame.png"
    Image.new("RGB", (1920, 1080), (30, 60, 120)).save(path)
    frame = {"scene_index": 0, "kind": "image", "path": str(path),
             "width_px": 1920, "height_px": 1080, "alt_text": "a blue frame"}  # fmt: skip
    kernel = Kernel(home=tmp_path / "home")
    with FakeRunway(tiny_mp4(tmp_path / "clip.mp4", seconds=5.0), key=KEY) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        statuses = [_clip_run(kernel, frame) for _ in range(3)]
        server.script = ["FAILED"]
        statuses.append(_clip_run(kernel, frame))
    assert statuses == ["succeeded"] * 3 + ["failed"]
    return kernel.home


def test_show_puts_measured_figures_beside_the_claims(home):
    result = cli("tools", "show", "runway-gen4-turbo", home=home)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "$0.05 per second" in out  # the claim, with its source
    assert "measured: $0.05 per second ($0.80 for 16 s of clips) over 4 runs" in out
    assert "measured: 75% (3 of 4 attempts)" in out
    assert "price and latency divided by the success rate 0.75" in out
    data = json.loads(cli("tools", "show", "runway-gen4-turbo", "--json", home=home).stdout)
    solver = data["measured"]["solver"]
    assert solver["basis"] == {
        "price_usd_per_s": "measured",
        "latency_s": "measured",
        "success_rate": "measured",
    }
    assert solver["used"]["price_usd_per_s"] == pytest.approx(0.05 / 0.75, abs=1e-6)
    runs = data["measured"]["runs"]
    assert (runs["attempts"], runs["succeeded"], runs["model"]) == (4, 3, "gen4_turbo")
    # latency planned with: the median successful attempt / 0.75
    assert solver["used"]["latency_s"] == pytest.approx(runs["median_s"] / 0.75, abs=0.01)

    stats = cli("tools", "stats", "--clips", "--json", home=home)
    assert stats.returncode == 0, stats.stderr
    (row,) = json.loads(stats.stdout)
    assert (row["provider"], row["model"], row["attempts"], row["succeeded"]) == (
        "runway",
        "gen4_turbo",
        4,
        3,
    )
    assert (row["billed_s"], row["cost_usd"], row["usd_per_s"]) == (16, 0.8, 0.05)
    assert row["median_s"] == runs["median_s"]


def test_show_says_when_nothing_is_measured(tmp_path):
    result = cli("tools", "show", "luma-ray-2", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nothing measured yet" in result.stdout
    data = json.loads(cli("tools", "show", "luma-ray-2", "--json", home=tmp_path).stdout)
    assert data["measured"] == {}
