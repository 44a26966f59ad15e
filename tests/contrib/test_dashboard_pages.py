"""The dashboard without a browser: the token once into a cookie, the layout, the view, packaging.

Against the real server on loopback (httpx) and the real kernel and store.
"""

from __future__ import annotations

import fnmatch
import logging
import time
import tomllib
from pathlib import Path

import httpx
import networkx as nx
import pytest

from reelgraph import hookimpl
from tests.contrib.conftest import serve
from tests.contrib.server_steps import ServerSpecs, Stepper
from tests.contrib.test_server_api import wait_for

REPO = Path(__file__).resolve().parents[2]
TOKEN = "pages-test-token-91c2"


def test_token_in_the_url_becomes_a_session_cookie(home):
    from tests.contrib.server_steps import make_kernel

    running = serve(make_kernel(home), token=TOKEN)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            signed = client.get("/", params={"token": TOKEN, "status": "succeeded"})
            assert signed.status_code == 303
            assert signed.headers["location"] == "/?status=succeeded"  # the token is gone
            cookie = signed.headers["set-cookie"]
            assert cookie.startswith("reelgraph_session=")
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
            assert TOKEN not in cookie  # an HMAC of the token, not the token
            session = cookie.split(";")[0].split("=", 1)[1]
            client.cookies.clear()  # every request below says itself what it carries

            wrong = client.get("/", params={"token": "nope"})
            assert wrong.status_code == 401 and "wrong token" in wrong.text
            assert "nope" not in wrong.text

            bare = client.get("/runs/whatever")
            assert bare.status_code == 303
            assert bare.headers["location"] == "/login?next=%2Fruns%2Fwhatever"

            with_cookie = {"Cookie": f"reelgraph_session={session}"}
            assert client.get("/api/runs", headers=with_cookie).status_code == 200
            assert client.get("/", headers=with_cookie).status_code == 200
            forged = {"Cookie": f"reelgraph_session={session[:-1]}0"}
            assert client.get("/api/runs", headers=forged).status_code == 401
            assert client.get("/api/runs").status_code == 401
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            assert client.get("/api/runs", headers=bearer).status_code == 200

            # the form: a wrong token is 401, a right one sets the cookie; next stays on site
            form = client.post("/login", data={"token": "nope", "next": "/"})
            assert form.status_code == 401 and "nope" not in form.text
            elsewhere = client.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
            assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/"
            assert TOKEN not in client.get("/login").text
            out = client.get("/logout")
            assert out.status_code == 303 and 'reelgraph_session=""' in out.headers["set-cookie"]
    finally:
        running.stop()


def test_access_log_lines_never_carry_the_token():
    from reelgraph.contrib.server.dashboard_auth import RedactTokenQuery

    # uvicorn.access formats '%s - "%s %s HTTP/%s" %d' with (client, method, path, version, status)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/runs/x?token={TOKEN}&a=1", "1.1", 303),
        None,
    )
    assert RedactTokenQuery().filter(record)
    line = record.getMessage()
    assert TOKEN not in line
    assert "/runs/x?token=%2A%2A%2A&a=1" in line


def test_the_wheel_ships_the_pages_scripts_and_styles():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["reelgraph.contrib.server"]
    assert "reelgraph.contrib.server" in config["tool"]["setuptools"]["packages"]
    folder = REPO / "contrib" / "server"
    shipped = [
        p.relative_to(folder).as_posix()
        for d in ("templates", "static")
        for p in (folder / d).iterdir()
    ]
    assert {"templates/run.html", "static/run.js", "static/dashboard.css"} <= set(shipped)
    missing = [f for f in shipped if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not missing, f"add these to [tool.setuptools.package-data]: {missing}"
    assert config["project"]["optional-dependencies"]["server"].count("Jinja2>=3.1") == 1


def test_dag_layout_comes_from_the_generations():
    from reelgraph.contrib.server.dashboard_view import NODE_HEIGHT_PX, NODE_WIDTH_PX, dag_layout

    graph = nx.DiGraph([("a", "c"), ("b", "c"), ("c", "d"), ("a", "e"), ("e", "d")])
    order = ["a", "b", "c", "e", "d"]
    layout = dag_layout(graph, order)
    boxes = {n["id"]: (n["x"], n["y"]) for n in layout["nodes"]}
    assert [n["id"] for n in layout["nodes"]] == order
    for source, target in graph.edges:  # every edge points rightwards, a column apart
        assert boxes[target][0] >= boxes[source][0] + NODE_WIDTH_PX
    columns = {x for x, _ in boxes.values()}
    assert len(columns) == 3  # generations: {a, b}, {c, e}, {d}
    for one in boxes:
        for other in boxes:
            if one < other and boxes[one][0] == boxes[other][0]:
                assert abs(boxes[one][1] - boxes[other][1]) >= NODE_HEIGHT_PX
    assert all(
        x + NODE_WIDTH_PX <= layout["width"] and y + NODE_HEIGHT_PX <= layout["height"]
        for x, y in boxes.values()
    )
    assert {(e["source"], e["target"]) for e in layout["edges"]} == set(graph.edges)
    assert all(e["path"].startswith("M") for e in layout["edges"])


class Flaky:
    """A step provider whose first attempt of each call fails with a transient error."""

    reelgraph_name = "flaky"

    @hookimpl
    def step(self, value, delay_s, ctx):
        if ctx.attempt == 1:
            raise httpx.ConnectError("connection refused (first attempt)")
        ctx.report_cost(0.002, detail="model-x: 120 input + 30 output tokens")
        return value + 1


class Broken:
    reelgraph_name = "broken"

    @hookimpl
    def step(self, value, delay_s, ctx):
        raise ValueError("<b>always</b> broken")  # markup in an error stays text


def flaky_kernel(home: Path):
    from reelgraph import Kernel

    return Kernel(
        plugins=[Stepper(), Flaky(), Broken()], hookspecs=[ServerSpecs], home=home, lease_ttl_s=30
    )


@pytest.fixture
def flaky_served(home):
    running = serve(flaky_kernel(home))
    yield running
    running.stop()


def rough_spec() -> dict:
    """r retried once (flaky), f falls back from broken to stepper, x fails (broken)."""
    retry = {"max_attempts": 2, "initial_s": 0.01, "jitter_s": 0}
    return {
        "name": "rough",
        "nodes": [
            {"id": "r", "hook": "step", "provider": "flaky", "with": {"value": 1}, "retry": retry},
            {
                "id": "f",
                "hook": "step",
                "provider": "broken",
                "with": {"value": "$r"},
                "retry": {"max_attempts": 1},
                "on_error": [{"provider": "stepper"}],
            },
            {
                "id": "x",
                "hook": "step",
                "provider": "broken",
                "with": {"value": 0},
                "needs": ["f"],  # after the others: a failure cancels what still runs
            },
            {"id": "after_x", "hook": "step", "provider": "stepper", "with": {"value": "$x"}},
        ],
        "outputs": {"f": "$f"},
    }


def test_view_marks_retries_fallbacks_failures_tokens_and_the_critical_path(flaky_served):
    with httpx.Client(base_url=flaky_served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": rough_spec()}).json()["id"]
        assert wait_for(client, run_id)["status"] == "failed"
        view = client.get(f"/api/dashboard/runs/{run_id}").json()
        page = client.get(f"/runs/{run_id}")
        listed = client.get("/api/dashboard/runs", params={"status": "failed"}).json()
        assert client.get("/api/dashboard/runs", params={"spec": "other"}).json() == []

    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["r"]["state"] == "succeeded" and nodes["r"]["attempts"] == 2
    assert nodes["f"]["state"] == "succeeded"
    assert nodes["x"]["state"] == "failed" and nodes["x"]["error_class"] == "ValueError"
    assert nodes["after_x"]["state"] in ("pending", "blocked", "skipped", "cancelled")
    bars = view["timeline"]
    assert [b["retry"] for b in bars if b["node"] == "r"] == [False, True]
    assert any(b["fallback"] and b["provider"] == "stepper" for b in bars if b["node"] == "f")
    assert view["costs"]["by_node"]["r"]["tokens"] == {"input": 120, "output": 30}
    assert view["costs"]["tokens"] == {"input": 120, "output": 30}
    assert view["critical_path"] == ["r", "f", "x"]  # a chain: every node that ran
    assert view["eta_s"] is None  # not running
    # the page shows those states as it is first drawn
    assert 'data-node="x" data-state="failed"' in page.text
    assert 'data-node="r" data-state="succeeded"' in page.text
    assert "ValueError: &lt;b&gt;always&lt;/b&gt; broken" in page.text
    assert "<b>always" not in page.text
    assert [r["id"] for r in listed] == [run_id] and listed[0]["verdict"] == ""


def test_a_running_map_node_shows_its_progress(home):
    from tests.contrib.server_steps import make_kernel

    spec = {
        "name": "mapped",
        "inputs": {"items": {"type": "list", "default": [1, 2, 3]}},
        "concurrency": {"max": 1},  # one item at a time: progress moves 1/3, 2/3, 3/3
        "nodes": [
            {
                "id": "m",
                "hook": "step",
                "provider": "stepper",
                "map": "$inputs.items",
                "with": {"value": "$item", "delay_s": 0.4},
            }
        ],
        "outputs": {"m": "$m"},
    }
    running = serve(make_kernel(home))
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": spec}).json()["id"]
            seen = []
            while not seen or seen[-1][0] == "running":
                node = client.get(f"/api/dashboard/runs/{run_id}").json()["nodes"][0]
                progress = node["progress"] or {}
                seen.append((node["state"], progress.get("completed"), progress.get("total")))
                time.sleep(0.05)
            assert wait_for(client, run_id)["status"] == "succeeded"
    finally:
        running.stop()
    assert ("running", 1, 3) in seen and ("running", 2, 3) in seen
    assert seen[-1] == ("succeeded", None, None)  # progress is shown only while it runs


def test_reelgraph_serve_never_logs_a_token_given_in_the_url(tmp_path):
    """The real command: uvicorn's access log prints the URL, with ``token=`` blanked."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "REELGRAPH_SERVER_TOKEN": TOKEN, "REELGRAPH_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "reelgraph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/submit"
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(url, params={"token": TOKEN, "x": "1"}, timeout=60)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert answer.status_code == 303 and answer.headers["location"] == "/submit?x=1"
        assert httpx.get(url, params={"token": "not-it"}, timeout=60).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "GET /submit?token=%2A%2A%2A&x=1" in output  # the access log is on ...
    assert TOKEN not in output and "not-it" not in output  # ... and holds no token, right or wrong


@pytest.mark.parametrize(
    ("gates", "status", "expected"),
    [
        ([], "succeeded", ""),
        ([{"passed": True, "severity": "error"}], "succeeded", "passed"),
        ([{"passed": True}, {"passed": False, "severity": "warning"}], "succeeded", "warnings"),
        ([{"passed": False, "severity": "error"}], "failed_quality", "failed"),
        ([], "failed_quality", "failed"),
    ],
)
def test_quality_verdict(gates, status, expected):
    from reelgraph.contrib.server.dashboard_view import verdict

    assert verdict(gates, status) == expected


def test_eta_comes_from_earlier_runs_of_the_spec(served):
    from tests.contrib.server_steps import chain_spec

    spec = chain_spec(3, delay_s=0.5)
    with httpx.Client(base_url=served.url, timeout=60) as client:
        first = client.post("/api/runs", json={"spec": spec}).json()["id"]
        assert wait_for(client, first)["status"] == "succeeded"
        assert client.get(f"/api/dashboard/runs/{first}").json()["eta_s"] is None  # not running
        run_id = client.post("/api/runs", json={"spec": spec, "cache": False}).json()["id"]
        seen = []  # (the running node, the ETA in seconds)
        while True:
            view = client.get(f"/api/dashboard/runs/{run_id}").json()
            if view["run"]["status"] != "running":
                break
            now = [n["id"] for n in view["nodes"] if n["state"] == "running"]
            if now and view["eta_s"] is not None:
                seen.append((now[0], view["eta_s"]))
            time.sleep(0.05)
    # each step took about 0.5 s in the first run: the ETA is the steps still to go
    by_node = {node: [eta for n, eta in seen if n == node] for node in ("s0", "s1", "s2")}
    assert by_node["s0"] and by_node["s2"], seen
    assert all(0.95 <= eta <= 1.6 for eta in by_node["s0"]), seen
    assert all(0.0 <= eta <= 0.6 for eta in by_node["s2"]), seen
    assert max(by_node["s2"]) < min(by_node["s0"])
