"""Classifying httpx errors against a real HTTP server on 127.0.0.1, and the
``classify_error`` hook that lets a plugin classify its own exceptions first.

The vendor rules that left the kernel (OpenAI's ``insufficient_quota``,
``retry-after-ms``) are tested with the real SDKs in
tests/plugins/test_vendor_rules.py.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from reelgraph import (
    ConfigurationError,
    InvalidInputError,
    Kernel,
    PluginError,
    ProviderError,
    RateLimitedError,
    Run,
    TransientError,
    hookimpl,
)
from reelgraph.hookspecs import hookspec
from reelgraph.observe.classify import (
    BODY_CHARS,
    classify_error,
    parse_retry_after,
    raise_for_status,
    retry_after_from_headers,
)
from reelgraph.observe.secrets import redact
from tests.kernel.loopback import Reply, Server, closed_port

KEY = "sk-test-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture
def reply(server: Server) -> Reply:
    server.reply = Reply()
    return server.reply


def error_body(message: str, type_: str, code: str | None) -> str:
    """The common JSON error envelope: ``{"error": {"message", "type", "code"}}``."""
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}})


def assert_clean(err: ProviderError) -> None:
    text = str(err)
    assert KEY not in text
    assert KEY[8:24] not in text  # not even a cut-off piece of it


# --- Retry-After --------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Sunday, 01-Mar-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Sun Mar  1 12:00:05 2026", 5.0),  # obsolete asctime form (no zone: GMT)
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("7 seconds", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:10 GMT", now=naive) == 10.0


def test_retry_after_names_ignore_case_and_vendor_headers_are_not_read() -> None:
    # retry-after-ms is a vendor's header: its plugin reads it (tests/plugins/test_vendor_rules.py)
    assert retry_after_from_headers({"Retry-After-Ms": "1500", "Retry-After": "9"}) == 9.0
    assert retry_after_from_headers({"retry-after-ms": "1500"}) is None
    assert retry_after_from_headers({"RETRY-AFTER": "9"}) == 9.0
    assert retry_after_from_headers(httpx.Headers({"Retry-After": "4"})) == 4.0
    assert retry_after_from_headers({"x-other": "1"}) is None
    assert retry_after_from_headers(None) is None


# --- httpx against the loopback server ----------------------------------------

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
    (413, InvalidInputError),
    (422, InvalidInputError),
]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # one client for the module: building one costs ~0.1 s (TLS context)
    with httpx.Client() as client:
        yield client


def status_error(http: httpx.Client, server: Server) -> httpx.HTTPStatusError:
    response = http.post(
        f"{server.url}/v1/jobs?key={KEY}&page=2",
        json={"prompt": "a cat"},
        headers={"authorization": f"Bearer {KEY}"},
    )
    with pytest.raises(httpx.HTTPStatusError) as info:
        response.raise_for_status()
    return info.value


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
def test_httpx_status(
    http: httpx.Client, server: Server, reply: Reply, status: int, cls: type
) -> None:
    reply.status = status
    reply.body = error_body("No good: $KEY for $PATH", "some_error", "some_code")
    reply.headers = {"retry-after": "7"} if status == 429 else {}
    exc = status_error(http, server)

    err = classify_error(exc)

    assert type(err) is cls
    assert err.__cause__ is exc
    text = str(err)
    assert f"HTTP {status} " in text
    assert f"POST {server.url}/v1/jobs: " in text  # no query string
    assert "[some_code] No good: [REDACTED] for /v1/jobs?key=[REDACTED]&page=2" in text
    assert_clean(err)
    if status == 429:
        assert err.retry_after_s == 7.0
    if status in (401, 403):
        assert "check the API key" in text


def test_retry_after_http_date(http: httpx.Client, server: Server, reply: Reply) -> None:
    reply.status = 429
    reply.retry_after_date_s = 3.0
    err = classify_error(status_error(http, server))
    assert isinstance(err, RateLimitedError)
    # an HTTP-date has whole seconds: 3 s ahead reads as a little over 2 to 3
    assert err.retry_after_s is not None and 1.5 <= err.retry_after_s <= 3.0


def test_429_without_retry_after(http: httpx.Client, server: Server, reply: Reply) -> None:
    reply.status = 429
    err = classify_error(status_error(http, server))
    assert isinstance(err, RateLimitedError) and err.retry_after_s is None


def test_body_is_shortened(http: httpx.Client, server: Server, reply: Reply) -> None:
    reply.status = 400
    reply.body = "x" * 180 + " $KEY " + "y" * 5000  # the cut falls inside the key
    err = classify_error(status_error(http, server))
    assert isinstance(err, InvalidInputError)
    detail = str(err).split("/v1/jobs: ", 1)[1]
    assert len(detail) <= BODY_CHARS
    assert detail.startswith("x" * 180 + " [REDACTED] y")
    assert_clean(err)


def test_unshaped_key_in_header_and_query(http: httpx.Client, server: Server, reply: Reply) -> None:
    """A key no pattern knows is still blanked: it was sent as a credential."""
    key = secrets.token_urlsafe(24)
    reply.status = 403
    reply.body = error_body("key $XKEY may not call $PATH", "permission_error", None)
    response = http.get(f"{server.url}/v1/models?api_key={key}", headers={"x-api-key": key})
    with pytest.raises(ConfigurationError) as info:
        raise_for_status(response)
    text = str(info.value)
    assert key not in text
    assert "key [REDACTED] may not call /v1/models?api_key=[REDACTED]" in text


def test_read_timeout(http: httpx.Client, server: Server, reply: Reply) -> None:
    reply.delay_s = 0.6
    with pytest.raises(httpx.ReadTimeout) as info:
        http.get(f"{server.url}/slow?token={KEY}", timeout=0.1)
    err = classify_error(info.value)
    assert type(err) is TransientError
    assert err.__cause__ is info.value
    assert f"ReadTimeout (GET {server.url}/slow)" in str(err)
    assert_clean(err)


def test_connection_refused(http: httpx.Client) -> None:
    port = closed_port()
    with pytest.raises(httpx.ConnectError) as info:
        http.get(f"http://127.0.0.1:{port}/v1/jobs")
    err = classify_error(info.value)
    assert type(err) is TransientError
    assert f"127.0.0.1:{port}/v1/jobs" in str(err)


def test_key_with_newline_is_configuration(
    http: httpx.Client, server: Server, reply: Reply
) -> None:
    with pytest.raises(httpx.LocalProtocolError) as info:
        http.get(f"{server.url}/v1/jobs", headers={"authorization": f"Bearer {KEY}\n"})
    err = classify_error(info.value)
    assert type(err) is ConfigurationError
    assert_clean(err)


def test_async_raise_for_status(server: Server, reply: Reply) -> None:
    reply.status = 429
    reply.headers = {"Retry-After": "7"}

    async def get() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(f"{server.url}/v1/jobs/1")

    response = asyncio.run(get())
    with pytest.raises(RateLimitedError) as info:
        raise_for_status(response)
    assert info.value.retry_after_s == 7.0
    assert isinstance(info.value.__cause__, httpx.HTTPStatusError)
    assert info.value.__cause__.response is response

    reply.status = 200
    assert raise_for_status(asyncio.run(get())) is None


def test_builtin_and_other_errors() -> None:
    assert type(classify_error(TimeoutError("slow"))) is TransientError
    assert type(classify_error(ConnectionResetError("reset by peer"))) is TransientError
    assert classify_error(ValueError("bad")) is None
    assert classify_error(KeyError("x")) is None
    already = InvalidInputError("empty document")
    assert classify_error(already) is already


def test_a_client_librarys_error_raised_from_an_httpx_timeout_is_transient(
    http: httpx.Client, server: Server, reply: Reply
) -> None:
    """Client libraries wrap httpx errors (``raise TheirTimeout(...) from err``): the
    cause tells what happened, whatever the wrapper is called."""

    class ClientTimedOut(Exception):
        pass

    reply.delay_s = 0.6
    with pytest.raises(ClientTimedOut) as info:
        try:
            http.get(f"{server.url}/slow", timeout=0.1)
        except httpx.TimeoutException as err:
            raise ClientTimedOut("request timed out") from err
    err = classify_error(info.value)
    assert type(err) is TransientError
    assert "ClientTimedOut" in str(err)

    class Unrelated(Exception):
        pass

    assert classify_error(Unrelated("no transport error behind it")) is None


# --- the classify_error hook: plugins first, then the kernel's rules ---------------------

FAST = {"initial_s": 0.01, "max_s": 0.02, "jitter_s": 0.0}


class AcmeBusy(Exception):
    """The made-up SDK's "try again later", which the kernel cannot know."""


class AcmeQuotaGone(Exception):
    """The made-up SDK's "your account is empty": a 429 on the wire, never retryable."""

    status_code = 429


class Specs:
    @staticmethod
    @hookspec(firstresult=True)
    def acme(value, ctx):
        """Call the made-up vendor."""


class AcmeSDKPlugin:
    """A vendor plugin whose SDK raises its own exceptions, and which classifies them."""

    reelgraph_name = "acme"

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.asked: list[str] = []

    @hookimpl
    def acme(self, value, ctx):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return value + 1

    @hookimpl
    def classify_error(self, error):
        self.asked.append(type(error).__name__)
        if isinstance(error, AcmeBusy):
            return RateLimitedError("acme is busy", retry_after_s=0.05)
        if isinstance(error, AcmeQuotaGone):
            return ConfigurationError("acme: the account is empty; top it up")
        return None


class BrokenClassifier:
    reelgraph_name = "broken"

    @hookimpl
    def classify_error(self, error):
        raise RuntimeError("classifier bug")


def _acme_run(*plugins: object, events: list | None = None) -> tuple[Kernel, Run]:
    spec = {
        "name": "acme",
        "nodes": [
            {
                "id": "a",
                "hook": "acme",
                "provider": "acme",
                "with": {"value": 1},
                "retry": {"max_attempts": 3, **FAST},
            }
        ],
    }
    kernel = Kernel(plugins=list(plugins), entry_points=False, hookspecs=[Specs], persist=False)
    return kernel, kernel.run(spec, on_event=(events.append if events is not None else None))


def test_a_plugin_classifies_its_own_exception_and_the_kernel_retries_it() -> None:
    plugin = AcmeSDKPlugin(AcmeBusy("busy"))
    events: list = []
    _, run = _acme_run(plugin, events=events)
    assert run.status == "succeeded", run.error
    assert plugin.calls == 2 and plugin.asked == ["AcmeBusy"]
    [retry] = [e.data for e in events if e.type == "node.retrying"]
    assert retry["wait_s"] >= 0.05  # the plugin's retry_after_s, above the 0.01 s backoff


def test_without_the_plugins_classifier_the_same_exception_is_not_retried() -> None:
    class Unclassified(AcmeSDKPlugin):
        classify_error = None  # type: ignore[assignment]

    plugin = Unclassified(AcmeBusy("busy"))
    _, run = _acme_run(plugin)
    assert run.status == "failed" and plugin.calls == 1
    assert "AcmeBusy: busy" in str(run.error)


def test_the_plugins_answer_wins_over_the_kernels_http_rules() -> None:
    """A 429 status would be rate-limited by the kernel; the plugin knows it is an empty account."""
    assert isinstance(classify_error(AcmeQuotaGone("empty")), RateLimitedError)
    plugin = AcmeSDKPlugin(AcmeQuotaGone("empty"))
    _, run = _acme_run(plugin)
    assert run.status == "failed" and plugin.calls == 1  # a ConfigurationError is never retried


def test_a_failing_classifier_leaves_the_kernels_rules_and_a_note() -> None:
    kernel = Kernel(plugins=[BrokenClassifier()], entry_points=False, persist=False)
    error = TimeoutError("slow")
    assert kernel.registry.classify_error(error) is None
    assert "classify_error hook failed: RuntimeError: classifier bug" in error.__notes__[0]
    # and in a run the error is still classified by the kernel (TimeoutError: transient)
    plugin = AcmeSDKPlugin(TimeoutError("slow"))
    _, run = _acme_run(plugin, BrokenClassifier())
    assert run.status == "succeeded" and plugin.calls == 2


class WrongAnswer:
    reelgraph_name = "wrong"

    @hookimpl
    def classify_error(self, error):
        return "transient"


def test_an_answer_that_is_not_a_provider_error_is_ignored() -> None:
    kernel = Kernel(plugins=[WrongAnswer()], entry_points=False, persist=False)
    error = ValueError("x")
    assert kernel.registry.classify_error(error) is None
    assert "answered str, not a ProviderError" in error.__notes__[0]


# --- secret_patterns: a plugin's key format is redacted everywhere -----------------------


class AcmeKeys:
    reelgraph_name = "acmekeys"

    @hookimpl
    def secret_patterns(self):
        return [("acme", r"acmek_(?<![A-Za-z0-9]acmek_)[0-9a-f]{24,}")]


class BadKeys:
    reelgraph_name = "badkeys"

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    @hookimpl
    def secret_patterns(self):
        return [("bad", self.pattern)]

    @hookimpl
    def acme(self, value, ctx):
        return value


def test_a_plugins_key_format_is_redacted_once_it_registers() -> None:
    key = "acmek_" + secrets.token_hex(16)
    text = f"rejected {key}; taskacmek_{'0' * 30} is an id"
    before = redact(text)
    assert key in before  # no plugin has declared the format yet (or it is another process's)
    Kernel(plugins=[AcmeKeys()], entry_points=False, persist=False).plugins()
    assert redact(text) == f"rejected [REDACTED:acme]; taskacmek_{'0' * 30} is an id"
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(", "does not compile"),
        ("x*", "matches empty text"),
        (r"[a-z]{3,}", "matches ordinary prose"),
        (r"REDACTED:bad", "matches its own marker"),
    ],
)
def test_a_plugin_with_an_unusable_key_pattern_is_broken_and_does_not_run(
    pattern: str, why: str
) -> None:
    kernel = Kernel(
        plugins={"badkeys": BadKeys(pattern)}, entry_points=False, hookspecs=[Specs], persist=False
    )
    with pytest.raises(PluginError, match=why):
        kernel.plugins()
    assert kernel.registry.providers("acme") == []  # unregistered: its hooks never run
