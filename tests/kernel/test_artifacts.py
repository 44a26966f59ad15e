"""The content-addressed artifact store, on real files."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from reelgraph.errors import ReelgraphError
from reelgraph.store.artifacts import (
    Artifact,
    ArtifactCorrupt,
    ArtifactError,
    ArtifactMissing,
    ArtifactStore,
)


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(store: ArtifactStore) -> list[Path]:
    return [p for p in store.root.rglob(".tmp-*")]


def test_put_bytes_stores_under_digest_and_name(store: ArtifactStore) -> None:
    assert not store.root.exists()  # created on first write
    artifact = store.put_bytes(b"hello", "greeting.txt")
    digest = sha(b"hello")
    assert artifact == Artifact(
        digest=digest,
        name="greeting.txt",
        size=5,
        path=store.root / digest[:2] / digest / "greeting.txt",
    )
    assert artifact.path.read_bytes() == b"hello"
    assert store.path_for(digest, "greeting.txt") == artifact.path
    assert store.get(digest, "greeting.txt") == artifact.path


def test_put_file_hashes_large_files_in_chunks(store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 12345)  # spans three 1 MiB chunks
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    artifact = store.put_file(source)
    assert (artifact.digest, artifact.name, artifact.size) == (sha(data), "clip.mp4", len(data))
    assert artifact.path.read_bytes() == data
    renamed = store.put_file(source, name="final.mp4")
    assert renamed.path.name == "final.mp4"
    assert renamed.digest == artifact.digest
    assert leftovers(store) == []


def test_same_content_and_name_is_not_copied_again(store: ArtifactStore, tmp_path: Path) -> None:
    first = store.put_bytes(b"x" * 1000, "a.bin")
    before = first.path.stat()
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)
    second = store.put_file(source)
    after = second.path.stat()
    assert second == first
    assert after.st_ino == before.st_ino  # the same file, not a new copy
    assert store.bytes_written == 1000  # only the first put wrote bytes
    # touched, so `reelgraph gc` sees it as used by the run that stored it again
    assert after.st_mtime_ns >= before.st_mtime_ns


def test_same_content_under_two_names_is_hard_linked(store: ArtifactStore) -> None:
    first = store.put_bytes(b"frame", "a.png")
    second = store.put_bytes(b"frame", "b.png")
    assert second.path.parent == first.path.parent
    assert second.path.read_bytes() == b"frame"
    assert second.path.stat().st_ino == first.path.stat().st_ino
    assert leftovers(store) == []


def test_flipped_byte_is_detected(store: ArtifactStore) -> None:
    artifact = store.put_bytes(b"precious bytes", "v.mp4")
    data = bytearray(artifact.path.read_bytes())
    data[3] ^= 0x01
    artifact.path.write_bytes(bytes(data))
    assert not store.verify(artifact.digest, "v.mp4")
    with pytest.raises(ArtifactCorrupt) as caught:
        store.get(artifact.digest, "v.mp4")
    assert artifact.digest in str(caught.value)
    assert str(artifact.path) in str(caught.value)
    assert isinstance(caught.value, ArtifactError | ReelgraphError)
    # without verification the path is handed back as is
    assert store.get(artifact.digest, "v.mp4", verify=False) == artifact.path


def test_verification_is_not_cached(store: ArtifactStore) -> None:
    artifact = store.put_bytes(b"abc", "t.txt")
    assert store.verify(artifact.digest, "t.txt")
    artifact.path.write_bytes(b"abd")
    assert not store.verify(artifact.digest, "t.txt")
    artifact.path.write_bytes(b"abc")
    assert store.verify(artifact.digest, "t.txt")


def test_missing_artifact(store: ArtifactStore) -> None:
    digest = sha(b"never stored")
    with pytest.raises(ArtifactMissing, match=digest):
        store.get(digest, "x.wav")
    assert not store.verify(digest, "x.wav")
    stored = store.put_bytes(b"other", "y.wav")
    with pytest.raises(ArtifactMissing):
        store.get(stored.digest, "z.wav")  # right digest, wrong name


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../escape", "a\\b", "nul\0"])
def test_bad_names_are_rejected(store: ArtifactStore, tmp_path: Path, name: str) -> None:
    source = tmp_path / "ok.txt"
    source.write_bytes(b"ok")
    with pytest.raises(ValueError, match="single file name"):
        store.put_bytes(b"data", name)
    with pytest.raises(ValueError):
        store.put_file(source, name=name)
    with pytest.raises(ValueError):
        store.path_for(sha(b"data"), name)
    assert not store.root.exists()


@pytest.mark.parametrize("digest", ["", "abc", "../" + "0" * 61, "A" * 64, "g" * 64])
def test_bad_digests_are_rejected(store: ArtifactStore, digest: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.get(digest, "a.txt")


def test_concurrent_writers_of_the_same_content(store: ArtifactStore) -> None:
    data = os.urandom(300_000)
    results: list[Artifact] = []
    errors: list[BaseException] = []

    def put(i: int) -> None:
        try:
            results.append(store.put_bytes(data, f"n{i % 3}.bin"))
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {r.digest for r in results} == {sha(data)}
    folder = store.path_for(sha(data), "n0.bin").parent
    assert sorted(p.name for p in folder.iterdir()) == ["n0.bin", "n1.bin", "n2.bin"]
    assert all(store.verify(sha(data), f"n{i}.bin") for i in range(3))
