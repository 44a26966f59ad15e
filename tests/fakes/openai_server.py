"""A fake OpenAI Chat Completions API on loopback, for the real ``openai`` SDK to talk to.

It follows the published wire format (API reference,
https://platform.openai.com/docs/api-reference/chat/create), not the SDK's
internals:

- ``POST /v1/chat/completions`` with ``Authorization: Bearer <key>`` and a
  JSON body (``model``, ``messages`` of ``{role, content}``,
  ``response_format``, ``max_completion_tokens`` or ``max_tokens``,
  ``temperature``); the answer is a ``chat.completion`` object (``id``,
  ``object``, ``created``, ``model``, ``choices[0].message`` with
  ``content`` and ``refusal``, ``finish_reason``, ``usage`` with
  ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
  ``prompt_tokens_details.cached_tokens``) and an ``x-request-id`` header.
- ``response_format: {"type": "json_schema", "json_schema": {"name",
  "strict": true, "schema"}}`` is checked as the API checks a strict schema
  (Structured Outputs guide, "Supported schemas",
  https://platform.openai.com/docs/guides/structured-outputs#supported-schemas):
  root object, ``additionalProperties: false`` and every property required
  on every object, no unsupported keyword; a violation is a 400
  ``invalid_request_error`` naming where, as the API does.
- Errors are ``{"error": {"message", "type", "param", "code"}}``
  (https://platform.openai.com/docs/guides/error-codes): 401
  ``invalid_api_key`` (the message quotes the key masked, as the API does),
  429 ``rate_limit_exceeded`` with ``retry-after`` / ``retry-after-ms``
  headers, 429 ``insufficient_quota``, 500 ``server_error``.
- A refusal comes back as ``message.refusal`` with ``content: null``;
  truncation as ``finish_reason: "length"``; a filtered answer as
  ``finish_reason: "content_filter"``.

Answers are canned per ``json_schema.name`` (:attr:`FakeOpenAI.answers`: a
dict, or a callable given the request body); :meth:`FakeOpenAI.queue` scripts
what the next requests get instead (an error, a refusal, a malformed or
schema-invalid answer, a slow answer). Token counts are made up but
deterministic: a quarter of the messages' characters in (plus the schema's),
a quarter of the answer's out.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAI", "Recorded", "Step", "fake_openai"]

#: json_schema.name as the API accepts it
SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: keywords a strict schema may use (Structured Outputs, "Supported schemas")
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Any]


@dataclass
class Step:
    """What the server does with one request instead of its canned answer.

    Attributes:
        status: HTTP status to answer (200: a completion).
        error: the ``error`` object of a failure (``message``, ``type``, ``code``).
        headers: extra response headers (``retry-after``...).
        content: the message content to send (raw text: may be malformed JSON).
        refusal: a refusal message (content is then ``null``).
        finish_reason: ``stop``, ``length`` or ``content_filter``.
        delay_s: seconds to wait before answering (for client timeouts).
    """

    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    delay_s: float = 0.0

    @classmethod
    def error_status(
        cls, status: int, type_: str, message: str, code: str | None = None, **headers: str
    ) -> Step:
        return cls(
            status=status,
            error={"message": message, "type": type_, "param": None, "code": code},
            headers={k.replace("_", "-"): v for k, v in headers.items()},
        )

    @classmethod
    def rate_limited(cls, retry_after_s: float = 1.0) -> Step:
        return cls.error_status(
            429,
            "requests",
            "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min "
            f"(RPM): Limit 3, Used 3, Requested 1. Please try again in {retry_after_s:g}s.",
            "rate_limit_exceeded",
            retry_after=f"{math.ceil(retry_after_s)}",
            retry_after_ms=f"{int(retry_after_s * 1000)}",
        )

    @classmethod
    def insufficient_quota(cls) -> Step:
        return cls.error_status(
            429,
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
        )

    @classmethod
    def server_error(cls) -> Step:
        return cls.error_status(
            500,
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        )


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    #: when it arrived (``time.monotonic()`` seconds)
    at: float = 0.0
    #: the status and JSON body the server answered with
    status: int = 0
    response: Any = None

    @property
    def schema_name(self) -> str | None:
        fmt = self.body.get("response_format") if isinstance(self.body, dict) else None
        if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
            return fmt["json_schema"].get("name")
        return None


class FakeOpenAI:
    """A threaded HTTP server speaking Chat Completions on ``127.0.0.1``.

    Args:
        api_key: the key requests must carry (``Authorization: Bearer``).
        answers: per ``json_schema.name``, the JSON object to answer (a dict,
            or a callable given the request body returning one).
        model: the ``model`` the completions report (a dated snapshot).
    """

    def __init__(
        self,
        api_key: str,
        answers: Mapping[str, Answer] | None = None,
        *,
        model: str = "gpt-4o-mini-2024-07-18",
    ) -> None:
        self.api_key = api_key
        self.answers: dict[str, Answer] = dict(answers or {})
        self.model = model
        self.requests: list[Recorded] = []
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out as two writes: without TCP_NODELAY, Nagle's
            # algorithm meets the client's delayed ACK and each answer waits ~40 ms
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """What ``OPENAI_BASE_URL`` / ``base_url`` should be set to."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *steps: Step) -> None:
        """Script the next requests' answers, in order (then canned answers resume)."""
        with self._lock:
            self._steps.extend(steps)

    @property
    def completions(self) -> list[Recorded]:
        """The requests made to ``/v1/chat/completions``."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- handling -----------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = Recorded(
            handler.command,
            handler.path,
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
            step = self._steps.pop(0) if self._steps else Step()
        status, payload, headers = self._answer(request, step)
        request.status, request.response = status, payload
        if step.delay_s:
            time.sleep(step.delay_s)
        self._send(handler, status, payload, headers)

    def _answer(self, request: Recorded, step: Step) -> tuple[int, Any, dict[str, str]]:
        if request.method != "POST" or not request.path.endswith("/v1/chat/completions"):
            return _error(404, "invalid_request_error", f"Unknown request URL: {request.path}")
        key = _bearer(request.headers)
        if key != self.api_key:
            masked = f"{key[:3]}*****{key[-4:]}" if key and len(key) > 8 else "(none)"
            return _error(
                401,
                "invalid_request_error",
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_api_key",
            )
        problem = _check_body(request.body)
        if problem:
            return _error(400, "invalid_request_error", problem)
        if step.error is not None:
            return step.status, {"error": step.error}, step.headers
        return 200, self._completion(request.body, step), step.headers

    def _completion(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        content = step.content
        if content is None and step.refusal is None:
            content = json.dumps(self._canned(body), ensure_ascii=False)
        prompt = "".join(str(m.get("content") or "") for m in body["messages"])
        prompt += json.dumps(body.get("response_format") or {})
        prompt_tokens = math.ceil(len(prompt) / 4)
        completion_tokens = math.ceil(len(content or step.refusal or "") / 4)
        return {
            "id": _id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None if step.refusal else content,
                        "refusal": step.refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }

    def _canned(self, body: dict[str, Any]) -> Any:
        name = body["response_format"]["json_schema"]["name"]
        answer = self.answers.get(name)
        if answer is None:
            raise KeyError(f"the fake OpenAI server has no canned answer for schema {name!r}")
        return answer(body) if callable(answer) else answer

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: Mapping[str, str],
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.send_header("x-request-id", _id("req_"))
            handler.send_header("openai-processing-ms", "12")
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass


@contextmanager
def fake_openai(
    api_key: str, answers: Mapping[str, Answer] | None = None, **kwargs: Any
) -> Iterator[FakeOpenAI]:
    """A running :class:`FakeOpenAI`, shut down on exit."""
    server = FakeOpenAI(api_key, answers, **kwargs)
    try:
        yield server
    finally:
        server.close()


# --- request checks, as the API makes them --------------------------------------


def _check_body(body: Any) -> str:
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in {
            "system",
            "developer",
            "user",
            "assistant",
        }:
            return f"Invalid value for 'messages[{index}].role'."
    fmt = body.get("response_format")
    if fmt is None:
        return ""
    if fmt.get("type") != "json_schema" or not isinstance(fmt.get("json_schema"), dict):
        return "Invalid 'response_format.type'."
    spec = fmt["json_schema"]
    if not SCHEMA_NAME.match(str(spec.get("name", ""))):
        return "Invalid 'response_format.json_schema.name': string does not match pattern."
    if spec.get("strict") is True:
        where = _strict_problem(spec.get("schema"), ())
        if where:
            return f"Invalid schema for response_format '{spec['name']}': {where}"
    return ""


def _strict_problem(schema: Any, path: tuple[str, ...]) -> str:
    context = f"In context={path!r}, "
    if not isinstance(schema, dict):
        return context + "schema must be a JSON Schema object."
    if not path and schema.get("type") != "object":
        return context + "schema must be a JSON Schema of 'type: \"object\"', got 'anyOf'."
    for key in schema:
        if key not in STRICT_KEYWORDS:
            return context + f"'{key}' is not permitted."
    if "$ref" in schema and len(schema) > 1:
        return context + "'$ref' cannot have keywords {'" + "', '".join(sorted(set(schema) - {"$ref"})) + "'}."  # fmt: skip
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return context + "'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") or {}
        missing = [name for name in properties if name not in (schema.get("required") or [])]
        if missing:
            return context + f"'required' is required to be supplied and to be an array including every key in properties. Missing '{missing[0]}'."  # fmt: skip
        for name, sub in properties.items():
            found = _strict_problem(sub, (*path, "properties", name))
            if found:
                return found
    for name, sub in (schema.get("$defs") or {}).items():
        found = _strict_problem(sub, (*path, "$defs", name))
        if found:
            return found
    if isinstance(schema.get("items"), dict):
        found = _strict_problem(schema["items"], (*path, "items"))
        if found:
            return found
    for index, sub in enumerate(schema.get("anyOf") or []):
        found = _strict_problem(sub, (*path, "anyOf", str(index)))
        if found:
            return found
    return ""


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _error(
    status: int, type_: str, message: str, code: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    return status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, {}


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)
