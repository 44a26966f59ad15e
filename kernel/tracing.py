"""OpenTelemetry set-up for the CLI. The kernel itself only uses the API.

Embedding applications configure their own tracer provider; the kernel finds
it through ``opentelemetry.trace`` (or ``Kernel(tracer_provider=...)``). With
no provider configured the kernel creates no spans at all, so tracing costs
nothing when it is off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["active_tracer", "configure_tracing"]

TRACER_NAME = "reelgraph"


def active_tracer(provider: Any = None) -> Any:
    """A tracer from ``provider`` or the global one; ``None`` when none is configured."""
    from opentelemetry import trace

    if provider is None:
        provider = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return None
    from . import __version__

    return provider.get_tracer(TRACER_NAME, __version__)


def configure_tracing(console: bool = False, env: Mapping[str, str] | None = None) -> Any:
    """Install an SDK tracer provider when asked to; return it (or ``None``).

    Tracing is on when ``console`` is true (spans printed to stderr) or when
    ``OTEL_TRACES_EXPORTER`` names exporters (``otlp``, ``console``), as the
    OpenTelemetry SDK environment variables specify. ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` set the resource; ``OTEL_SDK_DISABLED=true``
    turns everything off.

    Raises:
        ConfigurationError: an exporter is named whose package is not installed.
    """
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    names = [n.strip() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if console and "console" not in names:
        names.append("console")
    if not names:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "reelgraph")})
    provider = TracerProvider(resource=resource)
    for name in names:
        if name == "console":
            exporter: Any = ConsoleSpanExporter(out=sys.stderr)
        else:
            exporter = _load_exporter(name)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _load_exporter(name: str) -> Any:
    from importlib import metadata

    for ep in metadata.entry_points(group="opentelemetry_traces_exporter"):
        if ep.name == name:
            return ep.load()()
    hint = " (pip install 'reelgraph[otlp]')" if name.startswith("otlp") else ""
    raise ConfigurationError(
        f"OTEL_TRACES_EXPORTER names '{name}' but no such exporter is installed{hint}"
    )
