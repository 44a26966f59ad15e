"""The artifact store on any fsspec filesystem: S3 (s3fs), GCS, Azure, SFTP, memory.

``REELGRAPH_ARTIFACTS=s3://bucket/prefix`` (or ``Kernel(artifacts=...)``)
keeps a run's artifacts in shared storage, content-addressed exactly as the
local store keeps them: ``<url>/<digest[:2]>/<digest>/<name>``. Unset, or a
plain path, keeps the local :class:`~reelgraph.store.artifacts.ArtifactStore`
(unchanged behaviour and speed). s3:// needs ``pip install "reelgraph[s3]"``
(s3fs); other schemes need the package fsspec names (gcsfs, adlfs, ...).
Storage options come from where fsspec and the SDK read them: for S3 the
``AWS_*`` variables botocore reads (``AWS_ENDPOINT_URL`` for MinIO, R2 or a
test server; https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html),
for any scheme ``FSSPEC_<PROTOCOL>_<OPTION>`` variables or fsspec's config
files (https://filesystem-spec.readthedocs.io/en/latest/features.html#configuration).

**Local copies.** Plugins (ffmpeg above all) need files on disk, so a remote
store keeps a local, content-addressed cache, itself an
:class:`ArtifactStore` at ``<home>/artifact-cache``: a file is written there
first (hashed while copied) and uploaded from there, and a file another
process stored is downloaded there on first use, hashed while it streams and
refused (:class:`ArtifactCorrupt`) unless it hashes to its digest. A digest
never changes its bytes, so the cache needs no invalidation; ``reelgraph gc``
prunes files no kept run references, and deleting the whole folder while no
run is live is always safe (files come back on use). We download into the
content-addressed cache rather than use fsspec's ``simplecache``/``filecache``
because those key files by URL and do not check the bytes against the digest.

**Commit protocol** (nothing half-written is ever at a content address):

1. the bytes are streamed from the verified cache copy to a temporary key
   ``<url>/.tmp/<digest>.<random>``, hashed (sha256, and md5 for S3's ETag)
   as they are sent;
2. the temporary object is checked: its size from the server equals the
   file's, our sha256 equals the digest, and where the server reports a
   single-part S3 ETag it equals the md5 we sent (S3's ETag of a single-part
   plaintext/SSE-S3 object is the MD5 of its data:
   https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html);
3. it is committed to the content address: on object stores (S3, GCS,
   Azure, memory), which have no rename, by a server-side copy (S3
   CopyObject), then the temporary key is deleted; elsewhere (SFTP, SMB) by
   a rename (``fs.mv``), as the local store does. CopyObject, like
   PutObject, never exposes a partial object: the destination key holds the
   whole new object or nothing
   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel);
4. only then does :meth:`put_file` return, and only then does the kernel
   write the node's output (the reference) to the run store.

A ``kill -9`` at any point leaves either nothing, or a whole temporary object
(an orphan no run references; ``reelgraph gc`` deletes ``.tmp/`` objects
older than the earliest live run), or a whole object at its content address
that no run references yet (the resumed node stores the same bytes again, or
gc deletes it). An S3 multipart upload (s3fs sends files over its block
size, 50 MiB by default, in parts) cut short is invisible: there is no key
until CompleteMultipartUpload. Its parts are still stored: gc aborts such
uploads under ``.tmp/`` (ListMultipartUploads, AbortMultipartUpload), and the
bucket's AbortIncompleteMultipartUpload lifecycle rule is a good second net
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html).

**Fault points for crash tests.** ``REELGRAPH_FAULT_PAUSE=POINT`` (or
``POINT:NAME`` for the artifact stored as NAME only) makes the process write
its pid to ``REELGRAPH_FAULT_PAUSE_FILE`` and sleep there until it is killed.
Points: ``artifact-upload`` (half the bytes sent), ``artifact-uploaded`` (the
temporary object checked, before the commit), ``artifact-committed`` (the
object at its content address, the temporary one not yet deleted).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

from reelgraph.errors import ConfigurationError
from reelgraph.store.artifacts import (
    CHUNK_BYTES,
    Artifact,
    ArtifactCorrupt,
    ArtifactError,
    ArtifactMissing,
    ArtifactStore,
)

__all__ = [
    "ARTIFACTS_ENV",
    "FsspecArtifactStore",
    "RemoteObject",
    "open_artifact_store",
    "redact_url",
]

#: the variable naming the artifact store (a URL, or a local folder)
ARTIFACTS_ENV = "REELGRAPH_ARTIFACTS"
TMP_DIR = ".tmp"
_FAULT_ENV = "REELGRAPH_FAULT_PAUSE"
_FAULT_FILE_ENV = "REELGRAPH_FAULT_PAUSE_FILE"
# packages fsspec needs per scheme, for the install hint (fsspec's own
# registry names the package too; this adds our extra where we have one)
_EXTRAS = {"s3": 'pip install "reelgraph[s3]"', "s3a": 'pip install "reelgraph[s3]"'}
# fsspec protocols of object stores: no rename, but a server-side copy that
# creates the destination whole (S3 CopyObject, GCS rewrite, Azure Copy Blob)
_OBJECT_STORES = frozenset(
    {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "memory"}
)


def open_artifact_store(location: str | os.PathLike[str] | None, home: Path) -> ArtifactStore:
    """The artifact store at ``location``.

    Args:
        location: ``None`` or empty for ``<home>/artifacts``; a path or a
            ``file://`` URL for a local folder; any other fsspec URL
            (``s3://bucket/prefix``) for a :class:`FsspecArtifactStore` with
            its cache in ``<home>/artifact-cache``.
        home: the kernel's home.

    Raises:
        ConfigurationError: the URL's scheme is unknown to fsspec, its package
            is not installed (the message says what to install), or it names
            no bucket or folder.
    """
    if not location:
        return ArtifactStore(home / "artifacts")
    text = os.fspath(location)
    scheme = urlsplit(text).scheme
    if "://" not in text or len(scheme) < 2:  # a path (C:\ on Windows has a 1-letter scheme)
        return ArtifactStore(Path(text).expanduser())
    if scheme in ("file", "local"):
        return ArtifactStore(Path(urlsplit(text).path))
    return FsspecArtifactStore(text, cache=home / "artifact-cache")


def redact_url(url: str) -> str:
    """``url`` without a password in its user part (``ftp://me:***@host/x``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One object under a remote store's root (for ``reelgraph gc``).

    Attributes:
        key: its path on the filesystem, without the protocol (``bucket/prefix/ab/...``).
        size: bytes.
        mtime: last modified, Unix seconds.
        temporary: an upload's temporary object (under ``.tmp/``).
        upload_id: set for an S3 multipart upload never completed (``mtime``:
            when it was initiated; ``size`` 0: its parts are not listed).
    """

    key: str
    size: int
    mtime: float
    temporary: bool
    upload_id: str | None = None


class FsspecArtifactStore(ArtifactStore):
    """Content-addressed files on an fsspec filesystem, with a local cache.

    The interface is :class:`ArtifactStore`'s: :meth:`put_file` and
    :meth:`put_bytes` store (cache, then upload; see the module's commit
    protocol), :meth:`get` returns a local path (downloaded on first use),
    ``path_for`` and ``root`` are the cache's. Thread-safe; several processes
    and hosts may share one URL.

    Attributes:
        url: the store's URL as given (see :func:`redact_url` for display).
        cache: the local cache.
        bytes_written: bytes uploaded by this instance (deduplicated files cost nothing).
        bytes_downloaded: bytes downloaded into the cache by this instance.

    Raises:
        ConfigurationError: as :func:`open_artifact_store`.
    """

    def __init__(self, url: str, cache: Path) -> None:
        super().__init__(Path(cache))
        self.fs, self.base = _filesystem(url)
        self.url = url.rstrip("/")
        self.cache = ArtifactStore(Path(cache))
        self.bytes_downloaded = 0
        self._lock = threading.Lock()  # the byte counters

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({redact_url(self.url)!r}, cache={str(self.root)!r})"

    # -- keys --------------------------------------------------------------------------

    def key_for(self, digest: str, name: str) -> str:
        """``<base>/<digest[:2]>/<digest>/<name>`` on the filesystem (checks both parts)."""
        self.path_for(digest, name)  # raises ValueError on a bad digest or name
        return f"{self.base}/{digest[:2]}/{digest}/{name}"

    def url_for(self, digest: str, name: str) -> str:
        """The object's URL, for messages (no password)."""
        return redact_url(f"{self.url}/{digest[:2]}/{digest}/{name}")

    # -- writing -----------------------------------------------------------------------

    def put_file(self, path: Path, name: str | None = None) -> Artifact:
        """Store ``path`` (see :meth:`ArtifactStore.put_file`) and upload it.

        Raises:
            OSError: the source cannot be read.
            ArtifactError: the source changed while it was copied, or the
                upload failed or did not check out (the message names the URL).
        """
        return self._upload(self.cache.put_file(path, name))

    def put_bytes(self, data: bytes, name: str) -> Artifact:
        """Store ``data`` as ``name`` and upload it."""
        return self._upload(self.cache.put_bytes(data, name))

    def _upload(self, artifact: Artifact) -> Artifact:
        ref = (artifact.digest, artifact.name)
        key = self.key_for(*ref)
        # dedup: these bytes are already stored under this name. Asked every time, not
        # remembered: gc on another host may have deleted the object since.
        if self._remote_size(key) == artifact.size:
            return artifact
        tmp = f"{self.base}/{TMP_DIR}/{artifact.digest}.{secrets.token_hex(8)}"
        try:
            self._send(artifact, tmp)
            _fault_point("artifact-uploaded", artifact.name)
            self._commit(tmp, key, artifact.name)
        except ArtifactError:
            self._discard(tmp)
            raise
        except Exception as err:  # the filesystem's own errors: OSError, botocore's, ...
            self._discard(tmp)
            raise ArtifactError(
                f"{artifact.name}: could not upload to {self.url_for(*ref)}: {err}; "
                "check the store's URL, credentials and network, then resume the run"
            ) from err
        self.fs.invalidate_cache(key)
        with self._lock:
            self.bytes_written += artifact.size
        return artifact

    def _send(self, artifact: Artifact, tmp: str) -> None:
        """Stream the cached copy to ``tmp`` and check what arrived (steps 1-2)."""
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        sent = 0
        with artifact.path.open("rb") as src, self.fs.open(tmp, "wb") as out:
            for chunk in _chunks(src):
                sha.update(chunk)
                md5.update(chunk)
                out.write(chunk)
                sent += len(chunk)
                if sent * 2 >= artifact.size:
                    _fault_point("artifact-upload", artifact.name)
        self.fs.invalidate_cache(tmp)
        info = self.fs.info(tmp)
        problem = None
        if sha.hexdigest() != artifact.digest:
            problem = f"the cached copy changed while it was sent (hashed {sha.hexdigest()})"
        elif int(info.get("size", -1)) != artifact.size:
            problem = f"{info.get('size')} bytes arrived of {artifact.size}"
        else:
            etag = str(info.get("ETag") or "").strip('"')
            if len(etag) == 32 and "-" not in etag and etag != md5.hexdigest():
                problem = f"the server's MD5 ETag {etag} is not the MD5 sent ({md5.hexdigest()})"
        if problem is not None:
            raise ArtifactCorrupt(
                f"{artifact.name}: upload to {redact_url(self.url)} did not check out: {problem}; "
                "the object was discarded, resume the run to store it again"
            )

    def _commit(self, tmp: str, key: str, name: str) -> None:
        """Put the checked temporary object at its content address (step 3)."""
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if _OBJECT_STORES.isdisjoint(protocols):
            self.fs.mv(tmp, key)  # a rename: atomic where the filesystem has one
            return
        self.fs.copy(tmp, key)
        _fault_point("artifact-committed", name)
        self.fs.rm(tmp)

    def _discard(self, tmp: str) -> None:
        with contextlib.suppress(Exception):  # gc removes what a failed delete leaves
            self.fs.rm(tmp)

    # -- reading -----------------------------------------------------------------------

    def get(self, digest: str, name: str, *, verify: bool = True) -> Path:
        """A local path to the file: the cache's, downloaded first when the cache lacks it.

        With ``verify``, the remote object must exist with the cached file's
        size (one metadata request) and the cached file is re-hashed; a cached
        file that fails its hash is downloaded again.

        Raises:
            ArtifactMissing: no object is stored under this digest and name.
            ArtifactCorrupt: the downloaded bytes do not hash to ``digest``.
            ArtifactError: the remote store cannot be read (the message names the URL).
        """
        path = self.path_for(digest, name)
        key = self.key_for(digest, name)
        if path.is_file() and not verify:
            return path
        size = self._remote_size(key)
        if size is None:
            raise ArtifactMissing(
                f"artifact {digest} ({name}) is missing: no object at {self.url_for(digest, name)}"
            )
        if path.is_file():
            with contextlib.suppress(ArtifactCorrupt):
                if _size(path) == size:
                    return self.cache.get(digest, name, verify=True)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # a bad cached copy: fetch it again
        self._download(digest, name, key, size)
        return path

    def verify(self, digest: str, name: str) -> bool:
        """True when the object exists and the (downloaded) local copy hashes to ``digest``."""
        try:
            self.get(digest, name, verify=True)
        except (ArtifactMissing, ArtifactCorrupt):
            return False
        return True

    def exists(self, digest: str, name: str) -> bool:
        """True when the remote store holds an object under this digest and name."""
        try:
            return self._remote_size(self.key_for(digest, name)) is not None
        except ValueError:
            return False

    def _download(self, digest: str, name: str, key: str, size: int) -> None:
        def write(out: BinaryIO) -> str:
            sha = hashlib.sha256()
            with self.fs.open(key, "rb") as src:
                for chunk in _chunks(src):
                    sha.update(chunk)
                    out.write(chunk)
            return sha.hexdigest()

        try:
            # the cache's own write: a temporary file, fsync, rename only when the digest matches
            self.cache._put(digest, size, name, write)
        except ArtifactError as err:
            raise ArtifactCorrupt(
                f"artifact {digest} ({name}) is corrupt: {self.url_for(digest, name)} "
                f"does not hash to its digest ({err}); delete it and run the node again"
            ) from err
        except FileNotFoundError as err:
            raise ArtifactMissing(
                f"artifact {digest} ({name}) is missing: no object at {self.url_for(digest, name)}"
            ) from err
        except Exception as err:
            raise ArtifactError(
                f"artifact {digest} ({name}): could not download {self.url_for(digest, name)}: {err}"
            ) from err
        with self._lock:
            self.bytes_downloaded += size

    def _remote_size(self, key: str) -> int | None:
        """The object's size, ``None`` when there is none (never from a stale listing)."""
        self.fs.invalidate_cache(key)
        try:
            info = self.fs.info(key)
        except FileNotFoundError:
            return None
        except Exception as err:
            raise ArtifactError(f"cannot read {redact_url(self.url)}: {err}") from err
        return int(info["size"]) if info.get("type", "file") == "file" else None

    # -- garbage collection --------------------------------------------------------------

    def scan(self) -> list[RemoteObject]:
        """Every object under the root: content addresses and ``.tmp/`` uploads."""
        self.fs.invalidate_cache(self.base)
        try:
            found = self.fs.find(self.base, detail=True)
        except FileNotFoundError:
            return []
        objects = []
        tmp_prefix = f"{self.base}/{TMP_DIR}/"
        for key, info in found.items():
            if info.get("type", "file") != "file":
                continue
            objects.append(
                RemoteObject(
                    key=key,
                    size=int(info.get("size") or 0),
                    mtime=_mtime(self.fs, key, info),
                    temporary=key.startswith(tmp_prefix),
                )
            )
        return objects + self._unfinished_uploads()

    def _unfinished_uploads(self) -> list[RemoteObject]:
        """S3 multipart uploads under ``.tmp/`` never completed (s3fs only; else none)."""
        lister = getattr(self.fs, "list_multipart_uploads", None)
        if lister is None:
            return []
        bucket, _, prefix = self.base.partition("/")
        tmp_prefix = f"{prefix}/{TMP_DIR}/" if prefix else f"{TMP_DIR}/"
        found = []
        for upload in lister(bucket):
            key, initiated = str(upload.get("Key", "")), upload.get("Initiated")
            if key.startswith(tmp_prefix) and upload.get("UploadId"):
                mtime = initiated.timestamp() if isinstance(initiated, datetime) else time.time()
                found.append(RemoteObject(f"{bucket}/{key}", 0, mtime, True, upload["UploadId"]))
        return found

    def garbage(
        self,
        objects: Iterable[RemoteObject],
        referenced: Iterable[tuple[str, str]],
        cutoff: float | None,
    ) -> tuple[list[RemoteObject], int]:
        """Objects no reference names, and how many more were kept for being newer than
        ``cutoff`` (a live run's start: its uploads are not referenced yet)."""
        wanted = self.keys_for(referenced)
        garbage, recent = [], 0
        for o in objects:
            if o.key in wanted:
                continue
            if cutoff is not None and o.mtime >= cutoff:
                recent += 1
                continue
            garbage.append(o)
        return garbage, recent

    def keys_for(self, refs: Iterable[tuple[str, str]]) -> set[str]:
        """The keys of these ``(digest, name)`` references (bad ones left out)."""
        keys = set()
        for digest, name in refs:
            with contextlib.suppress(ValueError):
                keys.add(self.key_for(digest, name))
        return keys

    def delete(self, objects: Iterable[RemoteObject]) -> int:
        """Delete these objects; how many went (a vanished one counts as gone)."""
        objects = list(objects)
        keys = [o.key for o in objects if o.upload_id is None]
        if keys:
            self.fs.rm(keys)
        for o in objects:
            if o.upload_id is not None:
                bucket, _, key = o.key.partition("/")
                with contextlib.suppress(FileNotFoundError):  # completed or aborted meanwhile
                    self.fs.call_s3(
                        "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=o.upload_id
                    )
        self.fs.invalidate_cache(self.base)
        return len(objects)


# -- helpers ------------------------------------------------------------------------------


def _filesystem(url: str) -> tuple[Any, str]:
    """``(fsspec filesystem, root path without protocol)`` for ``url``."""
    import fsspec
    from fsspec.registry import known_implementations

    scheme = urlsplit(url).scheme
    shown = redact_url(url)
    if scheme not in known_implementations and scheme not in fsspec.available_protocols():
        raise ConfigurationError(
            f"{ARTIFACTS_ENV}={shown}: fsspec knows no '{scheme}://' filesystem; "
            "use s3://bucket/prefix (or another fsspec URL, e.g. gcs://, az://, memory://)"
        )
    try:
        # a filesystem of our own: fsspec's instance cache would keep the endpoint and
        # credentials of the first store made in this process for every later one
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True)
    except ImportError as err:
        hint = _EXTRAS.get(scheme) or str(err)
        raise ConfigurationError(
            f"{ARTIFACTS_ENV}={shown} needs the package for '{scheme}://': {hint}"
        ) from err
    except Exception as err:
        raise ConfigurationError(f"{ARTIFACTS_ENV}={shown}: cannot open it: {err}") from err
    root = str(root).rstrip("/")
    if not root:
        raise ConfigurationError(
            f"{ARTIFACTS_ENV}={shown} names no bucket or folder; e.g. {scheme}://my-bucket/reelgraph"
        )
    return fs, root


def _chunks(src: BinaryIO) -> Iterator[bytes]:
    while chunk := src.read(CHUNK_BYTES):
        yield chunk


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _mtime(fs: Any, key: str, info: Mapping[str, Any]) -> float:
    """Last modified, Unix seconds, from a listing's info (S3 ``LastModified``, local
    ``mtime``, memory ``created``), else the filesystem's ``modified()``."""
    for field in ("LastModified", "mtime", "created", "last_modified", "updated"):
        value = info.get(field)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    try:
        return fs.modified(key).timestamp()  # type: ignore[no-any-return]
    except Exception:
        return time.time()  # unknown: treat as new, so gc keeps it


def _fault_point(point: str, name: str) -> None:
    """Pause here for a crash test when ``REELGRAPH_FAULT_PAUSE`` names this point
    (and, after a colon, this artifact's name)."""
    wanted = os.environ.get(_FAULT_ENV)
    if wanted not in (point, f"{point}:{name}"):
        return
    marker = os.environ.get(_FAULT_FILE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    while True:  # until the test kills us
        time.sleep(3600)
