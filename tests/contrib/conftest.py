"""The server under test: ``create_app`` under a real uvicorn on loopback, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="pip install 'reelgraph[server]' (in the test extra)")


@dataclass
class Served:
    url: str
    kernel: Any
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "uvicorn did not stop"


def serve(kernel: Any, **options: Any) -> Served:
    """Start ``create_app(kernel, **options)`` on 127.0.0.1 with a free port."""
    import uvicorn

    from reelgraph.contrib.server.app import create_app

    options.setdefault("poll_s", 0.05)
    config = uvicorn.Config(
        create_app(kernel, **options), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return Served(f"http://127.0.0.1:{port}", kernel, server, thread)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def served(home: Path) -> Iterator[Served]:
    from tests.contrib.server_steps import make_kernel

    running = serve(make_kernel(home))
    yield running
    running.stop()
