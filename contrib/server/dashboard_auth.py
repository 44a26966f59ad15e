"""The token, once, for a browser: a login form or ``?token=`` sets a session cookie.

A server with a token accepts a request that carries either
``Authorization: Bearer <token>`` (RFC 6750 section 2.1) or the session cookie
``reelgraph_session``. The cookie holds HMAC-SHA256(token, "reelgraph
dashboard session") in hex, not the token itself, and is ``HttpOnly`` (no script
reads it), ``SameSite=Strict`` (no other site's page sends it, so no cross-site
form can post with it; RFC 6265bis section 8.8) and ``Secure`` over HTTPS. Every
comparison is :func:`hmac.compare_digest`. The token is never written into a
page, a redirect or a log: ``?token=`` answers a redirect to the same URL
without it, and :class:`RedactTokenQuery` blanks it in uvicorn's access log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

__all__ = [
    "COOKIE",
    "RedactTokenQuery",
    "SessionLogin",
    "authorized",
    "session_value",
]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

COOKIE = "reelgraph_session"
LOGIN_PATH = "/login"


def session_value(token: bytes) -> str:
    """The cookie's value for ``token``: HMAC-SHA256 keyed by the token, in hex."""
    return hmac.new(token, b"reelgraph dashboard session", hashlib.sha256).hexdigest()


def _cookie(scope: Scope) -> str:
    raw = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no session
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else ""


def authorized(scope: Scope, token: bytes) -> bool:
    """Whether the request carries ``Bearer <token>`` or the session cookie of ``token``."""
    header = dict(scope["headers"]).get(b"authorization", b"")
    scheme, _, given = header.partition(b" ")
    # compare_digest on bytes of any length: the time does not depend on where they differ
    if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token):
        return True
    cookie = _cookie(scope).encode("latin-1", "replace")
    return bool(cookie) and hmac.compare_digest(cookie, session_value(token).encode())


def _is_page(path: str) -> bool:
    return path == "/" or path == "/submit" or path.startswith("/runs/")


def _safe_next(target: str) -> str:
    """A redirect target on this site only (a path), never another origin."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SessionLogin:
    """ASGI middleware (outside the token check): the login form, ``?token=`` and the cookie.

    ``GET /login`` shows the form; ``POST /login`` (form field ``token``, and
    ``next``) sets the cookie and redirects (303) to ``next``; a wrong token
    shows the form again with 401. A page opened with ``?token=`` gets the
    cookie and a redirect to itself without the token; a page opened without
    a session is redirected to the form. ``GET /logout`` clears the cookie.
    Anything else goes on to the app, whose token check answers.
    """

    def __init__(self, app: ASGIApp, token: str, render_login: Callable[..., Response]) -> None:
        self.app = app
        self.token = token.encode()
        self.render_login = render_login

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        response: Response | None = None
        if path == LOGIN_PATH:
            response = await self._login(Request(scope, receive))
        elif path == "/logout":
            response = RedirectResponse(LOGIN_PATH, status_code=303)
            response.delete_cookie(COOKIE, path="/")
        elif _is_page(path) and scope["method"] == "GET":
            response = self._page(scope)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _page(self, scope: Scope) -> Response | None:
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given:
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            target = scope["path"] + (f"?{rest}" if rest else "")
            if hmac.compare_digest(given[-1].encode(), self.token):
                return self._signed_in(scope, target)
            return self.render_login(next_url=target, error="wrong token", status_code=401)
        if authorized(scope, self.token):
            return None
        target = scope["path"] + (f"?{scope['query_string'].decode()}" if query else "")
        return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'next': target})}", status_code=303)

    async def _login(self, request: Request) -> Response:
        if request.method != "POST":
            return self.render_login(next_url=_safe_next(request.query_params.get("next", "/")))
        async with request.form(max_files=0, max_fields=4) as form:
            given, target = str(form.get("token", "")), str(form.get("next", "/"))
        if hmac.compare_digest(given.encode(), self.token):
            return self._signed_in(request.scope, _safe_next(target))
        return self.render_login(next_url=_safe_next(target), error="wrong token", status_code=401)

    def _signed_in(self, scope: Scope, target: str) -> Response:
        response = RedirectResponse(_safe_next(target), status_code=303)
        response.set_cookie(
            COOKIE,
            session_value(self.token),
            httponly=True,
            samesite="strict",
            secure=scope.get("scheme") == "https",
            path="/",
        )
        return response


class RedactTokenQuery(logging.Filter):
    """Blank ``token=`` query values in uvicorn's access log lines (``uvicorn.access``).

    uvicorn logs ``(client, method, full path, HTTP version, status)`` as the
    record's ``args``; the path's query is rewritten, the line still printed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, sep, query = args[2].partition("?")
            if sep and "token=" in query:
                pairs = parse_qsl(query, keep_blank_values=True)
                clean = urlencode([(k, "***" if k == "token" else v) for k, v in pairs])
                record.args = (*args[:2], f"{path}?{clean}", *args[3:])
        return True
