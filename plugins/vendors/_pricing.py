"""Language-model prices: what a call cost, and the most it can cost, in US dollars.

Prices are data, not code: ``plugins/vendors/prices.yaml`` ships each
vendor's rates (US dollars per 1,000,000 tokens, with the price page and the
date each row was checked), and a user's file overrides or adds rows model
by model: the file named by ``$REELGRAPH_PRICES``, else
``<reelgraph home>/prices.yaml`` when it exists (``$REELGRAPH_HOME``, else
the platform's user data folder). Vendor plugins (``openai``, ``anthropic``)
price their usage with :func:`price_for` and :func:`cost_usd`, and answer the
kernel's ``estimate_cost`` hook with :func:`estimate_usd`.

An unknown model is *unknown*, not free: :func:`price_for` returns ``None``
and logs a warning once per model, and the caller reports its tokens without
a cost (the budget then cannot stop it; give the model a row to fix that).

Example::

    price = price_for("openai", "gpt-4o-mini-2024-07-18")   # dated snapshot -> gpt-4o-mini
    usd = cost_usd(price, input_tokens=1200, cached_input_tokens=1024, output_tokens=300)
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelgraph.errors import ConfigurationError

__all__ = [
    "PRICES_ENV",
    "Price",
    "cost_usd",
    "arguments_bytes",
    "estimate_call_usd",
    "estimate_usd",
    "first_request",
    "hook_output",
    "load_prices",
    "price_for",
    "prompt_token_bound",
]

#: environment variable naming a user's price file (same structure as prices.yaml)
PRICES_ENV = "REELGRAPH_PRICES"
#: tokens per million: prices are quoted per 1,000,000 tokens by both vendors
PER_TOKENS = 1_000_000
#: tokens a chat message costs beyond its text (role, separators). OpenAI's
#: cookbook "How to count tokens with tiktoken" counts 3 per message plus 3 to
#: prime the reply; 8 leaves room for other vendors' framing.
MESSAGE_OVERHEAD_TOKENS = 8
#: bytes allowed for a role's system prompt and instructions when only the
#: hook's arguments are known (the prompts the roles write stay under this)
SYSTEM_PROMPT_BOUND_BYTES = 16_000
#: bytes allowed for the validation errors a repair turn sends back (at most a
#: dozen lines of field path and message)
REPAIR_NOTE_BOUND_BYTES = 4_000
#: an answer re-sent in a later call, re-serialised (compact JSON of the parsed
#: answer), in tokens per output token it took: a margin over 1
ANSWER_RESEND_FACTOR = 1.25

_SHIPPED = Path(__file__).with_name("prices.yaml")
# Dated snapshots are priced as their alias: gpt-4o-mini-2024-07-18,
# claude-haiku-4-5-20251001.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


class Price(BaseModel):
    """One model's rates, US dollars per 1,000,000 tokens.

    Attributes:
        input: uncached input (prompt) tokens.
        cached_input: input tokens served from the vendor's prompt cache
            (OpenAI "cached input", Anthropic "cache hits & refreshes");
            ``None`` in the file means the input price.
        output: output (completion) tokens, reasoning tokens included.
        cache_write: input tokens written to the prompt cache (Anthropic's
            5-minute writes); ``None`` means the input price.
        source: the vendor's price page the row was read from.
        as_of: the date the row was checked against ``source``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    source: str = ""
    as_of: date | None = None


def cost_usd(
    price: Price,
    input_tokens: int,
    cached_input_tokens: int = 0,
    output_tokens: int = 0,
    *,
    cache_write_tokens: int = 0,
) -> float:
    """What a call's usage cost, in US dollars.

    Args:
        price: the model's rates.
        input_tokens: *all* input tokens, cached ones included (OpenAI's
            ``usage.prompt_tokens``; for Anthropic pass ``input_tokens +
            cache_read_input_tokens + cache_creation_input_tokens``), as the
            GenAI semantic conventions count ``gen_ai.usage.input_tokens``.
        cached_input_tokens: how many of ``input_tokens`` were cache hits
            (OpenAI ``usage.prompt_tokens_details.cached_tokens``, Anthropic
            ``cache_read_input_tokens``), billed at ``cached_input``.
        output_tokens: output tokens (reasoning included), billed at ``output``.
        cache_write_tokens: how many of ``input_tokens`` were written to the
            cache (Anthropic ``cache_creation_input_tokens``), billed at
            ``cache_write``.

    Returns:
        US dollars, >= 0.

    Raises:
        ValueError: a negative count, or cached plus written tokens exceeding
            ``input_tokens``.
    """
    counts = (input_tokens, cached_input_tokens, output_tokens, cache_write_tokens)
    if min(counts) < 0:
        raise ValueError(f"token counts must be >= 0, got {counts}")
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise ValueError(
            f"cached ({cached_input_tokens}) and cache-write ({cache_write_tokens}) tokens "
            f"are part of the input tokens ({input_tokens}); pass the total as input_tokens"
        )
    fresh = input_tokens - cached_input_tokens - cache_write_tokens
    cached_rate = price.input if price.cached_input is None else price.cached_input
    write_rate = price.input if price.cache_write is None else price.cache_write
    dollars = (
        fresh * price.input
        + cached_input_tokens * cached_rate
        + cache_write_tokens * write_rate
        + output_tokens * price.output
    )
    return dollars / PER_TOKENS


def prompt_token_bound(prompt_chars: int, messages: int = 2) -> int:
    """The most input tokens a prompt of ``prompt_chars`` can be.

    Byte-level BPE tokenizers (OpenAI's tiktoken ``o200k_base``, Anthropic's)
    never make a token of less than one byte, so a text has at most as many
    tokens as UTF-8 bytes. Pass the prompt's UTF-8 length
    (``len(text.encode())``) for a strict bound; a character count bounds
    ASCII text exactly and undercounts only characters outside ASCII. Each
    message adds :data:`MESSAGE_OVERHEAD_TOKENS` of framing.
    """
    return max(0, int(prompt_chars)) + MESSAGE_OVERHEAD_TOKENS * max(1, messages)


def estimate_usd(price: Price, prompt_chars: int, max_tokens: int, *, messages: int = 2) -> float:
    """An upper bound on one request's cost, in US dollars, before it is sent.

    Input is bounded by :func:`prompt_token_bound` (one token per byte at
    most, all of it priced uncached), output by ``max_tokens`` (the vendor
    stops there; reasoning tokens count toward it). Real calls cost far less
    (English runs about 4 characters a token), so a budget checked against
    this never lets a call start that could take the run past it.

    Args:
        price: the model's rates.
        prompt_chars: the prompt's size, system + user messages + the output
            schema, as UTF-8 bytes for a strict bound.
        max_tokens: the most output tokens the call may produce.
        messages: how many chat messages carry the prompt.

    Returns:
        US dollars, >= 0.
    """
    tokens_in = prompt_token_bound(prompt_chars, messages)
    return cost_usd(price, tokens_in, 0, max(0, int(max_tokens)))


def estimate_call_usd(
    price: Price,
    arguments: Mapping[str, Any],
    max_tokens: int,
    *,
    schema_bytes: int = 0,
    system_bytes: int = SYSTEM_PROMPT_BOUND_BYTES,
    repair_turn: bool = True,
    structured_calls: int = 2,
    prompt_bytes: int | None = None,
) -> float:
    """An upper bound on one LLM role call, in US dollars, before it is made.

    A role hook of :class:`~reelgraph.plugins.roles.llm.LLMRoles` makes one
    ``structured`` call, and a second when the answer breaks the role's rules
    (``LLMRoles._ask``), whose user message adds the first answer and the
    problems; each ``structured`` call is a request plus, when the answer
    does not validate, a repair turn that re-sends everything with the answer
    and the validation errors. So by default four requests are counted, each
    using ``max_tokens`` of output.

    The prompt is ``prompt_bytes`` when known (system + user message + the
    output schema as sent, UTF-8; see :func:`first_request`); otherwise it is
    bounded from the hook's arguments: their JSON twice (the user message
    carries them, the system prompt may restate the brief), plus
    ``system_bytes`` for the role's instructions, plus ``schema_bytes``
    (strict-mode schemas and tool schemas are billed as input). An answer
    sent back is bounded by :data:`ANSWER_RESEND_FACTOR` x ``max_tokens``
    tokens (the answer re-serialised), the problems or validation errors by
    :data:`REPAIR_NOTE_BOUND_BYTES`.

    Args:
        price: the model's rates.
        arguments: the hook's resolved arguments (without ``ctx``).
        max_tokens: the most output tokens per request.
        schema_bytes: size of the output schema as sent.
        system_bytes: bound on the system prompt's own text.
        repair_turn: count the repair turn of each ``structured`` call.
        structured_calls: ``structured`` calls the hook may make (1 or 2).
        prompt_bytes: the first request's exact prompt size, when known.

    Returns:
        US dollars, >= 0.
    """
    if prompt_bytes is None:
        prompt_bytes = 2 * arguments_bytes(arguments) + max(0, schema_bytes) + max(0, system_bytes)
    most_out = max(0, int(max_tokens))
    total = 0.0
    carried = 0  # tokens of earlier answers and problems a later call re-sends
    for _ in range(max(1, structured_calls)):
        tokens_in = prompt_token_bound(prompt_bytes, 2) + carried
        total += cost_usd(price, tokens_in, 0, most_out)
        if repair_turn:
            repair_in = prompt_token_bound(prompt_bytes + REPAIR_NOTE_BOUND_BYTES, 4)
            total += cost_usd(price, repair_in + carried + most_out, 0, most_out)
        carried += math.ceil(ANSWER_RESEND_FACTOR * most_out) + REPAIR_NOTE_BOUND_BYTES
    return total


def arguments_bytes(arguments: Mapping[str, Any]) -> int:
    """UTF-8 bytes of a hook's arguments as JSON (pydantic models dumped, the rest by ``str``)."""
    from pydantic_core import to_json

    try:
        return len(to_json(dict(arguments), fallback=str))
    except (TypeError, ValueError):
        return len(str(dict(arguments)).encode())


class _Captured(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def hook_output(hook: str) -> type[BaseModel] | None:
    """The pydantic model a kernel hookspec returns (``VideoPlan | None`` -> ``VideoPlan``).

    ``None`` for a hook that returns no model (or is not a kernel hookspec):
    the vendors price a role's answer from this model's schema.
    """
    import typing

    from reelgraph import hookspecs

    spec = getattr(hookspecs, hook, None)
    try:
        annotation = typing.get_type_hints(spec).get("return") if spec else None
    except (NameError, TypeError):
        return None
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def first_request(plugin: Any, hook: str, arguments: Mapping[str, Any]) -> tuple[bool, Any]:
    """The first ``StructuredRequest`` a role hook of ``plugin`` would send, without sending it.

    Runs the hook on a copy of ``plugin`` whose ``structured`` captures the
    request and stops: the prompts are built exactly as the real call builds
    them (pure functions of the arguments; nothing is sent, nothing written).

    Returns:
        ``(True, request)``: the request; ``(True, None)``: the hook answered
        without calling the model (``optimize`` with no revisions: it costs
        nothing); ``(False, None)``: the hook could not be run this way
        (unknown hook, arguments it cannot take, an error): bound it from the
        arguments instead.
    """
    import copy
    import inspect
    import tempfile

    from reelgraph import hookspecs
    from reelgraph.run.context import NodeContext

    method = getattr(plugin, hook, None)
    spec = getattr(hookspecs, hook, None)
    if method is None or spec is None or inspect.iscoroutinefunction(method):
        return False, None
    defaults = getattr(spec, "reelgraph_defaults", {})
    kwargs: dict[str, Any] = {}
    for name in inspect.signature(method).parameters:
        if name == "ctx":
            continue
        if name in arguments:
            kwargs[name] = arguments[name]
        elif name in defaults:
            kwargs[name] = copy.deepcopy(defaults[name])
        else:
            return False, None

    def capture(request: Any, ctx: Any) -> Any:
        raise _Captured(request)

    dry = copy.copy(plugin)
    dry.structured = capture
    ctx = NodeContext(
        run_id="estimate",
        node_id="estimate",
        hook=hook,
        provider=getattr(plugin, "reelgraph_name", None),
        run_dir=Path(tempfile.gettempdir()),
    )
    try:
        getattr(type(plugin), hook)(dry, **kwargs, ctx=ctx)
    except _Captured as captured:
        return True, captured.request
    except Exception:
        return False, None
    return True, None


# --- the price table -----------------------------------------------------------


_lock = threading.Lock()
_cache: dict[tuple[Any, ...], dict[str, dict[str, Price]]] = {}
_warned: set[tuple[str, str]] = set()


def load_prices(vendor: str, *, env: dict[str, str] | None = None) -> dict[str, Price]:
    """Every priced model of ``vendor``: the shipped table with the user's rows over it.

    Args:
        vendor: ``"openai"``, ``"anthropic"``: a top-level key of the file.
        env: environment to read ``REELGRAPH_PRICES`` / ``REELGRAPH_HOME``
            from (``os.environ`` by default).

    Returns:
        ``{model: Price}``; empty for a vendor no file prices.

    Raises:
        ConfigurationError: a price file that cannot be read or parsed, or a
            row with a missing, negative or unknown field (the message names
            the file, vendor, model and field).

    Files are read once and re-read only when their modification time changes,
    so the kernel's ``estimate_cost`` calls do no repeated I/O.
    """
    return _table(env if env is not None else os.environ).get(vendor, {})


def price_for(vendor: str, model: str, *, env: dict[str, str] | None = None) -> Price | None:
    """The price of ``model``, or ``None`` (with a warning logged once) when unknown.

    A dated snapshot (``gpt-4o-mini-2024-07-18``, ``claude-haiku-4-5-20251001``)
    takes its own row when there is one, else its alias's.

    Raises:
        ConfigurationError: as :func:`load_prices`.
    """
    prices = load_prices(vendor, env=env)
    price = prices.get(model)
    if price is None:
        alias = _SNAPSHOT.sub("", model)
        price = prices.get(alias)
    if price is None:
        _warn_unknown(vendor, model, env)
    return price


def _warn_unknown(vendor: str, model: str, env: dict[str, str] | None) -> None:
    with _lock:
        if (vendor, model) in _warned:
            return
        _warned.add((vendor, model))
    import structlog

    override = _override_path(env if env is not None else os.environ)
    structlog.get_logger("reelgraph.plugins.vendors").warning(
        "model has no price: usage is reported without a cost",
        vendor=vendor,
        model=model,
        fix=f"add a row under {vendor}: {model}: in {override} "
        f"(input, output, cached_input: US dollars per 1M tokens)",
    )


def _override_path(env: Any) -> Path:
    named = env.get(PRICES_ENV)
    if named:
        return Path(named).expanduser()
    from reelgraph.kernel import default_home

    return default_home(env) / "prices.yaml"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _table(env: Any) -> dict[str, dict[str, Price]]:
    override = _override_path(env)
    named = bool(env.get(PRICES_ENV))
    key = (str(override), _mtime(override), named, _mtime(_SHIPPED))
    with _lock:
        table = _cache.get(key)
    if table is not None:
        return table
    table = _read(_SHIPPED)
    if key[1] is not None:
        for vendor, rows in _read(override).items():
            table.setdefault(vendor, {}).update(rows)
    elif named:
        raise ConfigurationError(
            f"{PRICES_ENV}={override}: no such file; point it at a prices YAML file or unset it"
        )
    with _lock:
        _cache.clear()
        _cache[key] = table
    return table


def _read(path: Path) -> dict[str, dict[str, Price]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigurationError(f"{path}: cannot read the price file ({err.strerror})") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"{path}{where}: not valid YAML; fix the price file") from err
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a mapping of vendor -> model -> prices")
    table: dict[str, dict[str, Price]] = {}
    for vendor, rows in data.items():
        if vendor == "version":
            continue
        if not isinstance(rows, dict):
            raise ConfigurationError(f"{path}: {vendor}: expected a mapping of model -> prices")
        table[str(vendor)] = {
            str(model): _row(path, vendor, model, row) for model, row in rows.items()
        }
    return table


def _row(path: Path, vendor: str, model: str, row: Any) -> Price:
    try:
        return Price.model_validate(row)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise ConfigurationError(
            f"{path}: {vendor}.{model}.{field}: {first['msg']} "
            f"(rows take input, cached_input, output, cache_write in USD per 1M tokens, "
            f"source, as_of)"
        ) from None
