"""Storage faults in words: a full disk, a read-only or missing folder, a broken store file.

Whatever the layer that hit it (a plugin writing a PNG, the artifact store
copying a file, SQLite committing a page, the CLI writing ``run.json``), a
storage fault reaches the user as one :class:`StorageError` naming the path,
the cause in words and what to do. :func:`storage_fault` recognises one in an
exception's chain (``raise ... from``, implicit context, and the cause a
:class:`~reelgraph.errors.NodeError` carries) by its ``errno`` (see errno(3):
ENOSPC, EDQUOT, EROFS, EACCES, EPERM, ENOENT) or SQLite's result message
(https://sqlite.org/rescode.html: SQLITE_FULL "database or disk is full",
SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_BUSY).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from reelgraph.errors import ReelgraphError

__all__ = ["StorageError", "check_writable", "existing_ancestor", "storage_fault"]

_CAUSES = {
    "full": "the disk is full (no space left on the device)",
    "read_only": "the file system is read-only",
    "permission": "permission denied",
    "missing": "the folder does not exist and cannot be created",
    "busy": "the run store is locked by another process beyond its busy timeout",
    "not_a_database": "the file is not a SQLite database",
    "unreachable": "the run store's database server cannot be reached or refused the login",
    "not_installed": "REELGRAPH_STORE names a run store that is not installed",
}

_REMEDIES = {
    "full": "free space on that file system (or point REELGRAPH_HOME / -o elsewhere)",
    "read_only": "point REELGRAPH_HOME (or -o for outputs) at a writable folder",
    "permission": "fix the folder's permissions, or point REELGRAPH_HOME (or -o) elsewhere",
    "missing": "create the folder, or point REELGRAPH_HOME (or -o) at one that exists",
    "busy": "wait for the other process (see `reelgraph runs`) and try again",
    "not_a_database": (
        "restore it from a backup, or move it aside (`mv FILE FILE.broken`) and the "
        "next run starts a new store"
    ),
    "unreachable": (
        "check the host, port, database, user and password in REELGRAPH_STORE and that "
        "the server is up, or unset REELGRAPH_STORE for the SQLite store in REELGRAPH_HOME"
    ),
    "not_installed": (
        'install its backend (postgresql://: pip install "reelgraph[postgres]"), '
        "or unset REELGRAPH_STORE for the SQLite store in REELGRAPH_HOME"
    ),
}

_ERRNO_KINDS = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read_only",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.ENOENT: "missing",
}

_SQLITE_KINDS = (
    ("database or disk is full", "full"),
    ("readonly database", "read_only"),
    ("file is not a database", "not_a_database"),
    ("database is locked", "busy"),
    ("database is busy", "busy"),
    ("unable to open database file", "missing"),
    ("disk i/o error", "full"),
)


class StorageError(ReelgraphError):
    """A file or the run store could not be written or read because of its storage.

    Attributes:
        path: the file or folder concerned (a store named by URL: the URL,
            without its password, in ``location``).
        kind: ``full``, ``read_only``, ``permission``, ``missing``, ``busy``,
            ``not_a_database``, ``unreachable`` (a store's database server) or
            ``not_installed`` (no backend for REELGRAPH_STORE's URL).
        resumable: True when the run can continue once the cause is fixed
            (``reelgraph resume RUN_ID``): everything finished is kept.
        detail: what the layer below said, shown in parentheses (``None``: nothing).
    """

    def __init__(self, path: Path | str, kind: str, detail: str | None = None) -> None:
        self.path = Path(path)
        self.location = path if isinstance(path, str) and "://" in path else str(self.path)
        self.kind = kind
        self.detail = detail
        self.resumable = kind in (
            "full",
            "read_only",
            "permission",
            "missing",
            "busy",
            "unreachable",
        )
        said = f" ({detail})" if detail else ""
        super().__init__(f"{self.location}: {_CAUSES[kind]}{said}; {_REMEDIES[kind]}")


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "cause", None), current.__cause__, current.__context__]


def storage_fault(err: BaseException, path: Path | str | None = None) -> StorageError | None:
    """The storage fault behind ``err``, or ``None`` when it is not one.

    Args:
        err: any exception; its chain of causes is searched.
        path: the path to name when the fault does not carry one (a SQLite
            error names no file: pass the store's).
    """
    known = path
    for current in _chain(err):
        if isinstance(current, ReelgraphError) and getattr(current, "path", None):
            known = known or current.path  # a StoreError names its database file
        if isinstance(current, StorageError):
            return current
        kind = getattr(current, "kind", None)  # a StoreError whose backend knew the cause
        if isinstance(current, ReelgraphError) and kind in ("unreachable", "not_installed"):
            location = getattr(current, "location", None) or "run store"
            return StorageError(location, kind, getattr(current, "detail", None))
        if isinstance(current, OSError) and current.errno in _ERRNO_KINDS:
            where = current.filename or known
            if where is not None:
                return StorageError(where, _ERRNO_KINDS[current.errno])
        if isinstance(current, sqlite3.Error):
            text = str(current).lower()
            for needle, kind in _SQLITE_KINDS:
                if needle in text:
                    if kind == "missing" and known is not None:
                        kind = _why_not_opened(Path(known))
                    return StorageError(known or "run store", kind)
    return None


def existing_ancestor(path: Path) -> Path:
    """``path`` if it exists, else its nearest parent that does (the file system it will be on)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _why_not_opened(path: Path) -> str:
    """Why SQLite could not open ``path`` ("unable to open database file" says no more)."""
    folder = existing_ancestor(path.parent)
    if not path.parent.exists() and os.access(folder, os.W_OK):
        return "missing"
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return "read_only"
    if not os.access(folder, os.W_OK):
        return "permission"
    return "missing"


def check_writable(folder: Path) -> None:
    """Make ``folder`` if needed and prove a file can be written in it (then remove it).

    Raises:
        StorageError: the folder cannot be made or written (full, read-only,
            permission denied).
    """
    folder = Path(folder)
    probe = folder / f".reelgraph-probe-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as handle:
            handle.write(b"\0" * 4096)  # one block: a full disk refuses it
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        fault = storage_fault(err, folder)
        if fault is None:
            raise
        raise StorageError(folder, fault.kind) from err
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
