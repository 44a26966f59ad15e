"""structlog configuration for the CLI (the library never configures logging itself).

Every event passes :func:`reelgraph.observe.secrets.redact_processor` just before it is
rendered, so API keys never reach the log, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelgraph.run.result import Event, Run

__all__ = ["configure_logging", "logging_listener"]


def configure_logging(fmt: str = "console", level: str = "warning") -> None:
    """Send structlog output to stderr as ``console`` text or ``json`` lines, redacted.

    Args:
        fmt: ``"console"`` (human-readable) or ``"json"`` (one JSON object per line).
        level: the lowest level shown: debug, info, warning, error.
    """
    import structlog

    from reelgraph.observe.secrets import redact_processor

    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,  # last before rendering: sees every field, tracebacks too
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


_LOGGED = {
    "run.started": "info",
    "run.finished": "info",
    "node.started": "debug",
    "node.succeeded": "info",
    "node.failed": "error",
    "node.cancelled": "warning",
    "node.needs_input": "info",
    "run.answered": "info",
}


def logging_listener(
    run: Run, on_event: Callable[[Event], None] | None
) -> Callable[[Event], None] | None:
    """Log run and node events with structlog, bound to the run id and node id.

    Only when the application configured structlog: an unconfigured structlog
    prints everything to stdout, which a library must not do by default.
    """
    structlog = sys.modules.get("structlog")  # not imported: cannot be configured
    if structlog is None or not structlog.is_configured():
        return on_event
    log = structlog.get_logger("reelgraph").bind(run_id=run.id, spec=run.spec)

    def listener(event: Event) -> None:
        level = _LOGGED.get(event.type)
        if level is not None:
            fields = {k: v for k, v in (event.data or {}).items() if v is not None}
            if event.node_id is not None:
                fields["node_id"] = event.node_id
            getattr(log, level)(event.type, **fields)
        if on_event is not None:
            on_event(event)

    return listener
