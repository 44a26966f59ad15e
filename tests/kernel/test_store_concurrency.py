"""Two `reelgraph run` processes write into one run store at the same time.

Both start on a fresh REELGRAPH_HOME, so they also race to create and migrate
the database. Both must succeed, every node row and event of both runs must
be in the store, and no write may fail with "database is locked".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from reelgraph import Kernel
from reelgraph.store.runs import RunStore

DOCS = {
    "apples": """# Apples

Apples grow on trees in cool climates.

## Picking

Pick apples when they come away with a gentle twist.
""",
    "pears": """# Pears

Pears ripen best off the tree.

## Storing

Keep pears in a cool place and bring them indoors a few days before eating.
""",
}


def _spec_nodes() -> set[str]:
    """The node ids of the shipped spec (document, script, slides, narration, video, ...)."""
    return set(Kernel().plan("document-to-video").order)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reelgraph.cli", *args]


def test_two_processes_share_one_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "REELGRAPH_HOME": str(home)}
    procs = {}
    for name, text in DOCS.items():
        doc = tmp_path / f"{name}.md"
        doc.write_text(text, encoding="utf-8")
        out = tmp_path / f"out_{name}"
        procs[name] = subprocess.Popen(
            _cli("run", "document-to-video", "-i", f"document={doc}", "-o", str(out), "--json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{name}: {stderr}"
        assert "database is locked" not in stderr
        results[name] = json.loads(stdout)
        assert results[name]["status"] == "succeeded"
        assert (tmp_path / f"out_{name}" / "video.mp4").is_file()
    ids = {results[name]["id"] for name in DOCS}
    assert len(ids) == 2
    # the two runs really overlapped in time
    assert max(r["started_at"] for r in results.values()) < min(
        r["ended_at"] for r in results.values()
    )

    listed = subprocess.run(
        _cli("runs", "--json"), capture_output=True, text=True, env=env, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert "database is locked" not in listed.stderr
    statuses = {r["id"]: r["status"] for r in json.loads(listed.stdout)}
    assert statuses == {run_id: "succeeded" for run_id in ids}

    expected = _spec_nodes()
    assert {"document", "script", "slides", "narration", "video"} <= expected
    with RunStore(home / "reelgraph.db") as store:
        for run_id in ids:
            nodes = store.get_nodes(run_id)
            assert {n.node_id for n in nodes} == expected
            ran = [n for n in nodes if n.node_id != "credits"]  # skipped: visuals are slides
            assert all(n.status == "succeeded" and n.output is not None for n in ran)
            assert [n.status for n in nodes if n.node_id == "credits"] == ["skipped"]
            events = store.get_events(run_id)
            kinds = Counter(kind for _, kind, _, _ in events)
            assert kinds["run.started"] == 1
            assert kinds["run.finished"] == 1
            assert events[0][1] == "run.started" and events[-1][1] == "run.finished"
            succeeded = {node for _, kind, node, _ in events if kind == "node.succeeded"}
            assert succeeded == expected - {"credits"}
            skipped = {node for _, kind, node, _ in events if kind == "node.skipped"}
            assert skipped == {"credits"}
            row = store.get_run(run_id)
            assert row.status == "succeeded" and row.ended_at is not None
        assert store.integrity_check() == "ok"
