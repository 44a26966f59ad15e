"""The hook catalogue: every hook a reelgraph plugin can implement.

A spec node names one of these hooks; its ``with`` arguments fill the hook's
parameters, and the kernel adds ``ctx`` (a :class:`~reelgraph.NodeContext`).
Hooks are always called with keyword arguments, and an implementation may
accept a subset of the parameters, so adding a parameter never breaks an old
plugin. Parameters left out of a node's ``with`` take the defaults declared
with :func:`defaults` below. Implementations may be ``def`` (run in a worker
thread) or ``async def`` (awaited on the event loop).

"One answer" hooks are ``firstresult``: when a node names a provider only
that plugin is called; otherwise implementations are tried last-registered
first until one returns something other than ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from reelgraph._markers import PROJECT, hookimpl, hookspec
from reelgraph.errors import ProviderError
from reelgraph.models import (
    Assessment,
    Brief,
    Document,
    DocumentFiles,
    Feedback,
    GateResult,
    LessonPlan,
    Narration,
    PerformanceAnalysis,
    ProductionPlan,
    Review,
    Scene,
    Script,
    Shot,
    ShotList,
    Standard,
    ToolEntry,
    Video,
    VideoPlan,
    Visual,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["KERNEL_HOOKS", "PROJECT", "defaults", "hookimpl", "hookspec"]

#: hooks the kernel calls itself; spec nodes cannot name them
KERNEL_HOOKS = frozenset(
    {
        "estimate_cost",
        "classify_error",
        "secret_patterns",
        "environment_variables",
        "choose_provider",
        "publish_asset",
        "register_executors",
    }
)

_F = TypeVar("_F", bound=Callable[..., Any])


def defaults(**values: Any) -> Callable[[_F], _F]:
    """Declare the values the kernel passes for parameters a node leaves out.

    pluggy hands an implementation only the parameters without a default in
    its signature, so defaults live here rather than in the signature.
    """

    def mark(fn: _F) -> _F:
        fn.reelgraph_defaults = dict(values)  # type: ignore[attr-defined]
        return fn

    return mark


@hookspec(firstresult=True)
@defaults(format=None)
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Parse a source document into a :class:`~reelgraph.models.Document`.

    Args:
        source: path of the file to read, or an ``https://`` URL given as
            text (the ``url`` provider fetches it, public addresses only).
        format: ``"markdown"``, ``"text"``, ``"html"``, ``"rst"``, ``"pdf"``
            or ``"docx"``; ``None`` lets each implementation decide from the
            file's magic bytes, suffix and leading markup.
        ctx: the node context.

    Returns:
        The parsed document, or ``None`` when this implementation does not
        handle the format (the next implementation is then tried).

    Raises:
        InvalidInputError: the file is empty, not text, or has nothing to
            say; an unknown ``format``; a URL refused or failing.

    Example provider: ``markdown`` (markdown-it-py, CommonMark + GFM
    tables, raw HTML read as rendered). The others: ``text`` (any
    encoding), ``html`` (trafilatura's main content), ``rst`` (docutils),
    ``pdf`` (pdfminer.six, pypdf), ``docx`` (python-docx), ``url`` (fetches,
    then one of the others).
    """


@hookspec(firstresult=True)
@defaults(source=None, document=None, overrides={})
def load_brief(
    source: Path | None, document: Document | None, overrides: dict[str, Any], ctx: NodeContext
) -> Brief | None:
    """Load a video brief (VRD) from a file, or derive one from a document.

    Args:
        source: a brief file: YAML, JSON, or Markdown with YAML front matter
            (the body is the brief's source document); ``None`` for none.
        document: the parsed source document, when there is one: fields the
            brief leaves out are derived from it (title; goal from its first
            paragraph; key messages from its headings).
        overrides: field values that win over the file and the document
            (``{"duration_s": 90, "document": "talk.md"}``); ``None`` values
            are ignored.
        ctx: the node context.

    Returns:
        The brief (see :class:`~reelgraph.models.Brief`); its ``document`` is
        the source document's path or URL, when one is named.

    Raises:
        InvalidInputError: neither a brief nor a document; a file that cannot
            be read or parsed; a field that does not validate (the message
            names the file and the field).

    Example provider: ``offline`` (PyYAML, python-frontmatter, pydantic).
    """


@hookspec(firstresult=True)
@defaults(
    document=None, brief=None, plan=None, duration_s=None, key_messages=[], feedback=[], options={}
)
def write_script(
    document: Document | None,
    brief: Brief | None,
    plan: VideoPlan | None,
    duration_s: float | None,
    key_messages: list[str],
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script | None:
    """Write a script: from a document, or from a brief and the director's plan.

    Args:
        document: the parsed source, when there is one.
        brief: the video requirements, when writing from a brief.
        plan: the director's plan for ``brief`` (structure, durations).
        duration_s: target video length in seconds, or ``None`` for no
            target (the plan's duration when a plan is given).
        key_messages: points the narration must cover.
        feedback: remedies from quality gates or the reviewer of an earlier
            revision, in plain English; a writer acts on what it can.
        options: provider-specific settings (``max_bullets``, ``model``).
        ctx: the node context.

    Returns:
        A script whose first scene is a ``title`` scene and whose last is a
        ``closing`` scene. Written from a plan, each scene is a **beat**
        (``beat_id``, ``part`` in :data:`~reelgraph.models.BEAT_PARTS`
        order, ``start_s``, ``duration_s`` summing to the target within
        +-5 s, ``key_messages``, ``visual_intent``).

    Raises:
        InvalidInputError: neither a document nor a brief, or nothing to narrate.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``extractive`` (sentences taken from the document;
    offline), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(document=None, answers={}, clarify=True, options={})
def plan_video(
    brief: Brief,
    document: Document | None,
    answers: dict[str, str],
    clarify: bool,
    options: dict[str, Any],
    ctx: NodeContext,
) -> VideoPlan | None:
    """The director: plan a video from a brief (audience, structure, durations).

    Args:
        brief: the video requirements document.
        document: a source document the video draws on, when given.
        answers: answers to earlier clarifying questions, by question key.
        clarify: ``True``: questions the brief leaves essential and
            unanswered stop the run (``NeedsInput``); ``False``: the
            director assumes and records its assumptions in the plan.
        options: provider-specific settings (``model``, ``temperature``).
        ctx: the node context.

    Returns:
        The plan: parts in :data:`~reelgraph.models.BEAT_PARTS` order whose
        durations (seconds) sum to the brief's ``duration_s``, each key
        message placed in a part.

    Raises:
        NeedsInput: ``clarify`` is true and essential questions are unanswered.
        ConfigurationError: a remote director has no key or a rejected one.

    Example provider: ``offline`` (rules from the brief), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(brief=None, aspect="16:9", feedback=[], options={})
def design_shots(
    script: Script,
    brief: Brief | None,
    aspect: str,
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> ShotList | None:
    """The visual designer: a shot list and storyboard for a script's beats.

    Args:
        script: the script (one or more shots per scene).
        brief: the brief, for style and constraints, when there is one.
        aspect: ``"16:9"``, ``"9:16"`` or ``"1:1"``.
        feedback: revisions asked for by the reviewer, plain English.
        options: provider-specific settings (``model``, ``library`` path).
        ctx: the node context.

    Returns:
        Shots whose ``shot_type`` comes from the shot library, with prompts,
        negative prompts and a storyboard frame description each; their
        ``duration_s`` per scene sum to the scene's.

    Raises:
        InvalidInputError: an unknown aspect, or a script with no scene.
        ConfigurationError: a remote designer has no key or a rejected one.

    Example provider: ``offline`` (beat part -> shot library entry),
    ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(voice=None, language=None, options={})
def prepare_narration(
    script: Script,
    voice: str | None,
    language: str | None,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script | None:
    """The narrator: make each narration sentence speakable for the chosen engine.

    Args:
        script: the script; ``narration`` is what captions show.
        voice: the voice that will speak (decides the markup: SSML for
            espeak-ng, plain text for piper), ``None`` for the default engine.
        language: BCP 47 tag, ``None`` for the script's.
        options: provider-specific settings (pronunciation lexicon...).
        ctx: the node context.

    Returns:
        The same script with each scene's ``speech`` set: one entry per
        narration sentence, with pronunciations, pauses and emphasis in the
        engine's markup. ``narration`` is unchanged, so captions stay plain.

    Raises:
        InvalidInputError: a language the narrator cannot prepare text for.
        ConfigurationError: a remote narrator has no key or a rejected one.

    Example provider: ``offline`` (rules: numbers, acronyms, pauses),
    ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(shots=None, measurements=[], threshold=0.7, options={})
def review(
    brief: Brief,
    script: Script,
    shots: ShotList | None,
    measurements: list[GateResult],
    threshold: float,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Review | None:
    """The reviewer: score the work against the brief, 0-1 per criterion.

    Args:
        brief: what was asked for.
        script: the script under review.
        shots: the shot list, when there is one.
        measurements: gate results measured so far; the reviewer takes them
            as facts and never scores against a measurement.
        threshold: the overall score that passes (0-1).
        options: provider-specific settings (``model``, ``criteria``).
        ctx: the node context.

    Returns:
        Scores with reasons, the overall score and actionable revisions.
        As a spec's ``review.gate``, a failing review sends the reviewed node
        back with the revisions as its ``feedback``.

    Raises:
        InvalidInputError: a threshold outside 0-1.
        ConfigurationError: a remote reviewer has no key or a rejected one.

    Example provider: ``offline`` (built on the gates), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(brief=None, feedback=[], options={})
def optimize(
    script: Script,
    brief: Brief | None,
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script | None:
    """The optimizer: apply a reviewer's revisions to a script.

    Args:
        script: the draft.
        brief: the brief, when there is one.
        feedback: the revisions to apply (accumulated over review rounds);
            empty returns the draft unchanged.
        options: provider-specific settings.
        ctx: the node context.

    Returns:
        The revised script, beats still summing to the target within +-5 s.

    Raises:
        InvalidInputError: a revision that cannot be applied to this script.
        ConfigurationError: a remote optimizer has no key or a rejected one.

    Example provider: ``offline`` (trims, reorders, adds a missing key
    message from the brief), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(aspect="16:9", options={})
def render_shot(
    scene: Scene, aspect: str, options: dict[str, Any], ctx: NodeContext
) -> Visual | None:
    """Render the picture for one scene: a still slide or a generated clip.

    Args:
        scene: the scene to show.
        aspect: ``"16:9"`` (1920x1080 px), ``"9:16"`` (1080x1920) or ``"1:1"``
            (1080x1080); see :data:`reelgraph.models.ASPECT_SIZES`.
        options: provider-specific settings (theme, model name, seed...).
        ctx: the node context; write files under ``ctx.workdir``.

    Returns:
        The visual, with alt text describing what it shows.

    Raises:
        InvalidInputError: the aspect or options are not supported.

    Example provider: ``slides`` (Pillow).
    """


@hookspec(firstresult=True)
@defaults(first_frame=None, aspect="16:9", options={})
def generate_clip(
    shot: Shot,
    first_frame: Visual | None,
    aspect: str,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Visual | None:
    """Generate the footage for one shot: a video clip ready to assemble.

    A remote provider submits the job, records the vendor's task id with
    ``ctx.journal`` *before* polling (a resumed node polls the task it
    already paid for and never submits twice), polls at the vendor's
    documented cadence, downloads the result (https only, size cap,
    content-type check, redirects re-checked, no private or loopback address
    unless ``REELGRAPH_ALLOW_LOOPBACK=1``), verifies it by decoding, and
    normalises it so the assembler can join it with the others.

    Args:
        shot: the shot (``prompt``, ``negative_prompt``, ``duration_s``,
            ``mode``: ``text_to_video`` or ``image_to_video``).
        first_frame: the storyboard frame (a still ``Visual``, e.g. the
            ``slides`` render of the scene) for image-to-video; ``None`` for
            text-to-video.
        aspect: ``"16:9"`` (1920x1080 px), ``"9:16"`` or ``"1:1"``.
        options: provider-specific settings (``model``, ``seed``...).
        ctx: the node context; write files under ``ctx.workdir``; report the
            vendor's price with ``ctx.report_cost`` once the job is accepted.

    Returns:
        A ``Visual`` of kind ``video``: H.264, yuv420p, square pixels, the
        aspect's frame size, 30 fps, ``duration_s`` equal to the shot's
        (trimmed, or its last frame held); ``alt_text`` describes it.

    Raises:
        InvalidInputError: a shot the model cannot make (duration, aspect,
            mode), a failed or refused generation, a result that is not a video.
        ConfigurationError: no key, or the vendor rejected it.
        RateLimitedError, TransientError: throttling, 5xx, timeouts.

    Example provider: ``slides`` (offline: the storyboard frame with a
    gentle Ken Burns move); remote: ``runway``, ``luma``, ``kling``, ``veo``.
    """


@hookspec(firstresult=True)
@defaults(voice=None, rate_wpm=None, options={}, language=None, speech=[])
def synthesize_speech(
    sentences: list[str],
    speech: list[str],
    voice: str | None,
    rate_wpm: int | None,
    options: dict[str, Any],
    language: str | None,
    ctx: NodeContext,
) -> Narration | None:
    """Speak sentences, one audio segment per sentence.

    Args:
        sentences: plain-text sentences, in order, as captions show them; a
            provider normalises them for speech itself (numbers, units...)
            and ``SpeechSegment.text`` stays the sentence as given.
        speech: what to speak instead, one entry per sentence, in the
            engine's markup (set by ``prepare_narration``); empty: speak
            ``sentences``. A provider that takes no markup may ignore it.
        voice: a provider voice name (``"en-us"`` for espeak, a ``.onnx``
            path for piper); ``None`` for the provider's default.
        rate_wpm: speaking rate in words per minute; ``None`` for the default.
        options: provider-specific settings.
        language: the script's language as a BCP 47 tag (``"fr"``, ``"zh"``);
            with no ``voice``, the provider picks a voice for it; ``None``
            for the provider's default voice.
        ctx: the node context; write files under ``ctx.workdir``.

    Returns:
        The narration: one WAV segment per sentence with its duration in
        seconds; ``Narration.voice`` names engine and voice (``"espeak:fr"``,
        ``"piper:en_US-joe-medium"``). ``None`` when this provider has no
        voice for ``language`` and no ``voice`` was named: the next is tried.

    Raises:
        InvalidInputError: unknown voice, a rate out of range, or a language
            no voice speaks (raised before any audio is made).
        ConfigurationError: the engine is not installed or has no key.

    Example provider: ``espeak`` (libespeak-ng through ctypes; ``trylast``);
    also ``piper`` (neural, optional extra; ``tryfirst``).
    """


@hookspec(firstresult=True)
@defaults(fps=30, pause_s=0.75, options={})
def assemble_video(
    script: Script,
    visuals: list[Visual],
    narrations: list[Narration],
    fps: int,
    pause_s: float,
    options: dict[str, Any],
    ctx: NodeContext,
) -> Video | None:
    """Join visuals and narration into a captioned video.

    Args:
        script: the script; scene ``i`` is spoken by ``narrations[i]`` and
            shown by the visuals whose ``scene_index`` is ``i``.
        visuals: one per scene, or one per shot (several for a scene, their
            ``duration_s`` the shots' planned seconds), in scene order.
        narrations: one per scene, in scene order.
        fps: frames per second of the output.
        pause_s: silence after each scene's narration, in seconds.
        options: provider-specific settings.
        ctx: the node context; write files under ``ctx.workdir``.

    Returns:
        The video: each scene lasts its narration plus ``pause_s``; one
        caption cue per sentence (split when longer than two lines of 42
        characters, per common broadcast subtitle guidelines).

    Raises:
        InvalidInputError: the lists do not match the script's scenes.
        ConfigurationError: ffmpeg is missing.

    Example provider: ``ffmpeg`` (the static build in imageio-ffmpeg).
    """


@hookspec
@defaults(
    document=None,
    script=None,
    visuals=None,
    narrations=None,
    video=None,
    targets={},
    gates=None,
    thresholds={},
)
def check_quality(
    document: Document | None,
    script: Script | None,
    visuals: list[Visual] | None,
    narrations: list[Narration] | None,
    video: Video | None,
    targets: dict[str, Any],
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Measure artifacts against quality gates. Every implementation is called.

    A gate node passes what exists at its place in the spec (after the
    script: ``script``; after the shots: ``visuals``; after assembly:
    ``video`` and the rest). Each gate checks what it can and returns
    ``None`` when it has nothing to check at this stage. The node's output is
    the list of all results; an ``error`` result that did not pass fails the
    run with status ``failed_quality``, or sends the work back for revision
    when the producing node has ``review:``.

    Args:
        document: the source document, when given.
        script: the script, when given.
        visuals: the rendered shots, one per scene, when given.
        narrations: the narration per scene, when given.
        video: the assembled video, when given.
        targets: what the spec asked for: ``duration_s`` (seconds),
            ``key_messages`` (list of str), ``width_px``, ``height_px``,
            ``fps``, ``sample_rate_hz``, ``loudness_lufs``.
        gates: names of the gates to run; ``None`` runs every installed gate.
        thresholds: per gate name, overrides of its default thresholds
            (``{"captions": {"max_cps": 20}}``).
        ctx: the node context.

    Returns:
        The results of this implementation's gates, or ``None`` when none
        applies.

    Raises:
        InvalidInputError: a threshold override is unknown or out of range.

    Example provider: ``captions`` (reading speed, line length, cue timing).
    """


# -- production: the tool catalog and the solver ---------------------------------


@hookspec
@defaults()
def tool_catalog(ctx: NodeContext) -> list[ToolEntry] | None:
    """The video tools this plugin brings, for the solver and ``reelgraph tools``.

    Every implementation is called (a collect hook); a spec node calling it
    gets every answer in one list, and
    :meth:`reelgraph.models.ToolCatalog.from_answers` merges them. The kernel
    knows no vendor: tool data lives in the plugins that answer here (the
    ``solver`` plugin ships ``tools.yaml`` and the user's tools file; a
    third-party video provider answers with its own model's entry).

    Args:
        ctx: the node context when a spec node asks, ``None`` when the
            ``reelgraph tools`` command does; implementations usually take
            no argument.

    Returns:
        :class:`~reelgraph.models.ToolEntry` objects, or dicts of the same
        shape (every figure with a ``sources`` entry: url, date, basis). A
        dict with ``patch: true`` changes the named fields of the tool with
        its ``name`` instead (a user's override); ``None`` for no tools.

    Raises:
        InvalidInputError: the plugin's own data (a user's file) is unreadable.

    Example provider: ``solver`` (the shipped catalog: Runway, Luma, Kling,
    Veo and the offline ``slides`` renderer, plus ``$REELGRAPH_TOOLS``).
    """


@hookspec(firstresult=True)
@defaults(
    tools=None,
    max_cost_usd=None,
    max_time_s=None,
    min_quality=1,
    objective="quality",
    concurrency={},
    options={},
)
def plan_production(
    shots: ShotList,
    tools: list[ToolEntry] | None,
    max_cost_usd: float | None,
    max_time_s: float | None,
    min_quality: int,
    objective: str,
    concurrency: dict[str, int],
    options: dict[str, Any],
    ctx: NodeContext,
) -> ProductionPlan | None:
    """VideoSolver: choose a tool per shot under a budget, a time limit and a quality floor.

    A shot's needs are hard constraints: its mode (``slide``,
    ``text_to_video``, ``image_to_video``), the shot list's aspect, sound
    (``needs_audio``) and a clip length covering ``duration_s``. Among the
    plans that meet them and the limits, the best by ``objective`` is chosen
    (deterministically: the same inputs give the same plan).

    Args:
        shots: the shot list.
        tools: the catalog (a ``tool_catalog`` node's output); ``None`` asks
            the installed plugins.
        max_cost_usd: the most the footage may cost, US dollars; ``None``
            for no limit.
        max_time_s: the longest the footage may take, wall-clock seconds,
            each provider running at most its concurrency limit of clips at
            once; ``None`` for no limit.
        min_quality: the lowest quality tier (1-5) a generated shot may have.
        objective: ``quality`` (best duration-weighted quality, then lowest
            cost, then shortest time) or ``cost`` (lowest cost first).
        concurrency: clips at once per provider, overriding the catalog
            (``{"runway": 5}`` on Runway's tier 3).
        options: provider-specific settings (``max_hold_s``: seconds a short
            clip may be held on its last frame; ``animate_slides``: a slide
            shot may become image-to-video from its storyboard frame;
            ``max_nodes``).
        ctx: the node context; ``plan.json`` and ``plan.md`` go to ``ctx.workdir``.

    Returns:
        The plan: per shot the tool, workflow steps, alternatives and reason;
        costs per tool (USD); lanes and critical path (seconds). When no plan
        meets the constraints, a plan with status ``infeasible`` naming the
        binding constraints and the cheapest relaxation of each kind (a
        verdict: it fails its node with that remedy).

    Raises:
        InvalidInputError: an empty shot list, an unknown option or
            objective, a quality outside 1-5, a catalog entry that does not
            validate.

    Example provider: ``solver`` (a mixed-integer program, PuLP and CBC).
    """


# -- text workflows: lessons, assessments, feedback ------------------------------
# research standards -> outline -> content -> differentiation (specs/lesson-plan.yaml);
# standards -> questions -> rubric (assessment.yaml); analyse -> feedback (feedback.yaml).
# A step that adds to a plan returns the whole plan, as prepare_narration does.


@hookspec(firstresult=True)
@defaults(subject=None, framework=None, limit=3, options={})
def find_standards(
    topic: str,
    grade: str,
    subject: str | None,
    framework: str | None,
    limit: int,
    options: dict[str, Any],
    ctx: NodeContext,
) -> list[Standard] | None:
    """Research the published standards a lesson or assessment on a topic aligns to.

    Args:
        topic: what is taught, a few words (``"equivalent fractions"``).
        grade: the grade level: ``K`` or ``1`` ... ``12`` (``"4"``, ``"grade 4"``
            and ``"4th"`` are read as ``4``).
        subject: ``math``, ``ela`` or ``science``; ``None`` infers it from the topic.
        framework: restrict to one framework (``ccss``, ``ngss``); ``None`` for any.
        limit: the most standards to return, best match first.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The standards, best match first, each statement verbatim with its
        framework, source URL and copyright notice; empty when none matches
        (the lesson is then aligned to its own objectives).

    Raises:
        InvalidInputError: an unknown grade, subject or framework, or ``limit < 1``.
        ConfigurationError: a remote researcher has no key or a rejected one.

    Example provider: ``offline`` (a shipped set of Common Core and NGSS
    standards, matched by subject, grade and topic words), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(subject=None, duration_min=45, standards=[], objectives=[], options={})
def outline_lesson(
    topic: str,
    grade: str,
    subject: str | None,
    duration_min: int,
    standards: list[Standard],
    objectives: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> LessonPlan | None:
    """Outline a lesson: objectives from the standards, and timed sections.

    Args:
        topic: what is taught.
        grade: the grade level (as for ``find_standards``).
        subject: ``math``, ``ela``, ``science``...; ``None``: the standards' subject.
        duration_min: the lesson's length in minutes.
        standards: the standards it aligns to (``find_standards``).
        objectives: the teacher's own objectives; empty: derived from the standards.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        A plan whose sections have titles, purposes and ``minutes`` summing to
        ``duration_min``, with no teaching content yet.

    Raises:
        InvalidInputError: a duration too short for the lesson's sections, or
            an unknown grade.
        ConfigurationError: a remote planner has no key or a rejected one.

    Example provider: ``offline`` (gradual release of responsibility for
    math and ELA, the BSCS 5E model for science), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(options={})
def write_lesson(plan: LessonPlan, options: dict[str, Any], ctx: NodeContext) -> LessonPlan | None:
    """Write each section of an outlined lesson: teacher moves, student tasks, checks.

    Args:
        plan: the outline (``outline_lesson``).
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same plan with each section's ``teacher_moves``, ``student_tasks``,
        ``check_for_understanding`` and ``materials`` set; titles and minutes unchanged.

    Raises:
        InvalidInputError: a plan with no section.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (templates per phase, filled from the
    standards' vocabulary and tasks), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(needs=[], options={})
def differentiate(
    plan: LessonPlan, needs: list[str], options: dict[str, Any], ctx: NodeContext
) -> LessonPlan | None:
    """Adapt a written lesson for learners who need support, extension or language help.

    Args:
        plan: the written lesson (``write_lesson``).
        needs: the class's needs in the teacher's words (``"3 newcomers who
            speak Spanish"``, ``"two students read below grade level"``).
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same plan with ``differentiation`` set: at least one adaptation for
        each of ``support``, ``extension`` and ``language``, and one per need.

    Raises:
        InvalidInputError: a plan with no section.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (rules after CAST's UDL guidelines and WIDA's
    language supports), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(subject=None, count=6, kinds=[], options={})
def write_questions(
    topic: str,
    grade: str,
    subject: str | None,
    standards: list[Standard],
    count: int,
    kinds: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Assessment | None:
    """Write assessment items aligned to standards, each with its answer key.

    Args:
        topic: what is assessed.
        grade: the grade level (as for ``find_standards``).
        subject: as for ``outline_lesson``.
        standards: what the items assess; every item names one of them.
        count: how many items.
        kinds: the item kinds allowed (:data:`~reelgraph.models.ItemKind`);
            empty allows all.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        An assessment of ``count`` items, ids ``q01``... in order, spread over
        the standards, with no rubric yet.

    Raises:
        InvalidInputError: no standards to align to, ``count`` out of 1-50, or
            an unknown kind.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (items from the standards' shipped tasks
    and vocabulary), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(levels=4, options={})
def write_rubric(
    assessment: Assessment, levels: int, options: dict[str, Any], ctx: NodeContext
) -> Assessment | None:
    """Write the analytic rubric that scores an assessment's open items.

    Args:
        assessment: the items (``write_questions``).
        levels: performance levels per criterion, 2-5.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        The same assessment with ``rubric`` set: criteria by ``levels`` levels,
        highest first, each with a descriptor and points; every constructed
        response item named by a criterion, its ``points`` the sum of its
        criteria's top levels.

    Raises:
        InvalidInputError: ``levels`` out of range.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (a criterion per assessed standard plus
    one for reasoning, four levels from Beginning to Exceeds), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(assessment=None, student="the student", options={})
def analyse_performance(
    work: Path,
    assessment: Assessment | Path | None,
    student: str,
    options: dict[str, Any],
    ctx: NodeContext,
) -> PerformanceAnalysis | None:
    """Analyse a student's work against an assessment's key and rubric.

    Args:
        work: a text or Markdown file (any encoding) of answers, one per
            item, each starting ``1.``, ``1)``, ``q01:`` or ``Question 1:``
            (later lines continue the answer).
        assessment: the assessment with its rubric, or the path of its JSON
            file (``assessment.json`` from the ``assessment`` spec); ``None``
            for work without one (a provider that needs a key refuses it).
        student: the student's name, as feedback addresses them.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        Points per item and per rubric criterion with evidence quoted from the
        work, the total score, strengths and gaps.

    Raises:
        InvalidInputError: an unreadable or empty work file, no answer found,
            an assessment file that is not an assessment, or no assessment for
            a provider that scores against a key.
        ConfigurationError: a remote analyst has no key or a rejected one.

    Example provider: ``offline`` (the answer key for objective items; key
    terms and reasons in the answer for rubric levels), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(audience="student", options={})
def compose_feedback(
    analysis: PerformanceAnalysis, audience: str, options: dict[str, Any], ctx: NodeContext
) -> Feedback | None:
    """Compose feedback from an analysis: the goal, progress so far, next steps.

    Args:
        analysis: the analysed work (``analyse_performance``).
        audience: ``student`` (addressed as "you"), ``parent`` or ``teacher``.
        options: provider-specific settings (``model``).
        ctx: the node context.

    Returns:
        Feedback with at least one point of progress and one next step, each
        tied to the work's evidence.

    Raises:
        InvalidInputError: an unknown audience.
        ConfigurationError: a remote writer has no key or a rejected one.

    Example provider: ``offline`` (Hattie and Timperley's three questions
    answered from the analysis), ``openai``, ``anthropic``.
    """


@hookspec(firstresult=True)
@defaults(name=None, options={})
def render_document(
    document: BaseModel, name: str | None, options: dict[str, Any], ctx: NodeContext
) -> DocumentFiles | None:
    """Write a model as a JSON file and a Markdown file a person reads.

    Args:
        document: any pydantic model (a lesson plan, an assessment, feedback...).
        name: the files' stem (``lesson-plan`` gives ``lesson-plan.json`` and
            ``lesson-plan.md``); ``None``: from the model's class name.
        options: provider-specific settings.
        ctx: the node context; files are written under ``ctx.workdir``.

    Returns:
        The two paths. The JSON is ``document.model_dump_json()``; the Markdown
        has a layout per known model and a generic one for others.

    Raises:
        InvalidInputError: a name that is not a plain file stem.

    Example provider: ``report``.
    """


@hookspec(firstresult=True)
def estimate_cost(hook: str, provider: str | None, arguments: dict[str, Any]) -> float | None:
    """What one call of ``hook`` would cost, in US dollars, before it is made.

    The kernel asks before starting each call of a node when the run has a
    ``budget.max_cost_usd``; a call whose estimate would take the run past
    the budget is not started. Implement it in a plugin that charges money
    (a video vendor: price per second of clip from the vendor's price list).
    This hook is for the kernel; spec nodes do not call it. It is called
    synchronously before every attempt: compute from a price table, do no
    I/O. An exception it raises fails the node.

    Args:
        hook: the hook about to be called (``render_shot``).
        provider: the provider that will answer, when the node pins one
            (or ``choose_provider`` pinned this call of an open node).
        arguments: the call's resolved arguments (without ``ctx``).

    Returns:
        US dollars, or ``None`` when this implementation does not price
        this hook or provider (the next implementation is asked; with no
        answer the call is assumed free until it reports a cost).
    """


@hookspec(firstresult=True)
def choose_provider(hook: str, arguments: dict[str, Any], providers: list[str]) -> str | None:
    """Which provider answers one call of a node that names none.

    A node without a provider (or with ``provider: $inputs.NAME`` given
    ``auto``) is *open*. Before each of its calls (each ``map`` item) of a
    one-answer hook the kernel asks this hook; a provider named here is
    pinned for that call: it alone is called, the call takes a slot of
    that provider's limit (``concurrency.providers``), its ``estimate_cost``
    and attempts are that provider's, and ``ctx.provider`` names it. With no
    answer every implementation may answer, as before, and no provider
    limit applies. This hook is for the kernel; spec nodes do not call it.
    It is called synchronously before every call: decide from the
    arguments, do no I/O.

    Args:
        hook: the hook about to be called (``generate_clip``).
        arguments: the call's resolved arguments (without ``ctx``): a map
            item's ``shot`` and ``options``, for example.
        providers: the installed providers of ``hook``, sorted.

    Returns:
        A provider name, or ``None`` when this implementation has no opinion
        (the next one is asked).

    Raises:
        Nothing of its own; the kernel fails the call with a
        :class:`~reelgraph.errors.ConfigurationError` (then the node's
        ``on_error`` fallbacks are tried) when the answer is not an
        installed provider of ``hook``.

    Example provider: ``solver`` (a ``generate_clip`` call carrying a
    production plan in ``options.plan`` goes to the provider the plan chose
    for its shot).
    """


@hookspec(firstresult=True)
def publish_asset(path: Path, content_type: str, expires_s: float) -> str | None:
    """Put a local file where a remote vendor can fetch it; return its URL.

    Some vendors take inputs only by URL (Luma's image-to-video keyframes).
    A clip provider asks through ``ctx.publish_asset(path, ...)``, which
    calls this hook. Implement it in a plugin that owns some storage (an
    S3-compatible bucket with presigned GET URLs, a CDN, a web server).

    Args:
        path: the file to publish (a PNG storyboard frame, for example).
        content_type: its media type (``image/png``), served with it.
        expires_s: how long the URL must stay readable, in seconds.

    Returns:
        An ``https`` (or, for a loopback test server, ``http``) URL that
        serves the file's bytes, or ``None`` when this plugin is not
        configured (the next implementation is asked; with no answer the
        caller goes without, e.g. text-to-video instead of image-to-video).

    Raises:
        ConfigurationError: the publisher is configured but cannot write
            (bad bucket, rejected credentials), naming the setting to fix.
        TransientError: the storage failed in a way a retry may fix.

    Example provider: ``s3_assets`` (``REELGRAPH_ASSET_URL=s3://bucket/prefix``).
    """


@hookspec
def register_executors(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register executors: where the scheduler's hook calls run.

    Every implementation is called when a kernel opens its executor. Call
    ``register(name, factory)`` once per executor; ``factory(**options)``
    makes it (``Kernel(executor=name, executor_options={...})``,
    ``reelgraph run --executor NAME``) and raises
    :class:`~reelgraph.errors.ConfigurationError` when the options are bad
    or a package is missing. The executor keeps the contract in
    :mod:`reelgraph.run.executors` (``async call(node, kwargs)``,
    ``close()``): it only runs calls; the scheduler keeps every decision.

    Args:
        register: ``register(name, factory)``; the first registration of a
            name wins.

    Example providers: ``asyncio`` (in-process, the default), ``dask``
    (``reelgraph.contrib.dask``: calls of ``def`` hooks on Dask workers).
    """


# -- vendor knowledge, for the kernel -------------------------------------------


@hookspec(firstresult=True)
def classify_error(error: BaseException) -> ProviderError | None:
    """Classify an exception a vendor's SDK raised, for the retry policy.

    The kernel knows ``httpx`` errors and HTTP statuses; an SDK's own
    exception types (``openai.RateLimitError``, a vendor's "concurrency
    limit" code in a 200 envelope) are known to the vendor's plugin only. The
    kernel asks this hook for any exception that is not already a
    :class:`~reelgraph.errors.ProviderError`.

    Args:
        error: the exception a hook implementation raised.

    Returns:
        A :class:`~reelgraph.errors.ProviderError` subclass instance
        (``RateLimitedError(retry_after_s=...)``, ``ConfigurationError`` for
        a rejected key, ``TransientError`` for a 5xx...) whose message names
        the vendor and never contains a key; ``None`` when this plugin does
        not know the exception (the next implementation is asked, then the
        kernel's httpx-level rules).
    """


@hookspec
def secret_patterns() -> list[tuple[str, str]] | None:
    """Regular expressions matching a vendor's API key format, for redaction.

    Every implementation is called once, when the plugin registers. A
    match anywhere in logs, spans, events, errors or the store is replaced
    by ``[REDACTED:<name>]``, even for a key the run was never given.

    Returns:
        ``(name, pattern)`` pairs, e.g. ``("openai", r"sk-(?:proj-)?[A-Za-z0-9_-]{20,}")``.
    """


@hookspec
def environment_variables() -> list[tuple[str, str]] | None:
    """Environment variables a plugin reads, for ``reelgraph doctor``.

    Every implementation is called. ``doctor`` prints, per plugin, which of
    them are set; it never reads a value into its output.

    Returns:
        ``(name, what it is for)`` pairs, e.g. ``("OPENAI_API_KEY", "API
        key")``, ``("OPENAI_BASE_URL", "another OpenAI-compatible server")``.
    """
