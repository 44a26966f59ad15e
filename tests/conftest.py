"""Shared fixtures: every test gets its own REELGRAPH_HOME; moto's S3 server on request."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def reelgraph_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REELGRAPH_HOME", str(home))
    monkeypatch.delenv("REELGRAPH_PLUGINS", raising=False)
    monkeypatch.delenv("REELGRAPH_DISABLE_PLUGINS", raising=False)
    return home


@pytest.fixture(scope="module")
def moto_url():
    """moto's S3-compatible server on loopback, one per test module that asks for it:
    its endpoint URL (``http://127.0.0.1:PORT``), for the tests that store in a bucket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
