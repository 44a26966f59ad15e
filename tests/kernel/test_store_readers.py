"""Readers of the run store read the configured one: SQLite in the home, a SQLite
file named by ``REELGRAPH_STORE``, or PostgreSQL (a real server, see
tests/contrib/postgres_fixtures.py).

One history per store: three runs of a clip provider (three clips of 5 s
paid $0.50 each, one of them failed) and one of the solver. Then ``reelgraph tools stats``,
``tools stats --clips``, ``reelgraph doctor`` and the solver's measured
figures must all see those runs, whichever store holds them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.cli.doctor import store_checks
from reelgraph.cli.tools import learned_stats
from reelgraph.errors import TransientError
from reelgraph.models import Visual
from reelgraph.plugins.production import solver
from reelgraph.plugins.production.catalog import shipped_tools
from reelgraph.store.benchmarks import clip_measurements
from reelgraph.store.runs import SCHEMA_VERSION
from tests.contrib.postgres_fixtures import postgres_server  # noqa: F401

STORES = ["home", "sqlite-url", "postgresql"]


class Clips:
    """A clip provider ``fakeclip``: model ``m1``, $0.50 per 5 s clip; ``fail`` raises once paid."""

    @hookimpl
    def generate_clip(self, shot: Any, first_frame: Any, aspect: str, options: dict, ctx: Any):
        ctx.report_cost(0.5, detail=f"fakeclip m1 5 s ({shot['id']})")  # a literal: a dict
        if options.get("fail"):  # after the job was accepted and paid for
            raise TransientError("fakeclip: the render farm is down")
        path = ctx.workdir / "clip.mp4"
        path.write_bytes(b"not decoded by this test")
        return Visual(
            scene_index=0, kind="video", path=path, width_px=1920, height_px=1080,
            alt_text="a harbour", duration_s=5.0,
        )  # fmt: skip


SHOT = {
    "id": "s01", "scene_index": 0, "shot_type": "wide", "framing": "wide",
    "camera_move": "static", "lighting": "daylight", "subject": "a harbour",
    "prompt": "A calm harbour", "storyboard_frame": "the harbour",
    "duration_s": 5.0, "mode": "text_to_video",
}  # fmt: skip


def _clip_spec(fail: bool) -> dict:
    node = {
        "id": "clip",
        "hook": "generate_clip",
        "provider": "fakeclip",
        "with": {"shot": SHOT, "first_frame": None, "aspect": "16:9", "options": {"fail": fail}},
        "retry": {"max_attempts": 1},
    }
    return {"name": "a-clip", "nodes": [node]}


def _tools() -> list[dict]:
    shipped = {t["name"]: t for t in shipped_tools()}
    fake = {**shipped["runway-gen4-turbo"], "name": "fake-m1", "provider": "fakeclip"}
    fake.update(model="m1", credits_per_s=None, usd_per_credit=None, modes=["text_to_video"])
    return [shipped["slides"], fake]


def _plan(kernel: Kernel) -> Any:
    spec = {
        "name": "a-plan",
        "nodes": [
            {
                "id": "plan",
                "hook": "plan_production",
                "provider": "solver",
                "with": {
                    "shots": {"title": "Harbour", "aspect": "16:9", "shots": [SHOT]},
                    "tools": _tools(),
                    "objective": "cost",
                    "min_quality": 1,
                },
            }
        ],
        "outputs": {"plan": "$plan"},
    }
    run = kernel.run(spec, cache=False)
    assert run.status == "succeeded", run.error
    return run.outputs["plan"]


def _store_url(kind: str, tmp: Path, request: pytest.FixtureRequest) -> str | None:
    if kind == "home":
        return None
    if kind == "sqlite-url":
        return f"sqlite://{tmp / 'elsewhere' / 'runs.db'}"
    pytest.importorskip("psycopg", reason="pip install 'reelgraph[postgres]'")
    server = request.getfixturevalue("postgres_server")
    return server.create_schema(f"readers_{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module", params=STORES)
def history(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp(f"readers-{request.param}")
    url = _store_url(request.param, tmp, request)
    env = {"REELGRAPH_STORE": url} if url else {}
    kernel = Kernel(
        plugins={"fakeclip": Clips(), "solver": solver},
        entry_points=False,
        home=tmp / "home",
        env=env,
    )
    statuses = [kernel.run(_clip_spec(fail), cache=False).status for fail in (False, True, False)]
    assert statuses == ["succeeded", "failed", "succeeded"]
    plan = _plan(kernel)
    kernel.close()
    if url:  # the runs are in the configured store, not in the home's
        assert not (tmp / "home" / "reelgraph.db").exists()
    yield {"kind": request.param, "home": tmp / "home", "env": env, "plan": plan}


def _kernel(history: dict) -> Kernel:
    return Kernel(
        plugins={"fakeclip": Clips(), "solver": solver},
        entry_points=False,
        home=history["home"],
        env=history["env"],
    )


def _cli(history: dict, *args: str) -> Any:
    """``reelgraph ARGS`` as a user runs it (a subprocess), on the history's home and store."""
    env = {**os.environ, "REELGRAPH_HOME": str(history["home"]), **history["env"]}
    result = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


#: the CLI in a subprocess takes seconds: the stores named by REELGRAPH_STORE (the
#: home's own SQLite file is what tests/kernel/test_cli_tools.py and test_doctor.py read)
CONFIGURED = pytest.mark.parametrize("history", ["sqlite-url", "postgresql"], indirect=True)


def test_the_solver_plans_with_what_the_configured_store_measured(history: dict) -> None:
    """2 of 3 attempts succeeded, $1.50 for 15 s: $0.10/s / 0.667 = $0.15/s planned."""
    figures = {f.tool: f for f in history["plan"].figures}["fake-m1"]
    assert figures.basis == {
        "price_usd_per_s": "measured",
        "latency_s": "claimed",  # fewer than MIN_CLIPS (3) successful clips
        "success_rate": "measured",
    }
    assert figures.used["price_usd_per_s"] == pytest.approx(0.15)
    assert figures.used["success_rate"] == pytest.approx(0.667)


def test_clip_measurements_and_learned_stats_read_the_configured_store(history: dict) -> None:
    kernel = _kernel(history)
    store = kernel.existing_store()
    assert store is not None
    (measure,) = clip_measurements(store)
    assert (measure.provider, measure.model, measure.attempts, measure.succeeded) == (
        "fakeclip",
        "m1",
        3,
        2,
    )
    assert (measure.billed_s, measure.cost_usd, measure.runs) == (15, 1.5, 3)
    rows = {(r["hook"], r["provider"]): r for r in learned_stats(store)}
    assert rows["generate_clip", "fakeclip"]["attempts"] == 3
    assert rows["plan_production", "solver"]["succeeded"] == 1
    kernel.close()


@CONFIGURED
def test_tools_stats_cli_reads_the_configured_store(history: dict) -> None:
    rows = _cli(history, "tools", "stats", "--json", "--hook", "generate_clip")
    assert [(r["provider"], r["runs"], r["attempts"], r["succeeded"]) for r in rows] == [
        ("fakeclip", 3, 3, 2)
    ]
    assert rows[0]["cost_usd"] == 1.5
    (clip,) = _cli(history, "tools", "stats", "--clips", "--json")
    assert (clip["model"], clip["usd_per_s"], clip["billed_s"]) == ("m1", 0.1, 15)


def _stale_lease(kernel: Kernel) -> str:
    """A lease on the history's plan run whose holder is gone (pid far above pid_max)."""
    store = kernel.store
    (run,) = [r for r in store.list_runs() if r.spec == "a-plan"]

    def stale(db: Any) -> None:
        db.execute(
            "INSERT INTO leases VALUES (?, 'o', ?, 999999999, 0, 0, 1)",
            (run.id, socket.gethostname()),
        )

    store._write("test: stale lease", stale)
    return run.id


def _integrity_detail(history: dict, kernel: Kernel) -> str:
    return {
        "home": f"{history['home'] / 'reelgraph.db'}: integrity_check ok",
        "sqlite-url": f"{history['home'].parent / 'elsewhere' / 'runs.db'}: integrity_check ok",
        "postgresql": f"{kernel.store.location}: ok",
    }[history["kind"]]


def test_doctor_checks_the_configured_store_and_its_leases(history: dict) -> None:
    kernel = _kernel(history)
    run_id = _stale_lease(kernel)
    try:
        checks = {c.name: c for c in store_checks(kernel)}
        assert checks["schema version"].verdict == "ok"
        assert checks["schema version"].detail.endswith(str(SCHEMA_VERSION))
        assert checks["store integrity"].verdict == "ok"
        assert checks["store integrity"].detail == _integrity_detail(history, kernel)
        if history["kind"] == "postgresql":
            assert checks["store integrity"].detail.startswith("postgresql://")
        assert checks["stale leases"].verdict == "warn"
        assert checks["stale leases"].detail.startswith(f"1: {run_id}")
    finally:
        kernel.store._write("test: lease gone", lambda db: db.execute("DELETE FROM leases"))
        kernel.close()


@pytest.mark.slow  # every doctor check in a subprocess: about 15 s a store
@CONFIGURED
def test_doctor_cli_checks_the_configured_store(history: dict, tmp_path) -> None:
    kernel = _kernel(history)
    run_id = _stale_lease(kernel)
    try:
        data = _cli(history, "doctor", "--json", "--output-dir", str(tmp_path / "out"))
        by_name = {c["name"]: c for c in data["checks"]}
        assert by_name["store integrity"]["detail"] == _integrity_detail(history, kernel)
        assert by_name["stale leases"]["detail"].startswith(f"1: {run_id}")
    finally:
        kernel.store._write("test: lease gone", lambda db: db.execute("DELETE FROM leases"))
        kernel.close()


def test_plan_estimates_read_the_configured_store(history: dict) -> None:
    """``reelgraph plan``'s estimate: the clip node's median from the two succeeded runs."""
    from reelgraph.cli.stats import plan_estimate

    kernel = _kernel(history)
    estimate = plan_estimate(kernel, kernel.plan(_clip_spec(False)))
    kernel.close()
    assert estimate["history_runs"] == 2, estimate
    assert [n["node"] for n in estimate["nodes"]] == ["clip"] and estimate["unmeasured"] == []


def test_benchmark_rows_round_trip_in_the_configured_store(history: dict) -> None:
    """``tools show`` reads benchmark rows from the store they were written to."""
    from reelgraph.store.benchmarks import BenchmarkRow, add_benchmarks, read_benchmarks

    kernel = _kernel(history)
    row = BenchmarkRow(
        bench_id="bench-1", case_id="c1", run_id=None, provider="fakeclip", model="m1",
        mode="text_to_video", aspect="16:9", requested_s=5.0, status="succeeded",
        latency_s=12.5, attempts=1, cost_usd=0.5, duration_s=5.0, width_px=1920,
        height_px=1080, fps=30.0, frames=150, decodable=True, created_at=1.0,
    )  # fmt: skip
    add_benchmarks(kernel.store, [row])
    try:
        assert read_benchmarks(kernel.store, provider="fakeclip", model="m1") == [row]
        assert read_benchmarks(kernel.store, provider="other") == []
    finally:
        kernel.store._write("test: gone", lambda db: db.execute("DELETE FROM benchmarks"))
        kernel.close()
