"""The hooks the kernel calls itself (:data:`reelgraph.hookspecs.KERNEL_HOOKS`):
costs, providers, published assets, executors, vendor errors, secrets, environment.

Part of :mod:`reelgraph.hookspecs`, which re-exports every hook: import them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelgraph._markers import hookspec
from reelgraph.errors import ProviderError


@hookspec(firstresult=True)
def estimate_cost(hook: str, provider: str | None, arguments: dict[str, Any]) -> float | None:
    """What one call of ``hook`` would cost, in US dollars, before it is made.

    The kernel asks before starting each call of a node when the run has a
    ``budget.max_cost_usd``; a call whose estimate would take the run past
    the budget is not started. Implement it in a plugin that charges money
    (a video vendor: price per second of clip from the vendor's price list).
    This hook is for the kernel; spec nodes do not call it. It is called
    synchronously before every attempt: compute from a price table, do no
    I/O. An exception it raises fails the node.

    Args:
        hook: the hook about to be called (``render_shot``).
        provider: the provider that will answer, when the node pins one
            (or ``choose_provider`` pinned this call of an open node).
        arguments: the call's resolved arguments (without ``ctx``).

    Returns:
        US dollars, or ``None`` when this implementation does not price
        this hook or provider (the next implementation is asked; with no
        answer the call is assumed free until it reports a cost).
    """


@hookspec(firstresult=True)
def choose_provider(hook: str, arguments: dict[str, Any], providers: list[str]) -> str | None:
    """Which provider answers one call of a node that names none.

    A node without a provider (or with ``provider: $inputs.NAME`` given
    ``auto``) is *open*. Before each of its calls (each ``map`` item) of a
    one-answer hook the kernel asks this hook; a provider named here is
    pinned for that call: it alone is called, the call takes a slot of
    that provider's limit (``concurrency.providers``), its ``estimate_cost``
    and attempts are that provider's, and ``ctx.provider`` names it. With no
    answer every implementation may answer, as before, and no provider
    limit applies. This hook is for the kernel; spec nodes do not call it.
    It is called synchronously before every call: decide from the
    arguments, do no I/O.

    Args:
        hook: the hook about to be called (``generate_clip``).
        arguments: the call's resolved arguments (without ``ctx``): a map
            item's ``shot`` and ``options``, for example.
        providers: the installed providers of ``hook``, sorted.

    Returns:
        A provider name, or ``None`` when this implementation has no opinion
        (the next one is asked).

    Raises:
        Nothing of its own; the kernel fails the call with a
        :class:`~reelgraph.errors.ConfigurationError` (then the node's
        ``on_error`` fallbacks are tried) when the answer is not an
        installed provider of ``hook``.

    Example provider: ``solver`` (a ``generate_clip`` call carrying a
    production plan in ``options.plan`` goes to the provider the plan chose
    for its shot).
    """


@hookspec(firstresult=True)
def publish_asset(path: Path, content_type: str, expires_s: float) -> str | None:
    """Put a local file where a remote vendor can fetch it; return its URL.

    Some vendors take inputs only by URL (Luma's image-to-video keyframes).
    A clip provider asks through ``ctx.publish_asset(path, ...)``, which
    calls this hook. Implement it in a plugin that owns some storage (an
    S3-compatible bucket with presigned GET URLs, a CDN, a web server).

    Args:
        path: the file to publish (a PNG storyboard frame, for example).
        content_type: its media type (``image/png``), served with it.
        expires_s: how long the URL must stay readable, in seconds.

    Returns:
        An ``https`` (or, for a loopback test server, ``http``) URL that
        serves the file's bytes, or ``None`` when this plugin is not
        configured (the next implementation is asked; with no answer the
        caller goes without, e.g. text-to-video instead of image-to-video).

    Raises:
        ConfigurationError: the publisher is configured but cannot write
            (bad bucket, rejected credentials), naming the setting to fix.
        TransientError: the storage failed in a way a retry may fix.

    Example provider: ``s3_assets`` (``REELGRAPH_ASSET_URL=s3://bucket/prefix``).
    """


@hookspec
def register_executors(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register executors: where the scheduler's hook calls run.

    Every implementation is called when a kernel opens its executor. Call
    ``register(name, factory)`` once per executor; ``factory(**options)``
    makes it (``Kernel(executor=name, executor_options={...})``,
    ``reelgraph run --executor NAME``) and raises
    :class:`~reelgraph.errors.ConfigurationError` when the options are bad
    or a package is missing. The executor keeps the contract in
    :mod:`reelgraph.run.executors` (``async call(node, kwargs)``,
    ``close()``): it only runs calls; the scheduler keeps every decision.

    Args:
        register: ``register(name, factory)``; the first registration of a
            name wins.

    Example providers: ``asyncio`` (in-process, the default), ``dask``
    (``reelgraph.contrib.dask``: calls of ``def`` hooks on Dask workers).
    """


# -- vendor knowledge, for the kernel -------------------------------------------


@hookspec(firstresult=True)
def classify_error(error: BaseException) -> ProviderError | None:
    """Classify an exception a vendor's SDK raised, for the retry policy.

    The kernel knows ``httpx`` errors and HTTP statuses; an SDK's own
    exception types (``openai.RateLimitError``, a vendor's "concurrency
    limit" code in a 200 envelope) are known to the vendor's plugin only. The
    kernel asks this hook for any exception that is not already a
    :class:`~reelgraph.errors.ProviderError`.

    Args:
        error: the exception a hook implementation raised.

    Returns:
        A :class:`~reelgraph.errors.ProviderError` subclass instance
        (``RateLimitedError(retry_after_s=...)``, ``ConfigurationError`` for
        a rejected key, ``TransientError`` for a 5xx...) whose message names
        the vendor and never contains a key; ``None`` when this plugin does
        not know the exception (the next implementation is asked, then the
        kernel's httpx-level rules).
    """


@hookspec
def secret_patterns() -> list[tuple[str, str]] | None:
    """Regular expressions matching a vendor's API key format, for redaction.

    Every implementation is called once, when the plugin registers. A
    match anywhere in logs, spans, events, errors or the store is replaced
    by ``[REDACTED:<name>]``, even for a key the run was never given.

    Returns:
        ``(name, pattern)`` pairs, e.g. ``("openai", r"sk-(?:proj-)?[A-Za-z0-9_-]{20,}")``.
    """


@hookspec
def environment_variables() -> list[tuple[str, str]] | None:
    """Environment variables a plugin reads, for ``reelgraph doctor``.

    Every implementation is called. ``doctor`` prints, per plugin, which of
    them are set; it never reads a value into its output.

    Returns:
        ``(name, what it is for)`` pairs, e.g. ``("OPENAI_API_KEY", "API
        key")``, ``("OPENAI_BASE_URL", "another OpenAI-compatible server")``.
    """
