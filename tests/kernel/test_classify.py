"""Classifying httpx and OpenAI SDK errors, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import openai
import pytest

from reelgraph import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from reelgraph.observe.classify import (
    BODY_CHARS,
    classify_error,
    parse_retry_after,
    raise_for_status,
    retry_after_from_headers,
)

KEY = "sk-test-" + secrets.token_hex(16)


@dataclass
class Reply:
    """What the server answers next. ``echo_key`` quotes the caller's bearer token."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "{}"
    delay_s: float = 0.0
    retry_after_date_s: float | None = None
    echo_key: bool = True


class Server:
    def __init__(self) -> None:
        self.reply = Reply()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                reply = server.reply
                time.sleep(reply.delay_s)
                body = reply.body
                if reply.echo_key:  # a careless vendor quoting the key back
                    body = body.replace("$KEY", self.headers.get("authorization", ""))
                    body = body.replace("$XKEY", self.headers.get("x-api-key", ""))
                    body = body.replace("$PATH", self.path)
                data = body.encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.retry_after_date_s is not None:
                    when = datetime.now(UTC) + timedelta(seconds=reply.retry_after_date_s)
                    self.send_header("retry-after", format_datetime(when, usegmt=True))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda *args: None  # a client that timed out hung up
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture
def reply(server: Server) -> Reply:
    server.reply = Reply()
    return server.reply


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def openai_body(message: str, type_: str, code: str | None) -> str:
    """OpenAI's published error shape (platform.openai.com/docs/guides/error-codes)."""
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


def test_retry_after_ms_wins_and_names_ignore_case() -> None:
    assert retry_after_from_headers({"Retry-After-Ms": "1500", "Retry-After": "9"}) == 1.5
    assert retry_after_from_headers({"retry-after-ms": "bad", "RETRY-AFTER": "9"}) == 9.0
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
    reply.body = openai_body("No good: $KEY for $PATH", "some_error", "some_code")
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
    reply.body = openai_body("key $XKEY may not call $PATH", "permission_error", None)
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


# --- the official OpenAI SDK against the loopback server ----------------------


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[openai.OpenAI]:
    # one client for the module: building one costs ~0.2 s (TLS context)
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=5.0) as sdk:
        yield sdk


def chat(client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
def test_openai_status(
    server: Server, client: openai.OpenAI, reply: Reply, status: int, cls: type
) -> None:
    reply.status = status
    reply.body = openai_body("Incorrect API key provided: $KEY.", "invalid_request_error", None)
    reply.headers = {"retry-after-ms": "1500", "retry-after": "2"} if status == 429 else {}
    with pytest.raises(openai.APIStatusError) as info:
        chat(client)

    err = classify_error(info.value)

    assert type(err) is cls
    assert err.__cause__ is info.value
    text = str(err)
    assert f"HTTP {status} " in text
    assert f"POST {server.url}/v1/chat/completions" in text
    assert "[invalid_request_error] Incorrect API key provided" in text
    assert_clean(err)
    if status == 429:
        assert err.retry_after_s == 1.5


def test_openai_insufficient_quota_is_configuration(client: openai.OpenAI, reply: Reply) -> None:
    reply.status = 429
    reply.body = openai_body(
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
    )
    with pytest.raises(openai.RateLimitError) as info:
        chat(client)
    err = classify_error(info.value)
    assert type(err) is ConfigurationError
    assert "billing" in str(err)


def test_openai_timeout(client: openai.OpenAI, reply: Reply) -> None:
    reply.delay_s = 0.6
    with pytest.raises(openai.APITimeoutError) as info:
        chat(client.with_options(timeout=0.1))
    err = classify_error(info.value)
    assert type(err) is TransientError
    assert "APITimeoutError" in str(err)
    assert_clean(err)


def test_openai_connection_refused() -> None:
    port = closed_port()
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.APIConnectionError) as info:
        chat(client)
    err = classify_error(info.value)
    assert type(err) is TransientError
    assert f"127.0.0.1:{port}/v1/chat/completions" in str(err)
    assert_clean(err)


def test_openai_async_rate_limited(server: Server, reply: Reply) -> None:
    reply.status = 429
    reply.headers = {"retry-after-ms": "250"}
    reply.body = openai_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    create = client.chat.completions.create
    with pytest.raises(openai.RateLimitError) as info:
        asyncio.run(create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]))
    err = classify_error(info.value)
    assert isinstance(err, RateLimitedError)
    assert err.retry_after_s == 0.25
    assert "[rate_limit_exceeded] Rate limit reached" in str(err)
