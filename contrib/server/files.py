"""Which files of a run may be downloaded, and where uploads go.

A run's files are the regular files under its run directory,
``<REELGRAPH_HOME>/runs/<run id>/`` (node work folders, uploads, and the
outputs of runs submitted over HTTP, which publish into ``outputs/`` there).
A requested path is refused when it is absolute, has a ``..`` part, or
resolves (symlinks followed) outside that directory.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

__all__ = ["FileRefused", "list_files", "resolve_file", "safe_upload_name"]


class FileRefused(Exception):
    """A requested file is not one of the run's: ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def list_files(run_dir: Path) -> list[dict[str, object]]:
    """Every regular file in ``run_dir`` that stays inside it: ``{"path", "bytes"}``, sorted.

    ``path`` is relative to ``run_dir`` with ``/`` separators; symlinks that lead
    out of the directory are left out.
    """
    if not run_dir.is_dir():
        return []
    root = run_dir.resolve()
    found: list[dict[str, object]] = []
    for path in sorted(run_dir.rglob("*")):
        target = path.resolve()
        if target.is_file() and target.is_relative_to(root):
            relative = path.relative_to(run_dir).as_posix()
            found.append({"path": relative, "bytes": target.stat().st_size})
    return found


def resolve_file(run_dir: Path, requested: str) -> Path:
    """The file ``requested`` (relative, ``/``-separated) inside ``run_dir``.

    Raises:
        FileRefused: 400 for an absolute path or one with ``..``; 403 for a path
            (or symlink) that resolves outside ``run_dir``; 404 for no such file.
    """
    pure = PurePosixPath(requested)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", requested) or "\\" in requested:
        raise FileRefused(f"{requested!r}: give a path relative to the run directory", 400)
    if ".." in pure.parts:
        raise FileRefused(f"{requested!r}: '..' is not allowed in an artifact path", 400)
    root = run_dir.resolve()
    target = (run_dir / pure).resolve()
    if not target.is_relative_to(root):
        raise FileRefused(f"{requested!r} leads outside the run directory", 403)
    if not target.is_file():
        raise FileRefused(f"{requested!r}: no such file in the run (see its artifacts list)", 404)
    return target


def safe_upload_name(name: str | None, fallback: str) -> str:
    """A file name for an upload: its base name, with anything but ``[A-Za-z0-9._-]`` as ``_``.

    ``fallback`` (the input's name) is used when nothing usable remains.
    """
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return cleaned or fallback
