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
        #: the ``usage`` of every Message answered, in order
        self.usages: list[dict[str, int]] = []
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
        with self._lock:
            self.usages.append(usage)
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


# -- canned answers for the shipped LLM roles ---------------------------------------------
#
# What a model would answer each role of plugins/roles/llm.py, built from the
# role's own request (its first user turn is the role's JSON payload), so the
# answers pass the roles' checks for any brief: parts in the 8-part order,
# durations summing to the target, every key message said word for word,
# narration sized to the time each part has, shots from the shot library, one
# speech entry per sentence, every review criterion scored.

#: (part, share of the target duration) of a canned plan
PARTS = (
    ("hook", 0.10),
    ("context", 0.13),
    ("problem", 0.15),
    ("approach", 0.22),
    ("proof", 0.15),
    ("call_to_action", 0.12),
    ("close", 0.13),
)
_OPENERS = {
    "hook": "Here is what this short video is about.",
    "context": "First, some background.",
    "problem": "Let us look at the problem.",
    "approach": "Here is the approach.",
    "proof": "This is why it works.",
    "call_to_action": "Here is what to do next.",
    "close": "Thank you for watching.",
}
_FILLER = (
    "Keep this principle in mind throughout the remaining sections.",
    "It makes everyday work noticeably easier for the whole team.",
    "Small habits like this one quickly add up over a single week.",
    "Practise it a few times and it will soon feel completely natural.",
    "Experienced colleagues have handled these situations many times.",
    "Asking for help early keeps the work moving smoothly.",
    "Most newcomers discover exactly the same thing when starting out.",
    "Clear and friendly replies build lasting trust with every customer.",
    "Take one careful step at a time and check the result as you go.",
    "It is simpler than it sounds once you have practised it yourself.",
)
#: speech timing the narration is sized with: piper's joe voice at 130 wpm, 14.3
#: characters a second plus 0.33 s a sentence, and the assembler's 0.75 s pause
#: per scene (the fit in plugins/roles/_writer.py)
CHARS_PER_S, SENTENCE_PAUSE_S, SCENE_PAUSE_S = 14.3, 0.33, 0.75
#: seconds of estimated speech past the plan: these short plain lines came out
#: ~7 % faster than the fit (a 75 s brief: 76.9 s estimated, 69.9 s spoken)
FILL_MARGIN_S = 3.0


def _spoken_s(sentence: str) -> float:
    return len(sentence) / CHARS_PER_S + SENTENCE_PAUSE_S


def role_answers() -> dict[str, Answer]:
    """Canned answers by forced tool name (the answer models of ``plugins/roles/_llm_models``)."""
    from reelgraph.plugins.roles._designer import load_library
    from reelgraph.plugins.roles._llm_checks import REQUIRED_CRITERIA

    shot_types = list(load_library()["shots"])

    def verdict(body: dict[str, Any]) -> dict[str, Any]:
        reason = "The script serves the brief's goal and audience."
        return {
            "scores": [{"criterion": c, "score": 0.9, "reason": reason} for c in REQUIRED_CRITERIA],
            "revisions": [],
        }

    return {
        "plan": _plan,
        "beats": _beats,
        "shots": lambda body: _shots(body, shot_types),
        "speech": _speech,
        "verdict": verdict,
    }


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    """The role's JSON payload: the start of the first user turn (a repair appends to it)."""
    text = body["messages"][0]["content"]
    data, _ = json.JSONDecoder().raw_decode(text)
    return dict(data)


def _plan(body: dict[str, Any]) -> dict[str, Any]:
    brief = _payload(body)["brief"]
    target = float(brief["duration_s"])
    messages = list(brief.get("key_messages") or [])
    placed: dict[str, list[str]] = {"problem": [], "approach": [], "proof": []}
    for i, message in enumerate(messages):
        placed[("problem", "approach", "proof")[i % 3]].append(message)
    return {
        "audience_analysis": f"{brief.get('audience') or 'The audience'} want the why, then the how.",
        "parts": [
            {
                "part": part,
                "purpose": f"the {part.replace('_', ' ')}",
                "duration_s": round(target * share, 1),
                "key_messages": placed.get(part, []),
            }
            for part, share in PARTS
        ],
        "key_messages": messages,
        "questions": [],
        "assumptions": [],
    }


def _beats(body: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(body)
    if payload.get("draft"):  # the optimizer: the draft, revisions taken as applied
        scenes = payload["draft"]["scenes"]
        return {"beats": [_beat_of(scene) for scene in scenes]}
    brief, plan = payload["brief"], payload.get("plan")
    if plan:
        parts = [(p["part"], p["duration_s"], p["key_messages"]) for p in plan["parts"]]
    else:
        target = float(brief["duration_s"])
        parts = [(part, round(target * share, 1), []) for part, share in PARTS]
    said = {m for _, _, ms in parts for m in ms}
    missing = [m for m in brief.get("key_messages") or [] if m not in said]
    beats, planned_s, spoken_s = [], 0.0, 0.0
    for part, seconds, messages in parts:
        if part == "approach":
            messages = [*messages, *missing]
        narration = [_OPENERS.get(part, "Next."), *(m.rstrip(".") + "." for m in messages)]
        planned_s += seconds
        spoken_s += SCENE_PAUSE_S + sum(_spoken_s(line) for line in narration)
        for filler in _FILLER:  # fill the time the plan gives, counted over the whole script
            if spoken_s >= planned_s + FILL_MARGIN_S:
                break
            narration.append(filler)
            spoken_s += _spoken_s(filler)
        beats.append(
            {
                "part": part,
                "on_screen_text": part.replace("_", " ").title(),
                "bullets": list(messages[:3]) or [f"About the {part.replace('_', ' ')}"],
                "narration": narration,
                "duration_s": seconds,
                "key_messages": messages,
                "visual_intent": f"a clean slide for the {part.replace('_', ' ')}",
            }
        )
    return {"beats": beats}


def _beat_of(scene: dict[str, Any]) -> dict[str, Any]:
    return {
        "part": scene.get("part") or "approach",
        "on_screen_text": scene.get("title") or "",
        "bullets": list(scene.get("bullets") or []),
        "narration": list(scene.get("narration") or []),
        "duration_s": scene.get("duration_s") or 5.0,
        "key_messages": list(scene.get("key_messages") or []),
        "visual_intent": scene.get("visual_intent") or "",
    }


def _shots(body: dict[str, Any], shot_types: list[str]) -> dict[str, Any]:
    scenes = _payload(body)["script"]["scenes"]
    middle = [t for t in ("medium", "diagram", "close_up") if t in shot_types] or shot_types
    shots = []
    for i, scene in enumerate(scenes):
        kind = middle[i % len(middle)]
        if i == 0 and "title_card" in shot_types:
            kind = "title_card"
        elif i == len(scenes) - 1 and "end_card" in shot_types:
            kind = "end_card"
        shots.append(
            {
                "scene_index": scene["index"],
                "shot_type": kind,
                "framing": "centred, rule of thirds",
                "camera_move": "static",
                "lighting": "soft, even",
                "subject": scene.get("title") or "the topic",
                "continuity": "same palette and type as the previous slide",
                "prompt": f"a clean presentation slide about {scene.get('title') or 'the topic'}",
                "negative_prompt": "clutter, small text",
                "storyboard_frame": f"title {scene.get('title')!r} over a plain background",
                "complexity": "low",
                "duration_s": scene.get("duration_s") or 5.0,
                "mode": "slide",
            }
        )
    return {"shots": shots}


def _speech(body: dict[str, Any]) -> dict[str, Any]:
    from xml.sax.saxutils import escape

    payload = _payload(body)
    espeak = payload.get("engine") == "espeak"
    return {
        "scenes": [
            {"sentences": [f"<speak>{escape(s)}</speak>" if espeak else s for s in sentences]}
            for sentences in payload["scenes"]
        ]
    }


# -- a server of its own, for a CLI run --------------------------------------------------

#: faults ``--inject`` can queue, by name
FAULTS = {
    "429": lambda: Step.error(
        429, "rate_limit_error", "Number of requests exceeded", retry_after="1"
    ),
    "500": lambda: Step.error(500, "api_error", "Internal server error"),
    "529": lambda: Step.error(529, "overloaded_error", "Overloaded"),
    "malformed": lambda: Step(kind="input", input="{not json"),
    "invalid": lambda: Step(kind="input", input={}),
    "refusal": lambda: Step(kind="refusal"),
}


def summary(server: FakeAnthropic) -> dict[str, Any]:
    """What the server was asked and answered: requests by tool and status, tokens."""
    by_tool: dict[str, int] = {}
    tokens = {"input_tokens": 0, "output_tokens": 0}
    for request in server.messages():
        tool = _forced_tool(request.body) if isinstance(request.body, dict) else None
        key = f"{tool} {request.status}"
        by_tool[key] = by_tool.get(key, 0) + 1
    for usage in server.usages:
        for name in tokens:
            tokens[name] += int(usage.get(name) or 0)
    return {"requests": len(server.messages()), "by_tool_and_status": by_tool, **tokens}


def main() -> None:
    """``python -m tests.fakes.anthropic_server``: serve the canned role answers until stdin closes.

    Prints the base URL on its first line; on exit, a JSON summary
    (:func:`summary`). ``--inject 429,malformed`` queues faults for the first
    requests. The key it accepts is ``$ANTHROPIC_API_KEY``.
    """
    import argparse
    import os
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--inject", default="", help=f"comma-separated: {', '.join(FAULTS)}")
    args = parser.parse_args()
    server = FakeAnthropic(os.environ["ANTHROPIC_API_KEY"], role_answers())
    server.queue(*(FAULTS[name.strip()]() for name in args.inject.split(",") if name.strip()))
    print(server.url, flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print(json.dumps(summary(server), indent=1), flush=True)


if __name__ == "__main__":
    main()
