"""Storage faults on real file systems: a full tmpfs, a read-only tmpfs, a broken store file.

The tests mount small tmpfs file systems (tests and CI run as root), fill them
mid-run, grow them, and resume: the fault is one clear line, the run is
``failed`` with a StorageError (never ``cancelled``), and nothing finished is
done again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.store.faults import StorageError, check_writable, storage_fault
from reelgraph.store.runs import RunStore

CLI = [sys.executable, "-m", "reelgraph.cli"]
BLOB_BYTES = 400_000


class BlobSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def write_blob(index, ctx):
        """Write a file of BLOB_BYTES bytes under the node's workdir; return its path."""


class Blobs:
    reelgraph_name = "blobs"

    def __init__(self) -> None:
        self.calls: list[int] = []

    @hookimpl
    def write_blob(self, index, ctx):
        self.calls.append(index)
        path = Path(ctx.workdir) / f"blob-{index}.bin"
        path.write_bytes(os.urandom(BLOB_BYTES))
        return path


SPEC = {
    "name": "blobs",
    "inputs": {"indexes": {"type": "list"}},
    "nodes": [
        # fits on the small disk and finishes before the disk fills up
        {"id": "first", "hook": "write_blob", "provider": "blobs", "with": {"index": 100}},
        {
            "id": "blobs",
            "hook": "write_blob",
            "provider": "blobs",
            "map": "$inputs.indexes",
            "with": {"index": "$item"},
            "concurrency": 1,
            "needs": ["first"],
        },
    ],
    "outputs": {"first": "$first", "files": "$blobs"},
}


def _mount(path: Path, size: str, *options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def _tmpfs(mounts: list[Path], path: Path, size: str, *options: str) -> Path:
    _mount(path, size, *options)
    mounts.append(path)
    return path


def test_storage_fault_reads_errno_and_sqlite_messages(tmp_path: Path) -> None:
    import errno
    import sqlite3

    full = storage_fault(OSError(errno.ENOSPC, "No space left on device", "/x/a.png"))
    assert full is not None and full.kind == "full" and full.path == Path("/x/a.png")
    assert "disk is full" in str(full) and "free space" in str(full)
    ro = storage_fault(OSError(errno.EROFS, "Read-only file system"), "/out")
    assert ro is not None and ro.kind == "read_only" and "REELGRAPH_HOME" in str(ro)
    try:
        raise RuntimeError("wrapped") from sqlite3.DatabaseError("file is not a database")
    except RuntimeError as err:
        broken = storage_fault(err, "/h/reelgraph.db")
    assert broken is not None and broken.kind == "not_a_database" and not broken.resumable
    assert storage_fault(ValueError("nothing to do with disks")) is None


def test_full_home_fails_the_run_then_resume_redoes_nothing(
    tmp_path: Path, mounts: list[Path]
) -> None:
    home = _tmpfs(mounts, tmp_path / "home", "1600k")
    blobs = Blobs()
    kernel = Kernel(plugins=[blobs], entry_points=False, hookspecs=[BlobSpecs], home=home)
    run = kernel.run(SPEC, inputs={"indexes": list(range(8))})

    assert run.status == "failed"  # not cancelled
    assert isinstance(run.error, StorageError) and run.error.kind == "full"
    assert str(home) in str(run.error.path)
    assert run.nodes["first"].status == "succeeded"
    assert 100 in blobs.calls and 0 < len(blobs.calls) < 9  # it failed mid-run
    kernel.close()

    subprocess.run(["mount", "-o", "remount,size=16m", str(home)], check=True)
    blobs_after = Blobs()
    kernel = Kernel(plugins=[blobs_after], entry_points=False, hookspecs=[BlobSpecs], home=home)
    resumed = kernel.resume(run.id)
    assert resumed.status == "succeeded", resumed.error
    assert 100 not in blobs_after.calls  # the finished node was not done again
    assert sorted(blobs_after.calls) == list(range(8))
    assert len(resumed.outputs["files"]) == 8
    assert all(Path(p).stat().st_size == BLOB_BYTES for p in resumed.outputs["files"])
    with RunStore(home / "reelgraph.db") as store:
        assert store.integrity_check() == "ok"
        assert store.get_run(run.id).status == "succeeded"
    kernel.close()


def test_read_only_output_folder_is_refused_before_any_node(
    tmp_path: Path, mounts: list[Path]
) -> None:
    out = _tmpfs(mounts, tmp_path / "out", "1m", "ro")
    blobs = Blobs()
    kernel = Kernel(plugins=[blobs], entry_points=False, hookspecs=[BlobSpecs], home=tmp_path / "h")
    with pytest.raises(StorageError) as caught:
        kernel.run(SPEC, inputs={"indexes": [0]}, output_dir=out)
    assert caught.value.kind == "read_only" and caught.value.path == out
    assert blobs.calls == []
    with pytest.raises(StorageError):
        check_writable(out)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REELGRAPH_HOME": str(home)},
    )


def test_cli_read_only_home_is_one_line_and_exit_6(tmp_path: Path, mounts: list[Path]) -> None:
    home = _tmpfs(mounts, tmp_path / "home", "1m", "ro")
    doc = tmp_path / "doc.md"
    doc.write_text("# Tea\n\nTea is a drink made from leaves.\n", encoding="utf-8")
    done = _cli(
        home, "run", "document-to-video", "-i", f"document={doc}", "-o", str(tmp_path / "o")
    )
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{home}" in done.stderr and "read-only" in done.stderr
    assert not (tmp_path / "o" / "video.mp4").exists()


def test_cli_store_of_random_bytes_names_the_file_and_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "reelgraph.db").write_bytes(os.urandom(8192))
    done = _cli(home, "runs")
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    assert str(home / "reelgraph.db") in done.stderr
    assert "not a SQLite database" in done.stderr and "backup" in done.stderr
    debug = _cli(home, "--debug", "runs")
    assert debug.returncode == 6 and "Traceback" in debug.stderr


def test_cli_store_locked_by_a_writer_is_busy_not_a_traceback(tmp_path: Path) -> None:
    import sqlite3

    from tests.kernel.test_leases import _store_with_run

    home = tmp_path / "home"
    home.mkdir()
    _store_with_run(home, "20261205-120000-abcdef").close()
    holder = sqlite3.connect(home / "reelgraph.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # readers still read (WAL); writers wait
    try:
        env = {**os.environ, "REELGRAPH_HOME": str(home), "REELGRAPH_STORE_TIMEOUT_S": "0.5"}
        done = subprocess.run(
            [*CLI, "resume", "20261205-120000-abcdef"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    assert "locked by another process" in done.stderr


def test_full_output_folder_fails_publishing_then_resume_publishes(
    tmp_path: Path, mounts: list[Path]
) -> None:
    out = _tmpfs(mounts, tmp_path / "out", "300k")  # room for the probe, not for a blob
    blobs = Blobs()
    kernel = Kernel(plugins=[blobs], entry_points=False, hookspecs=[BlobSpecs], home=tmp_path / "h")
    run = kernel.run(SPEC, inputs={"indexes": [0, 1]}, output_dir=out)
    assert run.status == "failed"
    assert isinstance(run.error, StorageError)
    assert run.error.kind == "full" and run.error.path == out
    assert not list(out.glob(".*.part"))  # no half-written file left behind
    assert sorted(blobs.calls) == [0, 1, 100]
    kernel.close()

    subprocess.run(["mount", "-o", "remount,size=16m", str(out)], check=True)
    again = Blobs()
    kernel = Kernel(plugins=[again], entry_points=False, hookspecs=[BlobSpecs], home=tmp_path / "h")
    resumed = kernel.resume(run.id)
    assert resumed.status == "succeeded", resumed.error
    assert again.calls == []  # every node had finished: only publishing was left
    assert {p.name for p in out.iterdir()} == {"blob-100.bin"}
    kernel.close()
