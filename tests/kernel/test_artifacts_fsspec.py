"""The artifact store on an fsspec filesystem: s3fs against moto's S3 server on loopback.

The local store's tests (tests/kernel/test_artifacts.py) run here again on both
backends through the ``store`` fixture; then what only a remote store does:
downloads into the cache, checks on the bytes that arrive, the commit
protocol's temporary keys, configuration errors, gc of remote objects, and a
kernel run whose artifacts live in the bucket, read back by a second "host".
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.errors import ConfigurationError
from reelgraph.hookspecs import hookspec
from reelgraph.store.artifacts import ArtifactCorrupt, ArtifactError, ArtifactMissing, ArtifactStore
from reelgraph.store.gc import GcPolicy, apply_gc, plan_gc
from reelgraph.store.remote_artifacts import (
    FsspecArtifactStore,
    open_artifact_store,
    redact_url,
)
from tests.kernel.test_artifacts import (  # noqa: F401  (run again on both backends)
    test_bad_digests_are_rejected,
    test_bad_names_are_rejected,
    test_concurrent_writers_of_the_same_content,
    test_missing_artifact,
    test_put_bytes_stores_under_digest_and_name,
    test_put_file_hashes_large_files_in_chunks,
    test_same_content_and_name_is_not_copied_again,
    test_same_content_under_two_names_is_hard_linked,
)

pytest.importorskip("s3fs", reason='the S3 artifact store needs s3fs: pip install "reelgraph[s3]"')


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def bucket(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh bucket on the moto server (a boto3 client with ``.name``), the environment
    pointing s3fs at the server through ``AWS_ENDPOINT_URL``."""
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    name = f"rg-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    client.name = name
    yield client
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def keys(bucket: Any) -> list[str]:
    return sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=bucket.name).get("Contents", []))


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """The store the shared tests use: local, and on S3 with its cache in ``tmp_path``."""
    if request.param == "local":
        return ArtifactStore(tmp_path / "artifacts")
    client = request.getfixturevalue("bucket")
    return FsspecArtifactStore(f"s3://{client.name}/arts", cache=tmp_path / "artifacts")


@pytest.fixture
def remote(bucket: Any, tmp_path: Path) -> FsspecArtifactStore:
    return FsspecArtifactStore(f"s3://{bucket.name}/arts", cache=tmp_path / "cache-a")


# -- layout and the commit protocol ----------------------------------------------------------


def test_objects_live_at_their_content_address_with_no_temporary_left(
    remote: FsspecArtifactStore, bucket: Any
) -> None:
    data = b"narration" * 1000
    artifact = remote.put_bytes(data, "voice.wav")
    digest = sha(data)
    key = f"arts/{digest[:2]}/{digest}/voice.wav"
    assert keys(bucket) == [key]  # no .tmp/ object after a commit
    assert bucket.get_object(Bucket=bucket.name, Key=key)["Body"].read() == data
    assert artifact.path == remote.path_for(digest, "voice.wav")  # the local copy
    assert artifact.path.read_bytes() == data
    assert remote.bytes_written == len(data)


def test_a_multipart_upload_and_an_empty_file_commit_whole(
    remote: FsspecArtifactStore, bucket: Any, tmp_path: Path
) -> None:
    remote.fs.default_block_size = 5 * 1024 * 1024  # S3's smallest part: 11 MiB is 3 parts
    data = bytes(range(251)) * (11 * 1024 * 1024 // 251)
    big = remote.put_bytes(data, "video.mp4")
    empty = remote.put_bytes(b"", "empty.srt")
    assert [k for k in keys(bucket) if "/.tmp/" in k] == []
    other = FsspecArtifactStore(f"s3://{bucket.name}/arts", cache=tmp_path / "cache-b")
    assert other.get(big.digest, "video.mp4").read_bytes() == data
    assert other.get(empty.digest, "empty.srt").read_bytes() == b""


def test_another_host_downloads_once_and_checks_the_bytes(
    remote: FsspecArtifactStore, bucket: Any, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 9000  # 2.2 MiB: several chunks
    remote.put_bytes(data, "clip.mp4")
    other = FsspecArtifactStore(f"s3://{bucket.name}/arts", cache=tmp_path / "cache-b")
    path = other.get(sha(data), "clip.mp4")
    assert path.read_bytes() == data
    assert path.is_relative_to(tmp_path / "cache-b")
    assert other.bytes_downloaded == len(data)
    assert other.get(sha(data), "clip.mp4", verify=False) == path
    assert other.get(sha(data), "clip.mp4", verify=True) == path
    assert other.bytes_downloaded == len(data)  # the cached copy served both
    assert list((tmp_path / "cache-b").rglob(".tmp-*")) == []


def test_storing_bytes_another_host_stored_uploads_nothing(
    remote: FsspecArtifactStore, bucket: Any, tmp_path: Path
) -> None:
    remote.put_bytes(b"same frame", "f.png")
    other = FsspecArtifactStore(f"s3://{bucket.name}/arts", cache=tmp_path / "cache-b")
    other.put_bytes(b"same frame", "f.png")
    assert other.bytes_written == 0
    assert len(keys(bucket)) == 1


def test_a_tampered_object_is_refused_and_nothing_is_cached(
    remote: FsspecArtifactStore, bucket: Any, tmp_path: Path
) -> None:
    data = b"precious bytes"
    remote.put_bytes(data, "v.mp4")
    key = f"arts/{sha(data)[:2]}/{sha(data)}/v.mp4"
    bucket.put_object(Bucket=bucket.name, Key=key, Body=b"precious bytez")  # same size
    other = FsspecArtifactStore(f"s3://{bucket.name}/arts", cache=tmp_path / "cache-b")
    with pytest.raises(ArtifactCorrupt) as caught:
        other.get(sha(data), "v.mp4")
    assert f"s3://{bucket.name}/arts/" in str(caught.value)
    assert sha(data) in str(caught.value)
    assert not other.verify(sha(data), "v.mp4")
    assert [p for p in (tmp_path / "cache-b").rglob("*") if p.is_file()] == []


def test_a_damaged_cached_copy_is_fetched_again(remote: FsspecArtifactStore) -> None:
    artifact = remote.put_bytes(b"abc" * 100, "t.txt")
    artifact.path.write_bytes(b"abd" * 100)
    assert remote.get(artifact.digest, "t.txt", verify=True).read_bytes() == b"abc" * 100
    assert remote.bytes_downloaded == 300


def test_an_object_gone_from_the_bucket_is_missing_though_cached(
    remote: FsspecArtifactStore, bucket: Any
) -> None:
    artifact = remote.put_bytes(b"gone soon", "g.txt")
    bucket.delete_object(Bucket=bucket.name, Key=keys(bucket)[0])
    with pytest.raises(ArtifactMissing, match=f"s3://{bucket.name}/arts/"):
        remote.get(artifact.digest, "g.txt")
    assert not remote.exists(artifact.digest, "g.txt")
    # without verification the cached copy serves (show, lineage: read-only views)
    assert remote.get(artifact.digest, "g.txt", verify=False) == artifact.path


def test_an_upload_that_fails_leaves_nothing_and_names_the_url(tmp_path: Path, bucket: Any) -> None:
    store = FsspecArtifactStore("s3://rg-no-such-bucket/arts", cache=tmp_path / "c")
    with pytest.raises(ArtifactError) as caught:
        store.put_bytes(b"data", "d.bin")
    message = str(caught.value)
    assert "s3://rg-no-such-bucket/arts/" in message and "d.bin" in message
    assert "testing" not in message  # the secret key never appears
    assert store.bytes_written == 0


# -- configuration ---------------------------------------------------------------------------


def test_where_the_store_is_chosen(tmp_path: Path, bucket: Any) -> None:
    assert open_artifact_store(None, tmp_path).root == tmp_path / "artifacts"
    assert open_artifact_store("", tmp_path).root == tmp_path / "artifacts"
    local = open_artifact_store(str(tmp_path / "elsewhere"), tmp_path)
    assert type(local) is ArtifactStore and local.root == tmp_path / "elsewhere"
    assert open_artifact_store(f"file://{tmp_path}/f", tmp_path).root == tmp_path / "f"
    s3 = open_artifact_store(f"s3://{bucket.name}/p/", tmp_path)
    assert isinstance(s3, FsspecArtifactStore)
    assert s3.root == tmp_path / "artifact-cache" and s3.base == f"{bucket.name}/p"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nosuchfs://bucket/x", "fsspec knows no 'nosuchfs://' filesystem"),
        ("s3://", "names no bucket or folder"),
    ],
)
def test_a_bad_url_is_one_configuration_error(tmp_path: Path, url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as caught:
        open_artifact_store(url, tmp_path)
    assert "REELGRAPH_ARTIFACTS" in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_filesystem_package_is_named(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here: no missing package to name")
    with pytest.raises(ConfigurationError, match="gcsfs"):
        open_artifact_store("gcs://bucket/x", tmp_path)


def test_a_password_in_the_url_is_never_shown(tmp_path: Path) -> None:
    assert redact_url("ftp://me:hunter2@host:21/x") == "ftp://me:***@host:21/x"
    assert redact_url("s3://bucket/x") == "s3://bucket/x"
    store = FsspecArtifactStore("memory://rg-redact/x", cache=tmp_path / "c")
    store.url = "memory://me:hunter2@rg-redact/x"  # as a URL with credentials would be kept
    assert "hunter2" not in repr(store)
    assert "hunter2" not in store.url_for(sha(b"x"), "x.txt")


# -- garbage collection ----------------------------------------------------------------------


class FileSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def make(text, ctx):
        """Write ``text`` to a file and return its path."""


class Maker:
    reelgraph_name = "maker"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def make(self, text, ctx):
        self.calls += 1
        path = ctx.workdir / "out.txt"
        path.write_text(text)
        return path


SPEC = {
    "name": "remote-files",
    "inputs": {"text": {"type": "string"}},
    "nodes": [
        {"id": "made", "hook": "make", "provider": "maker", "with": {"text": "$inputs.text"}}
    ],
}


def kernel_for(home: Path, artifacts: str, store: Path, maker: Maker) -> Kernel:
    return Kernel(
        plugins=[maker],
        entry_points=False,
        hookspecs=[FileSpecs],
        home=home,
        artifacts=artifacts,
        store=str(store),
    )


def test_a_run_keeps_its_files_in_the_bucket_and_a_second_host_reuses_them(
    bucket: Any, tmp_path: Path
) -> None:
    url, db = f"s3://{bucket.name}/team", tmp_path / "shared.db"
    first = Maker()
    run = kernel_for(tmp_path / "host-a", url, db, first).run(SPEC, inputs={"text": "hello"})
    assert run.status == "succeeded", run.error
    assert keys(bucket) == [f"team/{sha(b'hello')[:2]}/{sha(b'hello')}/out.txt"]
    assert run.outputs["made"].read_text() == "hello"
    assert run.outputs["made"].is_relative_to(tmp_path / "host-a" / "artifact-cache")
    # host b shares the run store and the bucket, not the disk: a memo hit, downloaded
    second = Maker()
    kernel_b = kernel_for(tmp_path / "host-b", url, db, second)
    again = kernel_b.run(SPEC, inputs={"text": "hello"})
    assert again.status == "succeeded" and second.calls == 0
    assert again.outputs["made"].is_relative_to(tmp_path / "host-b" / "artifact-cache")
    assert again.outputs["made"].read_text() == "hello"
    assert isinstance(kernel_b.artifacts, FsspecArtifactStore)
    assert kernel_b.artifacts.bytes_downloaded == 5


def test_the_environment_names_the_store(
    bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELGRAPH_ARTIFACTS", f"s3://{bucket.name}/env")
    kernel = Kernel(plugins=[Maker()], entry_points=False, hookspecs=[FileSpecs], home=tmp_path)
    assert kernel.run(SPEC, inputs={"text": "env"}).status == "succeeded"
    assert keys(bucket) == [f"env/{sha(b'env')[:2]}/{sha(b'env')}/out.txt"]


def test_gc_removes_unreferenced_and_orphan_temporary_objects(bucket: Any, tmp_path: Path) -> None:
    url, db = f"s3://{bucket.name}/gc", tmp_path / "gc.db"
    kernel = kernel_for(tmp_path / "home", url, db, Maker())
    old = kernel.run(SPEC, inputs={"text": "old run"})
    kept = kernel.run(SPEC, inputs={"text": "kept run"})
    assert old.status == kept.status == "succeeded"
    # what a process killed mid-commit leaves: a whole .tmp/ upload nothing references
    bucket.put_object(Bucket=bucket.name, Key="gc/.tmp/" + "ab" * 32 + ".deadbeef", Body=b"x" * 7)
    store, artifacts = kernel.store, kernel.artifacts
    assert isinstance(artifacts, FsspecArtifactStore)
    runs_dir = tmp_path / "home" / "runs"
    # memo entries keep their files too: expire them (all older than a microsecond)
    policy = GcPolicy(keep_last=1, older_than_s=1e-6, memo=True)
    plan = plan_gc(store, artifacts, runs_dir, policy)
    assert [r.id for r in plan.runs] == [old.id]
    going = sorted(o.key.split("/", 1)[1] for o in plan.remote)
    old_key = f"gc/{sha(b'old run')[:2]}/{sha(b'old run')}/out.txt"
    assert going == sorted([old_key, "gc/.tmp/" + "ab" * 32 + ".deadbeef"])
    assert plan.remote_bytes == len(b"old run") + 7
    assert json.loads(json.dumps(plan.to_dict()))["remote_artifacts"] == 2
    assert len(keys(bucket)) == 3  # planning changed nothing
    result = apply_gc(store, artifacts, runs_dir, plan)
    assert result.remote_artifacts == 2 and result.remote_bytes == plan.remote_bytes
    assert keys(bucket) == [f"gc/{sha(b'kept run')[:2]}/{sha(b'kept run')}/out.txt"]
    # the kept run's file is still served, and the cache lost the removed run's copy
    assert artifacts.get(sha(b"kept run"), "out.txt").read_text() == "kept run"
    assert not artifacts.path_for(sha(b"old run"), "out.txt").exists()


def test_gc_keeps_objects_newer_than_a_live_run(bucket: Any, tmp_path: Path) -> None:
    url, db = f"s3://{bucket.name}/live", tmp_path / "live.db"
    kernel = kernel_for(tmp_path / "home", url, db, Maker())
    bucket.put_object(Bucket=bucket.name, Key="live/.tmp/" + "cd" * 32 + ".0001", Body=b"y")
    # a run recorded as running (no lease yet) started a minute before: its uploads are young
    kernel.store.create_run(
        "live-run",
        spec="remote-files",
        spec_path=None,
        spec_text="{}",
        inputs={},
        output_dir=None,
        started_at=time.time() - 60,
    )
    plan = plan_gc(kernel.store, kernel.artifacts, tmp_path / "home" / "runs", GcPolicy())
    assert plan.remote == [] and plan.recent == 1


def test_reelgraph_gc_reports_and_removes_remote_orphans(bucket: Any, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    url = f"s3://{bucket.name}/cli"
    kernel = Kernel(
        plugins=[Maker()], entry_points=False, hookspecs=[FileSpecs], home=tmp_path, artifacts=url
    )
    assert kernel.run(SPEC, inputs={"text": "cli"}).status == "succeeded"
    kernel.close()
    orphan = "cli/.tmp/" + "ef" * 32 + ".0123456789abcdef"
    bucket.put_object(Bucket=bucket.name, Key=orphan, Body=b"z" * 2048)
    env = {
        **os.environ,
        "REELGRAPH_HOME": str(tmp_path),
        "REELGRAPH_ARTIFACTS": url,
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "gc"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "remote objects removed" in done.stdout and "2.0 kB" in done.stdout
    assert keys(bucket) == [f"cli/{sha(b'cli')[:2]}/{sha(b'cli')}/out.txt"]
