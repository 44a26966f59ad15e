"""``GET /api/stats`` and the run list's filters, on the real server on loopback.

The store holds real runs of tests/kernel/test_stats.py's spec (a flaky provider
whose retry succeeds, a broken one that falls back, a steady one); the server's
kernel has those plugins, so it plans the spec and reports its critical path.
"""

from __future__ import annotations

import json

import httpx
import pytest

from reelgraph.cli.stats import graph_of
from reelgraph.store.stats import read_stats
from tests.contrib.conftest import serve
from tests.kernel.test_stats import make_kernel, run_history


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("server-stats") / "home"
    run_history(home).close()
    running = serve(make_kernel(home), token="s3cret-token")
    yield running
    running.stop()


def client(served, token: str | None = "s3cret-token") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=served.url, timeout=60, headers=headers)


def test_stats_are_the_store_figures(served) -> None:
    with client(served) as http:
        answer = http.get("/api/stats")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    expected = read_stats(served.kernel.store, graph_of=graph_of(served.kernel))
    assert data == json.loads(json.dumps(expected))
    flaky = next(p for p in data["providers"] if p["provider"] == "flaky")
    assert (flaky["calls"], flaky["retries"], flaky["retry_succeeded"]) == (3, 3, 3)
    broken = next(p for p in data["providers"] if p["provider"] == "broken")
    assert (broken["fallbacks"], broken["success_rate"]) == (3, 0.0)
    (spec,) = data["specs"]
    assert [n["node"] for n in spec["critical_path"]] == ["script", "hero", "join"]
    assert spec["slowest_on_critical_path"][0] == "hero"


def test_stats_filters_refusals_and_openapi(served) -> None:
    with client(served) as http:
        last = http.get("/api/stats", params={"spec": "ads", "last": 2}).json()
        none = http.get("/api/stats", params={"spec": "other"}).json()
        recent = http.get("/api/stats", params={"since": "1h"}).json()
        bad = http.get("/api/stats", params={"since": "yesterday"})
        schema = http.get("/openapi.json").json()
    assert len(last["specs"][0]["recent"]) == 2 and last["filter"]["last"] == 2
    assert none["specs"] == [] and none["providers"] == []
    assert [s["spec"] for s in recent["specs"]] == ["ads"]
    assert bad.status_code == 400 and "--since 'yesterday'" in bad.json()["detail"]
    assert "/api/stats" in schema["paths"]
    figures = schema["components"]["schemas"]["ProviderFigures"]["properties"]
    assert {"p50_s", "p95_s", "retry_succeeded", "fallbacks", "cost_usd"} <= set(figures)
    with client(served, token=None) as http:
        assert http.get("/api/stats").status_code == 401
    with client(served, token="wrong") as http:
        assert http.get("/api/stats").status_code == 401


def test_run_list_filters_in_the_store(served) -> None:
    rows = served.kernel.store.list_runs()
    with client(served) as http:
        since = http.get("/api/runs", params={"since": rows[1].started_at}).json()
        by_spec = http.get("/api/runs", params={"spec": "ads", "limit": 2}).json()
        failed = http.get("/api/runs", params={"status": "failed"}).json()
        recent = http.get("/api/runs", params={"since": "1h"}).json()
        bad = http.get("/api/runs", params={"since": "last week"})
    assert [r["id"] for r in since] == [rows[0].id, rows[1].id]
    assert [r["id"] for r in recent] == [r.id for r in rows]
    assert bad.status_code == 400 and "'last week'" in bad.json()["detail"]
    assert [r["id"] for r in by_spec] == [r.id for r in rows[:2]]
    assert failed == []


def test_events_of_a_run_carry_store_ids(served) -> None:
    run_id = served.kernel.store.list_runs(1)[0].id
    with client(served) as http:
        events = http.get(f"/api/runs/{run_id}/events").json()
    stored = served.kernel.store.read_events(run_id)
    assert [e["id"] for e in events] == [r.seq for r in stored]
    assert [e["type"] for e in events] == [r.type for r in stored]
    assert any(e["type"] == "node.fallback" and e["node"] == "broll" for e in events)


def test_estimate_of_a_shipped_spec_from_history(tmp_path) -> None:
    """The server's kernel with the installed plugins; history as in test_stats_cli.py."""
    from reelgraph import Kernel
    from reelgraph.cli.stats import plan_estimate
    from tests.kernel.test_stats_cli import _history

    home = tmp_path / "home"
    kernel = Kernel(home=home)
    running = serve(kernel)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as http:
            before = http.get("/api/specs/document-to-video/estimate").json()
            _history(home / "reelgraph.db")
            after = http.get("/api/specs/document-to-video/estimate").json()
            one = http.get("/api/specs/document-to-video/estimate", params={"last": 1}).json()
            missing = http.get("/api/specs/no-such-spec/estimate")
    finally:
        running.stop()
    assert before["history_runs"] == 0 and before["nodes"] == []
    assert after == plan_estimate(kernel, kernel.plan("document-to-video"))
    assert after["history_runs"] == 3 and after["critical_path_s"] == pytest.approx(16.0)
    assert "slides" in after["critical_path"] and "voice" not in after["critical_path"]
    assert one["critical_path_s"] == pytest.approx(24.0)
    assert missing.status_code == 404
