"""A fake Anthropic Messages API on loopback, for the real ``anthropic`` SDK to talk to.

It follows the published wire format, not the SDK's internals:

- ``POST /v1/messages`` with the key in ``x-api-key`` (the API reference's
  form; https://platform.claude.com/docs/en/api/overview) or ``authorization:
  Bearer`` (what the anthropic 2.x SDK sends), ``anthropic-version``, and a JSON body (``model``, ``max_tokens``, ``messages``, ``system``,
  ``tools``, ``tool_choice``); the answer is a Message object (``id``,
  ``type: "message"``, ``role``, ``model``, ``content`` blocks,
  ``stop_reason``, ``usage`` with ``input_tokens``, ``output_tokens``,
  ``cache_creation_input_tokens``, ``cache_read_input_tokens``) and a
  ``request-id`` header.
  https://platform.claude.com/docs/en/api/messages/create
- A forced tool (``tool_choice: {"type": "tool", "name": ...}``) answers with
  one ``tool_use`` block (``id``, ``name``, ``input``) and ``stop_reason:
  "tool_use"``; a ``tool_result`` block in the next user turn must name that
  block's id (``tool_use_id``), with ``is_error: true`` to report a problem.
  https://platform.claude.com/docs/en/agents-and-tools/tool-use/handle-tool-calls
- Errors are ``{"type": "error", "error": {"type", "message"}, "request_id"}``
  with 400 ``invalid_request_error``, 401 ``authentication_error``, 403
  ``permission_error``, 429 ``rate_limit_error`` (with ``retry-after``), 500
  ``api_error``, 529 ``overloaded_error``.
  https://platform.claude.com/docs/en/api/errors
- From ``anthropic-version: 2026-10-21`` (what the 2.x SDK sends), any of
  ``temperature``, ``top_p``, ``top_k`` is a 400 ``invalid_request_error``
  ("Extra inputs are not permitted").
- ``stop_reason`` may be ``refusal`` (with ``stop_details``) or
  ``max_tokens`` (a cut ``tool_use`` block).
  https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons

Answers are canned per tool name (:attr:`FakeAnthropic.answers`: a dict, or a
callable given the request body); :meth:`FakeAnthropic.queue` scripts what the
next requests get instead (an error, a refusal, a schema-invalid answer...).
Token counts are made up but deterministic: a quarter of the request's bytes
in, a quarter of the answer's JSON out.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeAnthropic", "Recorded", "Step", "fake_anthropic"]

#: tool names the API accepts (tool definition ``name``)
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

#: the API version from which temperature, top_p and top_k are a 400 at any value
#: (Synthorai, https://qiita.com/Synthorai/items/01a0067e88747257a4e6)
SAMPLING_REMOVED = "2026-10-21"

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Any]


@dataclass
class Step:
    """What the server does with one request, instead of its canned answer.

    Attributes:
        kind: ``answer`` (the canned answer), ``input`` (a ``tool_use`` whose
            input is :attr:`input`, e.g. schema-invalid), ``text`` (a text
            answer, no tool call), ``refusal``, ``max_tokens`` (a cut tool
            call), ``malformed`` (HTTP 200 whose body is not JSON) or
            ``error`` (:attr:`status` with :attr:`error_type`).
        status, error_type, message: the error to send.
        headers: extra response headers (``retry-after``...).
        delay_s: seconds to wait before answering (a timeout).
        input: the tool input for ``kind="input"``.
        usage: token counts replacing the made-up ones.
        details: the error's ``details`` object (``{"error_code": ...}``).
    """

    kind: str = "answer"
    status: int = 200
    error_type: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    input: Any = None
    usage: dict[str, int] | None = None
    details: dict[str, Any] | None = None

    @classmethod
    def error(cls, status: int, error_type: str, message: str = "", **headers: str) -> Step:
        """An error answer; ``retry_after="2"`` becomes the ``retry-after`` header."""
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        return cls(
            kind="error",
            status=status,
            error_type=error_type,
            message=message or error_type,
            headers=named,
        )


@dataclass
class Recorded:
    """One request as the server received it (``at``: ``time.monotonic()`` seconds)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)


class FakeAnthropic:
    """A threaded HTTP server on 127.0.0.1 speaking the Messages API.

    Args:
        api_key: the only key it accepts (``x-api-key`` or ``authorization:
            Bearer``); others get 401 ``authentication_error``.
        answers: canned tool inputs by tool name: a dict, or a callable given
            the request body.

    Attributes:
        url: the base URL to give the SDK (``base_url`` or ``ANTHROPIC_BASE_URL``).
        requests: every request received, in order.
    """

    def __init__(self, api_key: str, answers: Mapping[str, Answer] | None = None) -> None:
        self.api_key = api_key
        self.answers: dict[str, Answer] = dict(answers or {})
        self.requests: list[Recorded] = []
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: without TCP_NODELAY, Nagle's
            # algorithm and the client's delayed ACK hold the body ~40 ms
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._send(self, *_error(404, "not_found_error", f"no route {self.path}"))

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *args: None  # type: ignore[method-assign]  # a client that timed out hung up
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- scripting -----------------------------------------------------------

    def queue(self, *steps: Step) -> None:
        """The next requests get these steps, one each; then canned answers again."""
        with self._lock:
            self._steps.extend(steps)

    def messages(self) -> list[Recorded]:
        """The ``POST /v1/messages`` requests received."""
        return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- serving -------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = Recorded(
            method="POST",
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(recorded)
            step = self._steps.pop(0) if self._steps else Step()
        status, payload, headers = self._answer(recorded, step)
        recorded.status = status
        if step.delay_s:
            time.sleep(step.delay_s)
        self._send(handler, status, payload, headers)

    def _answer(self, request: Recorded, step: Step) -> tuple[int, Any, dict[str, str]]:
        if request.path.split("?")[0] != "/v1/messages":
            return _error(404, "not_found_error", f"no route {request.path}")
        if self.api_key not in (request.headers.get("x-api-key"), _bearer(request.headers)):
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        problem = _check_body(request.body, request.headers["anthropic-version"])
        if problem:
            return _error(400, "invalid_request_error", problem)
        if step.kind == "error":
            status, payload, headers = _error(step.status, step.error_type, step.message)
            if step.details is not None:
                payload["error"]["details"] = step.details
            return status, payload, {**headers, **step.headers}
        if step.kind == "malformed":
            return 200, '{"id": "msg_cut", "type": "message", "content": [', step.headers
        return 200, self._message(request.body, step), {"request-id": _id("req"), **step.headers}

    def _message(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        tool = _forced_tool(body)
        stop_reason = "tool_use"
        stop_details = None
        content: list[dict[str, Any]]
        if step.kind == "refusal":
            stop_reason = "refusal"
            stop_details = {"type": "refusal", "category": None, "explanation": None}
            content = [{"type": "text", "text": "I can't help with that."}]
        elif step.kind == "text" or tool is None:
            stop_reason = "end_turn"
            content = [{"type": "text", "text": "Here is the plan you asked for: ..."}]
        else:
            if step.kind == "input":
                tool_input = step.input
            elif step.kind == "max_tokens":
                stop_reason = "max_tokens"
                tool_input = {}
            else:
                tool_input = self._canned(tool, body)
            content = [{"type": "tool_use", "id": _id("toolu"), "name": tool, "input": tool_input}]
        out_bytes = len(json.dumps(content))
        usage = {
            "input_tokens": len(json.dumps(body)) // 4 + 1,
            "output_tokens": out_bytes // 4 + 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        usage.update(step.usage or {})
        return {
            "id": _id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_details": stop_details,
            "stop_sequence": None,
            "usage": usage,
        }

    def _canned(self, tool: str, body: dict[str, Any]) -> Any:
        answer = self.answers.get(tool)
        if answer is None:
            return {"note": f"the fake server has no canned answer for tool {tool!r}"}
        return answer(body) if callable(answer) else dict(answer)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str]
    ) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


@contextmanager
def fake_anthropic(
    api_key: str, answers: Mapping[str, Answer] | None = None
) -> Iterator[FakeAnthropic]:
    """A :class:`FakeAnthropic` for the ``with`` block."""
    server = FakeAnthropic(api_key, answers)
    try:
        yield server
    finally:
        server.close()


# -- the request checks the real API makes ----------------------------------------


def _check_body(body: Any, version: str) -> str:
    """The API's 400 message for a request body that breaks the published rules, or ''."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if version >= SAMPLING_REMOVED:
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                return f"{name}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: field required (an integer >= 1)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    for before, after in zip(messages, messages[1:], strict=False):
        if before.get("role") == after.get("role"):
            return 'messages: roles must alternate between "user" and "assistant"'
    tools = body.get("tools") or []
    names = set()
    for i, tool in enumerate(tools):
        if not TOOL_NAME.match(str(tool.get("name", ""))):
            return f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{i}.input_schema: JSON schema must have type 'object'"
        names.add(tool["name"])
    choice = body.get("tool_choice")
    if choice and choice.get("type") == "tool" and choice.get("name") not in names:
        return f"tool_choice.name: tool {choice.get('name')!r} not found in tools"
    return _check_tool_results(messages)


def _check_tool_results(messages: list[dict[str, Any]]) -> str:
    """Every ``tool_result`` answers a ``tool_use`` of the assistant turn just before it."""
    for i, message in enumerate(messages):
        blocks = message.get("content")
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if block.get("type") != "tool_result":
                continue
            previous = messages[i - 1].get("content") if i else None
            ids = {b.get("id") for b in previous or [] if isinstance(b, dict)}
            if block.get("tool_use_id") not in ids:
                return (
                    f"messages.{i}: tool_result block(s) provided when previous message "
                    "does not have a matching tool_use block"
                )
    return ""


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _forced_tool(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool":
        return str(choice["name"])
    tools = body.get("tools") or []
    return str(tools[0]["name"]) if len(tools) == 1 else None


def _error(status: int, error_type: str, message: str) -> tuple[int, Any, dict[str, str]]:
    request_id = _id("req")
    payload = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
    return status, payload, {"request-id": request_id}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
