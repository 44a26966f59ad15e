"""Garbage collection of the run store and the artifact store (``reelgraph gc``).

:func:`plan_gc` decides, without changing anything, which runs, memo-cache
entries and artifact files go; :func:`apply_gc` carries a plan out. The CLI
prints the plan for ``--dry-run`` and the result otherwise.

What is kept, and why:

- **Runs.** A run is a candidate only when a retention is given: older than
  ``older_than_s`` (by ``started_at``), and/or with one of ``statuses``; with
  ``keep_last`` alone, every run but the newest ``keep_last``. The newest
  ``keep_last`` runs are always kept. A run whose lease is live
  (:mod:`reelgraph.store.leases`) is never removed, nor a ``running`` run
  without a stale lease (a run is created ``running`` a moment before its
  lease is taken). Removing a run deletes its rows (``ON DELETE CASCADE``
  takes its nodes, attempts, events, costs, journal and lease) and its
  working folder ``home/runs/<run id>``.
- **Memo-cache entries outlive the runs that filled them** (a clip already paid
  for is never paid for again, whoever paid), so they and their artifacts are
  kept when their run goes. ``memo=True`` expires entries older than
  ``older_than_s`` too (by ``created_at``). An entry that names an artifact
  file no longer in the store (deleted by hand, or a disk fault) is removed
  in any case: it could never be a cache hit.
- **Artifacts** are kept while a kept run's node output or a kept memo entry
  references them (``{"$artifact": digest, "name": ...}`` in the stored JSON,
  see :mod:`reelgraph.store.serialize`); every other file under the artifact
  root goes, leftover ``.tmp-*`` files of interrupted writes included.
- **Remote artifacts** (an :class:`~reelgraph.store.remote_artifacts.FsspecArtifactStore`,
  ``REELGRAPH_ARTIFACTS=s3://...``): the same rule for the objects under its
  URL, orphan ``.tmp/`` uploads of a killed process included; its local
  cache is pruned like a local store (a pruned file is downloaded again on use).

Safety against a concurrent run: a node's artifacts are written before its
output is recorded, so while a run is live some of its files are referenced
by nothing yet. Files modified after the earliest start of a live run (its
lease's ``acquired_at``, else its ``started_at``) minus ``CLOCK_SKEW_S`` are
never deleted, and :func:`apply_gc` reads the runs and references again just
before it deletes, so a run started (or a node finished) after the plan is
seen. We use the live runs' start rather than a fixed age ("older than N
minutes") because a render can run for longer than any fixed window and,
with no run live, a fixed window would only keep garbage.
Remaining window: the artifact store deduplicates by content (a second write
of the same bytes under the same name touches nothing), so a live run that
re-creates exactly the bytes of an unreferenced old file, between gc's last
reference scan and its unlink, would lose that file; its node then fails its
checksum on resume and runs again.

Bytes freed count what the filesystem gives back: a file's bytes count once
per inode, and only when every hard link to it is deleted (``st_nlink``).
``bytes`` is the apparent size (``st_size``), ``disk_bytes`` the allocated
blocks (``st_blocks`` x 512, as ``du`` counts; POSIX stat(2)).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.run.result import RUN_STATUSES as RESULT_STATUSES
from reelgraph.store.artifacts import ArtifactStore
from reelgraph.store.leases import get_lease
from reelgraph.store.remote_artifacts import FsspecArtifactStore, RemoteObject
from reelgraph.store.runs import RunStore, StoreError

__all__ = [
    "CLOCK_SKEW_S",
    "RUN_STATUSES",
    "ArtifactFile",
    "GcPlan",
    "GcPolicy",
    "GcResult",
    "RunCandidate",
    "apply_gc",
    "parse_age",
    "plan_gc",
]

#: Seconds subtracted from a live run's start before comparing file times: the
#: home may be shared by hosts whose clocks differ (NTP keeps them within a
#: fraction of a second; a minute is a wide margin that costs nothing).
CLOCK_SKEW_S = 60.0

#: Every status a run row can have (``reelgraph._execution.execute_run``).
RUN_STATUSES = frozenset(RESULT_STATUSES)

# s, m, h, d, w: seconds per unit
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)
_TMP_PREFIX = ".tmp-"


def parse_age(text: str) -> float:
    """Seconds in an age such as ``30d``, ``12h``, ``90m``, ``45s``, ``2w``, ``1.5d``.

    One number and one unit (s, m, h, d, w); a grammar this small needs no
    library.

    Raises:
        InvalidInputError: anything else, with an example of the form.
    """
    match = _AGE.fullmatch(text)
    if match is None:
        raise InvalidInputError(
            f"--older-than takes a number and a unit s, m, h, d or w (e.g. 30d, 12h), not {text!r}"
        )
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True, slots=True)
class GcPolicy:
    """What to remove.

    Attributes:
        older_than_s: runs started more than this many seconds ago are candidates.
        keep_last: the newest this many runs are always kept.
        statuses: only runs with one of these statuses are candidates.
        memo: memo-cache entries created more than ``older_than_s`` ago go too.
    """

    older_than_s: float | None = None
    keep_last: int | None = None
    statuses: frozenset[str] | None = None
    memo: bool = False

    def __post_init__(self) -> None:
        if self.keep_last is not None and self.keep_last < 0:
            raise InvalidInputError(f"--keep-last must be 0 or more, not {self.keep_last}")
        if self.older_than_s is not None and self.older_than_s < 0:
            raise InvalidInputError("--older-than must not be negative")
        unknown = sorted((self.statuses or frozenset()) - RUN_STATUSES)
        if unknown:
            raise InvalidInputError(
                f"--status {unknown[0]!r} is not a run status; "
                f"use one of {', '.join(sorted(RUN_STATUSES))}"
            )
        if self.memo and self.older_than_s is None:
            raise InvalidInputError("--memo expires cache entries by age: give --older-than too")

    @property
    def selects_runs(self) -> bool:
        return (
            self.older_than_s is not None or self.statuses is not None or self.keep_last is not None
        )


@dataclass(frozen=True, slots=True)
class RunCandidate:
    """A run gc removes (``kept`` false) or would remove but must keep (``reason``)."""

    id: str
    status: str
    started_at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One file under the artifact root: its path, apparent size and inode."""

    path: Path
    size: int
    disk_size: int
    inode: tuple[int, int]  # (st_dev, st_ino)
    links: int
    mtime: float


@dataclass(slots=True)
class GcPlan:
    """What :func:`apply_gc` will remove. Times are Unix seconds, sizes bytes.

    Attributes:
        runs: runs to remove.
        protected: candidate runs that are kept, with the reason (a live lease).
        kept_runs: how many runs stay.
        memo_keys: memo-cache entries to remove.
        artifacts: artifact files to remove.
        recent: unreferenced files kept because a live run may still claim them.
        bytes: apparent bytes the artifact removals free (hard links counted once).
        disk_bytes: allocated bytes they free.
        run_dir_bytes: bytes in the removed runs' working folders.
        cutoff: files modified at or after this time are kept (``None``: no live run).
        made_at: when the plan was made.
        remote: objects to remove from a remote artifact store (``.tmp/`` orphans included).
        remote_bytes: their bytes.
    """

    runs: list[RunCandidate] = field(default_factory=list)
    protected: list[RunCandidate] = field(default_factory=list)
    kept_runs: int = 0
    memo_keys: list[str] = field(default_factory=list)
    artifacts: list[ArtifactFile] = field(default_factory=list)
    recent: int = 0
    bytes: int = 0
    disk_bytes: int = 0
    run_dir_bytes: int = 0
    cutoff: float | None = None
    made_at: float = 0.0
    remote: list[RemoteObject] = field(default_factory=list)
    remote_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counts, bytes and the ids and paths that go."""
        return {
            "runs": [
                {"id": r.id, "status": r.status, "started_at": r.started_at} for r in self.runs
            ],
            "protected": [
                {"id": r.id, "status": r.status, "reason": r.reason} for r in self.protected
            ],
            "kept_runs": self.kept_runs,
            "memo_entries": len(self.memo_keys),
            "artifacts": len(self.artifacts),
            "artifacts_kept_recent": self.recent,
            "bytes": self.bytes,
            "disk_bytes": self.disk_bytes,
            "run_dir_bytes": self.run_dir_bytes,
            "artifact_paths": [str(a.path) for a in self.artifacts],
            "remote_artifacts": len(self.remote),
            "remote_bytes": self.remote_bytes,
            "remote_keys": [o.key for o in self.remote],
        }


@dataclass(slots=True)
class GcResult:
    """What :func:`apply_gc` removed. Sizes in bytes.

    ``store_bytes_before``/``after``: the store's size on disk
    (:meth:`RunStore.size_bytes`: the SQLite file plus its WAL) around the
    final :meth:`RunStore.compact`; ``vacuum_error``
    says why those were skipped (the store busy), else ``None``.
    ``remote_artifacts``/``remote_bytes``: objects deleted from a remote store.
    """

    runs: list[str] = field(default_factory=list)
    protected: list[RunCandidate] = field(default_factory=list)
    memo_entries: int = 0
    artifacts: int = 0
    bytes: int = 0
    disk_bytes: int = 0
    run_dir_bytes: int = 0
    store_bytes_before: int = 0
    store_bytes_after: int = 0
    vacuum_error: str | None = None
    remote_artifacts: int = 0
    remote_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "protected": [
                {"id": r.id, "status": r.status, "reason": r.reason} for r in self.protected
            ],
            "memo_entries": self.memo_entries,
            "artifacts": self.artifacts,
            "bytes": self.bytes,
            "disk_bytes": self.disk_bytes,
            "run_dir_bytes": self.run_dir_bytes,
            "store_bytes_before": self.store_bytes_before,
            "store_bytes_after": self.store_bytes_after,
            "vacuum_error": self.vacuum_error,
            "remote_artifacts": self.remote_artifacts,
            "remote_bytes": self.remote_bytes,
        }


# -- references ------------------------------------------------------------------


def artifact_refs(data: Any) -> Iterator[tuple[str, str]]:
    """``(digest, name)`` of every artifact a stored value (``dump_value`` form) names."""
    if isinstance(data, list):
        for value in data:
            yield from artifact_refs(value)
    elif isinstance(data, dict):
        if data.keys() == {"$artifact", "name"} and all(isinstance(v, str) for v in data.values()):
            yield data["$artifact"], data["name"]
        elif data.keys() == {"$dict"} and isinstance(data["$dict"], dict):
            for value in data["$dict"].values():  # user keys: never tags themselves
                yield from artifact_refs(value)
        else:
            for value in data.values():
                yield from artifact_refs(value)


def _refs_of(texts: Iterable[str | None]) -> set[tuple[str, str]]:
    refs: set[tuple[str, str]] = set()
    for text in texts:
        if text is not None:
            refs.update(artifact_refs(json.loads(text)))
    return refs


def _exists(
    artifacts: ArtifactStore, refs: Iterable[tuple[str, str]], remote: set[str] | None
) -> bool:
    """Every referenced file is stored (in ``remote``, the keys listed, for a remote store)."""
    if remote is not None and isinstance(artifacts, FsspecArtifactStore):
        refs = list(refs)
        keys = artifacts.keys_for(refs)
        return len(keys) == len(set(refs)) and keys <= remote
    try:
        return all(artifacts.path_for(d, n).is_file() for d, n in refs)
    except ValueError:  # not a digest or not a name: not a usable reference
        return False


# -- scanning --------------------------------------------------------------------


def _scan(root: Path) -> list[ArtifactFile]:
    """Every regular file under ``root/<2 hex>/<digest>/``."""
    files: list[ArtifactFile] = []
    if not root.is_dir():
        return files
    for prefix in os.scandir(root):
        if not prefix.is_dir(follow_symlinks=False):
            continue
        for folder in os.scandir(prefix.path):
            if not folder.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(folder.path):
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
                blocks = getattr(st, "st_blocks", None)
                files.append(
                    ArtifactFile(
                        path=Path(entry.path),
                        size=st.st_size,
                        disk_size=st.st_size if blocks is None else blocks * 512,
                        inode=(st.st_dev, st.st_ino),
                        links=st.st_nlink,
                        mtime=st.st_mtime,
                    )
                )
    return files


def _freed(files: Iterable[ArtifactFile]) -> tuple[int, int]:
    """(apparent, allocated) bytes freed by deleting ``files``: inodes whose every link goes."""
    by_inode: dict[tuple[int, int], list[ArtifactFile]] = {}
    for f in files:
        by_inode.setdefault(f.inode, []).append(f)
    apparent = disk = 0
    for links in by_inode.values():
        if len(links) >= links[0].links:
            apparent += links[0].size
            disk += links[0].disk_size
    return apparent, disk


def _tree_bytes(path: Path) -> int:
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _live_cutoff(store: RunStore, now: float) -> tuple[float | None, dict[str, str]]:
    """The earliest start of a live run minus CLOCK_SKEW_S, and why each live run is live."""
    live: dict[str, str] = {}
    starts = []
    rows = store._read(
        "gc: read runs",
        "SELECT r.id, r.status, r.started_at, l.run_id IS NOT NULL FROM runs r"
        " LEFT JOIN leases l ON l.run_id = r.id WHERE r.status = 'running' OR l.run_id IS NOT NULL",
    )
    for run_id, status, started_at, leased in rows:
        lease = get_lease(store, run_id) if leased else None
        if lease is not None and lease.stale_reason(now) is None:
            live[run_id] = f"held by {lease.describe()}"
            starts.append(lease.acquired_at)
        elif status == "running" and lease is None:
            live[run_id] = "running, not leased yet"
            starts.append(started_at)
    cutoff = min(starts) - CLOCK_SKEW_S if starts else None
    return cutoff, live


# -- plan ------------------------------------------------------------------------


def plan_gc(
    store: RunStore,
    artifacts: ArtifactStore,
    runs_dir: Path,
    policy: GcPolicy,
    *,
    now: float | None = None,
) -> GcPlan:
    """What gc would remove under ``policy``; changes nothing.

    Args:
        store: the run store.
        artifacts: the artifact store.
        runs_dir: the runs' working folders (``home/runs``).
        policy: the retention.
        now: the current Unix time (for tests).
    """
    now = time.time() if now is None else now
    plan = GcPlan(made_at=now)
    plan.cutoff, live = _live_cutoff(store, now)
    rows = store._read(
        "gc: read runs", "SELECT id, status, started_at FROM runs ORDER BY started_at DESC, id DESC"
    )
    removed: set[str] = set()
    for position, (run_id, status, started_at) in enumerate(rows):
        if not _candidate(policy, position, status, started_at, now):
            continue
        run = RunCandidate(run_id, status, started_at)
        if run_id in live:
            plan.protected.append(RunCandidate(run_id, status, started_at, live[run_id]))
            continue
        plan.runs.append(run)
        removed.add(run_id)
    plan.kept_runs = len(rows) - len(plan.runs)
    plan.run_dir_bytes = sum(_tree_bytes(runs_dir / r.id) for r in plan.runs)

    memo_rows = store._read("gc: read cache", "SELECT cache_key, output, created_at FROM memo")
    memo_cutoff = now - policy.older_than_s if policy.memo and policy.older_than_s else None
    remote = artifacts.scan() if isinstance(artifacts, FsspecArtifactStore) else None
    listed = None if remote is None else {o.key for o in remote}
    kept_memo = []
    for key, output, created_at in memo_rows:
        refs = _refs_of([output])
        expired = memo_cutoff is not None and created_at < memo_cutoff
        if expired or not _exists(artifacts, refs, listed):
            plan.memo_keys.append(key)
        else:
            kept_memo.append(output)

    referenced = _refs_of(kept_memo) | _node_refs(store, exclude=removed)
    plan.artifacts, plan.recent = _garbage(artifacts, referenced, plan.cutoff)
    plan.bytes, plan.disk_bytes = _freed(plan.artifacts)
    if remote is not None and isinstance(artifacts, FsspecArtifactStore):
        plan.remote, recent = artifacts.garbage(remote, referenced, plan.cutoff)
        plan.recent += recent
        plan.remote_bytes = sum(o.size for o in plan.remote)
    return plan


def _candidate(policy: GcPolicy, position: int, status: str, started_at: float, now: float) -> bool:
    if not policy.selects_runs:
        return False
    if policy.keep_last is not None and position < policy.keep_last:
        return False
    if policy.older_than_s is not None and started_at >= now - policy.older_than_s:
        return False
    return policy.statuses is None or status in policy.statuses


def _node_refs(store: RunStore, exclude: set[str]) -> set[tuple[str, str]]:
    rows = store._read(
        "gc: read node outputs", "SELECT run_id, output FROM nodes WHERE output IS NOT NULL"
    )
    return _refs_of(output for run_id, output in rows if run_id not in exclude)


def _garbage(
    artifacts: ArtifactStore, referenced: set[tuple[str, str]], cutoff: float | None
) -> tuple[list[ArtifactFile], int]:
    """Unreferenced files, and how many more were kept for being newer than ``cutoff``."""
    wanted = set()
    for digest, name in referenced:
        with contextlib.suppress(ValueError):
            wanted.add(artifacts.path_for(digest, name))
    garbage, recent = [], 0
    for f in _scan(artifacts.root):
        if f.path in wanted:
            continue
        if cutoff is not None and f.mtime >= cutoff:
            recent += 1
            continue
        garbage.append(f)
    return garbage, recent


# -- apply -----------------------------------------------------------------------


def apply_gc(store: RunStore, artifacts: ArtifactStore, runs_dir: Path, plan: GcPlan) -> GcResult:
    """Remove what ``plan`` lists, re-checking leases and references first.

    A run whose lease became live since the plan is kept (``protected``); an
    artifact that a run or memo entry references by now, or that was
    modified after the (re-read) live cutoff, is kept. Ends with
    :meth:`RunStore.compact` (SQLite: ``VACUUM`` and
    ``PRAGMA wal_checkpoint(TRUNCATE)``).

    Raises:
        StoreError: the store could not be written (nothing of that write is kept).
    """
    result = GcResult(protected=list(plan.protected))
    for run in plan.runs:
        reason = store._write(f"gc: remove run {run.id}", lambda db, r=run: _delete_run(db, r))
        if reason is None:
            result.runs.append(run.id)
            folder = runs_dir / run.id
            result.run_dir_bytes += _tree_bytes(folder)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            result.protected.append(RunCandidate(run.id, run.status, run.started_at, reason))
    if plan.memo_keys:
        result.memo_entries = store._write(
            "gc: remove cache entries",
            lambda db: sum(
                db.execute("DELETE FROM memo WHERE cache_key = ?", (key,)).rowcount
                for key in plan.memo_keys
            ),
        )
    # read again: runs and nodes that finished since the plan now reference their
    # files, and a run that started since has files gc must not touch
    cutoff, _ = _live_cutoff(store, time.time())
    memo = store._read("gc: read cache", "SELECT output FROM memo")
    referenced = _refs_of(m[0] for m in memo) | _node_refs(store, exclude=set())
    doomed = {f.path for f in plan.artifacts}
    garbage, _ = _garbage(artifacts, referenced, cutoff)
    gone = [f for f in garbage if f.path in doomed and f.mtime <= plan.made_at]
    result.bytes, result.disk_bytes = _freed(gone)
    for f in gone:
        with contextlib.suppress(FileNotFoundError):
            f.path.unlink()
            result.artifacts += 1
        for folder in (f.path.parent, f.path.parent.parent):
            with contextlib.suppress(OSError):  # not empty: another name or digest lives there
                folder.rmdir()
    if plan.remote and isinstance(artifacts, FsspecArtifactStore):
        doomed_keys = {o.key for o in plan.remote}
        again, _ = artifacts.garbage(artifacts.scan(), referenced, cutoff)
        going = [o for o in again if o.key in doomed_keys and o.mtime <= plan.made_at]
        result.remote_artifacts = artifacts.delete(going)
        result.remote_bytes = sum(o.size for o in going)
    _compact(store, result)
    return result


def _delete_run(db: sqlite3.Connection, run: RunCandidate) -> str | None:
    """Delete one run unless it became live; the reason it is kept, or ``None``."""
    from reelgraph.store.leases import Lease

    row = db.execute(
        "SELECT run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at"
        " FROM leases WHERE run_id = ?",
        (run.id,),
    ).fetchone()
    if row is not None:
        lease = Lease(*row)
        if lease.stale_reason(time.time()) is None:
            return f"held by {lease.describe()}"
    status = db.execute("SELECT status FROM runs WHERE id = ?", (run.id,)).fetchone()
    if status is not None and status[0] == "running" and row is None:
        return "running, not leased yet"
    db.execute("DELETE FROM runs WHERE id = ?", (run.id,))
    return None


def _compact(store: RunStore, result: GcResult) -> None:
    """Compact the store (:meth:`RunStore.compact`), measuring its size around it."""
    result.store_bytes_before = store.size_bytes()
    try:
        store.compact()
    except StoreError as err:  # another process holds the store: compaction can wait
        result.vacuum_error = str(err)
    result.store_bytes_after = store.size_bytes()
