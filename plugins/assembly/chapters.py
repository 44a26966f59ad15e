"""Chapters of an assembled video: MP4 chapter markers, WebVTT chapters, ``chapters.txt``.

A chapter is a run of consecutive scenes from one document section (a
script from a brief: one beat's section, else its title); the title scene
and the closing scene are chapters of their own before merging. The list is
then made valid for YouTube, whose help page "Video chapters"
(https://support.google.com/youtube/answer/9884579) asks, for chapters read
from a description: the first timestamp at 00:00, at least three
timestamps in ascending order, each chapter at least 10 seconds long.
Chapters shorter than 10 s are merged into a neighbour (the shorter one; the
merged chapter keeps the longer part's title) until none is; when fewer than
three remain, the video gets no chapters at all (logged), since YouTube
would ignore the list and the three files must agree.

Written, when there are chapters:

- ``chapters.ffmeta``: ffmpeg's FFMETADATA file (``TIMEBASE=1/1000``,
  ``START``/``END`` in milliseconds, special characters ``=;#\\`` and new
  lines escaped with a backslash, as the ffmpeg-formats "Metadata" section
  describes), muxed into the MP4 by stream copy with ``-map_chapters``: the
  QuickTime chapter track and Nero ``chpl`` atom players and ffprobe read;
- ``chapters.vtt``: WebVTT chapter cues (W3C WebVTT, a ``<track
  kind="chapters">`` file: one cue per chapter, its title as the text);
- ``chapters.txt``: one line per chapter, ``M:SS Title`` (``H:MM:SS`` from
  an hour), the form YouTube reads from a video's description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reelgraph.models import Script

__all__ = [
    "MIN_CHAPTERS",
    "MIN_CHAPTER_S",
    "Chapter",
    "scene_chapters",
    "timestamp",
    "write_chapters",
    "youtube_chapters",
]

#: YouTube's rules for chapters read from a description (help page above).
MIN_CHAPTERS = 3
MIN_CHAPTER_S = 10.0


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter: ``title`` shown from ``start_s`` to ``end_s`` (seconds from the video's start)."""

    title: str
    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def scene_chapters(script: Script, starts_s: Sequence[float], duration_s: float) -> list[Chapter]:
    """One chapter per run of consecutive scenes of one section, before any merging.

    Args:
        script: scene ``i`` starts at ``starts_s[i]``.
        starts_s: each scene's start in seconds, ascending, ``starts_s[0] == 0``.
        duration_s: the video's length in seconds (the last chapter's end).

    Returns:
        Chapters covering ``[0, duration_s]`` without gaps; the title scene
        is titled with the script's title, a content scene by its section
        (``Scene.section``, else its on-screen title).
    """
    chapters: list[Chapter] = []
    keys: list[tuple[str, str]] = []
    for scene, start in zip(script.scenes, starts_s, strict=True):
        if scene.kind in ("title", "closing"):
            key = (scene.kind, str(scene.index))
            title = script.title if scene.kind == "title" else scene.title
        else:
            title = scene.section or scene.title
            key = ("section", title)
        title = " ".join(title.split()) or "Untitled"
        if keys and (keys[-1] == key or chapters[-1].title == title):
            continue  # the title scene is followed by the section of the same name
        if chapters:
            chapters[-1] = replace(chapters[-1], end_s=start)
        chapters.append(Chapter(title, start, duration_s))
        keys.append(key)
    return chapters


def youtube_chapters(
    chapters: Sequence[Chapter],
    min_s: float = MIN_CHAPTER_S,
    min_count: int = MIN_CHAPTERS,
) -> list[Chapter]:
    """``chapters`` merged until each lasts ``min_s``; ``[]`` when fewer than ``min_count`` remain.

    The shortest chapter under ``min_s`` merges with its shorter neighbour
    first, so long sections keep their own chapter; the merged chapter takes
    the title of the longer of the two. The first chapter starts at 0.
    """
    merged = list(chapters)
    if merged:
        merged[0] = replace(merged[0], start_s=0.0)
    while len(merged) > 1:
        short = [i for i, c in enumerate(merged) if c.length_s < min_s]
        if not short:
            break
        i = min(short, key=lambda n: (merged[n].length_s, n))
        if i == 0:
            j = 1
        elif i == len(merged) - 1:
            j = i - 1
        else:
            j = i - 1 if merged[i - 1].length_s <= merged[i + 1].length_s else i + 1
        a, b = sorted((i, j))
        first, second = merged[a], merged[b]
        title = first.title if first.length_s >= second.length_s else second.title
        merged[a : b + 1] = [Chapter(title, first.start_s, second.end_s)]
    if len(merged) < min_count or any(c.length_s < min_s for c in merged):
        return []
    return merged


def timestamp(seconds: float) -> str:
    """``M:SS`` below an hour, ``H:MM:SS`` from an hour (YouTube's description form), floored."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _ffmeta_escape(text: str) -> str:
    out = text
    for ch in ("\\", "=", ";", "#"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\\n")


def ffmetadata(chapters: Sequence[Chapter], title: str | None = None) -> str:
    """The FFMETADATA text of ``chapters`` (milliseconds, ``TIMEBASE=1/1000``)."""
    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={_ffmeta_escape(title)}")
    for chapter in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(chapter.start_s * 1000)}",
            f"END={round(chapter.end_s * 1000)}",
            f"title={_ffmeta_escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"


def chapters_vtt(chapters: Sequence[Chapter]) -> str:
    """A WebVTT chapters file: one numbered cue per chapter, its title as the text."""
    cues = ["WEBVTT", ""]
    for n, chapter in enumerate(chapters, 1):
        title = " ".join(chapter.title.replace("-->", "\u2192").split())
        cues += [str(n), f"{_vtt_time(chapter.start_s)} --> {_vtt_time(chapter.end_s)}", title, ""]
    return "\n".join(cues)


def chapters_txt(chapters: Sequence[Chapter]) -> str:
    """``chapters.txt``: ``0:00 Title`` lines, the form YouTube reads from a description."""
    return "".join(f"{timestamp(c.start_s)} {' '.join(c.title.split())}\n" for c in chapters)


def write_chapters(chapters: Sequence[Chapter], folder: Path, title: str | None = None) -> None:
    """Write ``chapters.ffmeta``, ``chapters.vtt`` and ``chapters.txt`` (UTF-8) into ``folder``."""
    (folder / "chapters.ffmeta").write_text(ffmetadata(chapters, title), encoding="utf-8")
    (folder / "chapters.vtt").write_text(chapters_vtt(chapters), encoding="utf-8")
    (folder / "chapters.txt").write_text(chapters_txt(chapters), encoding="utf-8")
