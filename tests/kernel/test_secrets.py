"""Secrets never appear in logs, spans, events, errors, run records or the store.

The redactor is tested on its own first; then a careless fixture plugin
(tests/fixtures/reelgraph_leaky) plants API keys everywhere it can during a
real ``reelgraph run`` and an embedded ``Kernel.run``, and every output is
searched for them.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from reelgraph import ConfigurationError, GateFailed, Kernel, NodeError
from reelgraph.models import GateResult
from reelgraph.observe.secrets import (
    Redactor,
    literal_prefix,
    looks_secret,
    redact,
    redact_processor,
    redact_value,
    register_secret,
    with_redaction,
)
from reelgraph.observe.tracing import RedactingSpanExporter
from tests.kernel.steps import pip_install_fixtures

FIXTURES = Path(__file__).parent.parent / "fixtures"
LEAKY = FIXTURES / "reelgraph_leaky"


def planted(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


# -- the redactor ---------------------------------------------------------------


def test_environment_keys_are_redacted_with_their_name_even_when_set_after_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = planted("planted-")  # no well-known shape: only the variable's name gives it away
    text = f"auth failed for {key}"
    assert redact(text) == text
    monkeypatch.setenv("ACME_API_KEY", key)
    assert redact(text) == "auth failed for [REDACTED:ACME_API_KEY]"
    other = planted("changed-")
    monkeypatch.setenv("ACME_API_KEY", other)  # same variable, new value
    assert redact(f"{key} {other}") == f"{key} [REDACTED:ACME_API_KEY]"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("RUNWAYML_API_SECRET", True),
        ("ELEVEN_API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("PGPASSWORD", True),
        ("DB_PASSWORD_FILE", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("PATH", False),
        ("KEYBOARD_LAYOUT", False),
        ("REELGRAPH_HOME", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_short_environment_values_and_other_names_are_left_alone() -> None:
    redactor = Redactor({"SORT_KEY": "asc", "HOME": "/home/someone-important"})
    assert redactor.redact("asc /home/someone-important") == "asc /home/someone-important"


def test_registered_secrets_are_redacted_longest_first() -> None:
    redactor = Redactor({})
    inner = planted("token-")
    outer = inner + "-extended"
    assert redactor.register(inner, name="inputs.short")
    assert redactor.register(outer, name="inputs.long")
    assert redactor.register("abc") is False  # too short to be a secret
    assert redactor.redact(f"{outer} / {inner} / abc") == (
        "[REDACTED:inputs.long] / [REDACTED:inputs.short] / abc"
    )


def test_the_kernel_knows_no_vendor_key_format_until_a_plugin_declares_one() -> None:
    """Key formats come from plugins (``secret_patterns``); their own tests are in
    tests/plugins/test_vendor_rules.py."""
    redactor = Redactor({})
    key = "zq_live_" + secrets.token_hex(16)
    text = f"failed: {key}, retrying"
    assert redactor.redact(text) == text
    redactor.add_pattern("zq", r"zq_live_[0-9a-f]{20,}")
    assert redactor.redact(text) == "failed: [REDACTED:zq], retrying"
    redactor.add_pattern("zq", r"zq_live_[0-9a-f]{20,}")  # again: nothing changes
    assert redactor.patterns() == [("zq", r"zq_live_[0-9a-f]{20,}")]


def test_a_longer_literal_prefix_is_tried_first() -> None:
    redactor = Redactor({})
    redactor.add_pattern("broad", r"zk-[A-Za-z0-9_\-]{20,}")
    redactor.add_pattern("narrow", r"zk-team-[A-Za-z0-9_\-]{20,}")
    assert redactor.redact("zk-team-" + "a" * 30) == "[REDACTED:narrow]"
    assert redactor.redact("zk-" + "b" * 30) == "[REDACTED:broad]"


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"sk-(?<![A-Za-z0-9]sk-)[a-z]{20}", "sk-"),
        (r"ab?c", "a"),
        (r"key\_x\d+", "key_x"),
        (r"acme|other", ""),
        (r"(?i)acme_[a-z]+", ""),
        (r"[ab]cd", ""),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix


def test_bearer_tokens_are_redacted_but_prose_is_not() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    assert redact(f"Authorization: Bearer {jwt}") == "Authorization: Bearer [REDACTED]"
    assert redact("authorization: bearer abc123xyz") == "authorization: bearer [REDACTED]"
    assert redact(f"BEARER {jwt}") == "BEARER [REDACTED]"
    prose = "send a Bearer token (Bearer authentication); the task-runner-for-every-single-thing"
    assert redact(prose) == prose


def test_redaction_is_idempotent_and_leaves_clean_data_untouched() -> None:
    register_secret(key := planted("idem-"), name="inputs.key")
    text = f"{key} sk-{'x' * 30} Bearer {key}"
    once = redact(text)
    assert key not in once
    assert redact(once) == once
    clean = {"message": "all good", "items": [1, 2.5, None, ("a", "b")]}
    assert redact_value(clean) is clean


def test_redact_value_walks_nested_data() -> None:
    register_secret(key := planted("nested-"))
    data = {"outer": [{"inner": f"x {key}"}, (key, 3)], key: "as a key", "n": 1}
    out = redact_value(data)
    assert key not in repr(out)
    assert out["outer"][1] == ("[REDACTED]", 3)
    assert out["n"] == 1
    assert key in repr(data)  # the input is not modified


def test_redaction_stays_linear_on_hostile_text() -> None:
    hostile = ("ask_sk_" * 20_000) + ("Bearer " + "a" * 5_000 + " ") * 20
    started = time.perf_counter()
    redact(hostile)
    assert time.perf_counter() - started < 1.0


def test_structlog_processor_redacts_fields_nested_values_and_tracebacks() -> None:
    key = planted("sk-log-")
    register_secret(key)  # a vendor's key format is its plugin's to declare
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[
            structlog.processors.format_exc_info,
            redact_processor,
            structlog.processors.JSONRenderer(),
        ],
    )
    try:
        raise ConfigurationError(f"bad key {key}")
    except ConfigurationError:
        logger.error(
            f"event {key}", key=key, headers={"Authorization": f"Bearer {key}"}, exc_info=True
        )
    line = out.getvalue()
    assert line and key not in line
    record = json.loads(line)
    assert "ConfigurationError: bad key [REDACTED]" in record["exception"]
    assert record["headers"] == {"Authorization": "Bearer [REDACTED]"}


def test_with_redaction_protects_structlogs_default_chain_tracebacks_included() -> None:
    key = planted("sk-default-")
    register_secret(key)  # a vendor's key format is its plugin's to declare
    out = io.StringIO()
    default = [  # structlog's default chain (what an unconfigured structlog uses)
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(colors=False),
    ]
    chain = with_redaction(default)
    assert chain.count(redact_processor) == 1 and chain[-2] is redact_processor
    assert with_redaction(chain) == chain
    logger = structlog.wrap_logger(structlog.PrintLogger(out), processors=chain)
    try:
        raise ConfigurationError(f"bad key {key}")
    except ConfigurationError:
        logger.exception("failed", key=key)
    text = out.getvalue()
    assert "ConfigurationError" in text and "bad key [REDACTED]" in text
    assert key not in text


def test_error_messages_are_redacted_and_the_cause_is_kept() -> None:
    key = planted("sk-err-")
    register_secret(key)  # a vendor's key format is its plugin's to declare
    cause = ConfigurationError(f"401 for {key}")
    error = NodeError(node_id="n", hook="write_script", provider="leaky", cause=cause)
    assert key not in str(error) and "401 for [REDACTED]" in str(error)
    assert error.cause is cause
    result = GateResult(gate="captions", passed=False, severity="error", message=f"saw {key}")
    assert key not in str(GateFailed("gate", [result]))


def test_exported_spans_are_redacted() -> None:
    key = planted("sk-span-")
    register_secret(key)  # a vendor's key format is its plugin's to declare
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("clean", attributes={"n": 1}):
        pass
    with tracer.start_as_current_span("dirty", attributes={"url": f"x?key={key}", "n": 2}) as span:
        span.add_event("note", {"detail": f"Bearer {key}"})
        span.record_exception(ConfigurationError(f"rejected {key}"))
        span.set_status(Status(StatusCode.ERROR, f"failed with {key}"))
    spans = {s.name: s for s in memory.get_finished_spans()}
    dirty = spans["dirty"]
    assert key not in _span_text(dirty)
    assert dirty.attributes["url"] == "x?key=[REDACTED]"
    assert dirty.attributes["n"] == 2
    assert dirty.status.description == "failed with [REDACTED]"
    assert dirty.events[1].attributes["exception.type"].endswith("ConfigurationError")
    assert spans["clean"].attributes["n"] == 1


# -- a planted key, searched for everywhere ------------------------------------------


class _Vendor(BaseHTTPRequestHandler):
    """Answers 401 and echoes the credentials it was sent, as careless APIs do."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).seen.append(headers)
        body = json.dumps(
            {
                "error": "invalid_api_key",
                "authorization": headers.get("authorization"),
                "x-api-key": headers.get("x-api-key"),
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')  # RFC 6750 3
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def vendor() -> Iterator[tuple[str, list[dict[str, str]]]]:
    handler = type("Vendor", (_Vendor,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/generate", handler.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def leaky_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The leaky fixture plugin pip-installed into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    pip_install_fixtures(target, tmp_path_factory.mktemp("build"), LEAKY.name)
    return target


def _document(folder: Path) -> Path:
    path = folder / "talk.md"
    path.write_text("# Keys\n\n## Why\n\nBecause.\n", encoding="utf-8")
    return path


def test_cli_run_leaks_no_planted_key(
    leaky_site: Path, vendor: tuple[str, list], tmp_path: Path
) -> None:
    endpoint, seen = vendor
    env_key = planted("sk-planted-")
    input_key = planted("lumaai-planted-")  # no known shape: only its `secret: true` hides it
    home, out, cwd = tmp_path / "home", tmp_path / "out", tmp_path / "cwd"
    cwd.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(leaky_site),
        "REELGRAPH_HOME": str(home),
        "OPENAI_API_KEY": env_key,
        "OTEL_TRACES_EXPORTER": "none",
    }
    command = [sys.executable, "-m", "reelgraph.cli", "--log-format", "json"]
    command += ["--log-level", "debug", "run", str(LEAKY / "leaky.yaml"), "--trace", "-o", str(out)]
    for name, value in (
        ("document", _document(tmp_path)),
        ("api_key", input_key),
        ("endpoint", endpoint),
    ):
        command += ["-i", f"{name}={value}"]
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)

    # the plugin really did plant both keys, and the run failed on its error
    assert seen and seen[0]["authorization"] == f"Bearer {env_key}", result.stderr
    assert seen[0]["x-api-key"] == input_key
    assert result.returncode == 1, result.stderr
    assert "vendor refused key" in result.stderr
    assert '"name": "node script"' in result.stderr  # console spans were printed

    places = {"stdout": result.stdout, "stderr": result.stderr}
    places |= _files(home) | _files(out) | _files(cwd, required=False)
    places |= _database(home / "reelgraph.db")
    _assert_nowhere({"OPENAI_API_KEY": env_key, "secret input": input_key}, places)


def test_embedded_run_leaks_no_planted_key(
    vendor: tuple[str, list],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    endpoint, seen = vendor
    env_key = planted("sk-planted-")
    input_key = planted("lumaai-planted-")
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    module_spec = importlib.util.spec_from_file_location(
        "reelgraph_leaky", LEAKY / "reelgraph_leaky.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    leaky = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(leaky)
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))  # the application's, unredacted
    home = tmp_path / "home"
    kernel = Kernel(
        plugins={"leaky": leaky},
        env={"REELGRAPH_PLUGINS": "markdown"},
        home=home,
        tracer_provider=provider,
    )
    events: list = []
    inputs = {"document": _document(tmp_path), "api_key": input_key, "endpoint": endpoint}
    try:
        run = kernel.run(LEAKY / "leaky.yaml", inputs, on_event=events.append)
    finally:
        kernel.close()

    assert seen and seen[0]["authorization"] == f"Bearer {env_key}"
    assert run.status == "failed" and "vendor refused key" in str(run.error)
    spans = memory.get_finished_spans()
    assert {"node script", "node document"} <= {s.name for s in spans}

    stdout, stderr = capfd.readouterr()  # ctx.log and anything else the process printed
    places = {"stdout": stdout, "stderr": stderr, "run.error": str(run.error)}
    places["run.to_dict()"] = json.dumps(run.to_dict(events=True))
    for index, event in enumerate(events):
        places[f"on_event[{index}] {event.type}"] = repr(event)
    for span in spans:
        places[f"span {span.name!r}"] = _span_text(span)
    places |= _files(home) | _database(home / "reelgraph.db")
    _assert_nowhere({"OPENAI_API_KEY": env_key, "secret input": input_key}, places)


# -- searching -------------------------------------------------------------------------


def _span_text(span) -> str:
    parts = [span.name, repr(dict(span.attributes or {})), span.status.description or ""]
    for event in span.events:
        parts += [event.name, repr(dict(event.attributes or {}))]
    for link in span.links:
        parts.append(repr(dict(link.attributes or {})))
    return "\n".join(parts)


def _files(root: Path, *, required: bool = True) -> dict[str, str]:
    """Every file under ``root`` (database, journal, run directory, artifacts), as text."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[f"file {path}"] = path.read_bytes().decode("utf-8", errors="replace")
    assert found or not required, f"nothing written under {root}"
    return found


def _database(path: Path) -> dict[str, str]:
    """Every row of every table of the run store, as text, by ``table[row]``."""
    found = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "runs" in tables
        for table in tables:
            for index, row in enumerate(db.execute(f'SELECT * FROM "{table}"')):
                text = [
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                ]
                found[f"db {table}[{index}]"] = " | ".join(text)
    return found


def _assert_nowhere(keys: dict[str, str], places: dict[str, str]) -> None:
    """Fail listing every place any key (or its random part alone) appears in."""
    leaks = []
    for place, text in places.items():
        for label, key in keys.items():
            # the random part alone too, so a truncated or re-prefixed key is caught
            for needle in (key, key[-32:-16]):
                at = text.find(needle)
                if at >= 0:
                    leaks.append(f"{label} in {place}: ...{text[max(0, at - 60) : at + 40]!r}...")
                    break
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks)
