"""The openai provider: the real openai SDK against a fake Chat Completions server on loopback."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from pydantic import BaseModel, ConfigDict, Field

from reelgraph import NodeContext
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    RateLimitedError,
    TransientError,
)
from reelgraph.models import Review, Script, ShotList, VideoPlan
from reelgraph.plugins.roles.llm import StructuredRequest
from reelgraph.plugins.vendors._pricing import cost_usd, load_prices
from reelgraph.plugins.vendors.openai import OpenAIPlugin
from reelgraph.plugins.vendors.openai._schema import strict_schema
from tests.fakes.openai_server import FakeOpenAI, Step, _strict_problem


class Part(BaseModel):
    name: str
    seconds: float = Field(gt=0)


class Outline(BaseModel):
    """A test output: nested list, a constraint, a default and a free-form mapping."""

    model_config = ConfigDict(extra="forbid")

    title: str
    parts: list[Part] = Field(min_length=1)
    note: str = "none"
    tags: dict[str, str] = {}


GOOD = {"title": "Why reelgraph", "parts": [{"name": "hook", "seconds": 5}], "note": None}


@pytest.fixture
def key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(36)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeOpenAI(key, {"Outline": GOOD})
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.close()


def ask(plugin: OpenAIPlugin, ctx: NodeContext, **options) -> BaseModel:
    request = StructuredRequest(
        role="director",
        system="You outline videos.",
        user="Outline a 30 s video about reelgraph.",
        output=Outline,
        max_tokens=800,
        temperature=0.2,
        options=options,
    )
    return plugin.structured(request, ctx)


@pytest.fixture
def ctx(tmp_path) -> NodeContext:
    return NodeContext.for_testing(tmp_path, node_id="plan", hook="plan_video")


def billed(server: FakeOpenAI, answers: list[dict]) -> float:
    """Cost of the completions the server sent, from their reported usage."""
    price = load_prices("openai")["gpt-4o-mini"]
    return sum(
        cost_usd(price, a["usage"]["prompt_tokens"], 0, a["usage"]["completion_tokens"])
        for a in answers
    )


# --- structured output -------------------------------------------------------------


def test_structured_output_sends_a_strict_schema_and_returns_the_model(server, key, ctx):
    plugin = OpenAIPlugin()
    answer = ask(plugin, ctx)
    assert isinstance(answer, Outline)
    assert answer.title == "Why reelgraph" and answer.parts[0].seconds == 5
    assert answer.note == "none"  # null for a defaulted field means the default

    (sent,) = server.completions
    assert sent.headers["authorization"] == f"Bearer {key}"
    body = sent.body
    assert body["model"] == "gpt-4o-mini"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Outline" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "parts", "note"]  # tags has no strict form
    assert schema["properties"]["note"]["anyOf"][-1] == {"type": "null"}
    # a loopback server is not api.openai.com: the limit goes as max_tokens
    assert body["max_tokens"] == 800 and "max_completion_tokens" not in body
    assert body["temperature"] == 0.2


def test_usage_and_cost_are_reported_as_usage_times_price(server, ctx):
    ask(OpenAIPlugin(), ctx)
    (sent,) = server.completions
    prompt = "".join(m["content"] for m in sent.body["messages"])
    prompt += json.dumps(sent.body["response_format"])
    tokens_in = -(-len(prompt) // 4)  # the fake's count
    tokens_out = -(-len(json.dumps(GOOD)) // 4)
    assert (ctx.usage.input_tokens, ctx.usage.output_tokens) == (tokens_in, tokens_out)
    price = load_prices("openai")["gpt-4o-mini"]
    assert ctx.usage.cost_usd == pytest.approx(cost_usd(price, tokens_in, 0, tokens_out))
    assert ctx.usage.cost_usd > 0
    assert (ctx.usage.provider_name, ctx.usage.model, ctx.usage.operation) == (
        "openai",
        "gpt-4o-mini",
        "chat",
    )


def test_official_api_gets_max_completion_tokens_and_reasoning_models_no_temperature(server, ctx):
    plugin = OpenAIPlugin()
    ask(plugin, ctx, max_tokens_param="max_completion_tokens", model="gpt-5-mini")
    body = server.completions[-1].body
    assert body["max_completion_tokens"] == 800 and "max_tokens" not in body
    assert "temperature" not in body and body["model"] == "gpt-5-mini"


def test_base_url_option_wins_over_the_environment(key, ctx, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    with FakeOpenAI(key, {"Outline": GOOD}) as fake:
        ask(OpenAIPlugin(), ctx, base_url=fake.base_url)
        assert len(fake.completions) == 1


# --- repair turn and invalid answers ------------------------------------------------


def test_schema_invalid_answer_gets_one_repair_turn_with_the_errors(server, ctx):
    bad = json.dumps({"title": "x", "parts": [{"name": "a", "seconds": -1}]})
    server.queue(Step(content=bad))
    answer = ask(OpenAIPlugin(), ctx)
    assert isinstance(answer, Outline)
    _first, second = server.completions
    repair = second.body["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"] == bad
    assert "parts.0.seconds" in repair[3]["content"]
    assert "greater than 0" in repair[3]["content"]
    assert ctx.usage.input_tokens and ctx.usage.input_tokens > 0
    # both requests were paid for: tokens add up over the two
    price = load_prices("openai")["gpt-4o-mini"]
    assert ctx.usage.cost_usd == pytest.approx(
        cost_usd(price, ctx.usage.input_tokens, 0, ctx.usage.output_tokens)
    )


def test_malformed_json_twice_is_a_classified_invalid_input_error(server, ctx):
    server.queue(Step(content='{"title": "cut'), Step(content="Sure! Here is the JSON:"))
    with pytest.raises(InvalidInputError) as info:
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 2
    assert "after one repair turn" in str(info.value)
    assert "not valid JSON" in str(info.value)
    assert "not valid JSON" in server.completions[1].body["messages"][-1]["content"]


def test_schema_invalid_twice_is_an_invalid_input_error_naming_the_field(server, ctx):
    bad = Step(content=json.dumps({"title": "x", "parts": []}))
    server.queue(bad, Step(content=bad.content))
    with pytest.raises(InvalidInputError, match=r"Outline after one repair turn: parts"):
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 2


def test_refusal_is_an_invalid_input_error_without_a_repair_turn(server, ctx):
    server.queue(Step(refusal="I'm sorry, I can't help with that request."))
    with pytest.raises(InvalidInputError, match="refused the director request: I'm sorry"):
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 1


def test_length_cut_says_to_raise_max_tokens(server, ctx):
    server.queue(Step(content='{"title": "Why', finish_reason="length"))
    with pytest.raises(InvalidInputError, match="cut at max_tokens=800.*raise the max_tokens"):
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 1


def test_content_filter_is_an_invalid_input_error(server, ctx):
    server.queue(Step(content="", finish_reason="content_filter"))
    with pytest.raises(InvalidInputError, match="content filter"):
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 1


# --- HTTP failures, classified; the SDK never retries ---------------------------------


def test_429_is_rate_limited_with_retry_after_and_not_retried_by_the_sdk(server, ctx):
    server.queue(Step.rate_limited(retry_after_s=1.5))
    with pytest.raises(RateLimitedError) as info:
        ask(OpenAIPlugin(), ctx)
    assert info.value.retry_after_s == pytest.approx(1.5)  # retry-after-ms wins over retry-after
    assert "rate_limit_exceeded" in str(info.value)
    assert len(server.completions) == 1  # max_retries=0


def test_retry_after_header_alone_is_read(server, ctx):
    server.queue(
        Step.error_status(429, "requests", "slow down", "rate_limit_exceeded", retry_after="7")
    )
    with pytest.raises(RateLimitedError) as info:
        ask(OpenAIPlugin(), ctx)
    assert info.value.retry_after_s == 7


def test_insufficient_quota_is_a_configuration_error(server, ctx):
    server.queue(Step.insufficient_quota())
    with pytest.raises(ConfigurationError, match="insufficient_quota.*plan and billing"):
        ask(OpenAIPlugin(), ctx)
    assert len(server.completions) == 1


def test_500_is_transient(server, ctx):
    server.queue(Step.server_error())
    with pytest.raises(TransientError) as info:
        ask(OpenAIPlugin(), ctx)
    assert not isinstance(info.value, RateLimitedError)
    assert str(info.value).startswith("openai: HTTP 500") and "server_error" in str(info.value)
    assert len(server.completions) == 1


def test_timeout_is_transient(server, ctx):
    server.queue(Step(delay_s=1.5))
    began = time.perf_counter()
    with pytest.raises(TransientError, match="timed out"):
        ask(OpenAIPlugin(), ctx, request_timeout_s=0.3)
    assert time.perf_counter() - began < 1.4
    assert len(server.completions) == 1


def test_rejected_key_is_a_configuration_error_naming_the_variable_not_the_key(
    server, ctx, monkeypatch
):
    wrong = "sk-proj-" + secrets.token_urlsafe(36)
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    with pytest.raises(ConfigurationError) as info:
        ask(OpenAIPlugin(), ctx)
    message = str(info.value)
    assert message.startswith("openai: HTTP 401")
    assert "invalid_api_key" in message and "set OPENAI_API_KEY" in message
    assert wrong not in message and wrong[8:30] not in message
    assert len(server.completions) == 1


def test_missing_key_fails_before_any_request(server, ctx, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigurationError, match="no API key: set OPENAI_API_KEY"):
        ask(OpenAIPlugin(), ctx)
    assert server.requests == []


def test_api_key_option_must_be_a_secret(server, key, ctx, monkeypatch):
    from reelgraph.observe.secrets import register_secret

    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigurationError, match="secret: true"):
        ask(OpenAIPlugin(), ctx, api_key="not-a-registered-secret-value")
    assert server.requests == []
    register_secret(key, name="inputs.openai_key")  # what the kernel does for secret inputs
    assert isinstance(ask(OpenAIPlugin(), ctx, api_key=key), Outline)


def test_unknown_model_reports_tokens_without_a_cost(server, ctx):
    ask(OpenAIPlugin(), ctx, model="llama3.2:3b")
    assert ctx.usage.input_tokens and ctx.usage.cost_usd == 0.0
    assert ctx.usage.model == "llama3.2:3b"


# --- kernel hooks ------------------------------------------------------------------


def test_classify_error_hook_maps_sdk_exceptions(server, key):
    import openai

    from reelgraph.plan.registry import PluginRegistry

    registry = PluginRegistry({"openai": OpenAIPlugin()}, entry_points=False)
    client = openai.OpenAI(api_key=key, base_url=server.base_url, max_retries=0)
    server.queue(Step.insufficient_quota(), Step.rate_limited(2.0), Step.server_error())
    found = []
    for _ in range(3):
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
        found.append(registry.classify_error(info.value))
    assert [type(e).__name__ for e in found] == [
        "ConfigurationError",
        "RateLimitedError",
        "TransientError",
    ]
    assert found[1].retry_after_s == 2.0
    assert registry.classify_error(ValueError("not an SDK error")) is None


def test_secret_patterns_are_the_shared_openai_key_formats():
    import re

    from reelgraph.plugins.vendors import _openai_rules

    patterns = OpenAIPlugin().secret_patterns()
    assert patterns == _openai_rules.KEY_PATTERNS
    ((name, pattern),) = patterns
    assert name == "openai"
    assert re.search(pattern, "key sk-proj-" + "a" * 40)
    assert re.search(pattern, "key sk-svcacct-" + "B_-9" * 10)
    assert not re.search(pattern, "a task-list of ordinary words")


# --- the schema transform against the API's strict rules ----------------------------


@pytest.mark.parametrize("model", [VideoPlan, Script, ShotList, Review, Outline])
def test_kernel_models_become_schemas_strict_mode_accepts(model):
    made = strict_schema(model)
    assert made.strict
    assert _strict_problem(made.schema, ()) == ""
    assert made.schema["type"] == "object"


def test_strict_schema_is_a_fresh_copy_each_time():
    first = strict_schema(VideoPlan)
    first.schema["properties"].clear()
    assert strict_schema(VideoPlan).schema["properties"]


# --- installing and loading --------------------------------------------------------


def _python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_loading_the_plugin_does_not_import_the_sdk():
    out = _python(
        "import sys\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        "info = registry.info('openai')\n"
        "print(info.error, sorted(info.hooks), 'openai' in sys.modules)\n"
    )
    assert out.endswith("False"), out
    assert out.startswith("None"), out
    for hook in ("classify_error", "estimate_cost", "environment_variables", "secret_patterns"):
        assert hook in out


def test_without_the_sdk_the_plugin_fails_soft_with_the_install_line():
    out = _python(
        "import sys\n"
        "sys.modules['openai'] = None  # as if not installed\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        "print(registry.info('openai').error)\n"
        "print(registry.info('markdown').error)\n"
    )
    error, other = out.splitlines()
    assert "pip install 'reelgraph[openai]'" in error
    assert other == "None"  # the other plugins load


def test_environment_variables_name_what_the_provider_reads():
    names = [name for name, _ in OpenAIPlugin().environment_variables()]
    assert names[:2] == ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
