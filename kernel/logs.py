"""structlog configuration for the CLI (the library never configures logging itself)."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


def configure_logging(fmt: str = "console", level: str = "warning") -> None:
    """Send structlog output to stderr as ``console`` text or ``json`` lines.

    Args:
        fmt: ``"console"`` (human-readable) or ``"json"`` (one JSON object per line).
        level: the lowest level shown: debug, info, warning, error.
    """
    import structlog

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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
