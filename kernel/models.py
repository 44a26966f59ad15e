"""Typed models that cross hook boundaries.

Every hook takes and returns these pydantic models, so a plugin written by a
third party can rely on their shape. Units are in the field names or their
descriptions: seconds (``_s``), pixels (``_px``), hertz (``_hz``), words per
minute (``_wpm``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "ASPECT_SIZES",
    "BEAT_PARTS",
    "TOOL_FIGURES",
    "Adaptation",
    "Aspect",
    "Assessment",
    "AssessmentItem",
    "BeatPart",
    "Block",
    "Brief",
    "Caption",
    "CostLine",
    "Credit",
    "CriterionResult",
    "CriterionScore",
    "Document",
    "DocumentFiles",
    "Feedback",
    "FigureSource",
    "GateResult",
    "Infeasibility",
    "ItemKind",
    "ItemResult",
    "Lane",
    "LaneTask",
    "LessonPlan",
    "LessonSection",
    "Link",
    "Narration",
    "PerformanceAnalysis",
    "PlanConstraints",
    "PlanPart",
    "PlanStep",
    "ProductionPlan",
    "Question",
    "Relaxation",
    "Review",
    "Revision",
    "Rubric",
    "RubricCriterion",
    "RubricLevel",
    "Scene",
    "Script",
    "Section",
    "Shot",
    "ShotList",
    "ShotMode",
    "ShotPlan",
    "SpeechSegment",
    "Standard",
    "Timeline",
    "ToolCatalog",
    "ToolEntry",
    "ToolFigures",
    "ToolOption",
    "Video",
    "VideoPlan",
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


# -- text workflows: lessons, assessments, feedback ------------------------------
# The education hooks exchange these; units in the names (minutes: ``_min``).


class Standard(_Model):
    """A published learning standard a lesson or an assessment is aligned to.

    Attributes:
        id: the framework's code (``CCSS.MATH.CONTENT.4.NF.A.1``, ``MS-LS1-6``).
        statement: the standard as the framework publishes it, verbatim.
        framework: its name (``Common Core State Standards for Mathematics``).
        subject: ``math``, ``ela``, ``science``...
        grades: the grade levels it belongs to (``K``, ``1`` ... ``12``).
        url: where the statement is published.
        notice: the copyright notice its licence asks a publication to carry.
    """

    id: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    framework: str
    subject: str
    grades: list[str] = Field(default_factory=list)
    url: str | None = None
    notice: str = ""


class LessonSection(_Model):
    """One phase of a lesson: its length, purpose and (once written) what happens.

    ``teacher_moves`` to ``materials`` are empty in an outline; ``write_lesson`` fills them.
    """

    title: str
    minutes: int = Field(gt=0)
    purpose: str
    teacher_moves: list[str] = Field(default_factory=list)
    student_tasks: list[str] = Field(default_factory=list)
    check_for_understanding: str | None = None
    materials: list[str] = Field(default_factory=list)


class Adaptation(_Model):
    """One differentiation strategy.

    ``learners``: ``support`` (learners who need help to reach the objective),
    ``extension`` (learners ready to go further) or ``language`` (learners of the
    language of instruction); ``section``: the lesson section it applies to,
    ``None`` for the whole lesson.
    """

    learners: Literal["support", "extension", "language"]
    section: str | None = None
    strategy: str
    rationale: str = ""


class LessonPlan(_Model):
    """A lesson plan: outlined, then written, then differentiated.

    Attributes:
        title, topic, subject: what the lesson teaches.
        grade: the grade level (``K``, ``1`` ... ``12``).
        duration_min: its length in minutes; the sections' ``minutes`` sum to it.
        objectives: what learners can do afterwards, one sentence each.
        standards: the standards it is aligned to.
        vocabulary: terms the lesson teaches.
        materials: what the teacher prepares.
        sections: the lesson's phases, in order.
        differentiation: adaptations (set by ``differentiate``).
        language: BCP 47 tag of the plan's text.
    """

    title: str
    topic: str
    subject: str
    grade: str
    duration_min: int = Field(gt=0, le=600)
    objectives: list[str] = Field(min_length=1)
    standards: list[Standard] = Field(default_factory=list)
    vocabulary: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    sections: list[LessonSection] = Field(min_length=1)
    differentiation: list[Adaptation] = Field(default_factory=list)
    language: str = "en"


ItemKind = Literal["multiple_choice", "true_false", "short_answer", "constructed_response"]


class AssessmentItem(_Model):
    """One question with its answer key.

    ``choices`` are the options of a ``multiple_choice`` item (``true_false``:
    ``["True", "False"]``); ``answer`` is the correct choice's text, or a model
    answer for the other kinds. A ``constructed_response`` item is scored with
    the rubric criteria that name it.
    """

    id: str = Field(pattern=r"^q\d{2,}$")
    kind: ItemKind
    prompt: str
    choices: list[str] = Field(default_factory=list)
    answer: str
    standard_id: str | None = None
    points: int = Field(1, ge=1)
    rationale: str = ""


class RubricLevel(_Model):
    """A performance level of a rubric criterion: its label, points and descriptor."""

    label: str
    points: int = Field(ge=0)
    descriptor: str


class RubricCriterion(_Model):
    """A rubric row: what is judged, on which items, at which levels (highest first)."""

    criterion: str
    standard_id: str | None = None
    item_ids: list[str] = Field(default_factory=list)
    levels: list[RubricLevel] = Field(min_length=2)


class Rubric(_Model):
    """An analytic rubric: criteria by performance levels."""

    title: str
    criteria: list[RubricCriterion] = Field(min_length=1)


class Assessment(_Model):
    """An assessment: items with an answer key, and (once written) its rubric.

    ``grade`` as in :class:`LessonPlan`; the total points are the items' ``points``.
    """

    title: str
    topic: str
    subject: str
    grade: str
    standards: list[Standard] = Field(default_factory=list)
    items: list[AssessmentItem] = Field(min_length=1)
    rubric: Rubric | None = None
    language: str = "en"


class ItemResult(_Model):
    """How one item was answered: the response, and points out of ``max_points``.

    ``correct`` is ``None`` for items scored with the rubric.
    """

    item_id: str
    response: str
    correct: bool | None = None
    points: float = Field(ge=0)
    max_points: float = Field(ge=0)


class CriterionResult(_Model):
    """The level reached on one rubric criterion, with evidence quoted from the work."""

    criterion: str
    level: str
    points: float = Field(ge=0)
    max_points: float = Field(ge=0)
    evidence: list[str] = Field(default_factory=list)


class PerformanceAnalysis(_Model):
    """A piece of student work analysed against an assessment.

    Attributes:
        student: who did the work.
        title: what was assessed.
        items: one result per item answered or expected.
        criteria: one result per rubric criterion.
        score, max_score: points earned and possible.
        strengths, gaps: what the work shows, one sentence each.
        misconceptions: errors that suggest a wrong idea, when seen.
        objectives: what the work was meant to show (the standards' statements).
    """

    student: str
    title: str
    items: list[ItemResult] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    strengths: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    misconceptions: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(default_factory=list)


class Feedback(_Model):
    """Feedback on a piece of work: where the learner is going, how, and what next.

    The three questions of Hattie and Timperley (2007, "The Power of Feedback",
    Review of Educational Research 77(1), 81-112): where am I going (``goal``),
    how am I going (``progress``), where to next (``next_steps``). ``message``
    says it to ``audience`` in a few sentences.
    """

    student: str
    audience: Literal["student", "parent", "teacher"] = "student"
    goal: str
    progress: list[str] = Field(min_length=1)
    next_steps: list[str] = Field(min_length=1)
    message: str


class DocumentFiles(_Model):
    """A model written as files: ``json_path`` (the data) and ``markdown_path`` (for people)."""

    json_path: Path
    markdown_path: Path


# -- production: tool catalog and plan (VideoSolver) --------------------------

#: How a shot is made: a slide rendered offline, or a clip generated from a
#: text prompt or from a first frame (the storyboard slide).
ShotMode = Literal["slide", "text_to_video", "image_to_video"]

#: The figures of a :class:`ToolEntry` that must each cite a source.
TOOL_FIGURES: tuple[str, ...] = (
    "modes",
    "durations_s",
    "resolutions",
    "aspects",
    "native_audio",
    "price_usd_per_s",
    "latency_s",
    "concurrency",
    "quality_tier",
)


class FigureSource(_Model):
    """Where a figure of the tool catalog comes from.

    Attributes:
        url: the page read (https), or ``reelgraph:<path>`` for a figure the
            project measured itself.
        date: the day the page was read, ``YYYY-MM-DD``.
        basis: ``vendor`` (the vendor's own page, SDK or repository),
            ``secondary`` (a third party quoting the vendor), ``measured``
            (by reelgraph), ``estimate`` (a judgement, e.g. a quality tier or a
            typical latency inside a published range).
        note: what exactly the page says, when it needs saying.
    """

    url: str = Field(pattern=r"^(https://|reelgraph:)")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    basis: Literal["vendor", "secondary", "measured", "estimate"] = "vendor"
    note: str = ""


class ToolEntry(_Model):
    """One video tool the solver can choose: a vendor model, or the offline renderer.

    Attributes:
        name: catalog key, e.g. ``runway-gen4-turbo``.
        provider: the reelgraph provider (plugin) that renders with it.
        vendor, model: who makes it and the vendor's model id.
        modes: what it can make (:data:`ShotMode`).
        durations_s: the clip lengths it can be asked for, in seconds; empty:
            any length (the offline renderer).
        resolutions: output sizes, ``WIDTHxHEIGHT`` in pixels.
        aspects: frame shapes it can deliver.
        native_audio: whether its clips carry generated sound.
        price_usd_per_s: US dollars per second of clip asked for.
        credits_per_s, usd_per_credit: the vendor's own unit, when it bills in
            credits (``price_usd_per_s`` = their product).
        latency_s: typical wall time of one clip, submission to download, seconds.
        concurrency: clips the vendor runs at once for one account (tasks
            beyond wait in a queue).
        quality_tier: 1 (a still slide) to 5 (premium generated footage).
        best_for, limitations: plain-English notes for the producer.
        sources: a :class:`FigureSource` for every figure in :data:`TOOL_FIGURES`.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    provider: str = Field(min_length=1)
    vendor: str
    model: str
    modes: list[ShotMode] = Field(min_length=1)
    durations_s: list[float] = Field(default_factory=list)
    resolutions: list[str] = Field(min_length=1)
    aspects: list[Aspect] = Field(min_length=1)
    native_audio: bool = False
    price_usd_per_s: float = Field(ge=0)
    credits_per_s: float | None = Field(None, ge=0)
    usd_per_credit: float | None = Field(None, gt=0)
    latency_s: float = Field(gt=0)
    concurrency: int = Field(1, ge=1)
    quality_tier: int = Field(ge=1, le=5)
    best_for: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    sources: dict[str, FigureSource]

    @model_validator(mode="after")
    def _cited_and_consistent(self) -> ToolEntry:
        missing = [f for f in TOOL_FIGURES if f not in self.sources]
        if missing:
            raise ValueError(f"tool {self.name!r}: no source for {', '.join(missing)}")
        if any(d <= 0 for d in self.durations_s):
            raise ValueError(f"tool {self.name!r}: durations_s must be positive seconds")
        if self.credits_per_s is not None and self.usd_per_credit is not None:
            usd = self.credits_per_s * self.usd_per_credit
            if abs(usd - self.price_usd_per_s) > 1e-6:
                raise ValueError(
                    f"tool {self.name!r}: {self.credits_per_s} credits/s x "
                    f"${self.usd_per_credit}/credit = ${usd:.4f}/s, "
                    f"not price_usd_per_s {self.price_usd_per_s}"
                )
        return self


class ToolCatalog(_Model):
    """Every tool the installed plugins bring, after patches (the user's file).

    Build it with :meth:`from_answers` from the ``tool_catalog`` hook's answers.
    """

    tools: list[ToolEntry]

    @classmethod
    def from_answers(cls, answers: list[Any]) -> ToolCatalog:
        """Merge ``tool_catalog`` answers: entries first, then patches, in order.

        Args:
            answers: :class:`ToolEntry` objects or dicts (one hook answer each,
                or lists of them). A dict with ``patch: true`` changes the
                fields it names of the entry with its ``name``; a patch of an
                unknown name adds a tool when it is a complete entry.

        Raises:
            ValueError: two plugins bring the same name; a patch of an unknown
                tool that is not a complete entry; an entry that does not
                validate (the message names the tool and the field).
        """
        flat: list[Any] = []
        for answer in answers:
            flat.extend(answer if isinstance(answer, list) else [answer])
        entries: dict[str, ToolEntry] = {}
        patches: list[dict[str, Any]] = []
        for item in flat:
            if isinstance(item, dict) and item.get("patch"):
                patches.append({k: v for k, v in item.items() if k != "patch"})
                continue
            entry = _tool_entry(item)
            if entry.name in entries:
                raise ValueError(f"tool {entry.name!r} is brought by two plugins; rename one")
            entries[entry.name] = entry
        for patch in patches:
            name = str(patch.get("name", ""))
            base = entries[name].model_dump() if name in entries else {}
            if not base and "sources" not in patch:
                raise ValueError(
                    f"tools file: {name or '(no name)'!r} patches a tool no plugin brings; "
                    "give a complete entry to add one"
                )
            if "sources" in patch and base:
                patch = {**patch, "sources": {**base["sources"], **patch["sources"]}}
            entries[name] = _tool_entry({**base, **patch})
        return cls(tools=sorted(entries.values(), key=lambda t: (t.quality_tier, t.name)))

    def get(self, name: str) -> ToolEntry | None:
        """The tool called ``name``, or ``None``."""
        return next((t for t in self.tools if t.name == name), None)


def _tool_entry(item: Any) -> ToolEntry:
    if isinstance(item, ToolEntry):
        return item
    if not isinstance(item, dict):
        raise ValueError(f"a tool_catalog answer must be a ToolEntry or a dict, not {item!r}")
    try:
        return ToolEntry.model_validate(item)
    except ValidationError as err:
        first = err.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a check of the whole entry names the tool itself
            raise ValueError(message) from err
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"tool {item.get('name', '(no name)')!r}: {field}: {message}") from err


class PlanStep(_Model):
    """One step of a shot's workflow (storyboard frame, generate, trim, captions)."""

    step: str
    tool: str | None = None
    detail: str
    seconds: float = Field(0.0, ge=0)
    cost_usd: float = Field(0.0, ge=0)


class ToolOption(_Model):
    """A tool that could make a shot: cost (USD), quality tier and time (seconds)."""

    tool: str
    provider: str
    cost_usd: float = Field(ge=0)
    quality_tier: int = Field(ge=1, le=5)
    billed_s: float = Field(ge=0)
    time_s: float = Field(ge=0)
    note: str = ""


class ShotPlan(_Model):
    """The solver's decision for one shot: the tool, the workflow and why.

    ``billed_s`` is the clip length paid for (the shortest the tool offers
    that covers ``duration_s``, trimmed or held to it); ``time_s`` the wall
    time of its task on the tool's lane; ``alternatives`` the other feasible
    tools, best first.
    """

    shot_id: str
    scene_index: int = Field(ge=0)
    beat_id: str | None = None
    mode: ShotMode
    duration_s: float = Field(gt=0)
    tool: str
    provider: str
    model: str
    quality_tier: int = Field(ge=1, le=5)
    billed_s: float = Field(ge=0)
    cost_usd: float = Field(ge=0)
    time_s: float = Field(ge=0)
    steps: list[PlanStep]
    alternatives: list[ToolOption] = Field(default_factory=list)
    reason: str


class CostLine(_Model):
    """What one tool costs over the plan: shots, seconds paid for, US dollars."""

    tool: str
    provider: str
    shots: int = Field(ge=0)
    billed_s: float = Field(ge=0)
    cost_usd: float = Field(ge=0)


class LaneTask(_Model):
    """A shot's task on a lane: start and end in seconds from the plan's start."""

    shot_id: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


class Lane(_Model):
    """One of a provider's concurrent slots and the tasks it runs, in order."""

    provider: str
    lane: int = Field(ge=0)
    tasks: list[LaneTask]
    busy_s: float = Field(ge=0)


class Timeline(_Model):
    """When the shots are made: per-provider lanes and the critical path.

    ``makespan_s`` is the wall time until the last clip is ready;
    ``critical_path`` the shots on the lane that ends last, in order.
    """

    makespan_s: float = Field(ge=0)
    critical_provider: str | None = None
    critical_path: list[str] = Field(default_factory=list)
    lanes: list[Lane] = Field(default_factory=list)


class PlanConstraints(_Model):
    """What the plan must respect: US dollars, seconds of wall time, a quality floor.

    ``min_quality`` applies to generated shots (a shot the designer made a
    slide may stay a slide); ``max_hold_s`` is how long a clip shorter than
    its shot may be held on its last frame; ``animate_slides`` lets the
    solver make a slide shot image-to-video from its storyboard frame when
    the limits allow.
    """

    max_cost_usd: float | None = Field(None, ge=0)
    max_time_s: float | None = Field(None, gt=0)
    min_quality: int = Field(1, ge=1, le=5)
    objective: Literal["quality", "cost"] = "quality"
    max_hold_s: float = Field(0.5, ge=0)
    animate_slides: bool = False
    concurrency: dict[str, int] = Field(default_factory=dict)


class Relaxation(_Model):
    """One change that makes an infeasible plan feasible, the cheapest of its kind.

    ``kind`` is ``budget`` (+``amount`` USD), ``time`` (+``amount`` s),
    ``quality`` (floor lowered to ``amount``) or ``slides`` (``shots`` made as
    slides); ``cost_usd`` and ``time_s`` are the plan's figures after it.
    """

    kind: Literal["budget", "time", "quality", "slides"]
    change: str
    amount: float | None = None
    shots: list[str] = Field(default_factory=list)
    cost_usd: float = Field(ge=0)
    time_s: float = Field(ge=0)


class Infeasibility(_Model):
    """Why no plan meets the constraints, and what would make one.

    ``binding`` names the constraints that block (``budget``, ``time``,
    ``quality``, or ``shot s03`` when a shot's own needs fit no tool).
    """

    binding: list[str]
    message: str
    relaxations: list[Relaxation] = Field(default_factory=list)


class ToolFigures(_Model):
    """Where the solver's figures for one tool came from: the run store, or the catalog.

    ``basis`` maps each figure the solver uses (``price_usd_per_s`` in US
    dollars per second, ``latency_s`` in seconds, ``success_rate`` 0-1) to
    ``measured`` (past runs and benchmarks in the run store) or ``claimed``
    (the tool catalog); ``used`` holds the values the solver planned with
    (price and latency already divided by the success rate) and ``claimed``
    the catalog's. ``excluded``: the measured success rate was below the
    solver's threshold, so the tool was not offered (``note`` says why).
    """

    tool: str
    basis: dict[str, Literal["measured", "claimed"]]
    used: dict[str, float] = Field(default_factory=dict)
    claimed: dict[str, float] = Field(default_factory=dict)
    attempts: int = Field(0, ge=0)
    excluded: bool = False
    note: str = ""


class ProductionPlan(_Model):
    """The solver's production plan for a shot list.

    Attributes:
        title, aspect: from the shot list.
        status: ``feasible`` or ``infeasible`` (then ``infeasibility`` says
            why and ``shots`` is empty).
        optimal: the solver proved the plan optimal for ``constraints.objective``.
        constraints: what was asked.
        shots: one decision per shot, in shot-list order.
        costs: per tool; ``total_cost_usd`` their sum (US dollars).
        timeline: lanes and critical path (seconds).
        tools: the catalog tools considered, by name.
        figures: per catalog tool, which figures were measured in the run
            store and which claimed by the catalog (:class:`ToolFigures`).
        solver: the solver and its version.
        json_path, markdown_path: ``plan.json`` and ``plan.md`` when written.

    A plan is a *verdict*: an infeasible plan fails its node with the
    relaxations as the remedy.
    """

    title: str
    aspect: Aspect = "16:9"
    status: Literal["feasible", "infeasible"]
    optimal: bool = True
    constraints: PlanConstraints
    shots: list[ShotPlan] = Field(default_factory=list)
    costs: list[CostLine] = Field(default_factory=list)
    total_cost_usd: float = Field(0.0, ge=0)
    timeline: Timeline | None = None
    infeasibility: Infeasibility | None = None
    tools: list[str] = Field(default_factory=list)
    figures: list[ToolFigures] = Field(default_factory=list)
    solver: str = ""
    json_path: Path | None = None
    markdown_path: Path | None = None

    def gate_results(self) -> list[GateResult]:
        """One ``production_plan`` result: passed, or blocking with the relaxations."""
        if self.status == "feasible":
            return [
                GateResult(
                    gate="production_plan",
                    passed=True,
                    measured=round(self.total_cost_usd, 2),
                    threshold=self.constraints.max_cost_usd,
                    unit="USD",
                    message=f"{len(self.shots)} shots, ${self.total_cost_usd:.2f}",
                    stage="shots",
                )
            ]
        why = self.infeasibility
        remedy = "; or ".join(r.change for r in why.relaxations) if why else ""
        message = why.message if why else "no plan meets the constraints"
        return [
            GateResult(
                gate="production_plan",
                passed=False,
                message=f"{message} (any one of: {remedy})" if remedy else message,
                remedy=remedy or "relax the budget, the time limit or the quality floor",
                stage="shots",
            )
        ]
