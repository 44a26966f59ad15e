"""Typed models that cross hook boundaries.

Every hook takes and returns these pydantic models, so a plugin written by a
third party can rely on their shape. Units are in the field names or their
descriptions: seconds (``_s``), pixels (``_px``), hertz (``_hz``), words per
minute (``_wpm``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ASPECT_SIZES",
    "Aspect",
    "Block",
    "Caption",
    "Document",
    "GateResult",
    "Link",
    "Narration",
    "Scene",
    "Script",
    "Section",
    "SpeechSegment",
    "Video",
    "Visual",
    "WordTiming",
    "frame_size",
]

Aspect = Literal["16:9", "9:16", "1:1"]

#: Frame size in pixels (width, height) for each supported aspect ratio.
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
}


def frame_size(aspect: str) -> tuple[int, int]:
    """Return ``(width_px, height_px)`` for an aspect ratio such as ``"16:9"``.

    Raises:
        ValueError: the aspect is not one of ``ASPECT_SIZES``.
    """
    try:
        return ASPECT_SIZES[aspect]
    except KeyError:
        known = ", ".join(ASPECT_SIZES)
        raise ValueError(f"unknown aspect {aspect!r}; use one of {known}") from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- ingest -----------------------------------------------------------------


class Link(_Model):
    """A hyperlink found in a document. URLs are kept here, never spoken."""

    text: str
    url: str


class Block(_Model):
    """One block of a section, as plain text with all markup removed.

    ``text`` keeps a link's text and drops its URL. ``items`` holds list items
    (kind ``list``); ``language`` the info string of a code block.
    """

    kind: Literal["paragraph", "list", "code", "quote", "table"]
    text: str = ""
    items: list[str] = Field(default_factory=list)
    ordered: bool = False
    language: str | None = None


class Section(_Model):
    """A heading and the blocks under it. ``level`` 0 is text before any heading."""

    heading: str
    level: int = Field(ge=0, le=6)
    blocks: list[Block] = Field(default_factory=list)


class Document(_Model):
    """A source document parsed into sections.

    Attributes:
        title: the first level-1 heading, else the file's stem.
        sections: in document order.
        links: every link, in order (for credits; never narrated).
        source: the path or URL it came from.
        format: the parser that produced it (the ``ingest_document`` provider's
            format name).
        language: the document's language as a BCP 47 tag (``en``, ``fr``,
            ``zh``), when the source declares it or it was detected; ``None``
            when unknown.
    """

    title: str
    sections: list[Section]
    links: list[Link] = Field(default_factory=list)
    source: str | None = None
    format: Literal["markdown", "text", "html", "rst", "pdf", "docx"] = "markdown"
    language: str | None = None


# -- script -----------------------------------------------------------------


class Scene(_Model):
    """One scene of a script: what is on screen and what is said.

    Attributes:
        index: 0-based position in the script.
        kind: ``title`` opens the video, ``closing`` ends it, ``code`` shows a
            code block, ``content`` shows bullet points.
        title: the on-screen heading.
        bullets: on-screen points: 0 for title, closing and code scenes; 2-6
            on content scenes when the text allows, else 1.
        code: the code shown on a ``code`` scene.
        code_language: its language, when known.
        narration: sentences spoken over the scene, plain text (no URLs, no
            markup).
        section: the document heading the scene comes from.
    """

    index: int = Field(ge=0)
    kind: Literal["title", "content", "code", "closing"] = "content"
    title: str
    bullets: list[str] = Field(default_factory=list)
    code: str | None = None
    code_language: str | None = None
    narration: list[str] = Field(default_factory=list)
    section: str | None = None


class Script(_Model):
    """A video script: ordered scenes. ``language`` is a BCP 47 tag."""

    title: str
    scenes: list[Scene]
    language: str = "en"


# -- visuals ----------------------------------------------------------------


class Visual(_Model):
    """A rendered shot: a still image or a video clip for one scene.

    Attributes:
        scene_index: the scene it illustrates.
        kind: ``image`` (held for the scene's duration) or ``video``.
        path: the file (PNG for images, MP4 for clips).
        width_px, height_px: frame size in pixels.
        alt_text: a description of what is shown, for accessibility (WCAG 2.x
            success criterion 1.1.1, non-text content).
        duration_s: the clip's length in seconds; ``None`` for images.
    """

    scene_index: int = Field(ge=0)
    kind: Literal["image", "video"] = "image"
    path: Path
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    alt_text: str
    duration_s: float | None = None


# -- speech -----------------------------------------------------------------


class WordTiming(_Model):
    """When a word starts inside a speech segment, in seconds from its start."""

    text: str
    start_s: float = Field(ge=0)


class SpeechSegment(_Model):
    """One synthesized sentence.

    Attributes:
        text: the sentence as spoken.
        path: a WAV file (PCM, mono, 16-bit).
        duration_s: its length in seconds (samples / sample rate).
        sample_rate_hz: its sample rate.
        words: word start times reported by the engine, when it reports them.
    """

    text: str
    path: Path
    duration_s: float = Field(ge=0)
    sample_rate_hz: int = Field(gt=0)
    words: list[WordTiming] = Field(default_factory=list)


class Narration(_Model):
    """The speech for one scene: its sentences in order.

    ``duration_s`` is the sum of the segments' durations, in seconds.
    """

    segments: list[SpeechSegment]
    voice: str
    duration_s: float = Field(ge=0)


# -- assembly ---------------------------------------------------------------


class Caption(_Model):
    """A caption cue. Times in seconds from the start of the video."""

    index: int = Field(ge=1)
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    text: str


class Video(_Model):
    """An assembled video and its caption files.

    Attributes:
        path: the MP4 file.
        srt_path, vtt_path: sidecar captions (SubRip, WebVTT), when written.
        duration_s: length in seconds.
        width_px, height_px: frame size in pixels.
        fps: frames per second.
        captions: the cues written to the sidecar files and the soft track.
        language: the spoken and captioned language as a BCP 47 tag (the
            script's), or ``None`` when unknown; the captions gate picks
            that language's reading speed and line limits by it.
    """

    path: Path
    srt_path: Path | None = None
    vtt_path: Path | None = None
    duration_s: float = Field(ge=0)
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    fps: float = Field(gt=0)
    captions: list[Caption] = Field(default_factory=list)
    language: str | None = None


# -- quality ----------------------------------------------------------------


class GateResult(_Model):
    """The verdict of one quality gate on one artifact.

    Attributes:
        gate: the gate's name (``duration``, ``captions``, ``loudness``...).
        passed: whether the measured value is within the threshold.
        severity: ``error`` fails the run (status ``failed_quality``) or
            triggers a revision; ``warning`` and ``info`` are reported only.
        measured: the measured value (a number in ``unit``, or text).
        threshold: the limit it was compared with, in ``unit``.
        unit: ``s``, ``LUFS``, ``dBTP``, ``cps``, ``chars``, ``ratio``, ...
        message: what was found, one sentence.
        remedy: what to change; for gates before assembly, phrased so the
            producing node can act on it as feedback (``too long: ...``,
            ``missing key message: ...``).
        stage: ``script``, ``shots`` or ``video``: what was checked.
        details: gate-specific data (e.g. the missing key messages).
    """

    gate: str
    passed: bool
    severity: Literal["error", "warning", "info"] = "error"
    measured: float | str | None = None
    threshold: float | str | None = None
    unit: str = ""
    message: str
    remedy: str = ""
    stage: Literal["script", "shots", "video"] | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        """True when this result fails the run: an error-severity gate that did not pass."""
        return not self.passed and self.severity == "error"
