"""Crash test: SIGKILL a real `reelgraph run` at a random moment, then `reelgraph resume` it.

Each repetition gets a fresh REELGRAPH_HOME, starts the CLI as a subprocess,
kills it with SIGKILL after a delay drawn from ``random.Random(seed)`` (so a
failing repetition reproduces from its seed), and resumes the run. The slow
test counts the delay from process start, so some kills land before the run
is even recorded (interpreter start-up); the default test counts it from the
moment the run appears in the store, so its kills land mid-run however slow
the machine starts Python. Nodes that
had finished before the kill must be reused by the resume, not executed again:
they come back ``cached: true`` and get no new ``node.started`` event in the
run store. The published video and captions must be complete and the SQLite
file must pass ``PRAGMA integrity_check``.

Every test prints a one-line JSON summary (see with ``pytest -s``) and, when
``REELGRAPH_CRASH_REPORT`` names a file, writes the same JSON there.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import av
import pytest
import srt

from reelgraph.store.runs import RunStore

# Four short sections: one render takes about 3-5 s (most of it in the video node).
DOC = """# Crash test

A small document that renders in a few seconds.

## First part

The first section has two sentences. It talks about resuming runs.

## Second part

The second section explains caching. Finished work is never repeated.

## Third part

The third section closes the document. That is all there is.

## Fourth part

A fourth section adds a little more narration. It makes the render take a bit longer.
"""

MIN_DELAY_S, MAX_DELAY_S = 0.3, 4.0
RESUME_TIMEOUT_S = 180
DEFAULT_SEEDS = (14, 7, 5)  # delays 0.70 s, 1.50 s, 2.60 s after the run is recorded
SLOW_SEEDS = tuple(range(20))  # bench/crash_campaign.py runs as many as you ask (200)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reelgraph.cli", *args]


def _started(events: list[Any]) -> Counter[str]:
    return Counter(node for _, kind, node, _ in events if kind == "node.started")


def _check_video(path: Path) -> list[str]:
    """Problems with the published MP4 (empty when it is a complete 1080p H.264 file with sound)."""
    problems = []
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        if video.codec_context.name != "h264":
            problems.append(f"video codec {video.codec_context.name}")
        if (video.codec_context.width, video.codec_context.height) != (1920, 1080):
            problems.append(f"size {video.codec_context.width}x{video.codec_context.height}")
        if not container.streams.audio:
            problems.append("no audio stream")
        duration = (container.duration or 0) / av.time_base
        if duration <= 1.0:
            problems.append(f"duration {duration:.2f} s")
        # decode every packet: a truncated or corrupt file raises here
        frames = sum(
            1 for _ in container.decode(*container.streams.video, *container.streams.audio)
        )
        if frames == 0:
            problems.append("no frames decoded")
    return problems


def _run_recorded(db: Path) -> bool:
    """Whether the run store at ``db`` holds a run yet (read-only: never creates or migrates)."""
    if not db.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as con:
            return con.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
    except sqlite3.Error:  # not created or not migrated yet
        return False


def _repetition(
    root: Path,
    doc: Path,
    seed: int,
    from_recorded: bool,
    tally: Counter[str],
    problems: list[str],
) -> None:
    home, out = root / f"seed{seed}" / "home", root / f"seed{seed}" / "out"
    env = {**os.environ, "REELGRAPH_HOME": str(home)}
    delay = random.Random(seed).uniform(MIN_DELAY_S, MAX_DELAY_S)
    anchor = "run recorded" if from_recorded else "start"
    where = f"seed {seed} (kill {delay:.2f} s after {anchor})"

    with (root / f"seed{seed}.run.stderr").open("wb") as err:
        proc = subprocess.Popen(
            _cli("run", "document-to-video", "-i", f"document={doc}", "-o", str(out), "--json"),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        if from_recorded:
            deadline = time.monotonic() + 120
            while not _run_recorded(home / "reelgraph.db"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
        time.sleep(delay)
        alive = proc.poll() is None  # once reaped, the pid may belong to another process
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    tally["kills"] += 1
    # where the kill landed, seen from what it left behind: a temporary file in the
    # artifact store (killed inside an artifact write), WAL frames not yet checkpointed
    if any((home / "artifacts").rglob(".tmp-*")):
        tally["kills_inside_artifact_write"] += 1
    wal = home / "reelgraph.db-wal"
    if wal.exists() and wal.stat().st_size > 0:
        tally["kills_with_uncheckpointed_wal"] += 1

    store = RunStore(home / "reelgraph.db")
    try:
        runs = store.list_runs()
        if not runs:
            # killed before the run was recorded: nothing to resume, nothing published
            tally["kills_before_run_recorded"] += 1
            if store.integrity_check() != "ok":
                problems.append(f"{where}: integrity check failed with no run")
            if (out / "video.mp4").exists():
                problems.append(f"{where}: video.mp4 published without a recorded run")
            return
        row = runs[0]
        if alive and row.status == "running":
            tally["kills_mid_run"] += 1
        else:
            tally["kills_after_finish"] += 1
        nodes = store.get_nodes(row.id)
        finished = {n.node_id for n in nodes if n.status == "succeeded"}
        for node in nodes:
            if node.status == "running":
                tally[f"landed_in_{node.node_id}"] += 1
        started_before = _started(store.get_events(row.id))
        tally["finished_nodes_before_kill"] += len(finished)
    finally:
        store.close()

    resumed = subprocess.run(
        _cli("resume", row.id, "--json"),
        capture_output=True,
        text=True,
        timeout=RESUME_TIMEOUT_S,
        env=env,
    )
    try:
        result = json.loads(resumed.stdout)
    except json.JSONDecodeError:
        result = None

    # whatever the resume's outcome, a node finished before the kill must not run again
    store = RunStore(home / "reelgraph.db")
    try:
        events_after = store.get_events(row.id)
        started_after = _started(events_after)
        integrity = store.integrity_check()
        if any(kind == "run.lease_taken_over" for _, kind, _, _ in events_after):
            tally["stale_leases_taken_over"] += 1
    finally:
        store.close()
    by_id = {n["id"]: n for n in result["nodes"]} if result else {}
    for node in sorted(finished):
        if result and not by_id[node]["cached"]:
            problems.append(f"{where}: finished node {node} not cached in the resumed run")
        if started_after[node] != started_before[node]:
            tally["finished_nodes_reexecuted"] += 1
            problems.append(
                f"{where}: finished node {node} started again "
                f"({started_before[node]} -> {started_after[node]} node.started events)"
            )
    if integrity != "ok":
        problems.append(f"{where}: integrity check: {integrity}")

    if resumed.returncode != 0 or result is None:
        status = result["status"] if result else "no JSON"
        problems.append(
            f"{where}: resume exited {resumed.returncode} ({status}): {resumed.stderr[-1500:]}"
        )
        return
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    if result["status"] != "succeeded" or run_json["status"] != "succeeded":
        problems.append(f"{where}: resumed status {result['status']}: {result['error']}")
        return
    tally["resumes_completed"] += 1
    # every node succeeded, but the stock footage credits node, skipped for slides
    statuses = {n: v["status"] for n, v in by_id.items()}
    if statuses.pop("credits", "skipped") != "skipped" or set(statuses.values()) != {"succeeded"}:
        problems.append(f"{where}: node statuses {[(n, v['status']) for n, v in by_id.items()]}")

    problems.extend(f"{where}: video.mp4: {p}" for p in _check_video(out / "video.mp4"))
    cues = list(srt.parse((out / "video.srt").read_text(encoding="utf-8")))
    if not cues:
        problems.append(f"{where}: video.srt has no cues")


def crash_and_resume(
    root: Path, seeds: tuple[int, ...], name: str, *, from_recorded: bool
) -> dict[str, Any]:
    """Kill and resume once per seed; print and return the summary, then assert no problems."""
    doc = root / "crash.md"
    doc.write_text(DOC, encoding="utf-8")
    tally: Counter[str] = Counter()
    problems: list[str] = []
    started = time.perf_counter()
    for seed in seeds:
        _repetition(root, doc, seed, from_recorded, tally, problems)
    summary = {
        "test": name,
        "repetitions": len(seeds),
        "delay_from": "run recorded" if from_recorded else "process start",
        "kills": tally["kills"],
        "kills_mid_run": tally["kills_mid_run"],
        "kills_before_run_recorded": tally["kills_before_run_recorded"],
        "kills_after_finish": tally["kills_after_finish"],
        "resumes_completed": tally["resumes_completed"],
        "kills_inside_artifact_write": tally["kills_inside_artifact_write"],
        "kills_with_uncheckpointed_wal": tally["kills_with_uncheckpointed_wal"],
        "stale_leases_taken_over": tally["stale_leases_taken_over"],
        "finished_nodes_before_kill": tally["finished_nodes_before_kill"],
        "finished_nodes_reexecuted": tally["finished_nodes_reexecuted"],
        "landed_in": {
            k[len("landed_in_") :]: v for k, v in tally.items() if k.startswith("landed_in_")
        },
        "problems": len(problems),
        "seconds": round(time.perf_counter() - started, 1),
    }
    line = json.dumps(summary, sort_keys=True)
    print(f"\ncrash-resume summary: {line}")
    report = os.environ.get("REELGRAPH_CRASH_REPORT")
    if report:
        Path(report).write_text(line + "\n", encoding="utf-8")
    assert not problems, "\n".join(problems)
    assert summary["finished_nodes_reexecuted"] == 0
    assert summary["resumes_completed"] == summary["kills"] - summary["kills_before_run_recorded"]
    return summary


def test_sigkill_then_resume_reuses_finished_nodes(tmp_path: Path) -> None:
    summary = crash_and_resume(tmp_path, DEFAULT_SEEDS, "default", from_recorded=True)
    assert summary["kills_mid_run"] >= 1


@pytest.mark.slow
def test_sigkill_then_resume_twenty_times(tmp_path: Path) -> None:
    summary = crash_and_resume(tmp_path, SLOW_SEEDS, "slow", from_recorded=False)
    assert summary["kills_mid_run"] >= summary["kills"] // 2
