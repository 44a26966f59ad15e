"""``reelgraph gc``: retention, leased runs, shared artifacts, the memo cache, --dry-run.

Runs are made with the embedding API and small in-test hooks that write real
files; old runs are made old by editing ``started_at`` in the store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reelgraph import Kernel, ProviderError, hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.hookspecs import hookspec
from reelgraph.store.gc import GcPolicy, apply_gc, artifact_refs, parse_age, plan_gc
from reelgraph.store.leases import acquire_lease, release_lease
from reelgraph.store.serialize import load_value

CLI = [sys.executable, "-m", "reelgraph.cli"]
DAY = 86400.0


class GcSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def make(text, ctx):
        """Write ``text`` into ``out.txt`` and return its path."""

    @staticmethod
    @hookspec(firstresult=True)
    def twin(path, ctx):
        """Return a copy of ``path`` named ``copy.txt`` (stored hard-linked to it)."""


class Maker:
    reelgraph_name = "maker"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_twin = False
        self.gate: threading.Event | None = None  # twin waits for it (a run kept live)
        self.entered = threading.Event()

    @hookimpl
    def make(self, text, ctx):
        self.calls.append(f"make:{text}")
        path = ctx.workdir / "out.txt"
        path.write_text(text * 1000)  # a few kB: sizes differ per run
        return path

    @hookimpl
    def twin(self, path, ctx):
        self.calls.append("twin")
        if self.gate is not None:
            self.entered.set()
            assert self.gate.wait(30)
        if self.fail_twin:
            raise ProviderError("twin is down")
        copy = ctx.workdir / "copy.txt"
        copy.write_bytes(Path(path).read_bytes())
        return copy


SPEC = {
    "name": "gcfiles",
    "inputs": {"text": {"type": "string"}},
    "nodes": [
        {"id": "files", "hook": "make", "provider": "maker", "with": {"text": "$inputs.text"}},
        {"id": "copy", "hook": "twin", "provider": "maker", "with": {"path": "$files"}},
    ],
    "outputs": {"file": "$files", "copy": "$copy"},
}


@pytest.fixture
def maker() -> Maker:
    return Maker()


@pytest.fixture
def kernel(maker: Maker, tmp_path: Path) -> Kernel:
    k = Kernel(plugins=[maker], entry_points=False, hookspecs=[GcSpecs], home=tmp_path / "home")
    yield k
    k.close()


def _age(kernel: Kernel, run_id: str, days: float) -> None:
    """Make a run (and the cache entries it filled) ``days`` old."""
    db = sqlite3.connect(kernel.home / "reelgraph.db")
    with db:
        db.execute(
            "UPDATE runs SET started_at = ? WHERE id = ?", (time.time() - days * DAY, run_id)
        )
        db.execute(
            "UPDATE memo SET created_at = ? WHERE run_id = ?", (time.time() - days * DAY, run_id)
        )
    db.close()


def _inodes(root: Path) -> dict[tuple[int, int], int]:
    """Apparent size of every file under ``root``, once per inode (hard links once)."""
    sizes = {}
    for folder, _, names in os.walk(root):
        for name in names:
            st = os.lstat(os.path.join(folder, name))
            sizes[(st.st_dev, st.st_ino)] = st.st_size
    return sizes


def _store_rows(kernel: Kernel) -> dict[str, list]:
    db = sqlite3.connect(kernel.home / "reelgraph.db")
    tables = ("runs", "nodes", "memo", "events", "attempts", "leases")
    rows = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    db.close()
    return rows


def _gc(kernel: Kernel, **policy):
    plan = plan_gc(kernel.store, kernel.artifacts, kernel.home / "runs", GcPolicy(**policy))
    return plan, apply_gc(kernel.store, kernel.artifacts, kernel.home / "runs", plan)


def _dangling_memo(kernel: Kernel) -> list[str]:
    db = sqlite3.connect(kernel.home / "reelgraph.db")
    rows = db.execute("SELECT cache_key, output FROM memo").fetchall()
    db.close()
    return [
        key
        for key, output in rows
        if not all(
            kernel.artifacts.path_for(d, n).is_file() for d, n in artifact_refs(json.loads(output))
        )
    ]


def test_gc_frees_exactly_the_unreferenced_bytes(kernel: Kernel, maker: Maker) -> None:
    shared_old = kernel.run(SPEC, inputs={"text": "shared "}, cache=False)
    shared_new = kernel.run(SPEC, inputs={"text": "shared "}, cache=False)  # same artifacts
    lone_old = kernel.run(SPEC, inputs={"text": "lone "}, cache=False)
    kept = kernel.run(SPEC, inputs={"text": "cached "})  # fills the memo cache
    assert {r.status for r in (shared_old, shared_new, lone_old, kept)} == {"succeeded"}
    for run in (shared_old, lone_old, kept):
        _age(kernel, run.id, 40)
    root = kernel.artifacts.root
    before = _inodes(root)

    plan, result = _gc(kernel, older_than_s=parse_age("30d"))

    assert {r.id for r in plan.runs} == {shared_old.id, lone_old.id, kept.id}
    # VACUUM and a truncating checkpoint ended it
    assert result.vacuum_error is None
    assert os.path.getsize(f"{kernel.home / 'reelgraph.db'}-wal") == 0
    assert sorted(result.runs) == sorted(r.id for r in plan.runs)
    after = _inodes(root)
    # only the lone run's file goes: out.txt and copy.txt are one inode (hard link)
    assert len(before) - len(after) == 1
    freed = sum(before.values()) - sum(after.values())
    assert freed == len("lone " * 1000) == result.bytes == plan.bytes
    assert result.artifacts == 2  # two names, one inode: bytes counted once
    # the old runs are gone from the store and from home/runs
    for run in (shared_old, lone_old, kept):
        assert kernel.store.get_run(run.id) is None
        assert not (kernel.home / "runs" / run.id).exists()
    assert kernel.store.get_nodes(lone_old.id) == [] and kernel.store.get_events(lone_old.id) == []
    # the kept run still shows and its outputs still load
    from reelgraph.cli.inspect import describe_run

    shown = describe_run(kernel, shared_new.id)
    assert shown["status"] == "succeeded" and Path(shown["outputs"]["file"]).is_file()
    # the cache entries of a removed run outlive it: a hit, no hook called
    calls = len(maker.calls)
    again = kernel.run(SPEC, inputs={"text": "cached "})
    assert again.status == "succeeded" and len(maker.calls) == calls
    assert again.nodes["files"].cached and Path(again.outputs["file"]).read_text().startswith("c")
    assert _dangling_memo(kernel) == []


def test_memo_expiry_drops_entries_and_their_artifacts_but_not_shared_ones(
    kernel: Kernel, maker: Maker
) -> None:
    old = kernel.run(SPEC, inputs={"text": "memo "})
    shared = kernel.run(SPEC, inputs={"text": "memo "}, cache=False)  # references the same files
    gone = kernel.run(SPEC, inputs={"text": "expired "})
    _age(kernel, old.id, 40)
    _age(kernel, gone.id, 40)
    before = _inodes(kernel.artifacts.root)

    plan, result = _gc(kernel, older_than_s=30 * DAY, memo=True)

    assert len(plan.memo_keys) == 4 and result.memo_entries == 4  # 2 nodes x 2 runs
    freed = sum(before.values()) - sum(_inodes(kernel.artifacts.root).values())
    assert freed == len("expired " * 1000) == result.bytes
    assert _dangling_memo(kernel) == []
    # an expired entry is a miss now: the hook runs again
    calls = len(maker.calls)
    again = kernel.run(SPEC, inputs={"text": "expired "})
    assert again.status == "succeeded" and len(maker.calls) == calls + 2
    # the kept run's outputs are intact
    for node in kernel.store.get_nodes(shared.id):
        load_value(node.output, kernel.artifacts, verify=True)


def test_memo_entry_whose_artifact_is_missing_is_removed(kernel: Kernel) -> None:
    run = kernel.run(SPEC, inputs={"text": "broken "})
    stored = kernel.store.get_nodes(run.id)[0].output
    ((digest, name),) = artifact_refs(stored)
    for path in kernel.artifacts.path_for(digest, name).parent.iterdir():
        path.unlink()  # deleted by hand
    assert _dangling_memo(kernel)
    plan, result = _gc(kernel)
    assert plan.runs == [] and result.memo_entries == 2  # both nodes named that file
    assert _dangling_memo(kernel) == []


def test_status_and_keep_last_select_runs(kernel: Kernel, maker: Maker) -> None:
    good = kernel.run(SPEC, inputs={"text": "good "})
    maker.fail_twin = True
    failed = kernel.run(SPEC, inputs={"text": "failed "}, cache=False)
    newest_failed = kernel.run(SPEC, inputs={"text": "failed2 "}, cache=False)
    assert failed.status == newest_failed.status == "failed"
    _age(kernel, good.id, 3)
    _age(kernel, failed.id, 2)
    _age(kernel, newest_failed.id, 1)
    before = _inodes(kernel.artifacts.root)

    plan, result = _gc(kernel, statuses=frozenset({"failed"}), keep_last=1)

    assert result.runs == [failed.id]  # the newest run is kept, the succeeded one too
    assert kernel.store.get_run(good.id) is not None
    assert kernel.store.get_run(newest_failed.id) is not None
    freed = sum(before.values()) - sum(_inodes(kernel.artifacts.root).values())
    assert freed == len("failed " * 1000) == result.bytes
    # --keep-last alone keeps only the newest N
    plan = plan_gc(kernel.store, kernel.artifacts, kernel.home / "runs", GcPolicy(keep_last=1))
    assert [r.id for r in plan.runs] == [good.id]


def test_leased_and_unleased_running_runs_are_never_removed(kernel: Kernel) -> None:
    leased = kernel.run(SPEC, inputs={"text": "leased "}, cache=False)
    starting = kernel.run(SPEC, inputs={"text": "starting "}, cache=False)
    crashed = kernel.run(SPEC, inputs={"text": "crashed "}, cache=False)
    for run in (leased, starting, crashed):
        _age(kernel, run.id, 40)
    lease, _, _ = acquire_lease(kernel.store, leased.id)  # this live process holds it
    kernel.store.set_run_status(starting.id, "running")  # created, lease not taken yet
    db = sqlite3.connect(kernel.home / "reelgraph.db")
    with db:  # a crashed owner: a lease whose pid is gone
        db.execute("UPDATE runs SET status = 'running' WHERE id = ?", (crashed.id,))
        db.execute(
            "INSERT INTO leases VALUES (?, 'x', ?, 999999999, 0, 0, 1)",
            (crashed.id, __import__("socket").gethostname()),
        )
    db.close()
    before = _inodes(kernel.artifacts.root)

    plan, result = _gc(kernel, older_than_s=30 * DAY)

    assert result.runs == [crashed.id]
    assert {r.id: r.reason.split(" ")[0] for r in plan.protected} == {
        leased.id: "held",
        starting.id: "running,",
    }
    assert kernel.store.get_run(leased.id) is not None
    assert kernel.store.get_run(starting.id) is not None
    # files newer than the live runs' start are kept even when unreferenced:
    # here every file is newer, so nothing of the crashed run's goes yet
    assert result.artifacts == 0 and plan.recent == 2
    assert _inodes(kernel.artifacts.root) == before
    release_lease(kernel.store, lease)


def test_gc_during_a_live_run_keeps_it_and_its_fresh_files(kernel: Kernel, maker: Maker) -> None:
    maker.gate = gate = threading.Event()
    orphan = kernel.artifacts.put_bytes(b"orphan of a deleted run" * 100, "o.bin")
    os.utime(orphan.path, (time.time() - 2 * DAY,) * 2)
    runs: list = []
    worker = threading.Thread(
        target=lambda: runs.append(kernel.run(SPEC, inputs={"text": "live "}, cache=False))
    )
    worker.start()
    try:
        assert maker.entered.wait(30)
        fresh = kernel.artifacts.put_bytes(b"written a moment ago", "f.bin")  # not referenced yet
        plan, result = _gc(kernel, older_than_s=0.0)
    finally:
        gate.set()
        worker.join(30)
    assert [r.id for r in plan.protected] == [runs[0].id] and result.runs == []
    assert not orphan.path.exists() and fresh.path.exists()
    assert runs[0].status == "succeeded"
    for node in kernel.store.get_nodes(runs[0].id):
        load_value(node.output, kernel.artifacts, verify=True)


def test_a_lease_taken_after_the_plan_keeps_the_run(kernel: Kernel) -> None:
    run = kernel.run(SPEC, inputs={"text": "raced "}, cache=False)
    _age(kernel, run.id, 40)
    plan = plan_gc(kernel.store, kernel.artifacts, kernel.home / "runs", GcPolicy(older_than_s=DAY))
    assert [r.id for r in plan.runs] == [run.id] and plan.artifacts
    lease, _, _ = acquire_lease(kernel.store, run.id)  # a resume started meanwhile
    result = apply_gc(kernel.store, kernel.artifacts, kernel.home / "runs", plan)
    assert result.runs == [] and result.protected[0].id == run.id
    assert result.artifacts == 0  # its files are still referenced
    for node in kernel.store.get_nodes(run.id):
        load_value(node.output, kernel.artifacts, verify=True)
    release_lease(kernel.store, lease)


def test_cli_dry_run_changes_nothing_and_json_lists_what_would_go(
    kernel: Kernel, maker: Maker
) -> None:
    old = kernel.run(SPEC, inputs={"text": "dry "}, cache=False)
    kernel.run(SPEC, inputs={"text": "fresh "}, cache=False)
    _age(kernel, old.id, 40)
    kernel.close()
    rows, files = _store_rows(kernel), _inodes(kernel.artifacts.root)
    env = {**os.environ, "REELGRAPH_HOME": str(kernel.home)}

    done = subprocess.run(
        [*CLI, "gc", "--older-than", "30d", "--dry-run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["dry_run"] and [r["id"] for r in data["runs"]] == [old.id]
    assert data["artifacts"] == 2 and data["bytes"] == len("dry " * 1000)
    assert _store_rows(kernel) == rows and _inodes(kernel.artifacts.root) == files
    assert (kernel.home / "runs" / old.id).is_dir()
    # the table, then the real thing
    table = subprocess.run(
        [*CLI, "gc", "--older-than", "30d"], capture_output=True, text=True, env=env, timeout=120
    )
    assert table.returncode == 0, table.stderr
    assert "runs removed" in table.stdout and "bytes freed" in table.stdout
    assert _inodes(kernel.artifacts.root) != files


def test_cli_rejects_bad_retention_with_one_line(kernel: Kernel) -> None:
    env = {**os.environ, "REELGRAPH_HOME": str(kernel.home)}
    for args, words in (
        (["--older-than", "30 days"], "30d"),
        (["--status", "done"], "not a run status"),
        (["--memo"], "--older-than"),
    ):
        done = subprocess.run(
            [*CLI, "gc", *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 2 and words in done.stderr
        assert "Traceback" not in done.stderr


def test_help_has_an_example() -> None:
    for command in ("gc", "doctor"):
        done = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "Example" in done.stdout


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * DAY),
        ("12h", 43200),
        ("90m", 5400),
        ("45s", 45),
        ("2w", 14 * DAY),
        ("1.5D", 1.5 * DAY),
    ],
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "-1d", "30 days", "1y", ""])
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(InvalidInputError, match="e.g. 30d"):
        parse_age(text)


def test_artifact_refs_skips_user_keys_that_look_like_tags() -> None:
    digest = "a" * 64
    stored = [
        {"$dict": {"$artifact": {"$artifact": digest, "name": "x.wav"}, "name": "not a ref"}},
        {"$model": "m:M", "data": {"p": {"$artifact": digest, "name": "y.png"}}},
        {"$dict": {"$artifact": "b" * 64, "name": "user data, not a file"}},
    ]
    assert sorted(artifact_refs(stored)) == [(digest, "x.wav"), (digest, "y.png")]


def test_cli_on_a_broken_store_is_one_line_and_exit_6(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "reelgraph.db").write_bytes(os.urandom(8192))
    done = subprocess.run(
        [*CLI, "gc", "--older-than", "30d"],
        capture_output=True,
        text=True,
        env={**os.environ, "REELGRAPH_HOME": str(home)},
        timeout=120,
    )
    assert done.returncode == 6  # a storage fault (README: exit statuses)
    assert "not a SQLite database" in done.stderr and "Traceback" not in done.stderr
