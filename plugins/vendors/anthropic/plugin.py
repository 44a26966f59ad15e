"""The ``anthropic`` provider: the LLM roles on Claude, through the official ``anthropic`` SDK.

Structured output is a forced tool (Anthropic, "Define tools" and "Handle
tool calls": https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview):
the request carries one tool whose ``input_schema`` is the answer model's
JSON Schema and ``tool_choice={"type": "tool", "name": ...}``, so the answer
is the ``tool_use`` block's ``input``, validated with pydantic. An answer that
does not validate gets one repair turn: the tool call goes back with a
``tool_result`` block, ``is_error: true`` and the validation errors as its
content, as the tool-use docs describe for a failed call
(https://platform.claude.com/docs/en/agents-and-tools/tool-use/handle-tool-calls);
a text answer with no tool call (compatible servers may ignore the forced
tool, FIELD.md) gets a user turn asking for the call. Still wrong after that:
:class:`~reelgraph.errors.InvalidInputError`.

``stop_reason`` (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons):
``refusal`` and ``max_tokens`` (a cut tool call) and
``model_context_window_exceeded`` are InvalidInputError, never repaired
(the same request would be refused or cut again). HTTP errors are classified
by :mod:`._errors` (429 rate-limited with ``retry-after``, 5xx and 529
transient, 401/403 a ConfigurationError naming ``ANTHROPIC_API_KEY``).

Options (``with: options:`` of a node): ``model`` (default
:data:`DEFAULT_MODEL`), ``api_key`` (a secret input; otherwise
``ANTHROPIC_API_KEY``), ``base_url`` (otherwise ``ANTHROPIC_BASE_URL``, as the
SDK reads it, otherwise ``https://api.anthropic.com``), ``timeout_s`` (seconds
per request, default :data:`DEFAULT_TIMEOUT_S`).

``StructuredRequest.temperature`` is not sent: API version ``2026-10-21``
(the ``anthropic-version`` the 2.x SDK sends) answers 400 to ``temperature``,
``top_p`` and ``top_k`` at any value, and the 2.x SDK no longer has them
(Synthorai, "Anthropic API 2026-10-21: temperature is a 400 even at 1.0",
https://qiita.com/Synthorai/items/01a0067e88747257a4e6; ``Messages.create``
in anthropic 2.17 takes no sampling parameter).

The client is made with ``max_retries=0``: the kernel's retry policy (which
honours ``Retry-After``) is the only one, so a node's ``retry:`` means what it
says and every attempt is an event and a span.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, InvalidInputError, ProviderError, TransientError
from reelgraph.observe.secrets import register_secret
from reelgraph.plugins.roles.llm import LLMRoles, StructuredRequest
from reelgraph.plugins.vendors import _anthropic_rules
from reelgraph.plugins.vendors._genai import record_llm_call
from reelgraph.plugins.vendors._pricing import (
    SYSTEM_PROMPT_BOUND_BYTES,
    estimate_call_usd,
    first_request,
    price_for,
)
from reelgraph.plugins.vendors._pricing import hook_output as _hook_output
from reelgraph.plugins.vendors.anthropic._errors import KEY_ENV, classify, scrub

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT_S",
    "INSTALL",
    "TOOL_PROMPT_BOUND_BYTES",
    "AnthropicPlugin",
    "tool_name",
]

#: How to install this provider (named in every "not installed" error).
INSTALL = "pip install 'reelgraph[anthropic]'"
#: the model used when a node names none (priced in plugins/vendors/prices.yaml)
DEFAULT_MODEL = "claude-haiku-4-5"
#: seconds one request may take before it is a (transient) timeout
DEFAULT_TIMEOUT_S = 120.0
#: A bound on the tool-use system prompt Anthropic adds to a request with
#: tools, and the tool's name and description: 235-530 tokens by model and
#: tool_choice ("Tool use system prompt token count",
#: https://docs.anthropic.com/en/docs/tool-use-pricing-and-tokens); a token is
#: at least a byte, so 2,000 bytes leave room for newer models' prompts.
TOOL_PROMPT_BOUND_BYTES = 2_000
#: output tokens a request may use when neither the role nor the options say
_DEFAULT_MAX_TOKENS = StructuredRequest.__dataclass_fields__["max_tokens"].default
#: how many validation errors a repair turn quotes
_MAX_ERRORS = 20
#: https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use: tool names
_TOOL_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")
#: stop reasons that another turn of the same request would not fix
_CUT = {
    "max_tokens": "the answer was cut at max_tokens={max_tokens}; raise max_tokens",
    "model_context_window_exceeded": "the prompt and answer exceed the model's context window; "
    "shorten the input",
}


def tool_name(output: type[BaseModel]) -> str:
    """The forced tool's name for an answer model: ``VideoPlan`` -> ``video_plan``.

    Tool names match ``^[a-zA-Z0-9_-]{1,64}$`` (Anthropic, tool definitions).
    """
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output.__name__).lower()
    return _TOOL_NAME_CHARS.sub("_", snake).strip("_")[:64] or "answer"


def _sdk() -> Any:
    """The ``anthropic`` module. Raises ConfigurationError when it is not installed."""
    try:
        import anthropic
    except ImportError as err:
        raise ConfigurationError(
            f"anthropic: the anthropic SDK is not installed; run `{INSTALL}`"
        ) from err
    return anthropic


class AnthropicPlugin(LLMRoles):
    """Claude as director, scriptwriter, visual designer, narrator, reviewer and optimizer.

    Implements :meth:`structured` (the roles come from
    :class:`~reelgraph.plugins.roles.llm.LLMRoles`) and the kernel's vendor
    hooks ``classify_error``, ``secret_patterns``, ``estimate_cost`` and
    ``environment_variables``.

    Args:
        meter_provider: OpenTelemetry ``MeterProvider`` for the GenAI metrics
            (``None``: the global one).
    """

    reelgraph_name = "anthropic"

    def __init__(self, *, meter_provider: Any = None) -> None:
        self._meter_provider = meter_provider
        self._clients: dict[tuple[str, str | None, float], Any] = {}
        self._lock = threading.Lock()

    # -- the one method a vendor implements ------------------------------------

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        """Ask Claude for an instance of ``request.output`` through a forced tool.

        Makes one request, and a second (the repair turn) only when the first
        answer does not validate. Each response's usage is reported through
        ``ctx`` (tokens, and US dollars from the price table).

        Raises:
            ConfigurationError: the SDK is not installed, no key (checked
                before any request), or the API rejected it (401/403).
            RateLimitedError: HTTP 429 (``retry_after_s`` from the response).
            TransientError: 5xx, 529 overloaded, a timeout, no connection, or
                a response body that is not JSON.
            InvalidInputError: a refusal, an answer cut at ``max_tokens``, a
                400 from the API, or an answer that still does not validate
                after one repair turn.
        """
        sdk = _sdk()
        options = request.options
        client = self._client(sdk, _api_key(options), options)
        model = request.model or str(options.get("model") or DEFAULT_MODEL)
        name = tool_name(request.output)
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.user}],
            "tools": [_tool(name, request)],
            "tool_choice": {"type": "tool", "name": name},
        }
        if request.temperature is not None:  # see the module docstring: not sent
            ctx.log.debug("anthropic: temperature is not sent", temperature=request.temperature)
        message = self._create(sdk, client, params, request, ctx)
        answer, problem, repair = _read(message, name, request)
        if answer is not None:
            return answer
        ctx.log.info(
            "anthropic answer does not fit; one repair turn",
            model=model,
            tool=name,
            problem=problem,
        )
        params["messages"] = [*params["messages"], *repair]
        message = self._create(sdk, client, params, request, ctx)
        answer, problem, _ = _read(message, name, request)
        if answer is not None:
            return answer
        raise InvalidInputError(
            f"anthropic {model}: the {request.role}'s answer does not fit "
            f"{request.output.__name__} after a repair turn: {problem}"
        )

    def _create(
        self,
        sdk: Any,
        client: Any,
        params: dict[str, Any],
        request: StructuredRequest,
        ctx: NodeContext,
    ) -> Any:
        """One ``messages.create`` call, recorded (usage, cost, span, metrics) whatever its outcome.

        SDK errors become reelgraph errors (:mod:`._errors`); a refusal or a
        cut answer is an InvalidInputError.
        """
        record = functools.partial(
            record_llm_call,
            ctx,
            provider_name="anthropic",
            request_model=params["model"],
            server_address=client.base_url.host,
            server_port=client.base_url.port,
            input_messages=[{"role": "system", "content": params["system"]}, *params["messages"]],
            options=request.options,
            meter_provider=self._meter_provider,
        )
        started = time.perf_counter()
        try:
            message = client.messages.create(**params)
        except sdk.AnthropicError as err:
            classified = _classified(err)
            record(duration_s=time.perf_counter() - started, error_type=type(err).__name__)
            raise classified from err
        except ValueError as err:  # json.JSONDecodeError: a 200 whose body is cut or not JSON
            record(duration_s=time.perf_counter() - started, error_type=type(err).__name__)
            raise TransientError(
                "anthropic: the response to POST /v1/messages is not valid JSON "
                f"({scrub(str(err))[:120]})"
            ) from err
        seconds = time.perf_counter() - started
        usage = message.usage
        cache_read = usage.cache_read_input_tokens or 0
        cache_write = usage.cache_creation_input_tokens or 0
        # Anthropic's input_tokens leave out cache reads and writes; the
        # conventions (and cost_usd) count every input token.
        input_tokens = usage.input_tokens + cache_read + cache_write
        cost = record(
            duration_s=seconds,
            input_tokens=input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=cache_read,
            cache_write_tokens=cache_write,
            response_model=message.model,
            response_id=message.id,
            finish_reasons=[message.stop_reason] if message.stop_reason else [],
            output_text=_output_text(message),
        )
        ctx.log.info(
            "anthropic call",
            model=params["model"],
            stop_reason=message.stop_reason,
            input_tokens=input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=cost,
            duration_s=round(seconds, 3),
        )
        _check_stop(message, params, request)
        return message

    def _client(self, sdk: Any, key: str, options: dict[str, Any]) -> Any:
        """One SDK client per key, base URL and timeout, shared by the threads that call."""
        base_url = options.get("base_url") or None
        timeout_s = float(options.get("timeout_s") or DEFAULT_TIMEOUT_S)
        if timeout_s <= 0:
            raise ConfigurationError(
                f"anthropic: options.timeout_s must be > 0 seconds, got {timeout_s:g}"
            )
        cache_key = (key, base_url, timeout_s)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = sdk.Anthropic(
                    api_key=key, base_url=base_url, max_retries=0, timeout=timeout_s
                )
                self._clients[cache_key] = client
        return client

    # -- the kernel's vendor hooks ---------------------------------------------

    @hookimpl
    def classify_error(self, error: BaseException) -> ProviderError | None:
        """``anthropic`` SDK exceptions as reelgraph errors (see :mod:`._errors`); else ``None``."""
        return classify(error)

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """Anthropic key shapes (``sk-ant-api03-...``, ``sk-ant-admin01-...``), for redaction."""
        return list(_anthropic_rules.KEY_PATTERNS)

    @hookimpl
    def estimate_cost(
        self, hook: str, provider: str | None, arguments: dict[str, Any]
    ) -> float | None:
        """The most one role call pinned to ``anthropic`` can cost, in US dollars, before it is made.

        The role's first request is built as the call would build it, without
        sending it (:func:`~reelgraph.plugins.vendors._pricing.first_request`):
        its system prompt, user message and forced tool (name, description,
        ``input_schema``, all billed as input), plus the tool-use system
        prompt Anthropic adds (:data:`TOOL_PROMPT_BOUND_BYTES`), are the
        prompt size. :func:`~reelgraph.plugins.vendors._pricing.estimate_call_usd`
        then bounds the role's two ``structured`` calls and their repair turns
        at ``max_tokens`` each. A hook that makes no call (``optimize``
        without revisions) costs 0. When the request cannot be built this
        way, the prompt is bounded from the arguments, the hook's output
        schema and the system prompts. ``None`` for other providers and
        hooks, and for a model with no price (its usage is then reported
        without a cost).
        """
        if provider != self.reelgraph_name or hook not in _role_hooks(type(self)):
            return None
        options = arguments.get("options") or {}
        called, request = first_request(self, hook, arguments)
        if called and request is None:
            return 0.0
        model = str((request.model if request else "") or options.get("model") or DEFAULT_MODEL)
        price = price_for("anthropic", model)
        if price is None:
            return None
        if request is not None:
            tool = json.dumps(_tool(tool_name(request.output), request))
            size = sum(len(text.encode()) for text in (request.system, request.user, tool))
            return estimate_call_usd(
                price, arguments, request.max_tokens, prompt_bytes=size + TOOL_PROMPT_BOUND_BYTES
            )
        output = _hook_output(hook)
        schema_bytes = len(json.dumps(output.model_json_schema())) if output else 0
        return estimate_call_usd(
            price,
            arguments,
            int(options.get("max_tokens") or _DEFAULT_MAX_TOKENS),
            schema_bytes=schema_bytes,
            system_bytes=SYSTEM_PROMPT_BOUND_BYTES + TOOL_PROMPT_BOUND_BYTES,
        )

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (KEY_ENV, "the API key, unless a secret input gives options.api_key"),
            ("ANTHROPIC_BASE_URL", "another Anthropic-compatible server, read by the SDK"),
        ]


def _role_hooks(plugin: type) -> frozenset[str]:
    """The hooks a plugin class answers with a model: its hookimpls, the kernel's hooks left out."""
    from reelgraph.hookspecs import KERNEL_HOOKS

    names = {
        name
        for name in dir(plugin)
        if getattr(getattr(plugin, name, None), "reelgraph_impl", None) is not None
    }
    return frozenset(names - KERNEL_HOOKS - {"environment_variables"})


def _api_key(options: dict[str, Any]) -> str:
    """The key from a secret input (``options.api_key``) or ``ANTHROPIC_API_KEY``.

    Raises:
        ConfigurationError: neither is set (before any request is made).
    """
    key = options.get("api_key")
    name = "options.api_key"
    if not key:
        key = os.environ.get(KEY_ENV)
        name = KEY_ENV
    key = str(key or "").strip()
    if not key:
        raise ConfigurationError(
            f"anthropic: no API key; set {KEY_ENV}, or pass a secret input as the node's options.api_key"
        )
    register_secret(
        key, name=name
    )  # the environment's is redacted already; a secret input maybe not
    return key


def _tool(name: str, request: StructuredRequest) -> dict[str, Any]:
    """The forced tool: its input schema is the answer model's JSON Schema (pydantic's)."""
    doc = (request.output.__doc__ or "").strip().split("\n\n")[0]
    description = (
        f"Record the {request.role}'s answer: one {request.output.__name__}"
        + (f" ({' '.join(doc.split())})" if doc else "")
        + ". Call this tool once, with the complete answer as its input."
    )
    return {
        "name": name,
        "description": description,
        "input_schema": request.output.model_json_schema(),
    }


def _read(
    message: Any, name: str, request: StructuredRequest
) -> tuple[BaseModel | None, str, list[dict[str, Any]]]:
    """``(answer, problem, repair_messages)``: the validated answer, or what is wrong and the turn that asks again."""
    blocks = [_block(b) for b in message.content]
    assistant = {"role": "assistant", "content": [b for b in blocks if b is not None]}
    call = next((b for b in message.content if getattr(b, "type", None) == "tool_use"), None)
    if call is None or call.name != name:
        problem = f"no call of the {name} tool" + (
            f" (called {call.name!r})" if call is not None else ""
        )
        text = (
            f"You did not call the {name} tool. Call it now, with the complete answer as its input."
        )
        if call is not None:
            result = {
                "type": "tool_result",
                "tool_use_id": call.id,
                "is_error": True,
                "content": text,
            }
            return None, problem, [assistant, {"role": "user", "content": [result]}]
        return (
            None,
            problem,
            [assistant, {"role": "user", "content": [{"type": "text", "text": text}]}],
        )
    data = call.input
    if isinstance(data, str):  # some compatible servers send the arguments as a JSON string
        with contextlib.suppress(ValueError):
            data = json.loads(data)
    try:
        if not isinstance(data, dict):
            raise TypeError(f"the input must be a JSON object, got {type(data).__name__}")
        return request.output.model_validate(data), "", []
    except (ValidationError, TypeError) as err:
        problem = _errors_text(err)
    result = {
        "type": "tool_result",
        "tool_use_id": call.id,
        "is_error": True,
        "content": f"The input does not match the {name} schema: {problem}. "
        f"Call {name} again with input that fixes every error.",
    }
    return None, problem, [assistant, {"role": "user", "content": [result]}]


def _block(block: Any) -> dict[str, Any] | None:
    """A response content block as the request's assistant turn takes it back."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        data = block.input if isinstance(block.input, dict) else {}
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": data}
    return None  # thinking and server-tool blocks are not part of a forced-tool answer


def _errors_text(err: Exception) -> str:
    if not isinstance(err, ValidationError):
        return str(err)
    parts = []
    for item in err.errors()[:_MAX_ERRORS]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _classified(err: BaseException) -> ProviderError:
    classified = classify(err)
    if classified is None:  # an SDK error of a kind this plugin does not know
        classified = TransientError(
            f"anthropic: {type(err).__name__}: {scrub(str(err), err)[:200]}"
        )
    return classified


def _check_stop(message: Any, params: dict[str, Any], request: StructuredRequest) -> None:
    """Raise InvalidInputError for a refusal or a cut answer: another turn would not fix them."""
    stop = message.stop_reason
    if stop == "refusal":
        details = getattr(message, "stop_details", None)
        category = getattr(details, "category", None)
        because = f" (category {category})" if category else ""
        raise InvalidInputError(
            f"anthropic {params['model']}: Claude declined the {request.role}'s request"
            f"{because} (stop_reason refusal); rephrase the brief or use another model"
        )
    if stop in _CUT:
        raise InvalidInputError(
            f"anthropic {params['model']}: {request.role}: "
            + _CUT[stop].format(max_tokens=params["max_tokens"])
            + f" (stop_reason {stop})"
        )


def _output_text(message: Any) -> str:
    """The answer as text, for the span when the user opted in to content capture."""
    parts = []
    for block in message.content:
        if getattr(block, "type", None) == "tool_use":
            parts.append(json.dumps(block.input, ensure_ascii=False, default=str))
        elif getattr(block, "type", None) == "text":
            parts.append(block.text)
    return "\n".join(parts)
