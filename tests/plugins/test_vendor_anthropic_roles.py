"""The six LLM roles on the ``anthropic`` provider: the real SDK, the fake Messages API, canned answers.

The roles (prompts, checks, the role's own repair call) are
:class:`~reelgraph.plugins.roles.llm.LLMRoles`'; what is tested here is that
they reach Claude through ``AnthropicPlugin.structured`` as forced tools, that
both repair loops (the plugin's schema repair turn and the role's rule repair
call) stack as designed, and that ``estimate_cost`` bounds the worst case
before anything is sent.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelgraph.models import Brief
from reelgraph.plugins.vendors._pricing import cost_usd, price_for
from reelgraph.plugins.vendors.anthropic import AnthropicPlugin
from reelgraph.run.context import NodeContext
from tests.fakes.anthropic_server import FakeAnthropic, Step, role_answers, summary

KEY = "sk-ant-api03-" + secrets.token_urlsafe(64)
BRIEF = Brief.model_validate(
    json.loads((Path(__file__).parents[1] / "fixtures/briefs/onboarding.json").read_text())
)
#: the largest tool-use system prompt in Anthropic's table (Claude 3 Opus, auto):
#: https://docs.anthropic.com/en/docs/tool-use-pricing-and-tokens
TOOL_SYSTEM_PROMPT_TOKENS = 530


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic(KEY, role_answers())
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext(run_id="r", node_id="n", hook="role", provider="anthropic", run_dir=tmp_path)


def test_every_role_asks_claude_through_its_own_forced_tool(
    fake: FakeAnthropic, ctx: NodeContext
) -> None:
    claude = AnthropicPlugin()
    plan = claude.plan_video(
        brief=BRIEF, document=None, answers={}, clarify=True, options={}, ctx=ctx
    )
    script = claude.write_script(
        document=None, brief=BRIEF, plan=plan, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip
    shots = claude.design_shots(
        script=script, brief=BRIEF, aspect="16:9", feedback=[], options={}, ctx=ctx
    )
    narrated = claude.prepare_narration(
        script=script, voice="en-us", language=None, options={}, ctx=ctx
    )
    verdict = claude.review(
        brief=BRIEF, script=script, shots=shots, measurements=[], threshold=0.7, options={},
        ctx=ctx,
    )  # fmt: skip
    revised = claude.optimize(
        script=script, brief=BRIEF, feedback=["Say the first key message sooner."], options={},
        ctx=ctx,
    )  # fmt: skip

    assert [r.body["tool_choice"]["name"] for r in fake.messages()] == [
        "plan", "beats", "shots", "speech", "verdict", "beats",
    ]  # fmt: skip
    assert all(r.status == 200 for r in fake.messages())
    assert sum(p.duration_s for p in plan.parts) == pytest.approx(BRIEF.duration_s)
    assert sum(s.duration_s for s in script.scenes) == pytest.approx(BRIEF.duration_s)
    assert len(shots.shots) == len(script.scenes)
    assert narrated.scenes[0].speech[0].startswith("<speak>")  # espeak-ng takes SSML
    assert verdict.score == pytest.approx(0.9) and verdict.passed
    assert {c.criterion for c in verdict.scores} >= {"goal", "key_messages", "audience"}
    assert [s.narration for s in revised.scenes] == [s.narration for s in script.scenes]
    assert ctx.usage.cost_usd > 0 and ctx.usage.provider_name == "anthropic"


def test_both_repair_loops_stack_and_the_estimate_bounds_the_worst_case(
    fake: FakeAnthropic, ctx: NodeContext
) -> None:
    claude = AnthropicPlugin()
    arguments = {"brief": BRIEF, "document": None, "answers": {}, "clarify": True, "options": {}}
    estimate = claude.estimate_cost(hook="plan_video", provider="anthropic", arguments=arguments)
    assert estimate is not None and estimate > 0

    off_target = json.loads(json.dumps(role_answers()["plan"](_first_turn(BRIEF))))
    for part in off_target["parts"]:
        part["duration_s"] *= 3  # valid for the schema, 225 s for a 75 s brief: the role's rules
    fake.queue(
        Step(kind="input", input={"parts": "none"}),  # schema-invalid: the plugin's repair turn
        Step(kind="input", input=off_target),  # breaks the rules: the role's repair call
        Step(kind="input", input={"parts": "none"}),  # its repair turn again
    )  # then the canned, valid plan
    plan = claude.plan_video(ctx=ctx, **arguments)
    assert sum(p.duration_s for p in plan.parts) == pytest.approx(75.0)
    sent = fake.messages()
    assert len(sent) == 4 and summary(fake)["by_tool_and_status"] == {"plan 200": 4}
    assert "225 s" in sent[2].body["messages"][0]["content"]  # the role's problem, in words
    assert sent[1].body["messages"][-1]["content"][0]["is_error"] is True  # the tool_result

    # the worst case: every request billed at one token per byte plus Anthropic's
    # tool-use system prompt in, and max_tokens out
    price = price_for("anthropic", "claude-haiku-4-5")
    assert price is not None
    worst = sum(
        cost_usd(price, len(json.dumps(r.body).encode()) + TOOL_SYSTEM_PROMPT_TOKENS, 0, 4096)
        for r in sent
    )
    assert worst <= estimate


def test_the_probed_request_is_the_one_sent(fake: FakeAnthropic, ctx: NodeContext) -> None:
    from reelgraph.plugins.vendors._pricing import first_request

    claude = AnthropicPlugin()
    arguments = {"brief": BRIEF, "document": None, "answers": {}, "clarify": True, "options": {}}
    called, probed = first_request(claude, "plan_video", arguments)
    assert called and probed is not None
    assert fake.requests == []  # probing sends nothing
    claude.plan_video(ctx=ctx, **arguments)
    body = fake.messages()[0].body
    assert body["system"] == probed.system
    assert body["messages"][0]["content"] == probed.user


def test_optimize_without_revisions_costs_nothing_and_sends_nothing(
    fake: FakeAnthropic, ctx: NodeContext
) -> None:
    claude = AnthropicPlugin()
    script = claude.write_script(
        document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip
    fake.requests.clear()
    arguments = {"script": script, "brief": BRIEF, "feedback": [], "options": {}}
    assert claude.estimate_cost(hook="optimize", provider="anthropic", arguments=arguments) == 0
    assert claude.optimize(ctx=ctx, **arguments) is script
    assert fake.requests == []


def _first_turn(brief: Brief) -> dict:
    """A request body whose first user turn carries ``brief`` the way the director sends it."""
    payload = {"brief": json.loads(brief.model_dump_json())}
    return {"messages": [{"role": "user", "content": json.dumps(payload)}]}
