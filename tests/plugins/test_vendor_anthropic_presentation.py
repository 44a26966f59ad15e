"""The shipped ``presentation`` spec with ``-i llm=anthropic``, end to end, against the fake Messages API.

Every role (director, scriptwriter, reviewer twice, visual designer, narrator)
is played by the ``anthropic`` provider through the real SDK; the fake answers
each forced tool with a canned, schema-valid answer built from the role's own
request (:func:`tests.fakes.anthropic_server.role_answers`). The rest of the
pipeline (slides, speech, ffmpeg, gates) is real, so this takes about a
minute: ``pytest -m slow``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.plugins.vendors._pricing import cost_usd, price_for
from tests.fakes.anthropic_server import FAULTS, FakeAnthropic, role_answers, summary

BRIEF = Path(__file__).parents[1] / "fixtures" / "briefs" / "onboarding.json"


@pytest.mark.slow
def test_presentation_runs_every_role_on_claude_and_costs_usage_times_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-ant-api03-" + secrets.token_urlsafe(64)
    server = FakeAnthropic(key, role_answers())
    server.queue(FAULTS["429"](), FAULTS["malformed"]())  # one rate limit, one bad answer
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    kernel = Kernel(home=tmp_path / "home")
    try:
        run = kernel.run(
            "presentation", {"brief": BRIEF, "llm": "anthropic"}, output_dir=tmp_path / "out"
        )
    finally:
        kernel.close()
        server.close()

    assert run.status == "succeeded", run.error
    report = summary(server)
    # each role once, the reviewer twice; plus the 429's retry and the repair turn
    assert report["by_tool_and_status"] == {
        "plan 429": 1,
        "plan 200": 2,
        "beats 200": 1,
        "verdict 200": 2,
        "shots 200": 1,
        "speech 200": 1,
    }
    price = price_for("anthropic", "claude-haiku-4-5")
    assert price is not None
    expected = sum(cost_usd(price, u["input_tokens"], 0, u["output_tokens"]) for u in server.usages)
    assert run.cost_usd == pytest.approx(expected)
    llm_nodes = {"plan", "draft", "script_review", "shots", "narrated", "review"}
    assert {n for n, node in run.nodes.items() if node.cost_usd > 0} == llm_nodes
    assert run.nodes["plan"].attempts == 2

    script = json.loads((tmp_path / "out" / "script.json").read_text(encoding="utf-8"))
    assert [s["part"] for s in script["scenes"]][:2] == ["hook", "context"]
    assert (tmp_path / "out" / "video.mp4").stat().st_size > 100_000
    everything = b"".join(p.read_bytes() for p in (tmp_path / "home").rglob("*") if p.is_file())
    assert key.encode() not in everything
