"""Record one finished language-model call: usage, cost, span attributes and metrics.

Every LLM vendor plugin calls :func:`record_llm_call` once per HTTP request
it made (a repair turn is a second request), successful or not. It follows the
OpenTelemetry GenAI semantic conventions
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and
https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/):

- ``ctx.report_usage`` puts ``gen_ai.operation.name``, ``gen_ai.provider.name``,
  ``gen_ai.request.model`` and the summed ``gen_ai.usage.input_tokens`` /
  ``gen_ai.usage.output_tokens`` on the attempt's span (the kernel names it
  ``"{operation} {model}"``), and the cost goes to ``ctx.report_cost``
  (span attribute ``reelgraph.cost_usd``: the conventions define no cost
  attribute); the span also gets ``gen_ai.response.model``,
  ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``,
  ``gen_ai.usage.cache_read.input_tokens``, ``server.address`` /
  ``server.port``, and one ``gen_ai.request`` event per request;
- the histogram ``gen_ai.client.token.usage`` (unit ``{token}``, one record
  per token type, attribute ``gen_ai.token.type`` = ``input`` / ``output``),
  recorded only when the vendor reported usage;
- the histogram ``gen_ai.client.operation.duration`` (unit ``s``), with
  ``error.type`` when the call failed;

both with the bucket boundaries the conventions advise, through the
application's global ``MeterProvider`` (nothing is exported until the
application installs one).

Prompt and completion *content* is not recorded unless the user opts in,
with the environment variable ``REELGRAPH_CAPTURE_CONTENT=1`` or the provider
option ``capture_content: true``; then the span gets ``gen_ai.input.messages``
and ``gen_ai.output.messages`` (JSON, the conventions' message shape), which
the kernel's exporter still redacts for secrets.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reelgraph.plugins.vendors._pricing import cost_usd, price_for

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["CAPTURE_ENV", "capture_content", "record_llm_call"]

#: environment variable that opts in to recording prompt and completion text
CAPTURE_ENV = "REELGRAPH_CAPTURE_CONTENT"

# Advised ExplicitBucketBoundaries, from the GenAI metrics conventions.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)  # fmt: skip
DURATION_BUCKETS_S = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)  # fmt: skip

_METER_NAME = "reelgraph.plugins.vendors"
_lock = threading.Lock()
_instruments: dict[int, tuple[Any, Any, Any]] = {}


def capture_content(options: Mapping[str, Any] | None = None) -> bool:
    """Whether the user opted in to recording prompt and completion text.

    ``options["capture_content"]`` (a provider option) wins; otherwise
    ``REELGRAPH_CAPTURE_CONTENT`` set to ``1``, ``true`` or ``yes``.
    """
    if options and "capture_content" in options:
        return bool(options["capture_content"])
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def record_llm_call(
    ctx: NodeContext,
    *,
    provider_name: str,
    request_model: str,
    duration_s: float,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    operation: str = "chat",
    response_model: str | None = None,
    response_id: str | None = None,
    finish_reasons: Sequence[str] = (),
    server_address: str | None = None,
    server_port: int | None = None,
    error_type: str | None = None,
    input_messages: Sequence[Mapping[str, Any]] | None = None,
    output_text: str | None = None,
    options: Mapping[str, Any] | None = None,
    meter_provider: Any = None,
) -> float | None:
    """Record one request to a language model: usage, cost, span and metrics.

    Args:
        ctx: the hook call's context.
        provider_name: ``gen_ai.provider.name`` and the price table's vendor
            key (``"openai"``, ``"anthropic"``).
        request_model: the model asked for (priced by this name).
        duration_s: seconds from sending the request to having the answer.
        input_tokens: all input tokens, cached ones included (see
            :func:`~reelgraph.plugins.vendors._pricing.cost_usd`); ``None``
            when the vendor reported no usage (no cost, no token metric).
        output_tokens: output tokens, reasoning included.
        cached_input_tokens: how many input tokens were prompt-cache hits.
        cache_write_tokens: how many were written to the prompt cache.
        operation: ``gen_ai.operation.name`` (``"chat"``).
        response_model, response_id, finish_reasons: from the response.
        server_address, server_port: the API host, for ``server.*``.
        error_type: the failure's class (``"RateLimitError"``, ``"timeout"``),
            ``None`` for a success.
        input_messages: ``[{"role": "system", "content": "..."}, ...]``,
            recorded only with :func:`capture_content`.
        output_text: the completion, recorded only with :func:`capture_content`.
        options: the provider options (for ``capture_content``).
        meter_provider: an OpenTelemetry ``MeterProvider``; ``None`` for the
            global one.

    Returns:
        The call's cost in US dollars (also reported to ``ctx``), or ``None``
        when there was no usage or the model has no price (a warning is
        logged once per model; the tokens are still reported).

    Raises:
        ConfigurationError: a user price file that cannot be parsed.
    """
    cost: float | None = None
    if input_tokens is not None or output_tokens is not None:
        price = price_for(provider_name, request_model)
        if price is not None:
            cost = cost_usd(
                price,
                input_tokens or 0,
                min(cached_input_tokens, input_tokens or 0),
                output_tokens or 0,
                cache_write_tokens=min(cache_write_tokens, input_tokens or 0),
            )
    ctx.report_usage(
        operation=operation,
        provider_name=provider_name,
        model=request_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
    if cost is not None:
        ctx.report_cost(cost, detail=_detail(request_model, input_tokens, output_tokens))
    _annotate_span(
        request_model=request_model,
        response_model=response_model,
        response_id=response_id,
        finish_reasons=finish_reasons,
        server_address=server_address,
        server_port=server_port,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        duration_s=duration_s,
        cost=cost,
        error_type=error_type,
        content=(input_messages, output_text) if capture_content(options) else None,
    )
    attributes = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name,
        "gen_ai.request.model": request_model,
        "gen_ai.response.model": response_model,
        "server.address": server_address,
        "server.port": server_port,
        "error.type": error_type,
    }
    attributes = {k: v for k, v in attributes.items() if v is not None}
    tokens, duration = _histograms(meter_provider)
    duration.record(max(0.0, duration_s), attributes)
    if error_type is None:
        for kind, count in (("input", input_tokens), ("output", output_tokens)):
            if count is not None:
                tokens.record(int(count), {**attributes, "gen_ai.token.type": kind})
    return cost


def _detail(model: str, input_tokens: int | None, output_tokens: int | None) -> str:
    return f"{model}: {input_tokens or 0} input + {output_tokens or 0} output tokens"


def _annotate_span(
    *,
    request_model: str,
    response_model: str | None,
    response_id: str | None,
    finish_reasons: Sequence[str],
    server_address: str | None,
    server_port: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_input_tokens: int,
    duration_s: float,
    cost: float | None,
    error_type: str | None,
    content: tuple[Sequence[Mapping[str, Any]] | None, str | None] | None,
) -> None:
    """Attributes of the last request, and one event per request, on the current span."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {
        "gen_ai.response.model": response_model,
        "gen_ai.response.id": response_id,
        "gen_ai.response.finish_reasons": list(finish_reasons) or None,
        "gen_ai.usage.cache_read.input_tokens": cached_input_tokens or None,
        "server.address": server_address,
        "server.port": server_port,
    }
    if content is not None:
        messages, completion = content
        if messages is not None:
            attributes["gen_ai.input.messages"] = json.dumps(
                [_message(m) for m in messages], ensure_ascii=False
            )
        if completion is not None:
            attributes["gen_ai.output.messages"] = json.dumps(
                [_message({"role": "assistant", "content": completion})], ensure_ascii=False
            )
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(name, value)
    event = {
        "gen_ai.request.model": request_model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "duration_s": round(duration_s, 6),
        "reelgraph.cost_usd": cost,
        "error.type": error_type,
    }
    span.add_event("gen_ai.request", {k: v for k, v in event.items() if v is not None})


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A chat message in the conventions' shape: role and text parts."""
    return {
        "role": str(message.get("role", "user")),
        "parts": [{"type": "text", "content": str(message.get("content", ""))}],
    }


def _histograms(meter_provider: Any) -> tuple[Any, Any]:
    """The two GenAI client histograms, created once per meter provider."""
    key = id(meter_provider)
    with _lock:
        held = _instruments.get(key)
        if held is not None:
            return held[1], held[2]
        from opentelemetry import metrics

        meter = metrics.get_meter(_METER_NAME, meter_provider=meter_provider)
        found = (
            meter.create_histogram(
                "gen_ai.client.token.usage",
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
            ),
            meter.create_histogram(
                "gen_ai.client.operation.duration",
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
            ),
        )
        # the provider is held too, so its id is not reused while cached
        _instruments[key] = (meter_provider, *found)
        return found
