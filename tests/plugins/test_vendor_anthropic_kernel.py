"""The ``anthropic`` provider inside the kernel: retries by the node's policy, costs, no leaked key.

A Kernel with one node whose hook asks Claude (through
``AnthropicPlugin.structured``, the method every role calls) runs against the
fake Messages API; the SDK makes no retry of its own, so every request the
fake counts is an attempt or a repair turn the kernel and the plugin chose.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel, Field

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.plugins.roles.llm import StructuredRequest
from reelgraph.plugins.vendors._pricing import price_for
from reelgraph.plugins.vendors.anthropic import AnthropicPlugin
from tests.fakes.anthropic_server import FakeAnthropic, Step

FAST = {"initial_s": 0.01, "max_s": 0.05, "jitter_s": 0.0}


class TalkPlan(BaseModel):
    """A tiny plan: a title, a length in seconds and its parts."""

    title: str
    duration_s: float = Field(gt=0)
    parts: list[str] = Field(min_length=1)


GOOD = {"title": "Keys stay secret", "duration_s": 45, "parts": ["hook", "close"]}


class AskSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def ask(question, options, ctx):
        """Ask a language model for a TalkPlan (a dict) about ``question``."""


class AskClaude(AnthropicPlugin):
    """The anthropic plugin with one more hook, asking the way every role asks."""

    @hookimpl
    def ask(self, question: str, options: dict[str, Any], ctx: Any) -> dict[str, Any]:
        request = StructuredRequest(
            role="director",
            system="You plan short talks.",
            user=question,
            output=TalkPlan,
            max_tokens=600,
            options=options,
        )
        return self.structured(request, ctx).model_dump()


def spec(url: str, *, retry: dict[str, Any] | None = None, key_input: bool = False) -> dict:
    options: dict[str, Any] = {"base_url": url}
    inputs: dict[str, Any] = {"q": {"type": "string", "default": "A 45 s talk on API keys."}}
    if key_input:
        inputs["api_key"] = {"type": "string", "secret": True}
        options["api_key"] = "$inputs.api_key"
    node = {
        "id": "plan",
        "hook": "ask",
        "provider": "anthropic",
        "with": {"question": "$inputs.q", "options": options},
    }
    if retry is not None:
        node["retry"] = retry
    return {"name": "ask", "inputs": inputs, "nodes": [node], "outputs": {"plan": "$plan"}}


def kernel(**options: Any) -> Kernel:
    options.setdefault("persist", False)
    return Kernel(plugins=[AskClaude()], entry_points=False, hookspecs=[AskSpecs], **options)


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-ant-api03-" + secrets.token_urlsafe(64)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    return key


@pytest.fixture
def fake(env_key: str) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic(env_key, {"talk_plan": GOOD})
    yield server
    server.close()


USAGE = {"input_tokens": 1000, "output_tokens": 200}


def expected_cost(usage: dict[str, int]) -> float:
    price = price_for("anthropic", "claude-haiku-4-5")
    assert price is not None
    return (usage["input_tokens"] * price.input + usage["output_tokens"] * price.output) / 1e6


# -- the kernel's retry policy is the only one -------------------------------------------


def test_429_with_retry_after_then_success_waits_as_asked(fake: FakeAnthropic) -> None:
    fake.queue(
        Step.error(429, "rate_limit_error", "Number of requests exceeded", retry_after="1"),
        Step(usage=USAGE),
    )
    events: list = []
    run = kernel().run(spec(fake.url, retry={"max_attempts": 3, **FAST}), on_event=events.append)
    assert run.status == "succeeded", run.error
    assert run.outputs["plan"] == TalkPlan(**GOOD).model_dump()
    first, second = fake.messages()
    assert [first.status, second.status] == [429, 200]
    assert second.at - first.at >= 0.95  # Retry-After: 1, not the 0.01 s backoff
    assert run.nodes["plan"].attempts == 2
    (retrying,) = [e.data for e in events if e.type == "node.retrying"]
    assert "RateLimitedError" in retrying["error"] and "retry after 1 s" in retrying["error"]
    assert run.cost_usd == pytest.approx(expected_cost(USAGE))  # the 429 cost nothing


def test_500_then_overloaded_then_success(fake: FakeAnthropic) -> None:
    fake.queue(
        Step.error(500, "api_error", "Internal server error"),
        Step.error(529, "overloaded_error", "Overloaded"),
    )
    run = kernel().run(spec(fake.url, retry={"max_attempts": 3, **FAST}))
    assert run.status == "succeeded", run.error
    assert [r.status for r in fake.messages()] == [500, 529, 200]
    assert run.nodes["plan"].attempts == 3


def test_a_timeout_is_retried(fake: FakeAnthropic) -> None:
    fake.queue(Step(delay_s=2.0))
    node_spec = spec(fake.url, retry={"max_attempts": 2, **FAST})
    node_spec["nodes"][0]["with"]["options"]["timeout_s"] = 0.3
    run = kernel().run(node_spec)
    assert run.status == "succeeded", run.error
    assert len(fake.messages()) == 2


def test_a_rejected_key_is_never_retried(fake: FakeAnthropic, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-" + secrets.token_urlsafe(64))
    run = kernel().run(spec(fake.url, retry={"max_attempts": 5, **FAST}))
    assert run.status == "failed"
    assert len(fake.messages()) == 1
    assert "ANTHROPIC_API_KEY" in str(run.error) and "HTTP 401" in str(run.error)


def test_an_answer_invalid_after_the_repair_is_not_retried(fake: FakeAnthropic) -> None:
    bad = Step(kind="input", input={"title": "x"})
    fake.queue(bad, bad)
    run = kernel().run(spec(fake.url, retry={"max_attempts": 5, **FAST}))
    assert run.status == "failed"
    assert len(fake.messages()) == 2  # the first answer and its repair turn, no new attempt
    assert "attempt 1" in str(run.error) and "InvalidInputError" in str(run.error)
    assert "after a repair turn: duration_s: Field required" in str(run.error)


def test_one_429_and_one_malformed_answer_cost_three_requests(fake: FakeAnthropic) -> None:
    """The issue's figure: the requests made when the server injects one 429 and one bad answer."""
    fake.queue(
        Step.error(429, "rate_limit_error", retry_after="0"),
        Step(kind="input", input="{not json", usage=USAGE),
        Step(usage=USAGE),
    )
    run = kernel().run(spec(fake.url, retry={"max_attempts": 3, **FAST}))
    assert run.status == "succeeded", run.error
    assert [r.status for r in fake.messages()] == [429, 200, 200]
    assert run.nodes["plan"].attempts == 2
    assert run.cost_usd == pytest.approx(2 * expected_cost(USAGE))


# -- money and telemetry ------------------------------------------------------------------


def test_cost_is_usage_times_price_in_node_run_and_store(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    usage = {**USAGE, "cache_read_input_tokens": 4000, "cache_creation_input_tokens": 800}
    fake.queue(Step(usage=usage))
    k = kernel(persist=True, home=tmp_path / "home")
    try:
        run = k.run(spec(fake.url))
        price = price_for("anthropic", "claude-haiku-4-5")
        assert price is not None
        expected = (
            1000 * price.input
            + 4000 * price.cached_input
            + 800 * price.cache_write
            + 200 * price.output
        ) / 1e6
        assert run.status == "succeeded", run.error
        assert run.nodes["plan"].cost_usd == pytest.approx(expected)
        assert k.store.get_run_cost(run.id) == pytest.approx(expected)
        ((node_id, usd, detail),) = k.store.get_costs(run.id)
        assert node_id == "plan" and usd == pytest.approx(expected)
        assert "claude-haiku-4-5: 5800 input + 200 output tokens" in detail
    finally:
        k.close()


def test_attempt_spans_and_metrics_follow_the_genai_conventions(fake: FakeAnthropic) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    fake.queue(
        Step.error(429, "rate_limit_error", retry_after="0"),
        Step(usage={**USAGE, "cache_read_input_tokens": 300}),
    )
    k = Kernel(
        plugins=[AskClaude(meter_provider=meters)],
        entry_points=False,
        hookspecs=[AskSpecs],
        persist=False,
        tracer_provider=tracer_provider,
    )
    run = k.run(spec(fake.url, retry={"max_attempts": 2, **FAST}))
    assert run.status == "succeeded", run.error
    failed, ok = sorted(
        (s for s in spans.get_finished_spans() if s.name == "chat claude-haiku-4-5"),
        key=lambda s: s.start_time,
    )
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    attributes = ok.attributes
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.usage.input_tokens"] == 1300
    assert attributes["gen_ai.usage.output_tokens"] == 200
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 300
    assert attributes["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["reelgraph.cost_usd"] == pytest.approx(run.cost_usd)
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
    assert tokens == {"input": 1300, "output": 200}


def test_prompt_and_answer_go_on_the_span_only_on_opt_in(fake: FakeAnthropic) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    k = Kernel(
        plugins=[AskClaude()],
        entry_points=False,
        hookspecs=[AskSpecs],
        persist=False,
        tracer_provider=tracer_provider,
    )
    opted = spec(fake.url)
    opted["nodes"][0]["with"]["options"]["capture_content"] = True
    assert k.run(opted).status == "succeeded"
    (span,) = [s for s in spans.get_finished_spans() if s.name == "chat claude-haiku-4-5"]
    sent = json.loads(span.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[0]["parts"][0]["content"] == "You plan short talks."
    answer = json.loads(span.attributes["gen_ai.output.messages"])
    assert json.loads(answer[0]["parts"][0]["content"]) == GOOD


# -- a planted key appears nowhere ---------------------------------------------------------


def test_a_planted_key_appears_nowhere(
    fake: FakeAnthropic,
    env_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # a second key with no known shape, given as a secret input: only `secret: true` hides it
    input_key = "antplanted" + secrets.token_hex(20)
    second = FakeAnthropic(input_key, {"talk_plan": GOOD})
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))  # the application's, unredacted
    home = tmp_path / "home"
    k = kernel(persist=True, home=home, tracer_provider=provider)
    events: list = []
    # careless vendors: the key quoted back in a 429 (retried) and in a 400 (fails the run)
    fake.queue(Step.error(429, "rate_limit_error", f"slow down {env_key}", retry_after="0"))
    second.queue(Step.error(400, "invalid_request_error", f"bad key {input_key}"))
    try:
        first = k.run(spec(fake.url, retry={"max_attempts": 2, **FAST}), on_event=events.append)
        failed = k.run(
            spec(second.url, key_input=True),
            inputs={"api_key": input_key},
            on_event=events.append,
            output_dir=tmp_path / "out",
        )
    finally:
        k.close()
        second.close()

    # both keys really were used, and both vendors really quoted them back
    assert first.status == "succeeded", first.error
    assert len(fake.messages()) == 2 and len(second.messages()) == 1
    assert env_key in fake.messages()[0].headers.get("authorization", "")
    assert input_key in second.messages()[0].headers.get("authorization", "")
    assert failed.status == "failed" and "[invalid_request_error]" in str(failed.error)

    stdout, stderr = capfd.readouterr()
    places = {"stdout": stdout, "stderr": stderr}
    for run in (first, failed):
        places[f"{run.id} error"] = str(run.error)
        places[f"{run.id} cause"] = repr(getattr(run.error, "__cause__", None))
        places[f"{run.id} to_dict"] = json.dumps(run.to_dict(events=True), default=str)
    places |= {f"event {i} {e.type}": repr(e) for i, e in enumerate(events)}
    for span in memory.get_finished_spans():
        text = [span.name, repr(dict(span.attributes or {})), span.status.description or ""]
        text += [f"{e.name} {dict(e.attributes or {})}" for e in span.events]
        places[f"span {span.name}"] = "\n".join(text)
    assert any("gen_ai.request" in text for text in places.values())  # LLM calls were traced
    for path in sorted(home.rglob("*")):
        if path.is_file():
            places[f"file {path}"] = path.read_bytes().decode("utf-8", "replace")
    with sqlite3.connect(f"file:{home / 'reelgraph.db'}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            places[f"db {table}"] = repr(rows)
    leaks = [
        f"{name} in {place}"
        for name, key in (("ANTHROPIC_API_KEY", env_key), ("secret input", input_key))
        for place, text in places.items()
        if key in text or key[-24:] in text
    ]
    assert leaks == []


# -- budgets stop a call before it spends --------------------------------------------------


def test_estimate_cost_bounds_a_call_and_a_budget_stops_it_before_any_request(
    fake: FakeAnthropic,
) -> None:
    plugin = AskClaude()
    arguments = {"question": "A 45 s talk on API keys.", "options": {"base_url": fake.url}}
    estimate = plugin.estimate_cost(hook="ask", provider="anthropic", arguments=arguments)
    assert estimate is not None and estimate > 0
    assert plugin.estimate_cost(hook="ask", provider="openai", arguments=arguments) is None
    assert plugin.estimate_cost(hook="secret_patterns", provider="anthropic", arguments={}) is None
    unknown = {**arguments, "options": {"model": "claude-unpriced-9"}}
    assert plugin.estimate_cost(hook="ask", provider="anthropic", arguments=unknown) is None
    bigger = {**arguments, "options": {"max_tokens": 8000}}
    assert plugin.estimate_cost(hook="ask", provider="anthropic", arguments=bigger) > estimate

    run = kernel().run(spec(fake.url), budget={"max_cost_usd": estimate / 2})
    assert run.status == "over_budget"
    assert fake.messages() == []  # stopped before it spent

    run = kernel().run(spec(fake.url), budget={"max_cost_usd": estimate * 1.01})
    assert run.status == "succeeded", run.error
    assert 0 < run.cost_usd <= estimate  # the bound held for the call it let through


def test_an_answer_already_paid_for_is_not_bought_again(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    k = kernel(persist=True, home=tmp_path / "home")
    try:
        first = k.run(spec(fake.url))
        second = k.run(spec(fake.url))
    finally:
        k.close()
    assert first.status == second.status == "succeeded"
    assert len(fake.messages()) == 1  # the memo cache answered the second run
    assert second.outputs["plan"] == first.outputs["plan"]
    assert first.cost_usd > 0 and second.cost_usd == 0
