"""The ``anthropic`` provider's one method, ``structured``: the real SDK against a fake Messages API.

Every test drives ``anthropic.Anthropic`` (the official SDK) over loopback
HTTP to :mod:`tests.fakes.anthropic_server`, which follows the published wire
format, and counts the requests it made.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    RateLimitedError,
    TransientError,
)
from reelgraph.plugins.roles.llm import StructuredRequest
from reelgraph.plugins.vendors._pricing import price_for
from reelgraph.plugins.vendors.anthropic import AnthropicPlugin
from reelgraph.plugins.vendors.anthropic.plugin import DEFAULT_MODEL, tool_name
from reelgraph.run.context import NodeContext
from tests.fakes.anthropic_server import FakeAnthropic, Step

KEY = "sk-ant-api03-" + secrets.token_urlsafe(64)


class TalkPlan(BaseModel):
    """A tiny plan: a title, a length in seconds and its parts."""

    title: str
    duration_s: float = Field(gt=0)
    parts: list[str] = Field(min_length=1)


GOOD = {"title": "Why keys leak", "duration_s": 60, "parts": ["hook", "close"]}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic(KEY, {"talk_plan": GOOD})
    yield fake
    fake.close()


@pytest.fixture
def fake(server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """The server with no requests seen and nothing queued; the SDK pointed at it by env."""
    server.requests.clear()
    server._steps.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return server


def context(tmp_path: Path) -> NodeContext:
    return NodeContext(
        run_id="run1", node_id="plan", hook="plan_video", provider="anthropic", run_dir=tmp_path
    )


def ask(tmp_path: Path, **options: object) -> tuple[BaseModel, NodeContext]:
    ctx = context(tmp_path)
    request = StructuredRequest(
        role="director",
        system="You plan short talks.",
        user="Brief: a 60 s talk on API keys.",
        output=TalkPlan,
        max_tokens=512,
        options=dict(options),
    )
    return AnthropicPlugin().structured(request, ctx), ctx


def fails(tmp_path: Path, error: type[Exception], **options: object) -> Exception:
    with pytest.raises(error) as info:
        ask(tmp_path, **options)
    assert KEY not in str(info.value)
    return info.value


# -- structured output through a forced tool --------------------------------------------


def test_the_answer_is_the_forced_tools_input_validated(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    answer, _ = ask(tmp_path)
    assert answer == TalkPlan(**GOOD)
    (request,) = fake.messages()
    body = request.body
    assert body["model"] == DEFAULT_MODEL == "claude-haiku-4-5"
    assert body["max_tokens"] == 512
    assert body["system"] == "You plan short talks."
    assert body["messages"] == [{"role": "user", "content": "Brief: a 60 s talk on API keys."}]
    (tool,) = body["tools"]
    assert tool["name"] == "talk_plan" == tool_name(TalkPlan)
    assert tool["input_schema"] == TalkPlan.model_json_schema()
    assert "TalkPlan" in tool["description"]
    assert body["tool_choice"] == {"type": "tool", "name": "talk_plan"}
    assert "temperature" not in body
    assert request.headers["anthropic-version"]
    assert KEY in (request.headers.get("x-api-key"), request.headers.get("authorization", "")[7:])
    assert request.headers["x-stainless-retry-count"] == "0"


def test_options_choose_model_temperature_key_and_base_url(
    fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "ANTHROPIC_API_KEY", "sk-ant-api03-" + "x" * 40
    )  # not the one the fake takes
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    ctx = context(tmp_path)
    request = StructuredRequest(
        role="director",
        system="s",
        user="u",
        output=TalkPlan,
        temperature=0.2,
        options={"model": "claude-sonnet-4-5", "api_key": KEY, "base_url": fake.url},
    )
    assert AnthropicPlugin().structured(request, ctx) == TalkPlan(**GOOD)
    body = fake.messages()[0].body
    assert body["model"] == "claude-sonnet-4-5"
    assert "temperature" not in body  # API 2026-10-21 answers 400 to any sampling parameter
    assert ctx.usage.model == "claude-sonnet-4-5"


def test_tool_names_fit_the_apis_pattern() -> None:
    class VideoPlan(BaseModel):
        x: int

    class ABCReview2(BaseModel):
        x: int

    assert tool_name(VideoPlan) == "video_plan"
    assert tool_name(ABCReview2) == "abcreview2"


# -- usage and cost ----------------------------------------------------------------------


def test_usage_and_cost_are_reported_as_usage_times_price(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(
        Step(
            usage={
                "input_tokens": 1200,
                "cache_read_input_tokens": 3000,
                "cache_creation_input_tokens": 500,
                "output_tokens": 400,
            }
        )
    )
    _, ctx = ask(tmp_path)
    price = price_for("anthropic", DEFAULT_MODEL)
    assert price is not None and price.input > 0
    expected = (
        1200 * price.input
        + 3000 * price.cached_input
        + 500 * price.cache_write
        + 400 * price.output
    ) / 1_000_000
    assert ctx.usage.cost_usd == pytest.approx(expected, rel=1e-12)
    assert ctx.usage.input_tokens == 1200 + 3000 + 500  # every input token, as GenAI counts them
    assert ctx.usage.output_tokens == 400
    assert (ctx.usage.provider_name, ctx.usage.operation) == ("anthropic", "chat")
    # the haiku-4-5 row: $1 in, $0.10 cache hits, $1.25 cache writes, $5 out per 1M tokens
    assert expected == pytest.approx((1200 + 300 + 625 + 2000) / 1_000_000)


# -- the repair turn ---------------------------------------------------------------------


def test_a_schema_invalid_answer_gets_one_repair_turn_with_the_errors(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(Step(kind="input", input={"title": "x", "duration_s": -5, "parts": []}))
    answer, ctx = ask(tmp_path)
    assert answer == TalkPlan(**GOOD)
    first, second = fake.messages()
    assert [r.status for r in fake.messages()] == [200, 200]
    sent = second.body["messages"]
    assert len(sent) == 3 and [m["role"] for m in sent] == ["user", "assistant", "user"]
    (call,) = sent[1]["content"]
    assert call["type"] == "tool_use" and call["name"] == "talk_plan"
    assert call["input"] == {"title": "x", "duration_s": -5, "parts": []}
    (result,) = sent[2]["content"]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == call["id"]
    assert "duration_s" in result["content"] and "parts" in result["content"]
    assert second.body["tool_choice"] == first.body["tool_choice"]
    # both requests were paid for and reported
    assert ctx.usage.input_tokens > json.dumps(first.body).__len__() // 4
    assert ctx.usage.cost_usd > 0


def test_an_answer_still_invalid_after_the_repair_is_invalid_input(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    bad = Step(kind="input", input={"title": 3})
    fake.queue(bad, bad)
    error = fails(tmp_path, InvalidInputError)
    assert len(fake.messages()) == 2
    text = str(error)
    assert "claude-haiku-4-5" in text and "TalkPlan" in text and "repair turn" in text
    assert "duration_s: Field required" in text


def test_a_text_answer_without_the_tool_call_is_asked_again(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(Step(kind="text"))
    answer, _ = ask(tmp_path)
    assert answer == TalkPlan(**GOOD)
    second = fake.messages()[1].body["messages"]
    assert second[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Here is the plan you asked for: ..."}],
    }
    assert second[2]["content"][0]["type"] == "text"
    assert "talk_plan" in second[2]["content"][0]["text"]


def test_tool_input_sent_as_a_json_string_is_read_and_garbage_is_repaired(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(Step(kind="input", input=json.dumps(GOOD)))
    assert ask(tmp_path)[0] == TalkPlan(**GOOD)
    assert len(fake.messages()) == 1
    fake.requests.clear()
    fake.queue(Step(kind="input", input="{'title': oops"))
    assert ask(tmp_path)[0] == TalkPlan(**GOOD)
    assert len(fake.messages()) == 2
    result = fake.messages()[1].body["messages"][2]["content"][0]
    assert "JSON object" in result["content"]


# -- stop reasons that a repair would not fix ------------------------------------------


def test_a_refusal_is_invalid_input_and_not_repaired(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step(kind="refusal"))
    error = fails(tmp_path, InvalidInputError)
    assert "refusal" in str(error) and "director" in str(error)
    assert len(fake.messages()) == 1


def test_an_answer_cut_at_max_tokens_says_to_raise_it(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step(kind="max_tokens"))
    error = fails(tmp_path, InvalidInputError)
    assert "max_tokens=512" in str(error) and "raise max_tokens" in str(error)
    assert len(fake.messages()) == 1


# -- HTTP errors, classified; the SDK never retries on its own ------------------------------


def test_429_is_rate_limited_with_the_servers_retry_after(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(
        Step.error(
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
            retry_after="7",
        )
    )
    error = fails(tmp_path, RateLimitedError)
    assert error.retry_after_s == 7.0
    assert "HTTP 429" in str(error) and "[rate_limit_error] Number of requests" in str(error)
    assert "retry after 7 s" in str(error)
    assert len(fake.messages()) == 1  # max_retries=0: the kernel's policy decides


def test_retry_after_ms_wins(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step.error(429, "rate_limit_error", retry_after="7", retry_after_ms="1500"))
    assert fails(tmp_path, RateLimitedError).retry_after_s == 1.5


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "api_error"), (529, "overloaded_error"), (503, "api_error")]
)
def test_5xx_and_overloaded_are_transient(
    fake: FakeAnthropic, tmp_path: Path, status: int, kind: str
) -> None:
    fake.queue(Step.error(status, kind, "Overloaded" if status == 529 else "Internal server error"))
    error = fails(tmp_path, TransientError)
    assert f"HTTP {status}" in str(error) and f"[{kind}]" in str(error)
    assert len(fake.messages()) == 1


def test_a_timeout_is_transient_and_quick(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step(delay_s=3.0))
    import time

    started = time.monotonic()
    error = fails(tmp_path, TransientError, timeout_s=0.3)
    assert time.monotonic() - started < 2.5
    assert "timed out" in str(error)
    assert len(fake.messages()) == 1


def test_a_body_that_is_not_json_is_transient(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step(kind="malformed"))
    assert "not valid JSON" in str(fails(tmp_path, TransientError))


def test_a_rejected_key_is_a_configuration_error_naming_the_variable(
    fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-ant-api03-" + secrets.token_urlsafe(64)
    monkeypatch.setenv("ANTHROPIC_API_KEY", wrong)
    error = fails(tmp_path, ConfigurationError)
    assert "HTTP 401" in str(error) and "[authentication_error]" in str(error)
    assert "ANTHROPIC_API_KEY" in str(error)
    assert wrong not in str(error)
    assert len(fake.messages()) == 1


def test_403_is_a_configuration_error(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step.error(403, "permission_error", "Your API key does not have permission"))
    assert "ANTHROPIC_API_KEY" in str(fails(tmp_path, ConfigurationError))


def test_a_spend_cap_429_is_a_configuration_error_not_a_rate_limit(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(
        Step(
            kind="error",
            status=429,
            error_type="rate_limit_error",
            message="You have reached your monthly spend limit",
            details={"error_code": "enforced_spend_limit_reached"},
        )
    )
    error = fails(tmp_path, ConfigurationError)
    assert "spend cap" in str(error)


def test_a_404_names_the_model_option(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step.error(404, "not_found_error", "model: claude-nope"))
    error = fails(tmp_path, InvalidInputError, model="claude-nope")
    assert "options.model" in str(error) and "claude-nope" in str(error)


def test_400_is_invalid_input_with_the_apis_message(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.queue(Step.error(400, "invalid_request_error", "max_tokens: 100000 > 64000"))
    error = fails(tmp_path, InvalidInputError)
    assert "HTTP 400" in str(error) and "[invalid_request_error] max_tokens: 100000" in str(error)


def test_an_error_quoting_the_key_back_does_not_repeat_it(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.queue(Step.error(400, "invalid_request_error", f"bad header x-api-key: {KEY}"))
    error = fails(tmp_path, InvalidInputError)  # fails() asserts the key is not in it
    assert "REDACTED" in str(error)


# -- keys --------------------------------------------------------------------------------


def test_no_key_is_a_configuration_error_before_any_request(
    fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", KEY)  # the SDK's other variable is not a key source
    error = fails(tmp_path, ConfigurationError)
    assert "ANTHROPIC_API_KEY" in str(error) and "options.api_key" in str(error)
    assert fake.requests == []


def test_without_the_sdk_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)  # import anthropic -> ImportError
    error = fails(tmp_path, ConfigurationError)
    assert "pip install 'reelgraph[anthropic]'" in str(error)


def test_without_the_sdk_the_plugin_fails_to_load_softly_naming_the_extra() -> None:
    code = (
        "import sys; sys.modules['anthropic'] = None; "
        "from reelgraph.plan.registry import PluginRegistry; "
        "infos = {i.name: i for i in PluginRegistry(env={}).plugins()}; "
        "print(infos['anthropic'].error); assert infos['markdown'].error is None"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'reelgraph[anthropic]'" in done.stdout


def test_importing_the_plugin_does_not_import_the_sdk() -> None:
    code = (
        "import sys; from reelgraph.plan.registry import PluginRegistry; "
        "infos = {i.name: i for i in PluginRegistry(env={}).plugins()}; "
        "assert infos['anthropic'].error is None, infos['anthropic'].error; "
        "assert 'anthropic' not in sys.modules; print(infos['anthropic'].hooks)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "classify_error" in done.stdout and "secret_patterns" in done.stdout


# -- the kernel's vendor hooks -----------------------------------------------------------


def test_classify_error_hook_maps_the_sdks_own_exceptions(fake: FakeAnthropic) -> None:
    import anthropic

    client = anthropic.Anthropic(api_key=KEY, base_url=fake.url, max_retries=0)
    plugin = AnthropicPlugin()
    caught = {}
    for status, kind in ((529, "overloaded_error"), (429, "rate_limit_error"), (401, "x")):
        fake.queue(Step.error(status, kind, retry_after="3"))
        with pytest.raises(anthropic.APIStatusError) as info:
            client.messages.create(
                model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
            )
        caught[status] = plugin.classify_error(error=info.value)
    assert type(caught[529]) is TransientError
    assert type(caught[429]) is RateLimitedError and caught[429].retry_after_s == 3.0
    assert type(caught[401]) is ConfigurationError and "ANTHROPIC_API_KEY" in str(caught[401])
    assert all(KEY not in str(error) for error in caught.values())
    assert plugin.classify_error(error=ValueError("not a vendor error")) is None


def test_secret_patterns_match_anthropic_keys_and_not_prose() -> None:
    import re

    patterns = [re.compile(p) for _, p in AnthropicPlugin().secret_patterns()]
    assert any(p.search(f"key={KEY}") for p in patterns)
    assert any(p.search("sk-ant-admin01-" + "A" * 30) for p in patterns)
    for text in ("ask-ant-colony", "the sk-ant prefix", "task-ant-" + "a" * 30):
        assert not any(p.search(text) for p in patterns), text


def test_environment_variables_name_the_key_and_base_url() -> None:
    names = [name for name, _ in AnthropicPlugin().environment_variables()]
    assert names == ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]
