"""A small real HTTP server on 127.0.0.1 that answers what a test tells it to.

Used by the classification tests (tests/kernel/test_classify.py,
tests/plugins/test_vendor_rules.py): clients (httpx, the official SDKs) talk
to it through their base-URL argument, and it answers with the status, headers
and body of :attr:`Server.reply`, after ``delay_s`` seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the server answers next. ``echo_key`` quotes the caller's bearer token."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "{}"
    delay_s: float = 0.0
    retry_after_date_s: float | None = None
    echo_key: bool = True


class Server:
    def __init__(self) -> None:
        self.reply = Reply()
        #: requests answered so far
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                reply = server.reply
                server.requests += 1
                time.sleep(reply.delay_s)
                body = reply.body
                if reply.echo_key:  # a careless vendor quoting the key back
                    body = body.replace("$KEY", self.headers.get("authorization", ""))
                    body = body.replace("$XKEY", self.headers.get("x-api-key", ""))
                    body = body.replace("$PATH", self.path)
                data = body.encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.retry_after_date_s is not None:
                    when = datetime.now(UTC) + timedelta(seconds=reply.retry_after_date_s)
                    self.send_header("retry-after", format_datetime(when, usegmt=True))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda *args: None  # a client that timed out hung up
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
