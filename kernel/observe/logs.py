"""structlog configuration for the CLI (the library never configures logging itself).

Every event passes :func:`reelgraph.observe.secrets.redact_processor` just before it is
rendered, so API keys never reach the log, tracebacks included.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


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
