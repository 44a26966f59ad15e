"""The content-addressed artifact store: files kept by the sha256 of their bytes.

A file lives at ``root/<digest[:2]>/<digest>/<name>``. The name is kept so that
ffmpeg and output publishing see the right extension; the same bytes stored
under a second name are hard-linked to the first copy when the filesystem
allows it. Writes go to a temporary file in the target directory, are flushed
and fsynced, then renamed into place with ``os.replace`` (atomic on POSIX and
Windows), and the directory is fsynced so the rename itself survives a crash
(see fsync(2), "calling fsync() does not necessarily ensure that the entry in
the directory containing the file has also reached disk").

The store holds no state but the filesystem, so one instance may be shared by
threads and several processes may write to one root at once: two writers of
the same content race only to ``os.replace`` identical bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reelgraph.errors import ReelgraphError

__all__ = ["Artifact", "ArtifactCorrupt", "ArtifactError", "ArtifactMissing", "ArtifactStore"]

CHUNK_BYTES = 1 << 20  # 1 MiB: large enough to amortise syscalls, small enough for memory
_TMP_PREFIX = ".tmp-"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class ArtifactError(ReelgraphError):
    """An artifact cannot be stored or read."""


class ArtifactMissing(ArtifactError):
    """No file is stored under this digest and name."""


class ArtifactCorrupt(ArtifactError):
    """A stored file no longer hashes to its digest (the message names both)."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file in the store.

    Attributes:
        digest: sha256 of the bytes, 64 lowercase hex characters.
        name: the file name it is stored under, e.g. ``video.mp4``.
        size: its length in bytes.
        path: where it lives in the store.
    """

    digest: str
    name: str
    size: int
    path: Path


class ArtifactStore:
    """Stores files under ``root`` by content. ``root`` is created on first write.

    Raises:
        ValueError: a name that is not a single path component (empty, ``.``,
            ``..``, or containing a path separator or NUL), or a digest that is
            not 64 lowercase hex characters.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        #: bytes of new files written since this store was made (deduplicated and
        #: hard-linked files cost nothing); a run reports its share
        self.bytes_written = 0

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    # -- writing -------------------------------------------------------------------

    def put_file(self, path: Path, name: str | None = None) -> Artifact:
        """Store a copy of ``path`` under ``name`` (its own file name by default).

        The source is hashed in 1 MiB chunks; nothing is copied when the store
        already has these bytes under this name.

        Raises:
            OSError: the source cannot be read.
            ArtifactError: the source changed while it was being copied.
        """
        path = Path(path)
        name = _check_name(path.name if name is None else name)
        digest, size = _hash_file(path)

        def write(out: BinaryIO) -> str:
            with path.open("rb") as src:
                return _copy_hashing(src, out)

        return self._put(digest, size, name, write)

    def put_bytes(self, data: bytes, name: str) -> Artifact:
        """Store ``data`` as a file called ``name``."""
        name = _check_name(name)
        digest = hashlib.sha256(data).hexdigest()

        def write(out: BinaryIO) -> str:
            out.write(data)
            return digest

        return self._put(digest, len(data), name, write)

    def _put(self, digest: str, size: int, name: str, write: Callable[[BinaryIO], str]) -> Artifact:
        target = self.path_for(digest, name)
        artifact = Artifact(digest=digest, name=name, size=size, path=target)
        if _size_of(target) == size:
            # dedup: these bytes are already stored under this name. Touch the file:
            # `reelgraph gc` never deletes files newer than the oldest live run.
            with contextlib.suppress(OSError):
                os.utime(target)
            return artifact
        folder = target.parent
        _make_dirs(folder)
        tmp = folder / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
        sibling = self._sibling(folder, size, name)
        try:
            if sibling is not None and _link(sibling, tmp):
                _replace(tmp, target)
                return artifact
            with tmp.open("xb") as out:
                written = write(out)
                out.flush()
                os.fsync(out.fileno())
            if written != digest:
                raise ArtifactError(
                    f"{name}: the source changed while it was being stored "
                    f"(hashed {digest}, copied {written}); store it again"
                )
            _replace(tmp, target)
            self.bytes_written += size
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return artifact

    def _sibling(self, folder: Path, size: int, name: str) -> Path | None:
        """Another name already holding these bytes, to hard-link to."""
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.name != name and not entry.name.startswith(_TMP_PREFIX):
                    with contextlib.suppress(OSError):
                        if entry.is_file(follow_symlinks=False) and entry.stat().st_size == size:
                            return Path(entry.path)
        return None

    # -- reading ---------------------------------------------------------------------

    def path_for(self, digest: str, name: str) -> Path:
        """``root/<digest[:2]>/<digest>/<name>``, whether or not it exists."""
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest / _check_name(name)

    def get(self, digest: str, name: str, *, verify: bool = True) -> Path:
        """The stored file's path, re-hashed first unless ``verify`` is false.

        Raises:
            ArtifactMissing: nothing is stored under this digest and name.
            ArtifactCorrupt: the file's bytes no longer hash to ``digest``.
        """
        path = self.path_for(digest, name)
        if not path.is_file():
            raise ArtifactMissing(f"artifact {digest} ({name}) is missing: no file at {path}")
        if verify:
            actual, _ = _hash_file(path)
            if actual != digest:
                raise ArtifactCorrupt(
                    f"artifact {digest} ({name}) is corrupt: {path} hashes to {actual}; "
                    "delete it and run the node again"
                )
        return path

    def verify(self, digest: str, name: str) -> bool:
        """True when the file exists and hashes to ``digest`` (re-hashed every call)."""
        try:
            self.get(digest, name, verify=True)
        except (ArtifactMissing, ArtifactCorrupt):
            return False
        return True


# -- helpers -------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
    ):
        raise ValueError(f"artifact name must be a single file name, got {name!r}")
    return name


def _chunks(src: BinaryIO) -> Iterator[bytes]:
    while chunk := src.read(CHUNK_BYTES):
        yield chunk


def _hash_file(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of a file, read in 1 MiB chunks."""
    sha = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as src:
        for chunk in _chunks(src):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _copy_hashing(src: BinaryIO, out: BinaryIO) -> str:
    sha = hashlib.sha256()
    for chunk in _chunks(src):
        sha.update(chunk)
        out.write(chunk)
    return sha.hexdigest()


def _link(source: Path, link: Path) -> bool:
    """Hard-link ``link`` to ``source``; False where links are impossible (e.g. FAT, cross-device)."""
    try:
        os.link(source, link)
    except OSError:
        return False
    return True


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _make_dirs(folder: Path) -> None:
    """Create ``folder`` and its parents, fsyncing each parent that gained an entry."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
        _fsync_dir(directory.parent)


def _replace(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # Windows cannot open a directory for fsync; its renames are journaled by NTFS.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
