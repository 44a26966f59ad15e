"""The ``openai`` provider: the LLM roles on OpenAI Chat Completions with strict Structured Outputs.

One request per role call (two with the repair turn)::

    POST {base_url}/chat/completions
    {"model": "gpt-4o-mini",
     "messages": [{"role": "system", ...}, {"role": "user", ...}],
     "response_format": {"type": "json_schema",
                         "json_schema": {"name": "VideoPlan", "strict": true,
                                         "schema": {...}}},
     "max_completion_tokens": 4096}

(API reference https://platform.openai.com/docs/api-reference/chat/create;
Structured Outputs guide https://platform.openai.com/docs/guides/structured-outputs.)
The schema is the output model's, made strict by :mod:`._schema`.

Works unchanged against any OpenAI-compatible server (Ollama, vLLM, LM
Studio, llama.cpp's server, OpenRouter) through the SDK's standard
``OPENAI_BASE_URL`` or the ``base_url`` option; those servers get
``max_tokens`` rather than ``max_completion_tokens`` (which the OpenAI API
requires for its reasoning models, and older servers do not know).

Provider options (a node's ``options``):
    model: the model name (default ``gpt-4o-mini``).
    base_url: the API's base URL (default ``$OPENAI_BASE_URL``, else the SDK's
        ``https://api.openai.com/v1``).
    api_key: only from an input declared ``secret: true`` (``$inputs.NAME``);
        default ``$OPENAI_API_KEY``, the SDK's standard variable.
    max_tokens: the most output tokens per request (default: the role's).
    request_timeout_s: seconds before one HTTP request is abandoned
        (default 120; the node's ``timeout_s`` bounds the whole call).
    max_tokens_param: ``max_completion_tokens`` or ``max_tokens``, to
        override the choice above.
    capture_content: record prompts and answers on the span (default off;
        also ``REELGRAPH_CAPTURE_CONTENT=1``).

The client is made with ``max_retries=0``: the SDK's own retries (2 by
default, with their own backoff) would hide attempts from the kernel and
multiply with its retry policy, so the node's ``retry`` (which honours
``Retry-After``) is the only one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from reelgraph.errors import ConfigurationError, InvalidInputError, ProviderError
from reelgraph.hookspecs import hookimpl
from reelgraph.plugins.roles.llm import LLMRoles, StructuredRequest
from reelgraph.plugins.vendors import _openai_rules
from reelgraph.plugins.vendors._genai import record_llm_call
from reelgraph.plugins.vendors._pricing import estimate_call_usd, first_request, price_for
from reelgraph.plugins.vendors._pricing import hook_output as _hook_output
from reelgraph.plugins.vendors.openai import _errors
from reelgraph.plugins.vendors.openai._schema import drop_nulls, strict_schema
from reelgraph.plugins.vendors.openai.speech import OpenAISpeech

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULT_MODEL", "INSTALL", "KEY_PATTERNS", "OpenAIPlugin"]

DEFAULT_MODEL = "gpt-4o-mini"
INSTALL = "pip install 'reelgraph[openai]'"
#: seconds one HTTP request may take before the SDK gives up on it
DEFAULT_REQUEST_TIMEOUT_S = 120.0
#: OpenAI key formats (sk-, sk-proj-, sk-svcacct-, sk-admin-), from the shared rules
KEY_PATTERNS = _openai_rules.KEY_PATTERNS
# Reasoning models accept only the default temperature (reasoning guide,
# https://platform.openai.com/docs/guides/reasoning): a temperature is not sent.
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_OFFICIAL_HOSTS = ("api.openai.com",)
_ERROR_LINES = 12
#: output tokens a request may use when neither the role nor the options say
_DEFAULT_MAX_TOKENS = StructuredRequest.__dataclass_fields__["max_tokens"].default


class OpenAIPlugin(OpenAISpeech, LLMRoles):
    """The six LLM roles on the official ``openai`` SDK; see the module docstring.

    Args:
        meter_provider: OpenTelemetry ``MeterProvider`` for the GenAI metrics
            (``None``: the global one).
    """

    reelgraph_name = "openai"

    def __init__(self, *, meter_provider: Any = None) -> None:
        self.meter_provider = meter_provider
        self._clients: dict[tuple[str | None, str, float], Any] = {}
        self._lock = threading.Lock()

    # -- the one method the roles need ---------------------------------------

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        """Answer ``request`` with a validated ``request.output`` instance.

        Sends the system and user messages with the output model's strict
        JSON Schema; an answer that is not JSON or does not validate gets one
        repair turn (the answer and its validation errors sent back), then
        fails. Usage, cost, span attributes and GenAI metrics are recorded for
        every request (:func:`~reelgraph.plugins.vendors._genai.record_llm_call`).

        Raises:
            ConfigurationError: no key (raised before any request), the SDK
                missing, a rejected key (401), an exhausted quota (429
                ``insufficient_quota``), an unknown model (404).
            RateLimitedError: 429 with ``retry_after_s`` from the headers.
            TransientError: 5xx, 408/409, timeouts, connection failures.
            InvalidInputError: a refusal (``message.refusal``), a content
                filter, ``finish_reason: "length"`` (raise ``max_tokens``), a
                400, or an answer that still does not validate after the
                repair turn.
        """
        options = dict(request.options)
        key = self._api_key(options)
        client = self._client(key, options)
        model = str(request.model or options.get("model") or DEFAULT_MODEL)
        schema = strict_schema(request.output)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        params = self._params(request, options, model, client, schema)
        problems = ""
        for turn in (1, 2):
            content, finish = self._complete(client, params, messages, request, ctx, key)
            self._check_finish(finish, request, model, params)
            answer, problems = _validate(content, request.output)
            if answer is not None:
                return answer
            if turn == 1:
                ctx.log.info(
                    "answer did not validate: repair turn",
                    role=request.role,
                    model=model,
                    schema=schema.name,
                    errors=problems.count("\n") + 1,
                )
                messages += [
                    {"role": "assistant", "content": content or ""},
                    {"role": "user", "content": _repair_prompt(schema.name, problems)},
                ]
        first = "; ".join(problems.splitlines()[:3])
        raise InvalidInputError(
            f"openai ({model}) {request.role}: the answer does not match {schema.name} after "
            f"one repair turn: {first}"
        )

    # -- kernel hooks -------------------------------------------------------------

    @hookimpl
    def classify_error(self, error: BaseException) -> ProviderError | None:
        """The SDK's exceptions, classified (see :mod:`._errors`); ``None`` for others."""
        return _errors.classify(error)

    @hookimpl
    def estimate_cost(
        self, hook: str, provider: str | None, arguments: dict[str, Any]
    ) -> float | None:
        """The most a role call pinned to ``openai`` can cost, in US dollars (before it is made).

        The role's first request is built as the call would build it, without
        sending it (:func:`~reelgraph.plugins.vendors._pricing.first_request`):
        its system and user messages and strict schema are the prompt size.
        :func:`~reelgraph.plugins.vendors._pricing.estimate_call_usd` then
        bounds the role's two ``structured`` calls and their repair turns at
        ``max_tokens`` each. A hook that makes no call (``optimize`` without
        revisions) costs 0. When the request cannot be built this way, the
        prompt is bounded from the arguments' size. ``None`` for other
        providers and hooks, and for a model without a price (its usage is
        reported without a cost).
        """
        if provider != self.reelgraph_name or hook not in self._role_hooks():
            return None
        options = arguments.get("options") or {}
        called, request = False, None
        if hook in _PROBED_HOOKS:
            called, request = first_request(self, hook, arguments)
        if called and request is None:
            return 0.0
        model = str((request.model if request else "") or options.get("model") or DEFAULT_MODEL)
        price = price_for("openai", model)
        if price is None:
            return None
        if request is not None:
            schema = json.dumps(strict_schema(request.output).schema)
            size = sum(len(text.encode()) for text in (request.system, request.user, schema))
            max_tokens = int(request.options.get("max_tokens") or request.max_tokens)
            return estimate_call_usd(price, arguments, max_tokens, prompt_bytes=size)
        output = _hook_output(hook)
        schema_bytes = len(json.dumps(strict_schema(output).schema)) if output else 0
        max_tokens = int(options.get("max_tokens") or _DEFAULT_MAX_TOKENS)
        return estimate_call_usd(price, arguments, max_tokens, schema_bytes=schema_bytes)

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (_errors.KEY_ENV, "the API key, unless a secret input gives options.api_key"),
            ("OPENAI_BASE_URL", "another OpenAI-compatible server: Ollama, vLLM, llama.cpp..."),
            ("REELGRAPH_PRICES", "a price file over prices.yaml, USD per 1M tokens"),
            ("REELGRAPH_CAPTURE_CONTENT", "1 records prompts and answers on spans"),
        ]

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """OpenAI key formats (``sk-proj-...``, ``sk-svcacct-...``, ``sk-...``), for redaction."""
        return list(_openai_rules.KEY_PATTERNS)

    def _role_hooks(self) -> frozenset[str]:
        """The hooks this plugin answers through ``structured``: the LLM roles' hookimpls.

        Other hooks the class may implement (``synthesize_speech``, mixed in by
        :mod:`.speech`) are priced by their own ``estimate_cost``.
        """
        return _LLM_HOOKS

    # -- one request --------------------------------------------------------------

    def _complete(
        self,
        client: Any,
        params: dict[str, Any],
        messages: list[dict[str, Any]],
        request: StructuredRequest,
        ctx: NodeContext,
        key: str,
    ) -> tuple[str | None, str]:
        """Send one request; record it; return the content and finish reason."""
        import openai

        began = time.perf_counter()
        try:
            completion = client.chat.completions.create(messages=messages, **params)
        except openai.OpenAIError as err:
            record_llm_call(
                ctx,
                provider_name="openai",
                request_model=params["model"],
                duration_s=time.perf_counter() - began,
                error_type=type(err).__name__,
                server_address=client.base_url.host,
                server_port=client.base_url.port,
                options=request.options,
                meter_provider=self.meter_provider,
            )
            classified = _errors.classify(err, secrets=(key,))
            raise (classified or err) from err
        duration_s = time.perf_counter() - began
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice is not None else None
        usage = completion.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        record_llm_call(
            ctx,
            provider_name="openai",
            request_model=params["model"],
            duration_s=duration_s,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            cached_input_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
            response_model=completion.model,
            response_id=completion.id,
            finish_reasons=[choice.finish_reason] if choice and choice.finish_reason else [],
            server_address=client.base_url.host,
            server_port=client.base_url.port,
            input_messages=messages,
            output_text=message.content if message is not None else None,
            options=request.options,
            meter_provider=self.meter_provider,
        )
        if message is not None and message.refusal:
            refusal = " ".join(message.refusal.split())[:300]
            raise InvalidInputError(
                f"openai ({params['model']}) refused the {request.role} request: {refusal}"
            )
        return (message.content if message is not None else None), (
            (choice.finish_reason or "") if choice is not None else ""
        )

    def _check_finish(
        self, finish: str, request: StructuredRequest, model: str, params: dict[str, Any]
    ) -> None:
        if finish == "length":
            limit = params.get("max_completion_tokens", params.get("max_tokens"))
            raise InvalidInputError(
                f"openai ({model}) {request.role}: the answer was cut at max_tokens={limit} "
                "(finish_reason length); raise the max_tokens option"
            )
        if finish == "content_filter":
            raise InvalidInputError(
                f"openai ({model}) {request.role}: the answer was withheld by OpenAI's content "
                "filter (finish_reason content_filter); rephrase the brief"
            )

    def _params(
        self,
        request: StructuredRequest,
        options: Mapping[str, Any],
        model: str,
        client: Any,
        schema: Any,
    ) -> dict[str, Any]:
        official = client.base_url.host in _OFFICIAL_HOSTS
        limit_name = str(
            options.get("max_tokens_param")
            or ("max_completion_tokens" if official else "max_tokens")
        )
        if limit_name not in ("max_completion_tokens", "max_tokens"):
            raise ConfigurationError(
                f"openai: options.max_tokens_param is {limit_name!r}; use "
                "'max_completion_tokens' or 'max_tokens'"
            )
        params: dict[str, Any] = {
            "model": model,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": schema.name,
                    "strict": schema.strict,
                    "schema": schema.schema,
                },
            },
            limit_name: int(options.get("max_tokens") or request.max_tokens),
        }
        if request.temperature is not None and not model.startswith(_REASONING_PREFIXES):
            params["temperature"] = float(request.temperature)
        return params

    # -- key and client -----------------------------------------------------------

    def _api_key(self, options: dict[str, Any]) -> str:
        """The key: a secret ``api_key`` option, else ``$OPENAI_API_KEY``; checked before any request."""
        import os

        from reelgraph.observe.secrets import redact

        given = options.pop("api_key", None)
        if given is not None:
            key = str(given).strip()
            if not key or redact(key) == key:
                raise ConfigurationError(
                    "openai: options.api_key must come from an input declared secret: true "
                    f"($inputs.NAME), or leave it out and set {_errors.KEY_ENV}"
                )
            return key
        key = os.environ.get(_errors.KEY_ENV, "").strip()
        if not key:
            raise ConfigurationError(
                f"openai: no API key: set {_errors.KEY_ENV} (for a local OpenAI-compatible server "
                "any non-empty value), or pass api_key from an input declared secret: true"
            )
        return key

    def _client(self, key: str, options: Mapping[str, Any]) -> Any:
        import os

        try:
            import openai
        except ImportError as err:
            raise ConfigurationError(f"openai: the openai SDK is not installed: {INSTALL}") from err
        base_url = options.get("base_url") or os.environ.get("OPENAI_BASE_URL") or None
        timeout = float(options.get("request_timeout_s") or DEFAULT_REQUEST_TIMEOUT_S)
        cache_key = (base_url, key, timeout)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                # max_retries=0: the kernel's retry policy is the only one (module docstring)
                client = openai.OpenAI(
                    api_key=key, base_url=base_url, timeout=timeout, max_retries=0
                )
                self._clients[cache_key] = client
        return client


def _impl_names(cls: type) -> frozenset[str]:
    """Names of the hookimpls ``cls`` defines or inherits, the kernel's hooks left out."""
    from reelgraph.hookspecs import KERNEL_HOOKS

    names = {n for n in dir(cls) if getattr(getattr(cls, n, None), "reelgraph_impl", None)}
    return frozenset(names - KERNEL_HOOKS)


#: every hook the LLM roles answer with ``structured`` (production and education)
_LLM_HOOKS = _impl_names(LLMRoles)
#: the production roles, whose first request :func:`first_request` builds without
#: sending: they only build prompts before calling the model (the education
#: hooks may read their input files first, which an estimate must not do)
_PROBED_HOOKS = frozenset(
    n for n in _LLM_HOOKS if getattr(LLMRoles.__dict__.get(n), "reelgraph_impl", None)
)


def _validate(content: str | None, output: type[BaseModel]) -> tuple[BaseModel | None, str]:
    """The validated answer, or ``None`` and the problems (one per line)."""
    if content is None or not content.strip():
        return None, "the answer was empty"
    try:
        data = json.loads(content)
    except ValueError as err:
        return None, f"not valid JSON: {err}"
    try:
        return output.model_validate(drop_nulls(data, output)), ""
    except ValidationError as err:
        lines = []
        for item in err.errors(include_url=False)[:_ERROR_LINES]:
            where = ".".join(str(part) for part in item["loc"]) or "(the object)"
            lines.append(f"{where}: {item['msg']}")
        if err.error_count() > _ERROR_LINES:
            lines.append(f"... and {err.error_count() - _ERROR_LINES} more")
        return None, "\n".join(lines)


def _repair_prompt(name: str, problems: str) -> str:
    return (
        f"Your answer does not validate against the {name} schema:\n{problems}\n"
        "Answer again with the complete, corrected JSON object and nothing else."
    )
