"""The openai provider under the kernel: retries by its policy, budgets, telemetry, and no key anywhere.

The real openai SDK talks to the fake Chat Completions server on loopback; a
one-node spec calls ``plan_video`` on a plugin whose ``plan_video`` asks the
provider's ``structured`` for a :class:`~reelgraph.models.VideoPlan`.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reelgraph import Kernel, hookimpl
from reelgraph.errors import ConfigurationError
from reelgraph.models import Brief, VideoPlan
from reelgraph.plugins.roles.llm import StructuredRequest
from reelgraph.plugins.vendors._pricing import cost_usd, load_prices
from reelgraph.plugins.vendors.openai import OpenAIPlugin
from tests.fakes.openai_server import FakeOpenAI, Step

PLAN = {
    "title": "Why reelgraph",
    "audience_analysis": "Developers who glue AI video tools together by hand.",
    "parts": [
        {"part": "hook", "purpose": "Name the pain.", "duration_s": 10, "key_messages": []},
        {"part": "approach", "purpose": "One spec.", "duration_s": 15, "key_messages": ["specs"]},
        {"part": "close", "purpose": "Try it.", "duration_s": 5, "key_messages": []},
    ],
    "key_messages": ["specs"],
    "questions": [],
    "assumptions": [],
    "language": "en",
    "duration_s": 30,
    "template": "presentation",
}
BRIEF = {"title": "Why reelgraph", "goal": "Know what it does", "duration_s": 30}


class Director(OpenAIPlugin):
    """``plan_video`` through ``structured``, as the LLM roles call it."""

    @hookimpl
    def plan_video(self, brief, options, ctx):
        brief = Brief.model_validate(brief)
        request = StructuredRequest(
            role="director",
            system="You are a video director. Plan the video the brief asks for.",
            user=brief.model_dump_json(),
            output=VideoPlan,
            max_tokens=int(options.get("max_tokens") or 600),
            options=options,
        )
        return self.structured(request, ctx)


def plan_spec(retry: dict | None = None, budget: float | None = None, **options) -> dict:
    node = {
        "id": "plan",
        "hook": "plan_video",
        "provider": "openai",
        "with": {"brief": BRIEF, "options": {"max_tokens": 600, **options}},
        "retry": retry or {"max_attempts": 3, "initial_s": 0, "jitter_s": 0, "max_s": 10},
    }
    spec: dict = {"name": "plan-only", "nodes": [node], "outputs": {"plan": "$plan"}}
    if budget is not None:
        spec["budget"] = {"max_cost_usd": budget}
    return spec


@pytest.fixture
def key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(36)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeOpenAI(key, {"VideoPlan": PLAN})
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.close()


@pytest.fixture
def telemetry():
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    return tracer_provider, spans, MeterProvider(metric_readers=[reader]), reader


def kernel_for(plugin: OpenAIPlugin, tracer_provider=None, **kwargs) -> Kernel:
    return Kernel(
        plugins={"openai": plugin}, entry_points=False, tracer_provider=tracer_provider, **kwargs
    )


def usage_cost(server: FakeOpenAI, requests=None) -> float:
    """Usage x price of the completions the server answered (all of them by default)."""
    price = load_prices("openai")["gpt-4o-mini"]
    total = 0.0
    for request in server.completions if requests is None else requests:
        if request.status == 200:
            usage = request.response["usage"]
            total += cost_usd(price, usage["prompt_tokens"], 0, usage["completion_tokens"])
    return total


# --- retries are the kernel's ---------------------------------------------------------


def test_429_with_retry_after_then_success_is_retried_by_the_kernel(server, telemetry):
    tracer_provider, spans, meters, reader = telemetry
    server.queue(Step.rate_limited(retry_after_s=0.4))
    run = kernel_for(Director(meter_provider=meters), tracer_provider).run(plan_spec())
    assert run.status == "succeeded", run.error
    assert isinstance(run.outputs["plan"], VideoPlan)
    assert run.nodes["plan"].attempts == 2
    first, second = server.completions
    assert second.at - first.at >= 0.4  # Retry-After honoured, initial_s was 0
    assert [e.type for e in run.events].count("node.retrying") == 1
    # only the successful request cost money: the 429 reported no usage
    assert run.nodes["plan"].cost_usd == pytest.approx(usage_cost(server, [second]))


def test_5xx_twice_then_success_takes_three_attempts(server):
    server.queue(Step.server_error(), Step.server_error())
    run = kernel_for(Director()).run(plan_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["plan"].attempts == 3 and len(server.completions) == 3


def test_insufficient_quota_is_never_retried(server):
    server.queue(Step.insufficient_quota())
    run = kernel_for(Director()).run(plan_spec())
    assert run.status == "failed"
    assert run.nodes["plan"].attempts == 1 and len(server.completions) == 1
    assert isinstance(run.error.cause, ConfigurationError)
    assert "plan and billing" in str(run.error)


def test_malformed_then_valid_answer_is_one_attempt_with_a_repair_turn(server):
    server.queue(Step(content='{"title": "Why reelgraph", "parts": ['))
    run = kernel_for(Director()).run(plan_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["plan"].attempts == 1 and len(server.completions) == 2
    assert run.nodes["plan"].cost_usd == pytest.approx(usage_cost(server))


# --- money ---------------------------------------------------------------------------


def test_cost_recorded_is_usage_times_price_in_node_run_and_store(server):
    kernel = kernel_for(Director())
    run = kernel.run(plan_spec())
    assert run.status == "succeeded", run.error
    expected = usage_cost(server)
    assert expected > 0
    assert run.nodes["plan"].cost_usd == pytest.approx(expected)
    assert kernel.store.get_run_cost(run.id) == pytest.approx(expected)
    ((node_id, usd, detail),) = kernel.store.get_costs(run.id)
    assert node_id == "plan" and usd == pytest.approx(expected)
    assert "gpt-4o-mini" in detail and "input" in detail


def test_estimate_bounds_the_real_cost_and_a_budget_below_it_spends_nothing(server):
    plugin = Director()
    arguments = {"brief": BRIEF, "options": {"max_tokens": 600}}
    estimate = plugin.estimate_cost(hook="plan_video", provider="openai", arguments=arguments)
    assert estimate is not None and estimate > 0
    assert (
        plugin.estimate_cost(hook="plan_video", provider="anthropic", arguments=arguments) is None
    )
    assert plugin.estimate_cost(hook="render_shot", provider="openai", arguments=arguments) is None

    run = kernel_for(plugin).run(plan_spec(budget=estimate * 0.9))
    assert run.status == "over_budget"
    assert server.requests == []  # stopped before it spent

    run = kernel_for(plugin).run(plan_spec(budget=estimate * 1.01))
    assert run.status == "succeeded", run.error
    assert 0 < run.nodes["plan"].cost_usd <= estimate


# --- telemetry -----------------------------------------------------------------------


def test_attempt_span_and_metrics_follow_the_genai_conventions(server, telemetry):
    tracer_provider, spans, meters, reader = telemetry
    server.queue(Step.rate_limited(retry_after_s=0.05))
    run = kernel_for(Director(meter_provider=meters), tracer_provider).run(plan_spec())
    assert run.status == "succeeded", run.error
    # one span per attempt, both named "{operation} {model}"; the 429 one has no usage
    failed, ok = sorted(
        (s for s in spans.get_finished_spans() if s.name == "chat gpt-4o-mini"),
        key=lambda s: s.start_time,
    )
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    assert not failed.status.is_ok
    attributes = ok.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["reelgraph.cost_usd"] == pytest.approx(run.nodes["plan"].cost_usd)
    assert "gen_ai.input.messages" not in attributes  # no content without opting in

    metrics = {
        m.name: m
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    durations = metrics["gen_ai.client.operation.duration"].data.data_points
    assert sorted(p.attributes.get("error.type", "") for p in durations) == ["", "RateLimitError"]
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in metrics["gen_ai.client.token.usage"].data.data_points
    }
    assert tokens["input"] == attributes["gen_ai.usage.input_tokens"]
    assert tokens["output"] == attributes["gen_ai.usage.output_tokens"]


# --- the key appears nowhere ----------------------------------------------------------


def everything_written(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


@pytest.mark.parametrize("how", ["environment", "secret_input"])
def test_planted_key_appears_nowhere(
    how, key, server, telemetry, reelgraph_home, monkeypatch, capsys, caplog
):
    tracer_provider, spans, meters, _reader = telemetry
    caplog.set_level(logging.DEBUG)
    spec = plan_spec(capture_content=True)  # even with prompts and answers recorded
    inputs: dict = {}
    if how == "secret_input":
        monkeypatch.delenv("OPENAI_API_KEY")
        spec["inputs"] = {"openai_key": {"type": "string", "secret": True}}
        spec["nodes"][0]["with"]["options"]["api_key"] = "$inputs.openai_key"
        inputs = {"openai_key": key}
    kernel = kernel_for(Director(meter_provider=meters), tracer_provider)
    # one run through a 429 and a repair turn, one with the key rejected
    server.queue(Step.rate_limited(0.05), Step(content="{not json"))
    good = kernel.run(spec, inputs=inputs)
    assert good.status == "succeeded", good.error
    server.api_key = "sk-proj-" + secrets.token_urlsafe(36)  # the planted key is now wrong
    bad = kernel.run(spec, inputs=inputs, cache=False)
    assert bad.status == "failed" and "OPENAI_API_KEY" in str(bad.error)
    assert any(key in r.headers.get("authorization", "") for r in server.requests)  # it was sent

    texts = [
        str(good.error),
        str(bad.error),
        repr(bad.error.cause),
        json.dumps([e.to_dict() for run in (good, bad) for e in run.events], default=str),
        json.dumps([n.to_dict() for run in (good, bad) for n in run.nodes.values()], default=str),
        capsys.readouterr().out,
        caplog.text,
    ]
    for span in spans.get_finished_spans():
        texts.append(span.to_json())
    for text in texts:
        assert key not in text
    assert key.encode() not in everything_written(reelgraph_home)
    assert len(server.completions) == 4  # 429, bad JSON, repair, 401


# --- estimates from the real role hooks ---------------------------------------------------


def test_estimate_builds_the_roles_first_request_exactly_and_bounds_the_worst_case(
    server, tmp_path
):
    from reelgraph import NodeContext
    from reelgraph.plugins.roles._llm_models import Plan
    from reelgraph.plugins.vendors._pricing import first_request

    plugin = OpenAIPlugin()  # the real LLMRoles hooks, not the test Director
    brief = Brief(
        title="Trunk-based development",
        goal="Merge small changes daily.",
        key_messages=["Small daily merges keep main releasable"],
        duration_s=30,
    )
    arguments = {"brief": brief, "clarify": False, "options": {"max_tokens": 700}}
    called, probe = first_request(plugin, "plan_video", arguments)
    assert called and probe.output is Plan and probe.max_tokens == 700
    estimate = plugin.estimate_cost(hook="plan_video", provider="openai", arguments=arguments)

    good = {
        "audience_analysis": "a general audience",
        "parts": [
            {"part": "hook", "purpose": "open", "duration_s": 10, "key_messages": []},
            {
                "part": "approach",
                "purpose": "say it",
                "duration_s": 15,
                "key_messages": ["Small daily merges keep main releasable"],
            },
            {"part": "close", "purpose": "end", "duration_s": 5, "key_messages": []},
        ],
        "key_messages": ["Small daily merges keep main releasable"],
        "questions": [],
        "assumptions": [],
    }
    off_target = {**good, "parts": [{**p, "duration_s": 100} for p in good["parts"]]}
    # the worst case: malformed, repaired into a plan that breaks the rules, asked again,
    # malformed again, repaired: four requests
    server.answers["Plan"] = good
    server.queue(Step(content="{"), Step(content=json.dumps(off_target)), Step(content="{"))
    ctx = NodeContext.for_testing(tmp_path, hook="plan_video")
    plan = plugin.plan_video(
        brief=brief, document=None, answers={}, clarify=False, options={"max_tokens": 700}, ctx=ctx
    )
    assert isinstance(plan, VideoPlan) and len(server.completions) == 4
    first = server.completions[0].body["messages"]
    assert first == [
        {"role": "system", "content": probe.system},
        {"role": "user", "content": probe.user},
    ]
    assert 0 < ctx.usage.cost_usd <= estimate
    assert ctx.usage.cost_usd == pytest.approx(usage_cost(server))


def test_optimize_without_revisions_is_estimated_free(server):
    from reelgraph.models import Scene, Script

    script = Script(
        title="T",
        scenes=[Scene(index=0, kind="title", title="T", narration=["Hello there."])],
    )
    arguments = {"script": script, "feedback": [], "options": {}}
    assert (
        OpenAIPlugin().estimate_cost(hook="optimize", provider="openai", arguments=arguments) == 0.0
    )
    assert server.requests == []


def test_arguments_the_hook_cannot_take_fall_back_to_a_bound_from_their_size(server):
    plugin = OpenAIPlugin()
    small = plugin.estimate_cost(
        hook="plan_video", provider="openai", arguments={"brief": {"title": "x"}, "options": {}}
    )
    large = plugin.estimate_cost(
        hook="plan_video",
        provider="openai",
        arguments={"brief": {"title": "x" * 50_000}, "options": {}},
    )
    assert small is not None and large is not None and large > small > 0
    assert server.requests == []


def test_hooks_outside_the_llm_roles_are_not_estimated_here(server):
    # synthesize_speech (mixed into the plugin) has its own estimate; this one must not run it
    arguments = {"sentences": ["Hello there."], "options": {}}
    plugin = OpenAIPlugin()
    assert (
        plugin.estimate_cost(hook="synthesize_speech", provider="openai", arguments=arguments)
        is None
    )
    assert server.requests == []
