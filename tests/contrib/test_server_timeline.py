"""The timeline export: lanes for calls in flight at once, Chrome trace JSON and CSV."""

from __future__ import annotations

import csv
import io

import httpx

from tests.contrib.test_server_api import wait_for


def diamond(delay_s: float) -> dict:
    """a and b at once, then c after both."""

    def step(node_id: str, value: str) -> dict:
        with_ = {"value": value, "delay_s": delay_s}
        return {"id": node_id, "hook": "step", "provider": "stepper", "with": with_}

    c = step("c", "$a")
    c["needs"] = ["b"]
    return {
        "name": "diamond",
        "inputs": {"start": {"type": "integer", "default": 0}},
        "nodes": [step("a", "$inputs.start"), step("b", "$inputs.start"), c],
        "outputs": {"c": "$c"},
    }


def test_timeline_as_rows_chrome_trace_and_csv(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        run_id = client.post("/api/runs", json={"spec": diamond(0.3)}).json()["id"]
        assert wait_for(client, run_id)["status"] == "succeeded"
        base = f"/api/runs/{run_id}/timeline"
        rows = client.get(base).json()
        lanes = {row["node"]: row["lane"] for row in rows}
        assert lanes["a"] != lanes["b"]  # in flight together: two lanes
        assert lanes["c"] in (lanes["a"], lanes["b"])  # after both: a free lane is reused
        assert rows[0]["start_s"] == 0.0
        by_node = {row["node"]: row for row in rows}
        assert by_node["c"]["start_s"] >= max(by_node["a"]["end_s"], by_node["b"]["end_s"])
        assert all(row["end_s"] - row["start_s"] >= 0.3 for row in rows)

        trace = client.get(base, params={"format": "chrome"})
        assert "attachment" in trace.headers["content-disposition"]
        bars = [e for e in trace.json()["traceEvents"] if e["ph"] == "X"]
        assert sorted(e["name"] for e in bars) == ["a", "b", "c"]
        for bar in bars:
            row = by_node[bar["name"]]
            assert bar["tid"] == row["lane"]
            assert bar["ts"] == round(row["start_s"] * 1e6)
            assert bar["dur"] >= 300_000  # microseconds

        table = client.get(base, params={"format": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        parsed = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["node"] for r in parsed] == [r["node"] for r in rows]
        assert {r["status"] for r in parsed} == {"succeeded"}
        assert client.get(base, params={"format": "xml"}).status_code == 422
