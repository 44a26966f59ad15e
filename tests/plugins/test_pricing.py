"""The shared LLM price table, cost arithmetic and GenAI telemetry (plugins/vendors)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reelgraph import NodeContext
from reelgraph.errors import ConfigurationError
from reelgraph.plugins.vendors import _genai, _pricing
from reelgraph.plugins.vendors._pricing import (
    Price,
    cost_usd,
    estimate_usd,
    load_prices,
    price_for,
    prompt_token_bound,
)

REQUIRED = {
    "openai": ["gpt-4o-mini", "gpt-4.1-mini", "gpt-5-mini"],
    "anthropic": ["claude-haiku-4-5", "claude-sonnet-4-5"],
}


@pytest.mark.parametrize(("vendor", "model"), [(v, m) for v, ms in REQUIRED.items() for m in ms])
def test_shipped_table_prices_the_required_models_with_source_and_date(vendor, model):
    price = load_prices(vendor)[model]
    assert price.input > 0 and price.output > price.input
    assert price.cached_input is not None and price.cached_input < price.input
    assert price.source.startswith("https://")
    assert price.as_of is not None and price.as_of >= date(2026, 1, 1)


def test_cost_is_usage_times_price_with_cached_and_written_tokens_at_their_rates():
    price = Price(input=2.0, cached_input=0.5, cache_write=2.5, output=8.0)
    # 1000 input of which 600 cached and 100 written: 300 fresh
    usd = cost_usd(price, 1000, 600, 250, cache_write_tokens=100)
    assert usd == pytest.approx((300 * 2.0 + 600 * 0.5 + 100 * 2.5 + 250 * 8.0) / 1e6)
    # rates left out of a row are the input price
    plain = Price(input=1.0, output=3.0)
    assert cost_usd(plain, 1000, 400, 10) == pytest.approx((1000 * 1.0 + 10 * 3.0) / 1e6)


def test_cost_refuses_counts_that_do_not_add_up():
    price = Price(input=1.0, output=1.0)
    with pytest.raises(ValueError, match="part of the input tokens"):
        cost_usd(price, 100, 80, 0, cache_write_tokens=30)
    with pytest.raises(ValueError, match=">= 0"):
        cost_usd(price, -1, 0, 0)


def test_dated_snapshots_take_their_alias_price():
    assert price_for("openai", "gpt-4o-mini-2024-07-18") == load_prices("openai")["gpt-4o-mini"]
    assert (
        price_for("anthropic", "claude-haiku-4-5-20251001")
        == load_prices("anthropic")["claude-haiku-4-5"]
    )


def test_unknown_model_is_none_with_one_warning(capsys):
    assert price_for("openai", "llama3.2:1b-unpriced-test") is None
    assert price_for("openai", "llama3.2:1b-unpriced-test") is None
    out = capsys.readouterr().out + capsys.readouterr().err
    assert out.count("model has no price") == 1
    assert "llama3.2:1b-unpriced-test" in out


def test_user_file_overrides_and_adds_rows(tmp_path, monkeypatch):
    mine = tmp_path / "my-prices.yaml"
    mine.write_text(
        "openai:\n"
        "  gpt-4o-mini: {input: 9, output: 10}\n"
        "  llama3.2: {input: 0, output: 0, source: local}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("REELGRAPH_PRICES", str(mine))
    prices = load_prices("openai")
    assert prices["gpt-4o-mini"].input == 9
    assert prices["llama3.2"].output == 0
    assert prices["gpt-5-mini"].input == 0.25  # shipped rows stay
    assert cost_usd(prices["llama3.2"], 5000, 0, 5000) == 0.0
    # edited in place: the new contents count (mtime changes)
    mine.write_text("openai:\n  gpt-4o-mini: {input: 7, output: 10}\n", encoding="utf-8")
    import os

    os.utime(mine, ns=(1, 1))
    assert load_prices("openai")["gpt-4o-mini"].input == 7


def test_home_prices_file_is_read_without_the_variable(reelgraph_home: Path, monkeypatch):
    monkeypatch.delenv("REELGRAPH_PRICES", raising=False)
    (reelgraph_home / "prices.yaml").write_text(
        "anthropic:\n  claude-haiku-4-5: {input: 0.5, output: 2}\n", encoding="utf-8"
    )
    assert load_prices("anthropic")["claude-haiku-4-5"].input == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("openai:\n  gpt-4o-mini: {input: -1, output: 1}\n", "openai.gpt-4o-mini.input"),
        ("openai:\n  gpt-4o-mini: {input: 1}\n", "openai.gpt-4o-mini.output"),
        ("openai:\n  gpt-4o-mini: {input: 1, output: 1, prize: 3}\n", "gpt-4o-mini.prize"),
        ("openai: [1, 2\n", "not valid YAML"),
        ("openai: 3\n", "expected a mapping"),
    ],
)
def test_bad_user_file_is_one_clear_line_naming_file_and_field(
    tmp_path, monkeypatch, text, message
):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setenv("REELGRAPH_PRICES", str(bad))
    with pytest.raises(ConfigurationError) as info:
        load_prices("openai")
    assert message in str(info.value)
    assert str(bad) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_named_file_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGRAPH_PRICES", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigurationError, match="REELGRAPH_PRICES=.*no such file"):
        load_prices("openai")


def test_estimate_is_an_upper_bound_on_bytes_and_max_tokens():
    price = load_prices("openai")["gpt-4o-mini"]
    text = "Résumé of the brief: 東京 café ☕. " * 40
    size = len(text.encode())
    bound = estimate_usd(price, size, 1000)
    # every byte a token, no cache discount, every output token used
    assert bound >= cost_usd(price, size, 0, 1000)
    assert prompt_token_bound(size) >= size
    # and it grows with what it bounds
    assert estimate_usd(price, size * 2, 1000) > bound
    assert estimate_usd(price, size, 2000) > bound


# --- telemetry -------------------------------------------------------------------


@pytest.fixture
def telemetry():
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    return meters, reader, tracer_provider.get_tracer("test"), spans


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    found: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).append(metric)
    return found


def test_record_llm_call_reports_usage_cost_span_and_metrics(tmp_path, telemetry, monkeypatch):
    monkeypatch.delenv(_genai.CAPTURE_ENV, raising=False)
    meters, reader, tracer, spans = telemetry
    ctx = NodeContext.for_testing(tmp_path)
    with tracer.start_as_current_span("attempt"):
        cost = _genai.record_llm_call(
            ctx,
            provider_name="openai",
            request_model="gpt-4o-mini",
            response_model="gpt-4o-mini-2024-07-18",
            duration_s=0.25,
            input_tokens=1000,
            output_tokens=200,
            cached_input_tokens=500,
            finish_reasons=["stop"],
            server_address="127.0.0.1",
            server_port=8080,
            input_messages=[{"role": "user", "content": "SECRET PROMPT TEXT"}],
            output_text="SECRET COMPLETION",
            meter_provider=meters,
        )
    price = load_prices("openai")["gpt-4o-mini"]
    assert cost == pytest.approx(cost_usd(price, 1000, 500, 200))
    assert ctx.usage.cost_usd == pytest.approx(cost)
    assert (ctx.usage.input_tokens, ctx.usage.output_tokens) == (1000, 200)
    assert (ctx.usage.provider_name, ctx.usage.model, ctx.usage.operation) == (
        "openai",
        "gpt-4o-mini",
        "chat",
    )
    (span,) = spans.get_finished_spans()
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 500
    assert list(span.attributes["gen_ai.response.finish_reasons"]) == ["stop"]
    assert [e.name for e in span.events] == ["gen_ai.request"]
    # content is not recorded without opting in
    dumped = json.dumps(dict(span.attributes)) + json.dumps(
        [dict(e.attributes or {}) for e in span.events]
    )
    assert "SECRET PROMPT TEXT" not in dumped and "SECRET COMPLETION" not in dumped

    metrics = _points(reader)
    (usage,) = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    by_type = {p.attributes["gen_ai.token.type"]: p for p in usage.data.data_points}
    assert by_type["input"].sum == 1000 and by_type["output"].sum == 200
    assert by_type["input"].attributes["gen_ai.provider.name"] == "openai"
    assert tuple(by_type["input"].explicit_bounds) == _genai.TOKEN_BUCKETS
    (duration,) = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    (point,) = duration.data.data_points
    assert point.sum == pytest.approx(0.25) and point.count == 1
    assert "error.type" not in point.attributes


def test_content_is_recorded_when_the_user_opts_in(tmp_path, telemetry, monkeypatch):
    meters, _reader, tracer, spans = telemetry
    monkeypatch.setenv(_genai.CAPTURE_ENV, "1")
    ctx = NodeContext.for_testing(tmp_path)
    with tracer.start_as_current_span("attempt"):
        _genai.record_llm_call(
            ctx,
            provider_name="openai",
            request_model="gpt-4o-mini",
            duration_s=0.1,
            input_tokens=10,
            output_tokens=5,
            input_messages=[{"role": "system", "content": "Plan the video."}],
            output_text='{"parts": []}',
            meter_provider=meters,
        )
    (span,) = spans.get_finished_spans()
    messages = json.loads(span.attributes["gen_ai.input.messages"])
    assert messages == [
        {"role": "system", "parts": [{"type": "text", "content": "Plan the video."}]}
    ]
    assert "parts" in span.attributes["gen_ai.output.messages"]
    # the provider option wins over the environment
    assert _genai.capture_content({"capture_content": False}) is False


def test_unknown_model_reports_tokens_without_cost(tmp_path, telemetry):
    meters, reader, tracer, _spans = telemetry
    ctx = NodeContext.for_testing(tmp_path)
    with tracer.start_as_current_span("attempt"):
        cost = _genai.record_llm_call(
            ctx,
            provider_name="openai",
            request_model="some-local-model-xyz",
            duration_s=0.1,
            input_tokens=30,
            output_tokens=7,
            meter_provider=meters,
        )
    assert cost is None
    assert ctx.usage.cost_usd == 0.0 and ctx.usage.input_tokens == 30


def test_failed_call_records_duration_with_error_type_and_no_tokens(tmp_path, telemetry):
    meters, reader, tracer, _spans = telemetry
    ctx = NodeContext.for_testing(tmp_path)
    with tracer.start_as_current_span("attempt"):
        cost = _genai.record_llm_call(
            ctx,
            provider_name="openai",
            request_model="gpt-4o-mini",
            duration_s=1.5,
            error_type="RateLimitError",
            meter_provider=meters,
        )
    assert cost is None and ctx.usage.input_tokens is None
    metrics = _points(reader)
    assert "gen_ai.client.token.usage" not in metrics
    (point,) = metrics["gen_ai.client.operation.duration"][0].data.data_points
    assert point.attributes["error.type"] == "RateLimitError"


def test_price_cache_is_keyed_on_the_file(tmp_path, monkeypatch):
    # two different override files in one process never see each other's rows
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("openai:\n  m-a: {input: 1, output: 1}\n", encoding="utf-8")
    b.write_text("openai:\n  m-b: {input: 1, output: 1}\n", encoding="utf-8")
    monkeypatch.setenv("REELGRAPH_PRICES", str(a))
    assert "m-a" in load_prices("openai") and "m-b" not in load_prices("openai")
    monkeypatch.setenv("REELGRAPH_PRICES", str(b))
    assert "m-b" in load_prices("openai") and "m-a" not in load_prices("openai")
    assert _pricing.PRICES_ENV == "REELGRAPH_PRICES"
