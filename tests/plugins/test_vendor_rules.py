"""The OpenAI and Anthropic rules that left the kernel, driven by the real SDKs.

The official ``openai`` and ``anthropic`` clients talk to a real HTTP server on
127.0.0.1 (through their ``base_url`` argument) that answers with the
vendors' published error shapes:

- OpenAI: ``{"error": {"message", "type", "param", "code"}}``
  (https://developers.openai.com/api/docs/guides/error-codes);
- Anthropic: ``{"type": "error", "error": {"type", "message", "details"?},
  "request_id"}`` (https://platform.claude.com/docs/en/api/errors).

Then :func:`_openai_rules.classify` / :func:`_anthropic_rules.classify` must
say what each exception amounts to, and their key patterns must redact the
vendors' key formats once registered.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterator

import anthropic
import openai
import pytest

from reelgraph import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from reelgraph.observe.secrets import Redactor
from reelgraph.plugins.vendors import _anthropic_rules, _openai_rules
from tests.kernel.loopback import Reply, Server, closed_port

OPENAI_KEY = "sk-proj-" + secrets.token_hex(20)
ANTHROPIC_KEY = "sk-ant-api03-" + secrets.token_hex(24)

STATUS_CASES = [
    (429, RateLimitedError),
    (503, TransientError),
    (500, TransientError),
    (408, TransientError),
    (409, TransientError),
    (401, ConfigurationError),
    (403, ConfigurationError),
    (400, InvalidInputError),
    (404, InvalidInputError),
    (422, InvalidInputError),
]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture
def reply(server: Server) -> Reply:
    server.reply = Reply()
    return server.reply


def assert_clean(err: ProviderError, key: str) -> None:
    text = str(err)
    assert key not in text
    assert key[-24:-8] not in text  # not even a piece of it


def test_errors_of_other_libraries_are_not_theirs() -> None:
    for rules in (_openai_rules, _anthropic_rules):
        assert rules.classify(ValueError("x")) is None
        assert rules.classify(TimeoutError("slow")) is None  # the kernel's rules decide


# -- OpenAI ------------------------------------------------------------------------------


def openai_body(message: str, type_: str, code: str | None) -> str:
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}})


@pytest.fixture(scope="module")
def oa(server: Server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=OPENAI_KEY, max_retries=0, timeout=5.0
    ) as client:
        yield client


def chat(client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
def test_openai_status(oa: openai.OpenAI, server: Server, reply: Reply, status: int, cls) -> None:
    reply.status = status
    reply.body = openai_body("Incorrect API key provided: $KEY.", "invalid_request_error", None)
    reply.headers = {"retry-after-ms": "1500", "retry-after": "2"} if status == 429 else {}
    with pytest.raises(openai.APIStatusError) as info:
        chat(oa)

    err = _openai_rules.classify(info.value)

    assert type(err) is cls
    assert err.__cause__ is info.value
    text = str(err)
    assert f"HTTP {status} " in text
    assert f"POST {server.url}/v1/chat/completions" in text
    assert "[invalid_request_error] Incorrect API key provided" in text
    assert_clean(err, OPENAI_KEY)
    if status == 429:
        assert err.retry_after_s == 1.5  # retry-after-ms wins, as in the SDK


@pytest.mark.parametrize(
    ("type_", "code"),
    [
        ("insufficient_quota", "insufficient_quota"),
        ("insufficient_quota", None),
        ("insufficient_quota", "credit_balance_exhausted"),
        ("insufficient_quota", "project_spend_limit_exceeded"),
    ],
)
def test_openai_billing_429_is_configuration_not_rate_limit(
    oa: openai.OpenAI, reply: Reply, type_: str, code: str | None
) -> None:
    reply.status = 429
    reply.body = openai_body(
        "You exceeded your current quota, please check your plan and billing details.", type_, code
    )
    with pytest.raises(openai.RateLimitError) as info:
        chat(oa)
    err = _openai_rules.classify(info.value)
    assert type(err) is ConfigurationError
    assert "check your plan and billing" in str(err)
    assert _openai_rules.BILLING_CODES[code or type_].split(";")[0] in str(err)
    assert_clean(err, OPENAI_KEY)


def test_openai_rate_limit_code_stays_a_rate_limit(oa: openai.OpenAI, reply: Reply) -> None:
    reply.status = 429
    reply.headers = {"retry-after": "3"}
    reply.body = openai_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")
    with pytest.raises(openai.RateLimitError) as info:
        chat(oa)
    err = _openai_rules.classify(info.value)
    assert type(err) is RateLimitedError and err.retry_after_s == 3.0


def test_openai_timeout(oa: openai.OpenAI, reply: Reply) -> None:
    reply.delay_s = 0.6
    with pytest.raises(openai.APITimeoutError) as info:
        chat(oa.with_options(timeout=0.1))
    err = _openai_rules.classify(info.value)
    assert type(err) is TransientError
    assert "APITimeoutError" in str(err)
    assert_clean(err, OPENAI_KEY)


def test_openai_connection_refused() -> None:
    port = closed_port()
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{port}/v1", api_key=OPENAI_KEY, max_retries=0
    )
    with pytest.raises(openai.APIConnectionError) as info:
        chat(client)
    err = _openai_rules.classify(info.value)
    assert type(err) is TransientError
    assert f"127.0.0.1:{port}/v1/chat/completions" in str(err)
    assert_clean(err, OPENAI_KEY)


def test_openai_async_rate_limited(server: Server, reply: Reply) -> None:
    reply.status = 429
    reply.headers = {"retry-after-ms": "250"}
    reply.body = openai_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=OPENAI_KEY, max_retries=0)
    create = client.chat.completions.create
    with pytest.raises(openai.RateLimitError) as info:
        asyncio.run(create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]))
    err = _openai_rules.classify(info.value)
    assert isinstance(err, RateLimitedError)
    assert err.retry_after_s == 0.25
    assert "[rate_limit_exceeded] Rate limit reached" in str(err)


# -- Anthropic ---------------------------------------------------------------------------


def anthropic_body(type_: str, message: str, details: dict | None = None) -> str:
    error: dict = {"type": type_, "message": message}
    if details is not None:
        error["details"] = details
    return json.dumps({"type": "error", "error": error, "request_id": "req_011CSHoEeqs5C35K2UUq"})


@pytest.fixture(scope="module")
def an(server: Server) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=server.url, api_key=ANTHROPIC_KEY, max_retries=0, timeout=5.0
    ) as client:
        yield client


def message(client: anthropic.Anthropic) -> None:
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )


@pytest.mark.parametrize(("status", "cls"), [*STATUS_CASES, (529, TransientError)])
def test_anthropic_status(
    an: anthropic.Anthropic, server: Server, reply: Reply, status: int, cls
) -> None:
    reply.status = status
    reply.body = anthropic_body("authentication_error", "invalid credentials $KEY")
    reply.headers = {"retry-after-ms": "1500", "retry-after": "2"} if status == 429 else {}
    with pytest.raises(anthropic.APIStatusError) as info:
        message(an)

    err = _anthropic_rules.classify(info.value)

    assert type(err) is cls
    assert err.__cause__ is info.value
    text = str(err)
    assert f"HTTP {status}" in text
    assert f"POST {server.url}/v1/messages" in text
    assert "[authentication_error] invalid credentials [REDACTED]" in text
    assert_clean(err, ANTHROPIC_KEY)
    if status == 429:
        assert err.retry_after_s == 1.5


def test_anthropic_monthly_spend_cap_is_configuration(
    an: anthropic.Anthropic, reply: Reply
) -> None:
    reply.status = 429
    reply.body = anthropic_body(
        "rate_limit_error",
        "You have reached your monthly usage limit.",
        {"error_code": "enforced_spend_limit_reached"},
    )
    with pytest.raises(anthropic.APIStatusError) as info:
        message(an)
    err = _anthropic_rules.classify(info.value)
    assert type(err) is ConfigurationError
    assert "monthly spend cap" in str(err)


def test_anthropic_spend_limit_400_is_configuration(an: anthropic.Anthropic, reply: Reply) -> None:
    reply.status = 400
    reply.body = anthropic_body(
        "invalid_request_error",
        "You have reached your specified API usage limits. You will regain access on 2027-01-01.",
    )
    with pytest.raises(anthropic.BadRequestError) as info:
        message(an)
    err = _anthropic_rules.classify(info.value)
    assert type(err) is ConfigurationError
    assert "spend limit" in str(err)


def test_anthropic_plain_rate_limit_honours_retry_after(
    an: anthropic.Anthropic, reply: Reply
) -> None:
    reply.status = 429
    reply.headers = {"retry-after": "4"}
    reply.body = anthropic_body("rate_limit_error", "Number of request tokens has exceeded")
    with pytest.raises(anthropic.RateLimitError) as info:
        message(an)
    err = _anthropic_rules.classify(info.value)
    assert type(err) is RateLimitedError and err.retry_after_s == 4.0


def test_anthropic_timeout_and_refused_connection(an: anthropic.Anthropic, reply: Reply) -> None:
    reply.delay_s = 0.6
    with pytest.raises(anthropic.APITimeoutError) as info:
        message(an.with_options(timeout=0.1))
    assert type(_anthropic_rules.classify(info.value)) is TransientError
    port = closed_port()
    client = anthropic.Anthropic(
        base_url=f"http://127.0.0.1:{port}", api_key=ANTHROPIC_KEY, max_retries=0
    )
    with pytest.raises(anthropic.APIConnectionError) as refused:
        message(client)
    err = _anthropic_rules.classify(refused.value)
    assert type(err) is TransientError and f"127.0.0.1:{port}/v1/messages" in str(err)


def test_one_vendors_rules_leave_the_other_vendors_errors_alone(
    an: anthropic.Anthropic, reply: Reply
) -> None:
    reply.status = 429
    with pytest.raises(anthropic.RateLimitError) as info:
        message(an)
    assert _openai_rules.classify(info.value) is None


# -- key formats ---------------------------------------------------------------------------


def _redactor() -> Redactor:
    redactor = Redactor({})
    for name, pattern in _openai_rules.KEY_PATTERNS + _anthropic_rules.KEY_PATTERNS:
        redactor.add_pattern(name, pattern)
    return redactor


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("sk-" + "a1B2" * 12, "openai"),  # a user key
        ("sk-proj-" + "Z9_y-" * 10, "openai"),
        ("sk-svcacct-" + secrets.token_urlsafe(40), "openai"),
        ("sk-admin-" + secrets.token_hex(24), "openai"),
        ("sk-ant-api03-" + "q" * 40, "anthropic"),
        ("sk-ant-admin01-" + secrets.token_urlsafe(60), "anthropic"),
    ],
)
def test_vendor_key_formats_are_redacted_with_their_name(key: str, name: str) -> None:
    redactor = _redactor()
    text = f"failed: {key}, retrying"
    assert redactor.redact(text) == f"failed: [REDACTED:{name}], retrying"
    assert redactor.redact(redactor.redact(text)) == redactor.redact(text)


def test_an_anthropic_key_is_still_redacted_with_only_the_openai_pattern() -> None:
    redactor = Redactor({})
    redactor.add_pattern(*_openai_rules.KEY_PATTERNS[0])
    key = "sk-ant-api03-" + secrets.token_hex(24)
    assert key not in redactor.redact(f"x {key}")


def test_ids_and_prose_are_left_alone() -> None:
    redactor = _redactor()
    prose = (
        "the task-runner-for-every-single-thing, disk-0123456789abcdef0123, "
        "sk-learn and ask-ant-api03-notakey are not keys"
    )
    assert redactor.redact(prose) == prose


def test_patterns_start_with_their_literal_so_the_search_is_cheap() -> None:
    from reelgraph.observe.secrets import literal_prefix

    assert [literal_prefix(p) for _, p in _openai_rules.KEY_PATTERNS] == ["sk-"]
    assert [literal_prefix(p) for _, p in _anthropic_rules.KEY_PATTERNS] == ["sk-ant-"]
    for _, pattern in _openai_rules.KEY_PATTERNS + _anthropic_rules.KEY_PATTERNS:
        re.compile(pattern)
