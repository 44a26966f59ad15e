"""The video pipeline's hookspecs: ingest, brief, plan, script, shots, narration,
review, visuals, clips, speech, assembly and quality gates.

Part of :mod:`reelgraph.hookspecs`, which re-exports every hook: import them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph._markers import defaults, hookspec
from reelgraph.models import (
    Brief,
    Document,
    GateResult,
    Narration,
    Review,
    Scene,
    Script,
    Shot,
    ShotList,
    Video,
    VideoPlan,
    Visual,
)

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext


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
