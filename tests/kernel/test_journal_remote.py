"""Idempotent remote submissions: ctx.journal keeps a resumed node from submitting twice.

A fake "video generation" service runs on 127.0.0.1 in a thread, shaped like
Runway's task API: ``POST /v1/tasks`` returns ``{"id": ...}``; ``GET
/v1/tasks/{id}`` says ``RUNNING`` until the task is ``complete_after`` seconds
old, then ``SUCCEEDED`` with its ``output``. It counts every request. The
worker (tests/fixtures/remote_worker.py) is a real process: it is SIGKILLed
while polling, then resumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reelgraph import Kernel
from reelgraph.store.runs import RunStore
from tests.fixtures.remote_worker import SPEC, make_kernel

WORKER = Path(__file__).parent.parent / "fixtures" / "remote_worker.py"
PROMPT = "a paper boat drifting down a rainy street"


class FakeTaskService:
    """The service's state: tasks, and every request in arrival order."""

    def __init__(self, complete_after: float) -> None:
        self.complete_after = complete_after
        self.lock = threading.Lock()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.posts: list[str] = []  # task ids created, in order
        self.gets: list[tuple[str, str]] = []  # (task id, status answered)
        self.url = ""

    def output_of(self, task_id: str) -> str:
        return f"clip for {self.tasks[task_id]['prompt']!r} (task {task_id})"

    def snapshot(self) -> tuple[list[str], list[tuple[str, str]]]:
        with self.lock:
            return list(self.posts), list(self.gets)


def _handler(service: FakeTaskService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # keep pytest output clean
            return None

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/v1/tasks" or "prompt" not in payload:
                self._reply(400, {"error": "POST /v1/tasks with a prompt"})
                return
            task_id = str(uuid.uuid4())
            with service.lock:
                service.tasks[task_id] = {"prompt": payload["prompt"], "created": time.monotonic()}
                service.posts.append(task_id)
            self._reply(200, {"id": task_id})

        def do_GET(self) -> None:
            prefix = "/v1/tasks/"
            task_id = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            with service.lock:
                task = service.tasks.get(task_id)
                if task is None:
                    service.gets.append((task_id, "NOT_FOUND"))
                    body, code = {"error": "no such task"}, 404
                elif time.monotonic() - task["created"] < service.complete_after:
                    service.gets.append((task_id, "RUNNING"))
                    body, code = {"id": task_id, "status": "RUNNING"}, 200
                else:
                    service.gets.append((task_id, "SUCCEEDED"))
                    body = {
                        "id": task_id,
                        "status": "SUCCEEDED",
                        "output": [service.output_of(task_id)],
                    }
                    code = 200
            self._reply(code, body)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a SIGKILLed worker resets its connection: expected here, not worth a traceback
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def service() -> Iterator[FakeTaskService]:
    """The fake service on an ephemeral loopback port; shut down after the test."""
    state = FakeTaskService(complete_after=2.0)
    server = _Server(("127.0.0.1", 0), _handler(state))
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    state.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, name="fake-task-service", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _worker(*args: str) -> list[str]:
    return [sys.executable, str(WORKER), *args]


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _kill_while_polling(
    service: FakeTaskService, home: Path, tmp_path: Path, *flags: str
) -> tuple[str, str]:
    """Start a worker run, SIGKILL it once it has submitted and polled; return (run id, task id)."""
    with (tmp_path / "run.stderr").open("wb") as err:
        proc = subprocess.Popen(
            _worker("run", str(home), service.url, PROMPT, *flags),
            stdout=subprocess.PIPE,
            stderr=err,
        )
        try:
            assert proc.stdout is not None
            run_id = proc.stdout.readline().decode().strip()
            assert run_id, (tmp_path / "run.stderr").read_text()

            def submitted_and_polled() -> bool:
                posts, gets = service.snapshot()
                return len(posts) == 1 and any(task == posts[0] for task, _ in gets)

            _wait_for(submitted_and_polled, 30, "the worker's POST and first GET")
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
    posts, gets = service.snapshot()
    assert all(status == "RUNNING" for _, status in gets), "the task finished before the kill"
    return run_id, posts[0]


def _resume(service: FakeTaskService, home: Path, run_id: str, *flags: str) -> dict[str, Any]:
    done = subprocess.run(
        _worker("resume", str(home), service.url, run_id, *flags),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_resumed_node_polls_the_task_it_already_submitted(
    service: FakeTaskService, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    run_id, task_id = _kill_while_polling(service, home, tmp_path)
    with RunStore(home / "reelgraph.db") as store:
        assert store.get_run(run_id).status == "running"  # the kill left it unfinished
        assert store.journal_get(run_id, "clip", None, "task_id") == task_id
    gets_before = len(service.snapshot()[1])

    result = _resume(service, home, run_id)

    assert result["run_id"] == run_id
    assert result["status"] == "succeeded", result["error"]
    posts, gets = service.snapshot()
    assert posts == [task_id]  # exactly one submission over both processes
    after = gets[gets_before:]
    assert after, "the resumed node never polled"
    assert {task for task, _ in after} == {task_id}
    assert after[-1] == (task_id, "SUCCEEDED")
    output = Path(result["output"])
    assert output.read_text(encoding="utf-8") == service.output_of(task_id)
    with RunStore(home / "reelgraph.db") as store:
        assert store.get_run(run_id).status == "succeeded"
        assert store.integrity_check() == "ok"


def test_without_the_journal_a_resume_submits_twice(
    service: FakeTaskService, tmp_path: Path
) -> None:
    """The control: the same crash without ctx.journal pays for a second task."""
    home = tmp_path / "home"
    run_id, task_id = _kill_while_polling(service, home, tmp_path, "--no-journal")
    gets_before = len(service.snapshot()[1])

    result = _resume(service, home, run_id, "--no-journal")

    assert result["status"] == "succeeded", result["error"]
    posts, gets = service.snapshot()
    assert len(posts) == 2
    assert posts[0] == task_id
    assert {task for task, _ in gets[gets_before:]} == {posts[1]}
    assert Path(result["output"]).read_text(encoding="utf-8") == service.output_of(posts[1])


def test_ephemeral_run_keeps_the_journal_in_memory(
    service: FakeTaskService, tmp_path: Path
) -> None:
    service.complete_after = 0.3
    home = tmp_path / "home"
    kernel = make_kernel(home, service.url, persist=False)
    run = kernel.run(SPEC, {"prompt": PROMPT})
    assert run.status == "succeeded", run.error
    posts, gets = service.snapshot()
    assert len(posts) == 1
    assert {task for task, _ in gets} == {posts[0]}
    assert Path(run.outputs["clip"]).read_text(encoding="utf-8") == service.output_of(posts[0])
    assert not (home / "reelgraph.db").exists()  # nothing persisted


def test_persistent_run_commits_the_journal_entry(service: FakeTaskService, tmp_path: Path) -> None:
    service.complete_after = 0.3
    kernel: Kernel = make_kernel(tmp_path / "home", service.url)
    try:
        run = kernel.run(SPEC, {"prompt": PROMPT})
        assert run.status == "succeeded", run.error
        posts, _ = service.snapshot()
        assert posts and kernel.store.journal_get(run.id, "clip", None, "task_id") == posts[0]
    finally:
        kernel.close()
