"""Artifacts (Range, confinement to the run directory) and the token, on a real server."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.contrib.conftest import serve
from tests.contrib.server_steps import chain_spec, make_kernel
from tests.contrib.test_server_api import wait_for


def finished_run(client: httpx.Client) -> str:
    run_id = client.post("/api/runs", json={"spec": chain_spec(2)}).json()["id"]
    assert wait_for(client, run_id)["status"] == "succeeded"
    return run_id


def test_artifacts_list_download_and_range(served, home):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = finished_run(client)
        listed = {a["path"]: a["bytes"] for a in client.get(f"/api/runs/{run_id}/artifacts").json()}
        on_disk = home / "runs" / run_id / "s1" / "value.txt"
        assert listed["s1/value.txt"] == on_disk.stat().st_size == 2000

        whole = client.get(f"/api/runs/{run_id}/artifacts/s1/value.txt")
        assert whole.status_code == 200 and whole.content == on_disk.read_bytes()
        assert whole.headers["accept-ranges"] == "bytes"

        part = client.get(
            f"/api/runs/{run_id}/artifacts/s1/value.txt", headers={"Range": "bytes=10-19"}
        )
        assert part.status_code == 206
        assert part.content == on_disk.read_bytes()[10:20]
        assert part.headers["content-range"] == "bytes 10-19/2000"
        tail = client.get(
            f"/api/runs/{run_id}/artifacts/s1/value.txt", headers={"Range": "bytes=-5"}
        )
        assert tail.status_code == 206 and tail.content == on_disk.read_bytes()[-5:]
        beyond = client.get(
            f"/api/runs/{run_id}/artifacts/s1/value.txt", headers={"Range": "bytes=5000-"}
        )
        assert beyond.status_code == 416


def test_files_outside_the_run_are_refused(served, home, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("not the run's")
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = finished_run(client)
        other = finished_run(client)
        run_dir = home / "runs" / run_id
        (run_dir / "escape.txt").symlink_to(secret)
        (run_dir / "escape_dir").symlink_to(tmp_path, target_is_directory=True)
        (run_dir / "inside.txt").symlink_to(run_dir / "s0" / "value.txt")
        base = f"/api/runs/{run_id}/artifacts"

        def status(path: str) -> int:
            # a raw target: httpx would otherwise normalise the dots away
            request = client.build_request("GET", base)
            request.url = request.url.copy_with(raw_path=f"{base}/{path}".encode())
            return client.send(request).status_code

        assert status("..%2F..%2F..%2Foutside.txt") == 400  # traversal, encoded
        assert status("s0/%2e%2e/%2e%2e/%2e%2e/outside.txt") == 400
        assert status(f"..%2F{other}%2Fs0%2Fvalue.txt") == 400  # another run's file
        assert status("%2Fetc%2Fpasswd") == 400  # absolute
        assert status("escape.txt") == 403  # a symlink out of the run directory
        assert status("escape_dir/outside.txt") == 403
        assert status("no_such.txt") == 404
        assert status("inside.txt") == 200  # a symlink inside the run is one of its files
        listed = {a["path"] for a in client.get(base).json()}
        assert "inside.txt" in listed
        assert not {"escape.txt", "escape_dir/outside.txt"} & listed


@pytest.fixture
def token() -> str:
    return secrets.token_urlsafe(24)


def test_token_is_checked_on_every_request(home, token):
    running = serve(make_kernel(home), token=token)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            for path in ("/api/runs", "/api/specs", "/docs", "/openapi.json", "/nowhere"):
                refused = client.get(path)
                assert refused.status_code == 401, path
                assert refused.headers["www-authenticate"] == "Bearer"
            wrong = {"Authorization": f"Bearer {token[:-1]}x"}
            assert client.get("/api/runs", headers=wrong).status_code == 401
            basic = {"Authorization": f"Basic {token}"}
            assert client.get("/api/runs", headers=basic).status_code == 401
            assert client.post("/api/runs", json={"spec": chain_spec(1)}).status_code == 401
            assert running.kernel.store.list_runs() == []  # refused before anything ran

            good = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/runs", headers=good).json() == []
            assert "/api/runs" in client.get("/openapi.json", headers=good).json()["paths"]
            stream = f"{running.url}/api/events/stream"
            with httpx.stream("GET", stream, timeout=60) as response:
                assert response.status_code == 401
    finally:
        running.stop()


def test_no_token_needed_on_loopback(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        assert client.get("/api/runs").status_code == 200
        docs = client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "example.org", "::"])
def test_public_bind_without_token_exits_2(host, monkeypatch):
    monkeypatch.delenv("REELGRAPH_SERVER_TOKEN", raising=False)
    done = run_cli("serve", "--host", host, "--port", "0")
    assert done.returncode == 2
    assert "--token or REELGRAPH_SERVER_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


def test_token_from_the_environment_lets_a_public_bind_start(tmp_path, token):
    """With REELGRAPH_SERVER_TOKEN set, 0.0.0.0 is served, the token is enforced, never logged."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "REELGRAPH_SERVER_TOKEN": token, "REELGRAPH_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "reelgraph.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/runs"
        for _ in range(300):
            try:
                answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read()
                import time

                time.sleep(0.1)
        assert answer.status_code == 200
        assert httpx.get(url, timeout=60).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "GET /api/runs" in output  # the access log is on ...
    assert token not in output  # ... and never holds the token


def test_help_does_not_import_the_server_stack():
    code = (
        "import sys\n"
        "from reelgraph.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'uvicorn', 'starlette', 'sse_starlette', 'multipart'))\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "serve" in done.stdout  # the command is listed ...
    assert "HEAVY []" in done.stdout, done.stdout[-500:]  # ... without importing its stack


def test_serve_help_lists_its_options():
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    for option in ("--host", "--port", "--token", "REELGRAPH_SERVER_TOKEN", "--max-upload-mb"):
        assert option in done.stdout


def test_files_module_refuses_without_a_server(tmp_path: Path):
    from reelgraph.contrib.server.files import FileRefused, resolve_file, safe_upload_name

    (tmp_path / "a.txt").write_text("a")
    assert resolve_file(tmp_path, "a.txt") == (tmp_path / "a.txt").resolve()
    for bad, status in (("../x", 400), ("/etc/passwd", 400), ("C:/x", 400), ("a\\..\\b", 400)):
        with pytest.raises(FileRefused) as caught:
            resolve_file(tmp_path, bad)
        assert caught.value.status == status
    assert safe_upload_name("../../.bashrc", "doc") == "bashrc"
    assert safe_upload_name("..", "doc") == "doc"
    assert safe_upload_name("C:\\Users\\me\\notes é.md", "doc") == "notes__.md"


def test_serve_without_the_extra_says_what_to_install():
    """An install without reelgraph[server]: one line naming the extra, exit 2, no traceback."""
    code = (
        "import sys\n"
        "sys.modules['fastapi'] = None  # what an environment without fastapi looks like\n"
        "sys.argv = ['reelgraph', 'serve']\n"
        "from reelgraph.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "fastapi not installed: pip install 'reelgraph[server]'" in done.stderr
    assert "Traceback" not in done.stderr
