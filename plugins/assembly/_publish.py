"""What the assembler writes beside the video for publishing: chapters and a thumbnail.

Kept out of ``ffmpeg.py`` so the assembler's module stays a map of its parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph.errors import InvalidInputError
from reelgraph.models import Script, Visual
from reelgraph.plugins.assembly.chapters import scene_chapters, write_chapters, youtube_chapters

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["write_extras"]


def write_extras(
    script: Script,
    visuals: Sequence[Visual],
    starts_s: list[float],
    duration_s: float,
    size: tuple[int, int],
    tmp: Path,
    ctx: NodeContext,
) -> None:
    """Write the chapters (when YouTube's rules allow them) and ``thumbnail.jpg`` into ``tmp``."""
    from reelgraph.plugins.visuals.thumbnail import write_thumbnail

    chapters = youtube_chapters(scene_chapters(script, starts_s, duration_s))
    if chapters:
        write_chapters(chapters, tmp, script.title)
        ctx.log.info("chapters", count=len(chapters), starts_s=[c.start_s for c in chapters])
    else:
        ctx.log.info("no chapters: fewer than 3 sections of at least 10 s", sections=len(starts_s))
    clip = next((v for v in visuals if v.kind == "video"), visuals[0])
    try:
        thumb = write_thumbnail(script.title, clip, size, tmp / "thumbnail.jpg", script.language)
    except InvalidInputError as err:  # an extra: the video stands without it
        ctx.log.warning("no thumbnail", error=str(err))
        return
    ctx.log.info("thumbnail", bytes=thumb.bytes, cap_height_at_320_px=thumb.cap_height_at_320_px)
