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

from reelgraph._markers import PROJECT, hookimpl, hookspec
from reelgraph.models import Document, GateResult, Narration, Scene, Script, Video, Visual

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["KERNEL_HOOKS", "PROJECT", "defaults", "hookimpl", "hookspec"]

#: hooks the kernel calls itself; spec nodes cannot name them
KERNEL_HOOKS = frozenset({"estimate_cost"})

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
@defaults(duration_s=None, key_messages=[], feedback=[], options={})
def write_script(
    document: Document,
    duration_s: float | None,
    key_messages: list[str],
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script | None:
    """Turn a document into a script of scenes.

    Args:
        document: the parsed source.
        duration_s: target video length in seconds, or ``None`` for no target.
        key_messages: points the narration must cover.
        feedback: remedies from quality gates of an earlier revision, in
            plain English; a writer acts on what it can.
        options: provider-specific settings (e.g. ``max_bullets``).
        ctx: the node context.

    Returns:
        A script whose first scene is a ``title`` scene and whose last is a
        ``closing`` scene.

    Raises:
        InvalidInputError: the document has nothing to narrate.

    Example provider: ``extractive`` (sentences taken from the text).
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
@defaults(voice=None, rate_wpm=None, options={}, language=None)
def synthesize_speech(
    sentences: list[str],
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
        script: the script; scene ``i`` pairs ``visuals[i]`` with
            ``narrations[i]``.
        visuals: one per scene, in scene order.
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
        provider: the provider that will answer, when the node pins one.
        arguments: the call's resolved arguments (without ``ctx``).

    Returns:
        US dollars, or ``None`` when this implementation does not price
        this hook or provider (the next implementation is asked; with no
        answer the call is assumed free until it reports a cost).
    """
