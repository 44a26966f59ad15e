"""A fake Runway API on loopback, for the real ``runwayml`` SDK to talk to.

It follows the published wire format (https://docs.dev.runwayml.com/api/,
API version ``2024-11-06``), not the SDK's internals:

- every request carries ``Authorization: Bearer <key>`` (else 401) and
  ``X-Runway-Version: 2024-11-06`` (else 400);
- ``POST /v1/image_to_video`` (``model``, ``promptImage``: an https URL or a
  ``data:image/...;base64,`` URI, ``promptText``, ``ratio``, ``duration``
  2-10) and ``POST /v1/text_to_video`` (``gen4.5``; ratio ``1280:720`` or
  ``720:1280``) answer ``{"id", "estimatedCost": {"credits"}}``; a bad body
  is a 400 ``{"error": ...}``;
- ``GET /v1/tasks/{id}`` answers the task: ``PENDING`` / ``THROTTLED``
  (``estimatedCost``), ``RUNNING`` (``progress``), ``SUCCEEDED`` (``output``:
  URLs, ``cost``), ``FAILED`` (``failure``, ``failureCode``, ``cost``),
  ``CANCELLED``; an unknown id is a 404;
- a 429 is ``{"error": "..."}`` with ``Retry-After``.

The statuses a task goes through are scripted (:attr:`FakeClipServer.script`,
the last one repeats, so ``["RUNNING"]`` never finishes), and so is the
result the ``output`` URL leads to (:attr:`FakeClipServer.result`): a real
MP4 (:func:`tiny_mp4`), a redirect to a private or link-local address, an
oversize body, an HTML page, bytes that are not a video. Submissions, polls
and downloads are counted. :class:`FakeClipServer` holds what Runway and
Luma share; ``luma_server`` builds on it.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeClipServer", "FakeRunway", "Recorded", "tiny_mp4"]

RESULTS = ("clip", "redirect_private", "redirect_metadata", "oversize", "not_video", "garbage")
OVERSIZE_BYTES = 3 * 1024 * 1024


def tiny_mp4(path: Path, *, seconds: float = 2.0, size: str = "320x240", fps: int = 24) -> Path:
    """Write a real H.264 MP4 (ffmpeg's ``testsrc`` pattern) and return its path."""
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate={fps}:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


@dataclass
class Recorded:
    """One request: method, path, headers (lower-case names), JSON body, arrival (monotonic s)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = 0.0


class FakeClipServer:
    """A threaded HTTP server on 127.0.0.1 with scripted tasks and media endpoints.

    Subclasses implement :meth:`route` for the vendor's API paths.

    Attributes:
        script: statuses a task answers on its 1st, 2nd... poll (the last repeats).
        result: what the output URL serves (one of :data:`RESULTS`).
        submit_errors: HTTP statuses the next submissions get instead (429...).
        poll_errors: HTTP statuses the next polls get instead.
        key: the API key every request must carry.
    """

    vendor = "fake"
    #: what a task answers when no script is set: done at the first poll
    default_script: tuple[str, ...] = ("SUCCEEDED",)

    def __init__(self, mp4: Path, *, key: str = "test-key-0123456789") -> None:
        self.mp4 = Path(mp4).read_bytes()
        self.key = key
        self.script: list[str] = []
        self.result = "clip"
        self.submit_errors: list[int] = []
        self.poll_errors: list[int] = []
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.submissions: list[str] = []  # task ids, in order
        self.polls: list[tuple[str, str]] = []  # (task id, status answered)
        self.downloads: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self, "POST")

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeClipServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> tuple[int, int, int]:
        """(submissions, polls, downloads) so far."""
        with self.lock:
            return len(self.submissions), len(self.polls), len(self.downloads)

    # -- plumbing ------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in handler.headers.items()}
        path = handler.path.split("?", 1)[0]
        with self.lock:
            self.requests.append(Recorded(method, path, headers, body, time.monotonic()))
        if path.startswith("/media/"):
            self._media(handler, path.removeprefix("/media/"))
            return
        status, payload, extra = self.route(method, path, headers, body)
        self._send(handler, status, payload, extra)

    def route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        extra: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", content_type)
        handler.send_header("content-length", str(len(data)))
        for name, value in (extra or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _media(self, handler: BaseHTTPRequestHandler, name: str) -> None:
        with self.lock:
            self.downloads.append(name)
        if name.startswith("redirect_private"):
            self._send(handler, 302, b"", {"location": "https://10.0.0.1/clip.mp4"})
        elif name.startswith("redirect_metadata"):
            self._send(handler, 302, b"", {"location": "http://169.254.169.254/latest/meta-data/"})
        elif name.startswith("oversize"):
            handler.send_response(200)
            handler.send_header("content-type", "video/mp4")
            handler.send_header("transfer-encoding", "chunked")  # no length to refuse early
            handler.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(OVERSIZE_BYTES // len(chunk)):
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its cap
        elif name.startswith("not_video"):
            self._send(handler, 200, b"<html><body>Access denied</body></html>", None, "text/html")
        elif name.startswith("garbage"):
            self._send(handler, 200, b"\0\1\2 not an mp4 " * 200, None, "video/mp4")
        else:
            self._send(handler, 200, self.mp4, None, "video/mp4")

    def _next_error(self, queue: list[int]) -> int | None:
        with self.lock:
            return queue.pop(0) if queue else None

    def _new_task(self, body: Any) -> str:
        task_id = str(uuid.uuid4())
        with self.lock:
            self.tasks[task_id] = {"body": body, "polls": 0, "created": time.time()}
            self.submissions.append(task_id)
        return task_id

    def _advance(self, task_id: str) -> str:
        """The status this poll of ``task_id`` answers (and count the poll)."""
        with self.lock:
            task = self.tasks[task_id]
            script = self.script or list(self.default_script)
            status = script[min(task["polls"], len(script) - 1)]
            task["polls"] += 1
            self.polls.append((task_id, status))
        return status

    def output_url(self, task_id: str) -> str:
        return f"{self.url}/media/{self.result}/{task_id}.mp4"


class FakeRunway(FakeClipServer):
    """The fake Runway API (see the module docstring)."""

    vendor = "runway"
    version = "2024-11-06"
    models = {"gen4.5": 12, "gen4_turbo": 5}  # credits per second

    def route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"error": "Invalid API key."}, {}
        if headers.get("x-runway-version") != self.version:
            return 400, {"error": "X-Runway-Version header is missing or invalid."}, {}
        if method == "POST" and path in ("/v1/image_to_video", "/v1/text_to_video"):
            status = self._next_error(self.submit_errors)
            if status is not None:
                return status, {"error": "Too many requests."}, {"retry-after": "0"}
            problem = _check_submission(path, body, self.models)
            if problem:
                return 400, {"error": problem}, {}
            task_id = self._new_task(body)
            credits = self.models[body["model"]] * int(body.get("duration") or 5)
            return 200, {"id": task_id, "estimatedCost": {"credits": credits}}, {}
        match = re.fullmatch(r"/v1/tasks/([0-9a-f-]+)", path)
        if method == "GET" and match:
            status = self._next_error(self.poll_errors)
            if status is not None:
                return status, {"error": "Too many requests."}, {"retry-after": "0"}
            task_id = match.group(1)
            if task_id not in self.tasks:
                return 404, {"error": "Task not found."}, {}
            return 200, self._task(task_id, self._advance(task_id)), {}
        return 404, {"error": f"no route {method} {path}"}, {}

    def _task(self, task_id: str, status: str) -> dict[str, Any]:
        body = self.tasks[task_id]["body"]
        credits = self.models[body["model"]] * int(body.get("duration") or 5)
        task: dict[str, Any] = {
            "id": task_id,
            "createdAt": "2026-12-05T12:00:00.000Z",
            "status": status,
        }
        if status in ("PENDING", "THROTTLED", "RUNNING"):
            task["estimatedCost"] = {"credits": credits}
        if status == "RUNNING":
            task["progress"] = 0.5
        if status == "SUCCEEDED":
            task["output"] = [self.output_url(task_id)]
            task["cost"] = {"credits": credits}
        if status == "FAILED":
            task["failure"] = "The prompt was flagged by content moderation."
            task["failureCode"] = "SAFETY.INPUT.TEXT"
            task["cost"] = {"credits": 0}
        if status == "CANCELLED":
            task["cost"] = {"credits": 0}
        return task


_RATIOS = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}


def _check_submission(path: str, body: Any, models: dict[str, int]) -> str | None:
    """What the API would reject in a submission body (a 400 message), else ``None``."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if body.get("model") not in models:
        return f"Invalid model: {body.get('model')!r}."
    duration = body.get("duration")
    if not isinstance(duration, int) or not 2 <= duration <= 10:
        return "duration must be an integer from 2 to 10."
    prompt = body.get("promptText")
    if path.endswith("text_to_video"):
        if body["model"] != "gen4.5":
            return "text_to_video supports gen4.5 only."
        if body.get("ratio") not in ("1280:720", "720:1280"):
            return "Invalid ratio for text_to_video."
        if not isinstance(prompt, str) or not prompt:
            return "promptText is required."
        return None
    if body.get("ratio") not in _RATIOS:
        return "Invalid ratio."
    image = body.get("promptImage")
    data_uri = r"data:image/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+"
    valid = isinstance(image, str) and (
        image.startswith("https://") or re.fullmatch(data_uri, image) is not None
    )
    if not valid:
        return "promptImage must be an HTTPS URL or a base64 data URI of an image."
    if len(image) > 5 * 1024 * 1024:
        return "promptImage data URI is over 5 MB."
    return None
