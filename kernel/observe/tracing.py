"""OpenTelemetry set-up for the CLI. The kernel itself only uses the API.

Embedding applications configure their own tracer provider; the kernel finds
it through ``opentelemetry.trace`` (or ``Kernel(tracer_provider=...)``). With
no provider configured the kernel creates no spans at all, so tracing costs
nothing when it is off.

Every exporter the CLI installs is wrapped in :class:`RedactingSpanExporter`,
so no API key leaves the process in a span, whatever set the attribute.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from reelgraph.errors import ConfigurationError

__all__ = ["RedactingSpanExporter", "active_tracer", "configure_tracing", "end_run_span"]

TRACER_NAME = "reelgraph"

# OTEL_TRACES_EXPORTER=otlp names the OTLP exporter for the protocol in
# OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL; the exporter packages register their
# entry points under these names (opentelemetry-python, exporter/).
_OTLP_ENTRY_POINTS = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def active_tracer(provider: Any = None) -> Any:
    """A tracer from ``provider`` or the global one; ``None`` when none is configured."""
    from opentelemetry import trace

    if provider is None:
        provider = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return None
    from reelgraph import __version__

    return provider.get_tracer(TRACER_NAME, __version__)


def configure_tracing(console: bool = False, env: Mapping[str, str] | None = None) -> Any:
    """Install an SDK tracer provider when asked to; return it (or ``None``).

    Tracing is on when ``console`` is true (spans printed to stderr) or when
    ``OTEL_TRACES_EXPORTER`` names exporters (``otlp``, ``console``), as the
    OpenTelemetry SDK environment variables specify. ``otlp`` picks the
    exporter for ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf`` by default,
    as the OTLP exporter specification says; install ``reelgraph[otlp]``),
    which reads ``OTEL_EXPORTER_OTLP_ENDPOINT`` and the other
    ``OTEL_EXPORTER_OTLP_*`` variables itself. ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` set the resource; ``OTEL_SDK_DISABLED=true``
    turns everything off. Spans are redacted before export
    (:class:`RedactingSpanExporter`). Call ``shutdown()`` on the provider
    before exiting: it exports the spans still queued.

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
            exporter = _load_exporter(_entry_point_name(name, env))
        # duck-typed: subclassing SpanExporter would import the SDK with this module
        redacting: Any = RedactingSpanExporter(exporter)
        provider.add_span_processor(BatchSpanProcessor(redacting))
    trace.set_tracer_provider(provider)
    return provider


def _entry_point_name(name: str, env: Mapping[str, str]) -> str:
    if name != "otlp":
        return name
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _OTLP_ENTRY_POINTS:
        choices = ", ".join(_OTLP_ENTRY_POINTS)
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; use one of {choices}"
        )
    return _OTLP_ENTRY_POINTS[protocol]


def _load_exporter(name: str) -> Any:
    from importlib import metadata

    for ep in metadata.entry_points(group="opentelemetry_traces_exporter"):
        if ep.name == name:
            return ep.load()()
    if name == "otlp_proto_http":
        hint = " (pip install 'reelgraph[otlp]')"
    elif name.startswith("otlp"):
        hint = f" (pip install opentelemetry-exporter-{name.replace('_', '-')})"
    else:
        hint = ""
    raise ConfigurationError(
        f"OTEL_TRACES_EXPORTER names '{name}' but no such exporter is installed{hint}"
    )


class RedactingSpanExporter:
    """Wraps a span exporter; spans reach it with secrets redacted.

    Redacts (:func:`reelgraph.observe.secrets.redact_value`) span attributes, event
    attributes (``exception.message`` and ``exception.stacktrace`` included),
    link attributes and the status description. A span with nothing to
    redact is passed on as it is. Runs in the exporter's thread, off the
    run's path.

    Args:
        exporter: an OpenTelemetry SDK ``SpanExporter``.
    """

    def __init__(self, exporter: Any) -> None:
        self.exporter = exporter

    def export(self, spans: Any) -> Any:
        return self.exporter.export([redact_span(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.exporter.force_flush(timeout_millis))


def redact_span(span: Any) -> Any:
    """``span`` (an SDK ``ReadableSpan``) with secrets redacted; itself when it has none."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Link, Status

    from reelgraph.observe.secrets import redact, redact_value

    changed = False

    def clean(attributes: Any) -> Any:
        nonlocal changed
        if not attributes:
            return attributes
        plain = dict(attributes)
        redacted = redact_value(plain)
        changed = changed or redacted is not plain
        return redacted

    attributes = clean(span.attributes)
    events = [Event(e.name, clean(e.attributes), e.timestamp) for e in span.events]
    links = [Link(link.context, clean(link.attributes)) for link in span.links]
    status = span.status
    if status.description:
        description = redact(status.description)
        if description != status.description:
            changed = True
            status = Status(status.status_code, description)
    if not changed:
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def end_run_span(span: Any, run: Any) -> None:
    """Set the run span's status attribute (and an error status), then end it.

    A run waiting for answers (``needs_input``) did not fail: its span gets the
    question keys (``reelgraph.questions``), not an error status. The kernel
    sets error statuses itself (``use_span(set_status_on_exception=False)``),
    so a node that asked is never marked failed by the exception passing by.
    """
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("reelgraph.run.status", run.status)
    if run.status == "needs_input":
        span.set_attribute("reelgraph.questions", [q["key"] for q in run.questions])
    elif run.error is not None:
        span.set_status(Status(StatusCode.ERROR, str(run.error)))
    elif run.status == "running":  # an unexpected exception ended it
        span.set_status(Status(StatusCode.ERROR, "the run ended unexpectedly"))
    span.end()
