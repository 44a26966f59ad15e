"""The models of the video pipeline: documents, briefs, plans, scripts, shots,
visuals, speech, videos, quality gates and reviews; the aspect ratios.

Part of :mod:`reelgraph.models`, which re-exports every model: import them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

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


# -- brief and plan (director) ---------------------------------------------

#: The 8-part structure every beat belongs to, in order. A script need not use
#: every part, but the parts it uses appear in this order. Adapted from the
#: problem-solution arc of persuasive and explainer video (hook, context,
#: problem, stakes, approach, proof, call to action, close).
BeatPart = Literal[
    "hook", "context", "problem", "stakes", "approach", "proof", "call_to_action", "close"
]
BEAT_PARTS: tuple[str, ...] = get_args(BeatPart)


class Brief(_Model):
    """A video requirements document (VRD): what the video must achieve.

    Attributes:
        title: the working title.
        goal: what the viewer should know, feel or do afterwards, one sentence.
        audience: who watches (role, prior knowledge).
        key_messages: points the video must make, in priority order.
        duration_s: target length in seconds.
        tone: e.g. ``"confident, plain-spoken"``.
        style: visual style, e.g. ``"clean corporate"``, ``"hand-drawn"``.
        template: ``presentation`` (Professional Presentation) or
            ``educational`` (learning objectives, a check for understanding,
            a recap).
        aspect: frame shape (see :data:`ASPECT_SIZES`).
        language: BCP 47 tag of the narration.
        constraints: must and must-not rules (``"no stock people"``).
        learning_objectives: for ``educational``: what the learner can do after.
        document: a source document (path or https URL) the video draws on.
    """

    title: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    audience: str = "a general audience"
    key_messages: list[str] = Field(default_factory=list)
    duration_s: float = Field(60.0, gt=0, le=3600)
    tone: str = "clear and friendly"
    style: str = "clean, modern"
    template: Literal["presentation", "educational"] = "presentation"
    aspect: Aspect = "16:9"
    language: str = "en"
    constraints: list[str] = Field(default_factory=list)
    learning_objectives: list[str] = Field(default_factory=list)
    document: str | None = None


class Question(_Model):
    """A clarifying question the director asks before planning further.

    Attributes:
        key: identifier the answer is given under (``reelgraph answer RUN -a KEY=...``).
        question: the question, one sentence.
        why: what in the brief leaves it open.
        assumption: what the director assumes when told not to ask (``clarify=false``).
    """

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    why: str = ""
    assumption: str


class PlanPart(_Model):
    """One part of the planned structure: its purpose, length and messages."""

    part: BeatPart
    purpose: str
    duration_s: float = Field(gt=0)
    key_messages: list[str] = Field(default_factory=list)


class VideoPlan(_Model):
    """The director's plan for a brief.

    Attributes:
        title: the video's title.
        audience_analysis: who watches, what they know, what they need.
        parts: the structure in :data:`BEAT_PARTS` order; durations sum to
            ``duration_s`` (seconds).
        key_messages: the brief's key messages, each placed in a part.
        questions: what the brief leaves open; unanswered ones stop the run
            as ``needs_input`` unless the director was told not to ask.
        assumptions: what was assumed instead of asked (``clarify=false``).
        answers: the answers received, by question key.
        language: BCP 47 tag.
        duration_s: target length in seconds.
        template: the brief's template.
    """

    title: str
    audience_analysis: str
    parts: list[PlanPart]
    key_messages: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    answers: dict[str, str] = Field(default_factory=dict)
    language: str = "en"
    duration_s: float = Field(gt=0)
    template: Literal["presentation", "educational"] = "presentation"


# -- script -----------------------------------------------------------------


class Scene(_Model):
    """One scene of a script: what is on screen and what is said.

    A script written from a brief has one scene per **beat**; the beat fields
    (``beat_id`` to ``visual_intent``) are then set.

    Attributes:
        index: 0-based position in the script.
        kind: ``title`` opens the video, ``closing`` ends it, ``code`` shows a
            code block, ``content`` shows bullet points.
        title: the on-screen heading (a beat's on-screen text).
        bullets: on-screen points: 0 for title, closing and code scenes; 2-6
            on content scenes when the text allows, else 1.
        code: the code shown on a ``code`` scene.
        code_language: its language, when known.
        narration: sentences spoken over the scene, plain text (no URLs, no
            markup); captions show these.
        section: the document heading the scene comes from.
        beat_id: the beat's id (``b01``...).
        part: the beat's part of the 8-part structure (:data:`BEAT_PARTS`).
        start_s: planned start in seconds from the video's start.
        duration_s: planned length in seconds; a script's beats sum to its
            target within +-5 s.
        key_messages: the brief's key messages this beat carries.
        visual_intent: what the picture should convey, one sentence.
        speech: what the speech engine is given per narration sentence (same
            length as ``narration``), in the markup that engine accepts (SSML
            for espeak-ng), set by ``prepare_narration``; empty: speak
            ``narration``.
    """

    index: int = Field(ge=0)
    kind: Literal["title", "content", "code", "closing"] = "content"
    title: str
    bullets: list[str] = Field(default_factory=list)
    code: str | None = None
    code_language: str | None = None
    narration: list[str] = Field(default_factory=list)
    section: str | None = None
    beat_id: str | None = None
    part: BeatPart | None = None
    start_s: float | None = Field(None, ge=0)
    duration_s: float | None = Field(None, gt=0)
    key_messages: list[str] = Field(default_factory=list)
    visual_intent: str | None = None
    speech: list[str] = Field(default_factory=list)


class Script(_Model):
    """A video script: ordered scenes. ``language`` is a BCP 47 tag.

    ``duration_s`` is the target length in seconds when the writer had one;
    ``length`` says how the length was chosen (e.g. ``"summary: the whole
    document would take 5,880 s; default target 300 s"``), when the writer
    says.
    """

    title: str
    scenes: list[Scene]
    language: str = "en"
    duration_s: float | None = Field(None, gt=0)
    length: str | None = None


# -- shots (visual designer) -------------------------------------------------


class Shot(_Model):
    """One shot of the shot list: how a beat is filmed or generated.

    Attributes:
        id: ``s01``...; ``scene_index`` and ``beat_id`` tie it to the script.
        shot_type: a shot library entry (``wide``, ``medium``, ``close_up``,
            ``screen_capture``, ``title_card``, ...).
        framing, camera_move, lighting, subject: cinematography, one phrase each.
        continuity: what must match neighbouring shots.
        prompt: a text-to-video / image generation prompt.
        negative_prompt: what the generator must avoid.
        storyboard_frame: the storyboard frame, described in words.
        complexity: ``low``, ``medium`` or ``high`` (motion, subjects, effects).
        duration_s: seconds of footage the beat needs.
        mode: ``slide`` (rendered offline), ``text_to_video`` or ``image_to_video``.
        needs_audio: whether the clip itself must carry sound.
    """

    id: str = Field(pattern=r"^s\d{2,}$")
    scene_index: int = Field(ge=0)
    beat_id: str | None = None
    shot_type: str
    framing: str
    camera_move: str
    lighting: str
    subject: str
    continuity: str = ""
    prompt: str
    negative_prompt: str = ""
    storyboard_frame: str
    complexity: Literal["low", "medium", "high"] = "low"
    duration_s: float = Field(gt=0)
    mode: Literal["slide", "text_to_video", "image_to_video"] = "slide"
    needs_audio: bool = False


class ShotList(_Model):
    """The visual designer's shot list: one or more shots per scene, in order."""

    title: str
    aspect: Aspect = "16:9"
    shots: list[Shot]


# -- visuals ----------------------------------------------------------------


class Credit(_Model):
    """Who made a piece of third-party footage, and where it lives (attribution).

    Stock libraries ask for it: Pexels "Always credit our photographers when
    possible (e.g. 'Photo by John Doe on Pexels' with a link to the photo
    page on Pexels)" (https://www.pexels.com/api/documentation/#guidelines);
    Pixabay "show your users where the images and videos are from"
    (https://pixabay.com/api/docs/).

    Attributes:
        provider: the reelgraph provider that fetched it (``pexels``).
        library: the library's name as shown to people (``Pexels``).
        author: the author's name as the library gives it.
        author_url: the author's page on the library, when given.
        page_url: the footage's own page on the library.
        media_id: the library's id of the footage.
        query: the search terms that found it.
    """

    provider: str
    library: str
    author: str
    author_url: str | None = None
    page_url: str
    media_id: str
    query: str = ""


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
        credit: the author and page of third-party footage shown (stock
            clips), ``None`` for what reelgraph or a generator made.
    """

    scene_index: int = Field(ge=0)
    kind: Literal["image", "video"] = "image"
    path: Path
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    alt_text: str
    duration_s: float | None = None
    credit: Credit | None = None


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
        chapters_vtt_path, chapters_txt_path: the chapters as WebVTT and
            as YouTube description lines (``0:00 Title``), when the video
            has chapters (at least three of at least 10 s); the MP4 then
            carries them as chapter markers too.
        thumbnail_path: ``thumbnail.jpg`` (the title over the video's own
            picture), when written.
        burned_captions_path: ``burned_captions.json`` when the captions
            are drawn into the picture (assembler option ``captions: burned``
            or ``both``): per cue its text, box, the WCAG contrast measured on
            the pixels behind it and the fonts that drew it (for the
            accessibility gate); ``None`` for a soft track only.
    """

    path: Path
    srt_path: Path | None = None
    vtt_path: Path | None = None
    chapters_vtt_path: Path | None = None
    chapters_txt_path: Path | None = None
    thumbnail_path: Path | None = None
    burned_captions_path: Path | None = None
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


# -- review (reviewer, optimizer) ----------------------------------------------


class CriterionScore(_Model):
    """A reviewer's score on one criterion: 0 (fails) to 1 (fully met), with why."""

    criterion: str
    score: float = Field(ge=0, le=1)
    reason: str


class Revision(_Model):
    """An actionable change the reviewer asks for.

    ``target`` is what changes (``script`` or ``shots``); ``beat_id`` the beat,
    when one; ``instruction`` the change, phrased so the optimizer can apply it.
    """

    target: Literal["script", "shots"] = "script"
    beat_id: str | None = None
    instruction: str


class Review(_Model):
    """A reviewer's verdict on a script (and shots) against the brief.

    Attributes:
        scores: one per criterion (e.g. ``goal``, ``key_messages``,
            ``audience``, ``duration``, ``structure``, ``tone``).
        score: the overall score, 0-1.
        threshold: the score that passes.
        revisions: what to change; empty when it passes.
        measurements: the gate results the reviewer saw (it never argues
            with a measurement).

    A ``Review`` is a *verdict*: as a spec's ``review.gate`` it sends the
    reviewed node back with the revisions as feedback while it fails.
    """

    scores: list[CriterionScore]
    score: float = Field(ge=0, le=1)
    threshold: float = Field(0.7, ge=0, le=1)
    revisions: list[Revision] = Field(default_factory=list)
    measurements: list[GateResult] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the overall score reaches the threshold."""
        return self.score >= self.threshold

    def gate_results(self) -> list[GateResult]:
        """The verdict as gate results: one ``review`` result per revision while it fails.

        Per-criterion scores come as ``info`` results; a failing review with
        no revision gives one blocking result asking for a stronger draft.
        """
        info = [
            GateResult(
                gate=f"review.{c.criterion}",
                passed=c.score >= self.threshold,
                severity="info",
                measured=round(c.score, 3),
                threshold=self.threshold,
                unit="score",
                message=c.reason,
                stage="script",
            )
            for c in self.scores
        ]
        summary = f"review score {self.score:.2f} (threshold {self.threshold:.2f})"
        if self.passed:
            return [
                GateResult(
                    gate="review",
                    passed=True,
                    measured=round(self.score, 3),
                    threshold=self.threshold,
                    unit="score",
                    message=summary,
                    stage="script",
                ),
                *info,
            ]
        asks = self.revisions or [Revision(instruction="revise the weakest criteria")]
        blocking = [
            GateResult(
                gate="review",
                passed=False,
                measured=round(self.score, 3),
                threshold=self.threshold,
                unit="score",
                message=summary,
                remedy=(f"{r.beat_id}: " if r.beat_id else "") + r.instruction,
                stage="shots" if r.target == "shots" else "script",
                details={"target": r.target, "beat_id": r.beat_id},
            )
            for r in asks
        ]
        return [*blocking, *info]
