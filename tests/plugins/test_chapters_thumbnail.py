"""Chapters (YouTube's rules, FFMETADATA, WebVTT, chapters.txt, MP4 markers read back with
PyAV) and thumbnail.jpg (size, weight, title legible at 320 px) -- issue 18."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
import webvtt
from PIL import Image

from reelgraph.models import Scene, Script, Visual
from reelgraph.plugins.assembly.chapters import (
    Chapter,
    chapters_txt,
    ffmetadata,
    scene_chapters,
    timestamp,
    youtube_chapters,
)
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.plugins.visuals.thumbnail import MAX_BYTES, MIN_CAP_PX_AT_320, write_thumbnail
from reelgraph.run.context import NodeContext


def _chapters(*spans: tuple[str, float, float]) -> list[Chapter]:
    return [Chapter(title, start, end) for title, start, end in spans]


# -- chapters: the rules --------------------------------------------------------


def test_short_chapters_merge_into_their_shorter_neighbour() -> None:
    raw = _chapters(
        ("Intro", 0, 6),  # too short, first: joins History, whose title it takes (longer part)
        ("History", 6, 40),
        ("Tiny", 40, 44),  # the shortest, merged first: joins Design (32 s), not History (34 s)
        ("Design", 44, 76),
        ("Uses", 76, 120),
        ("Thank you", 120, 125),  # too short, last: joins Uses
    )
    merged = youtube_chapters(raw)
    assert [(c.title, c.start_s, c.end_s) for c in merged] == [
        ("History", 0, 40),
        ("Design", 40, 76),
        ("Uses", 76, 125),
    ]
    assert merged[0].start_s == 0 and all(c.length_s >= 10 for c in merged)


def test_fewer_than_three_possible_chapters_give_none() -> None:
    assert youtube_chapters(_chapters(("A", 0, 30), ("B", 30, 35), ("C", 35, 60))) == []
    assert youtube_chapters(_chapters(("A", 0, 9))) == []
    kept = youtube_chapters(_chapters(("A", 0, 10), ("B", 10, 20), ("C", 20, 30)))
    assert len(kept) == 3  # exactly 10 s each is allowed


def test_timestamps_and_the_description_form() -> None:
    assert [timestamp(s) for s in (0, 9.99, 65, 3599, 3723.5)] == [
        "0:00",
        "0:09",
        "1:05",
        "59:59",
        "1:02:03",
    ]
    text = chapters_txt(
        _chapters(("Start", 0, 70), ("Middle  part", 70, 3700), ("End", 3700, 3800))
    )
    assert text == "0:00 Start\n1:10 Middle part\n1:01:40 End\n"


def test_ffmetadata_escapes_special_characters() -> None:
    meta = ffmetadata(_chapters(("a=b; #c\\d", 0, 12.5)), title="T")
    assert meta.splitlines() == [
        ";FFMETADATA1",
        "title=T",
        "[CHAPTER]",
        "TIMEBASE=1/1000",
        "START=0",
        "END=12500",
        "title=a\\=b\\; \\#c\\\\d",
    ]


def test_scene_chapters_follow_sections() -> None:
    scenes = [
        Scene(index=0, kind="title", title="Bikes", narration=["x"]),
        Scene(index=1, title="Bikes", section="Bikes", narration=["x"]),
        Scene(index=2, title="History", section="History", narration=["x"]),
        Scene(index=3, title="History (continued)", section="History", narration=["x"]),
        Scene(index=4, kind="closing", title="Thank you", narration=["x"]),
    ]
    found = scene_chapters(Script(title="Bikes", scenes=scenes), [0, 8, 20, 35, 50], 60)
    assert [(c.title, c.start_s, c.end_s) for c in found] == [
        ("Bikes", 0, 20),  # the title scene and the section of its name
        ("History", 20, 50),
        ("Thank you", 50, 60),
    ]


# -- chapters in the assembled video -----------------------------------------------


def _assemble(media, tmp_path: Path, pause_s: float, scenes: int) -> tuple:
    narrations = [media.narration([(f"Sentence {i}.", 1.0)], i) for i in range(scenes)]
    colours = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (220, 200, 60)]
    visuals = [media.image(i, (1920, 1080), colours[i % 4]) for i in range(scenes)]
    ctx = NodeContext.for_testing(tmp_path / "run", node_id="video")
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=25,
        pause_s=pause_s,
        options={"hold_for_reading": False},
        ctx=ctx,
    )
    return video, visuals


def test_the_mp4_carries_chapter_markers_and_files_by_stream_copy(media, tmp_path: Path) -> None:
    video, _ = _assemble(media, tmp_path, pause_s=11.0, scenes=4)  # 4 scenes of 12 s
    with av.open(str(video.path)) as container:
        marks = [
            (round(float(c["start"] * c["time_base"]), 2), c["metadata"]["title"])
            for c in container.chapters()
        ]
        assert container.streams.video[0].frames == round(video.duration_s * 25)
    assert marks == [(0.0, "Scene 0"), (12.0, "Scene 1"), (24.0, "Scene 2"), (36.0, "Scene 3")]
    assert video.chapters_txt_path is not None and video.chapters_vtt_path is not None
    assert video.chapters_txt_path.read_text() == (
        "0:00 Scene 0\n0:12 Scene 1\n0:24 Scene 2\n0:36 Scene 3\n"
    )
    cues = webvtt.read(str(video.chapters_vtt_path))
    assert [(c.start, c.end, c.text) for c in cues][-1] == (
        "00:00:36.000",
        "00:00:48.000",
        "Scene 3",
    )
    assert video.thumbnail_path is not None and video.thumbnail_path.exists()


def test_a_short_video_gets_no_chapters_but_a_thumbnail(media, tmp_path: Path) -> None:
    video, _ = _assemble(media, tmp_path, pause_s=0.5, scenes=3)
    with av.open(str(video.path)) as container:
        assert list(container.chapters()) == []
    assert video.chapters_txt_path is None and video.chapters_vtt_path is None
    assert not (video.path.parent / "chapters.txt").exists()
    assert video.thumbnail_path == video.path.parent / "thumbnail.jpg"


# -- thumbnail -------------------------------------------------------------------------


def _slide(tmp_path: Path, size: tuple[int, int]) -> Visual:
    path = tmp_path / f"slide_{size[0]}x{size[1]}.png"
    image = Image.new("RGB", size, (240, 240, 240))  # a white slide: the worst case for white type
    image.save(path)
    return Visual(scene_index=0, path=path, width_px=size[0], height_px=size[1], alt_text="slide")


def _cap_height_at_320(path: Path) -> int:
    """Rows of the first text line once the thumbnail is shown 320 px wide (capitals only)."""
    with Image.open(path) as image:
        small = image.convert("L").resize((320, round(320 * image.height / image.width)))
    width, height = small.size
    pixels = small.load()
    bright = [any(pixels[x, y] > 200 for x in range(width)) for y in range(height)]
    top = bright.index(True)
    bottom = top
    while bottom < height and bright[bottom]:
        bottom += 1
    return bottom - top


@pytest.mark.parametrize(
    ("frame", "size"),
    [((1920, 1080), (1280, 720)), ((1080, 1920), (1080, 1920)), ((1080, 1080), (1080, 1080))],
)
def test_thumbnail_size_weight_and_legibility(tmp_path: Path, frame, size) -> None:
    title = "HOW BICYCLES CHANGED CITIES IN THE NINETEENTH CENTURY"
    thumb = write_thumbnail(title, _slide(tmp_path, frame), frame, tmp_path / "thumbnail.jpg")
    with Image.open(thumb.path) as image:
        assert image.format == "JPEG" and image.size == size
    assert thumb.path.stat().st_size == thumb.bytes < MAX_BYTES
    assert 1 <= len(thumb.lines) <= 3 and " ".join(thumb.lines) == title
    measured = _cap_height_at_320(thumb.path)
    assert measured >= MIN_CAP_PX_AT_320, measured
    assert abs(measured - thumb.cap_height_at_320_px) <= 2  # the record agrees with the pixels


def test_an_overlong_title_is_cut_not_shrunk_past_legibility(tmp_path: Path) -> None:
    title = " ".join(["Supercalifragilistic"] * 12)
    thumb = write_thumbnail(title, _slide(tmp_path, (1920, 1080)), (1920, 1080), tmp_path / "t.jpg")
    assert len(thumb.lines) == 3 and thumb.lines[-1].endswith("\u2026")
    assert thumb.cap_height_at_320_px >= MIN_CAP_PX_AT_320


def test_a_clip_thumbnail_shows_the_clip_middle_frame(media, tmp_path: Path) -> None:
    clip = media.clip(0, 2.0)  # ffmpeg testsrc: colour bars and a moving counter
    thumb = write_thumbnail("Test pattern", clip, (1920, 1080), tmp_path / "clip.jpg")
    with Image.open(thumb.path) as image:
        assert image.size == (1280, 720)
        colours = image.convert("RGB").resize((64, 36)).getcolors(64 * 36)
    assert colours is not None and len(colours) > 50  # the clip's colours, not a flat fill
