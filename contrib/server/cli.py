"""``reelgraph serve``: check the bind address and token, then run uvicorn.

Imported by ``reelgraph.cli.main`` only when ``serve`` runs; it imports fastapi
and uvicorn only inside :func:`serve`, after :func:`check_bind` passed.
"""

from __future__ import annotations

import importlib.util
import ipaddress

__all__ = ["ServeError", "check_bind", "is_loopback", "serve"]


class ServeError(Exception):
    """``reelgraph serve`` cannot start; the message says why and what to do (CLI exit 2)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve an address other than loopback without a token.

    Raises:
        ServeError: ``host`` is not loopback and ``token`` is empty.
    """
    if not token and not is_loopback(host):
        raise ServeError(
            f"binding {host} exposes the runs, their files and their inputs to the network: "
            "give a token with --token or REELGRAPH_SERVER_TOKEN (clients send "
            "'Authorization: Bearer <token>'), or bind 127.0.0.1"
        )


def serve(host: str, port: int, token: str | None, *, max_upload_mb: float, log_level: str) -> None:
    """Serve the HTTP API on ``host:port`` until interrupted (runs in flight end cancelled).

    Raises:
        ServeError: no token for a non-loopback ``host``, or fastapi, uvicorn,
            sse-starlette or Jinja2 (the dashboard's templates) is not installed.
    """
    check_bind(host, token)
    missing = [m for m in ("fastapi", "uvicorn", "sse_starlette", "jinja2") if not _installed(m)]
    if missing:
        raise ServeError(f"{', '.join(missing)} not installed: pip install 'reelgraph[server]'")
    import uvicorn

    from reelgraph.contrib.server.app import create_app
    from reelgraph.kernel import Kernel
    from reelgraph.observe.secrets import register_secret

    if token:
        register_secret(token, "server_token")  # redacted if it ever reaches a log or error
    app = create_app(Kernel(), token=token, max_upload_bytes=int(max_upload_mb * 2**20))
    # uvicorn's access log prints method, path and status, never headers: the token stays out
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
