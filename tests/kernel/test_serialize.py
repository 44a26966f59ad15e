"""Persisting node outputs and hashing node inputs, with real WAV and PNG files."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from PIL import Image

from reelgraph.models import (
    Block,
    Caption,
    Document,
    Link,
    Narration,
    Scene,
    Script,
    Section,
    SpeechSegment,
    Video,
    Visual,
    WordTiming,
)
from reelgraph.store.artifacts import ArtifactCorrupt, ArtifactError, ArtifactStore
from reelgraph.store.serialize import ValueDecodeError, digest_value, dump_value, load_value


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


def make_wav(path: Path, seconds: float = 0.1, rate: int = 8000, tone: int = 0) -> Path:
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes((i * 7 + tone) % 256 for i in range(frames * 2)))
    return path


def make_png(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    Image.new("RGB", (16, 9), color).save(path)
    return path


def roundtrip(value: object, artifacts: ArtifactStore) -> object:
    dumped = dump_value(value, artifacts)
    text = json.dumps(dumped)  # the stored form is JSON
    return load_value(json.loads(text), artifacts)


# -- dump / load ---------------------------------------------------------------------


def test_narration_round_trip_moves_wavs_into_the_store(
    tmp_path: Path, artifacts: ArtifactStore
) -> None:
    wavs = [make_wav(tmp_path / f"s{i}.wav", tone=i) for i in range(2)]
    narration = Narration(
        segments=[
            SpeechSegment(
                text=f"Sentence {i}.",
                path=wav,
                duration_s=0.1,
                sample_rate_hz=8000,
                words=[WordTiming(text="Sentence", start_s=0.0)],
            )
            for i, wav in enumerate(wavs)
        ],
        voice="en-us",
        duration_s=0.2,
    )
    loaded = roundtrip(narration, artifacts)
    assert isinstance(loaded, Narration)
    for segment, wav in zip(loaded.segments, wavs, strict=True):
        assert segment.path.is_relative_to(artifacts.root)
        assert segment.path.name == wav.name
        assert segment.path.read_bytes() == wav.read_bytes()
    expected = narration.model_copy(
        update={
            "segments": [
                s.model_copy(update={"path": loaded.segments[i].path})
                for i, s in enumerate(narration.segments)
            ]
        }
    )
    assert loaded == expected


def test_video_and_visual_round_trip(tmp_path: Path, artifacts: ArtifactStore) -> None:
    mp4 = tmp_path / "video.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    srt = tmp_path / "video.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    video = Video(
        path=mp4,
        srt_path=srt,
        vtt_path=None,
        duration_s=1.0,
        width_px=1920,
        height_px=1080,
        fps=30.0,
        captions=[Caption(index=1, start_s=0.0, end_s=1.0, text="Hello")],
    )
    loaded = roundtrip(video, artifacts)
    assert isinstance(loaded, Video)
    assert loaded.path.name == "video.mp4" and loaded.path.is_relative_to(artifacts.root)
    assert loaded.srt_path is not None and loaded.srt_path.read_text() == srt.read_text()
    assert loaded == video.model_copy(update={"path": loaded.path, "srt_path": loaded.srt_path})

    png = make_png(tmp_path / "shot.png")
    visuals = [
        Visual(scene_index=0, path=png, width_px=16, height_px=9, alt_text="red"),
        Visual(scene_index=1, path=png, width_px=16, height_px=9, alt_text="same file"),
    ]
    loaded_visuals = roundtrip(visuals, artifacts)
    assert isinstance(loaded_visuals, list)
    assert [v.path for v in loaded_visuals] == [loaded_visuals[0].path] * 2
    with Image.open(loaded_visuals[0].path) as image:
        assert image.size == (16, 9)


def test_models_without_files_round_trip_exactly(artifacts: ArtifactStore) -> None:
    script = Script(
        title="Demo",
        scenes=[
            Scene(index=0, kind="title", title="Demo", narration=["Welcome."]),
            Scene(index=1, title="Point", bullets=["a", "b"], section="Intro"),
            Scene(index=2, kind="code", title="Code", code="print(1)", code_language="py"),
        ],
        language="en-GB",
    )
    document = Document(
        title="Doc",
        sections=[Section(heading="H", level=1, blocks=[Block(kind="list", items=["x", "y"])])],
        links=[Link(text="site", url="https://example.org")],
        source="README.md",
    )
    assert roundtrip(script, artifacts) == script
    assert roundtrip(document, artifacts) == document
    assert roundtrip({"script": script, "docs": (document,)}, artifacts) == {
        "script": script,
        "docs": [document],
    }


def test_plain_values_and_escaped_keys(tmp_path: Path, artifacts: ArtifactStore) -> None:
    value = {
        "n": None,
        "b": True,
        "i": 3,
        "f": 0.1,
        "s": "héllo",
        "l": [1, [2, (3, 4)]],
        "$inputs": {"$artifact": "not a reference", "name": "x"},
        "dir": tmp_path,
        "missing": tmp_path / "nope.txt",
    }
    dumped = dump_value(value, artifacts)
    assert "$dict" in dumped
    assert dumped["$dict"]["dir"] == {"$path": str(tmp_path)}
    loaded = load_value(json.loads(json.dumps(dumped)), artifacts)
    assert loaded == {**value, "l": [1, [2, [3, 4]]]}
    assert not artifacts.root.exists()  # no files referenced, nothing stored


def test_load_detects_corrupt_artifacts(tmp_path: Path, artifacts: ArtifactStore) -> None:
    dumped = dump_value(make_wav(tmp_path / "a.wav"), artifacts)
    stored = artifacts.path_for(dumped["$artifact"], "a.wav")
    stored.write_bytes(stored.read_bytes()[:-1] + b"\xff")
    with pytest.raises(ArtifactCorrupt, match=dumped["$artifact"]):
        load_value(dumped, artifacts)
    assert load_value(dumped, artifacts, verify=False) == stored


@pytest.mark.parametrize(
    "data",
    [
        {"$model": "reelgraph.models:NoSuchModel", "data": {}},
        {"$model": "no_such_module_xyz:Model", "data": {}},
        {"$model": "pathlib:Path", "data": {}},  # importable, not a pydantic model
        {"$model": "reelgraph.models:Caption", "data": {"index": 0}},  # fails validation
        {"$unknown": 1},
        {"$artifact": "0" * 64},  # no name
    ],
)
def test_undecodable_data(data: object, artifacts: ArtifactStore) -> None:
    with pytest.raises(ValueDecodeError) as caught:
        load_value(data, artifacts)
    assert isinstance(caught.value, ArtifactError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), {1: "int key"}, [complex(1, 2)]])
def test_unsupported_types(value: object, artifacts: ArtifactStore) -> None:
    with pytest.raises(TypeError):
        dump_value(value, artifacts)
    with pytest.raises(TypeError):
        digest_value(value)


# -- digests ---------------------------------------------------------------------


def test_digest_is_stable_across_processes(tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "a.wav")
    value = {"args": {"speech": [wav], "rate": 1.5, "voice": "en"}, "hook": "h"}
    code = (
        "import sys; from pathlib import Path; from reelgraph.store.serialize import digest_value;"
        "print(digest_value({'hook': 'h', 'args': {'voice': 'en', 'rate': 1.5,"
        " 'speech': (Path(sys.argv[1]),)}}))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(wav)], capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == digest_value(value)
    assert len(digest_value(value)) == 64


def test_digest_follows_file_content_not_location(tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "a.wav")
    copy = tmp_path / "elsewhere" / "b.wav"
    copy.parent.mkdir()
    copy.write_bytes(wav.read_bytes())
    before = digest_value({"audio": wav})
    assert digest_value({"audio": copy}) == before
    data = bytearray(wav.read_bytes())
    data[-1] ^= 0x01  # same size, and rewritten within the mtime granularity
    wav.write_bytes(bytes(data))
    assert digest_value({"audio": wav}) != before


def test_digest_of_models_and_scalars(tmp_path: Path) -> None:
    png = make_png(tmp_path / "a.png")
    visual = Visual(scene_index=0, path=png, width_px=16, height_px=9, alt_text="x")
    same = Visual(scene_index=0, path=png, width_px=16, height_px=9, alt_text="x")
    assert digest_value(visual) == digest_value(same)
    assert digest_value(visual) != digest_value(visual.model_copy(update={"alt_text": "y"}))
    before = digest_value(visual)
    make_png(png, color=(0, 0, 255))  # the model is unchanged, the file it names is not
    assert digest_value(visual) != before
    distinct = [1, 1.0, True, "1", [1], None, {"a": 1}, {"$a": 1}, tmp_path, str(tmp_path)]
    assert len({digest_value(v) for v in distinct}) == len(distinct)
    assert digest_value({"a": 1, "b": 2}) == digest_value({"b": 2, "a": 1})
    assert digest_value((1, 2)) == digest_value([1, 2])
