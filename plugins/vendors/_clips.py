"""What every clip vendor shares: limits, journaled submission, polling, download, checks.

A vendor plugin (``runway``, ``luma``, ``kling``, ``veo``, or a third
party's) subclasses :class:`ClipVendor` and writes three things:
:meth:`ClipVendor.limits` (what a model can make), :meth:`ClipVendor.submit`
(start a task, return its id) and :meth:`ClipVendor.poll` (one look at the
task, as a :class:`TaskState`; it gets the :class:`ClipRequest` too, rebuilt
from the same arguments on a resumed attempt). It may override the public
:meth:`ClipVendor.download` (the result's bytes, when the vendor's URL needs
its key or is not a URL at all: ``veo``) and :meth:`ClipVendor.price_usd_per_s`
(a price that depends on more than the model: ``kling``); the private steps
are not meant to be overridden.
Everything else is here, the same for all of them, in the order the
``generate_clip`` hookspec (``kernel/hookspecs.py``) lays down:

1. **check** the shot against the model's limits (mode, aspect, a clip
   length covering ``shot.duration_s``) before anything is paid for;
2. **journal**: a task id recorded by an earlier attempt (or a process
   killed while polling) is polled again; otherwise the task is submitted and
   its id recorded with ``ctx.journal.record`` *before* the first poll, so a
   resumed node never submits (or pays) twice;
3. **cost**: the price is worked out *before* the submission
   (:meth:`ClipVendor.quote`: a model with no known price is refused
   before anything is paid; the kernel has already asked ``estimate_cost``,
   the same quote, and let the run's budget refuse the call), and reported
   with ``ctx.report_cost`` once the vendor accepted the task (price per
   second from the tool catalog, ``plugins/production/tools.yaml``, which
   cites the vendor's page; ``options.price_usd_per_s`` overrides it); an
   attempt that finds the task in the journal reports nothing more, unless
   the process that reported it died before the kernel stored it (a kill -9
   while polling: :meth:`ClipVendor._bill`). A task the vendor failed is cleared from the journal, so a resumed run
   submits a new one instead of polling the failure forever;
4. **poll** at the vendor's cadence (:attr:`ClipVendor.poll_s`), backing off
   exponentially (x :attr:`ClipVendor.poll_backoff`, at most
   :attr:`ClipVendor.poll_max_s`) until the deadline (``options.timeout_s``,
   else :attr:`ClipVendor.timeout_s`); a 429 or a 5xx while polling waits
   and polls again;
5. **download** (:meth:`ClipVendor.download`; by default
   :func:`reelgraph.plugins._media.fetch.fetch`: https only, redirects
   re-checked, private and loopback addresses refused unless
   ``REELGRAPH_ALLOW_LOOPBACK=1``, a size cap, a video content type);
6. **verify** by decoding with PyAV (a video stream, frames, a duration);
7. **normalise** with ffmpeg (:func:`normalise_clip`): the aspect's frame
   size (scaled and padded), square pixels, 30 fps, yuv420p H.264, trimmed
   or the last frame held to ``shot.duration_s``, the clip's own sound kept
   when it has any (the assembler mixes it under the voice, or drops it
   with ``clip_audio: drop``).

Decoding and normalising live in :mod:`._clip_media` (re-exported here).
``estimate_cost`` prices a call before it is made (price x seconds billed),
so a run's budget stops a clip before it is paid for; ``classify_error``
hands the vendor's SDK exceptions to :meth:`ClipVendor.classify`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reelgraph import hookimpl
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    TransientError,
)
from reelgraph.models import Shot, Visual
from reelgraph.plugins.vendors._clip_media import (
    FPS,
    Probe,
    image_data_uri,
    normalise_clip,
    probe_video,
)

__all__ = [
    "FPS",
    "MAX_CLIP_BYTES",
    "VIDEO_TYPES",
    "ClipInputs",
    "ClipLimits",
    "ClipRequest",
    "ClipVendor",
    "Probe",
    "TaskState",
    "billed_seconds",
    "catalog_price",
    "chosen_provider",
    "clip_inputs",
    "image_data_uri",
    "normalise_clip",
    "probe_video",
]

#: 200 MiB: a 10 s 4K H.264 clip at 50 Mbit/s is ~63 MB; this leaves room while
#: bounding what a hostile or broken server can make us hold in memory
MAX_CLIP_BYTES = 200 * 1024 * 1024
#: media types a clip may come with; the decode check decides the rest
#: (object stores often send ``application/octet-stream`` for any file)
VIDEO_TYPES = frozenset(
    {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "application/octet-stream"}
)
#: how long a clip shorter than its shot may be held on its last frame, seconds
#: (the solver's default ``max_hold_s``, ``reelgraph.models.PlanConstraints``)
DEFAULT_MAX_HOLD_S = 0.5

Status = Literal["queued", "running", "throttled", "succeeded", "failed"]


@dataclass(frozen=True)
class TaskState:
    """One look at a remote task.

    Attributes:
        status: ``queued`` (accepted, waiting), ``throttled`` (waiting for a
            concurrency slot of the account), ``running``, ``succeeded``
            (``url`` is the result) or ``failed`` (``reason``, ``code``:
            the vendor's words and machine code; a cancelled task is failed).
        url: the result's download URL (``succeeded`` only).
        reason, code: why it failed.
        progress: 0-1 when the vendor says.
    """

    status: Status
    url: str | None = None
    reason: str | None = None
    code: str | None = None
    progress: float | None = None


@dataclass(frozen=True)
class ClipLimits:
    """What one model can make.

    Attributes:
        model: the vendor's model id.
        modes: ``text_to_video`` and/or ``image_to_video``.
        durations_s: clip lengths it can be asked for, seconds (ascending).
        aspects: frame shapes (``16:9``, ``9:16``, ``1:1``).
        ratios: the vendor's own value per aspect (``{"16:9": "1280:720"}``).
    """

    model: str
    modes: frozenset[str]
    durations_s: tuple[float, ...]
    aspects: frozenset[str]
    ratios: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClipRequest:
    """What :meth:`ClipVendor.submit` is asked to make (checked against the limits).

    Attributes:
        shot: the shot.
        mode: ``text_to_video`` or ``image_to_video``.
        model: the vendor's model id.
        duration_s: the clip length asked for (billed), seconds.
        aspect: ``16:9``, ``9:16`` or ``1:1``; ``ratio`` the vendor's value.
        first_frame: the storyboard frame's file (image-to-video), else ``None``
            (also when only ``options.first_frame_url`` gives it).
        options: the node's options (``seed``, ...).
    """

    shot: Shot
    mode: str
    model: str
    duration_s: float
    aspect: str
    ratio: str
    first_frame: Path | None
    options: dict[str, Any]


def billed_seconds(limits: ClipLimits, duration_s: float, max_hold_s: float) -> float | None:
    """The shortest clip length the model offers that covers ``duration_s``.

    A clip up to ``max_hold_s`` shorter than the shot is allowed (its last
    frame is held). Returns ``None`` when no length fits.
    """
    for offered in sorted(limits.durations_s):
        if offered + max_hold_s >= duration_s - 1e-9:
            return float(offered)
    return None


def catalog_price(provider: str, model: str) -> float | None:
    """US dollars per second of ``provider``'s ``model`` in the shipped tool catalog.

    The catalog (``plugins/production/tools.yaml``) cites the vendor's price
    page for every figure; ``None`` when the model is not in it.
    """
    from reelgraph.plugins.production.catalog import shipped_tools

    for entry in shipped_tools():
        if entry.get("provider") == provider and entry.get("model") == model:
            return float(entry["price_usd_per_s"])
    return None


# -- what a map item carries ------------------------------------------------------


@dataclass(frozen=True)
class ClipInputs:
    """A ``generate_clip`` call's arguments, resolved for one provider (:func:`clip_inputs`).

    Attributes:
        shot: the shot (validated).
        first_frame: the storyboard frame: the one given, else the scene's
            in ``options.frames``, else ``None``.
        options: the options without ``plan`` and ``frames``, with the
            plan's ``model`` when the plan chose this provider.
        chosen: the provider the plan or ``options.provider`` chose, if any.
    """

    shot: Shot
    first_frame: Visual | None
    options: dict[str, Any]
    chosen: str | None

    def answers(self, name: str, pinned: str | None) -> bool:
        """Whether provider ``name`` makes this clip: pinned to it, or chosen for it."""
        if pinned is not None:
            return pinned == name
        return self.chosen == name


def clip_inputs(
    shot: Any, first_frame: Any, options: dict[str, Any] | None, name: str
) -> ClipInputs:
    """Resolve a map item's arguments: the shot, its frame, the provider the plan chose.

    One ``generate_clip`` node maps over the shot list; what differs per shot
    travels in ``options`` (the kernel pins one provider per node and has no
    zip of lists):

    - ``options.plan``: the solver's :class:`~reelgraph.models.ProductionPlan`
      (or its dict); the shot's :class:`~reelgraph.models.ShotPlan` (by
      ``shot_id``) gives the provider, and for that provider the ``model``
      (the shot keeps its mode: a slide shot the solver animated is made
      image-to-video from its frame, as :meth:`ClipVendor.request` does);
    - ``options.frames``: the storyboard frames (``render_shot`` visuals, one
      per scene); the shot's is the one with its ``scene_index``;
    - ``options.provider``: a provider chosen by hand.

    Raises:
        InvalidInputError: the shot, a frame or the plan does not validate.
    """
    options = dict(options or {})
    plan = options.pop("plan", None)
    frames = options.pop("frames", None) or []
    if isinstance(shot, dict):  # a literal in a spec's `with:`
        shot = _validated(Shot, shot, f"{name}: shot")
    if isinstance(first_frame, dict):
        first_frame = _validated(Visual, first_frame, f"{name} shot {shot.id}: first_frame")
    chosen = chosen_provider(shot, {"plan": plan, **options})
    planned = _planned(plan, shot.id) or {}
    if planned.get("provider") == name and planned.get("model") and "model" not in options:
        options["model"] = planned["model"]
    if first_frame is None:
        for frame in frames:
            if isinstance(frame, dict):
                frame = _validated(Visual, frame, f"{name} shot {shot.id}: options.frames")
            if isinstance(frame, Visual) and frame.scene_index == shot.scene_index:
                first_frame = frame
                break
    return ClipInputs(shot, first_frame, options, chosen)


def chosen_provider(shot: Any, options: dict[str, Any] | None) -> str | None:
    """The provider chosen for ``shot`` (a Shot or its dict): ``options.provider``,
    else the plan's (``options.plan``, by ``shot_id``), else ``None``.

    The solver's ``choose_provider`` answers with it, so the kernel pins each
    clip of an open ``generate_clip`` node to its provider (and that
    provider's concurrency limit).
    """
    options = options or {}
    if options.get("provider"):
        return str(options["provider"])
    shot_id = shot.get("id") if isinstance(shot, dict) else getattr(shot, "id", None)
    planned = _planned(options.get("plan"), str(shot_id))
    provider = planned.get("provider") if planned is not None else None
    return str(provider) if provider else None


def _planned(plan: Any, shot_id: str) -> dict[str, Any] | None:
    """The plan's decision for ``shot_id`` as a dict, or ``None``."""
    if plan is None:
        return None
    shots = plan.get("shots") if isinstance(plan, dict) else getattr(plan, "shots", None)
    for decision in shots or []:
        data = decision if isinstance(decision, dict) else decision.model_dump()
        if data.get("shot_id") == shot_id:
            return data
    return None


# -- the base class -----------------------------------------------------------------


class ClipVendor:
    """The ``generate_clip``, ``estimate_cost`` and ``classify_error`` hooks of a clip vendor.

    Subclass it, set the class attributes, and implement :meth:`limits`,
    :meth:`submit` and :meth:`poll` (and :meth:`classify` for the SDK's
    exceptions). Register an *instance* through the entry point
    (``runway = "reelgraph.plugins.vendors.runway:plugin"``).

    Attributes:
        name: the provider name (the entry point's).
        vendor: the vendor, for messages.
        default_model: the model used when ``options.model`` is not given.
        key_variable: the environment variable holding the key (named in
            errors, never its value).
        poll_s, poll_backoff, poll_max_s: first wait between polls, its
            growth factor per poll and its cap, seconds.
        timeout_s: how long to poll before giving up, seconds.
        fallback_price_usd_per_s: the price when the catalog has no entry
            for the model (cite it in the subclass).
    """

    name: str = ""
    vendor: str = ""
    default_model: str = ""
    key_variable: str = ""
    poll_s: float = 5.0
    poll_backoff: float = 1.5
    poll_max_s: float = 30.0
    timeout_s: float = 900.0
    fallback_price_usd_per_s: float | None = None
    sdk_module: str = ""
    accept: Collection[str] = VIDEO_TYPES
    max_bytes: int = MAX_CLIP_BYTES

    base_url_variable: str = ""

    def __init__(self) -> None:
        self._clients: dict[tuple[str | None, ...], Any] = {}
        self._clients_lock = threading.Lock()

    def shared_client(self, options: dict[str, Any]) -> Any:
        """One SDK client per key and base URL, reused by every poll and call
        (an SDK client is thread-safe; making one per poll costs ~0.1-0.3 s of
        TLS and connection set-up, measured by test_clips' cadence test)."""
        key = (
            options.get("api_key"),
            os.environ.get(self.key_variable),
            os.environ.get(self.base_url_variable),
        )
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self.client(options)
        return client

    def client(self, options: dict[str, Any]) -> Any:
        """A new SDK client for ``options`` (raises ConfigurationError without a key)."""
        raise NotImplementedError

    # -- what a vendor writes ------------------------------------------------

    #: the models this vendor makes, by id (the default :meth:`limits` looks them up)
    models: dict[str, ClipLimits] = {}

    def limits(self, model: str) -> ClipLimits:
        """What ``model`` can make: its entry in :attr:`models` (override for models
        known by pattern).

        Raises:
            InvalidInputError: an unknown model, naming the ones there are.
        """
        try:
            return self.models[model]
        except KeyError:
            known = ", ".join(self.models) or "none"
            raise InvalidInputError(
                f"{self.name}: unknown model {model!r} (options.model); use one of {known}"
            ) from None

    def submit(self, request: ClipRequest, ctx: Any) -> str:
        """Start the task; return the vendor's task id. Errors escape (classified)."""
        raise NotImplementedError

    def poll(self, task_id: str, request: ClipRequest, ctx: Any) -> TaskState:
        """One look at the task (``request`` as submitted: its options carry keys and
        settings). Errors escape (a 429 or 5xx is waited out)."""
        raise NotImplementedError

    def classify(self, error: BaseException) -> ProviderError | None:
        """The reelgraph error an exception of the vendor's SDK amounts to, else ``None``."""
        return None

    # -- hooks -----------------------------------------------------------------

    @hookimpl
    def generate_clip(
        self,
        shot: Shot,
        first_frame: Visual | None,
        aspect: str,
        options: dict[str, Any],
        ctx: Any,
    ) -> Visual | None:
        """Make the shot's clip (see the module docstring for the steps).

        Returns ``None`` in a node without a pinned provider (``-i
        video=auto``) when the plan (``options.plan``) or ``options.provider``
        chose another provider for this shot (see :func:`clip_inputs`).
        """
        item = clip_inputs(shot, first_frame, options, self.name)
        if not item.answers(self.name, getattr(ctx, "provider", None)):
            return None
        shot, first_frame, options = item.shot, item.first_frame, item.options
        request = self.request(shot, first_frame, aspect, options)
        try:
            task_id = self._submitted(request, ctx)
            url = self._wait(task_id, request, ctx)
            return self._finish(url, request, ctx)
        except ProviderError:
            raise
        except Exception as err:
            # the vendor's words for its SDK's exception (a 401 names the key variable)
            classified = self.classify(err)
            if classified is None:
                raise
            raise classified from err
        finally:
            # this attempt ends here and the kernel stores what it reported
            if ctx.journal.get("billed"):
                ctx.journal.record("billed", _SETTLED)

    @hookimpl
    def estimate_cost(
        self, hook: str, provider: str | None, arguments: dict[str, Any]
    ) -> float | None:
        """US dollars a ``generate_clip`` call would cost: price per second x seconds billed.

        ``None`` for other hooks and providers, and for a shot the model
        cannot make (the call then fails on its check, costing nothing).
        """
        if hook != "generate_clip" or arguments.get("shot") is None:
            return None
        try:
            item = clip_inputs(
                arguments["shot"], arguments.get("first_frame"), arguments.get("options"), self.name
            )
            if not item.answers(self.name, provider):
                return None
            request = self.request(
                item.shot, item.first_frame, arguments.get("aspect") or "16:9", item.options
            )
        except InvalidInputError:
            return None
        return self.quote(request)

    @hookimpl
    def classify_error(self, error: BaseException) -> ProviderError | None:
        """The vendor's SDK exceptions, classified by :meth:`classify`."""
        module = type(error).__module__ or ""
        if not self.sdk_module or not module.startswith(self.sdk_module):
            return None
        return self.classify(error)

    # -- the steps ---------------------------------------------------------------

    def price_usd_per_s(self, model: str, options: dict[str, Any]) -> float:
        """US dollars per second: ``options.price_usd_per_s``, the catalog's, or the fallback.

        Raises:
            ConfigurationError: no price is known for the model.
        """
        given = options.get("price_usd_per_s")
        if given is not None:
            return float(given)
        price = catalog_price(self.name, model)
        if price is None:
            price = self.fallback_price_usd_per_s
        if price is None:
            raise ConfigurationError(
                f"{self.name}: no price for model {model!r}; add it to your tools file "
                "or pass options.price_usd_per_s"
            )
        return price

    def quote(self, request: ClipRequest) -> float:
        """US dollars ``request`` will be billed: price per second x seconds billed.

        Asked by ``estimate_cost`` (the run's budget) and again just before
        the submission, so a clip whose price is unknown is never submitted.

        Raises:
            ConfigurationError: no price is known for the model.
        """
        return self.price_usd_per_s(request.model, request.options) * request.duration_s

    def request(
        self, shot: Shot, first_frame: Visual | None, aspect: str, options: dict[str, Any]
    ) -> ClipRequest:
        """The shot checked against the model's limits, as a :class:`ClipRequest`.

        Image-to-video needs ``first_frame``; a ``slide`` shot becomes
        image-to-video when there is one, else text-to-video.

        Raises:
            InvalidInputError: the model cannot make it (mode, aspect, length),
                naming the shot, the limit and the fix.
        """
        model = str(options.get("model") or self.default_model)
        limits = self.limits(model)
        where = f"{self.name} shot {shot.id}"
        mode = shot.mode
        if mode == "slide":
            mode = "image_to_video" if first_frame is not None else "text_to_video"
        if mode not in limits.modes:
            can = ", ".join(sorted(limits.modes))
            raise InvalidInputError(
                f"{where}: model {model} cannot make {mode} (it makes {can}); "
                "choose another model or provider"
            )
        if mode == "image_to_video" and first_frame is None and not options.get("first_frame_url"):
            raise InvalidInputError(
                f"{where}: image_to_video needs the storyboard frame; pass first_frame "
                "(or options.first_frame_url, a public https URL of it)"
            )
        if aspect not in limits.aspects:
            raise InvalidInputError(
                f"{where}: model {model} has no {aspect} output "
                f"(it has {', '.join(sorted(limits.aspects))})"
            )
        hold = float(options.get("max_hold_s", DEFAULT_MAX_HOLD_S))
        billed = billed_seconds(limits, shot.duration_s, hold)
        if billed is None:
            longest = max(limits.durations_s)
            raise InvalidInputError(
                f"{where}: {shot.duration_s:g} s is longer than model {model}'s longest "
                f"clip ({longest:g} s, held at most {hold:g} s); split the shot"
            )
        frame = Path(first_frame.path) if mode == "image_to_video" and first_frame else None
        return ClipRequest(
            shot=shot,
            mode=mode,
            model=model,
            duration_s=billed,
            aspect=aspect,
            ratio=limits.ratios.get(aspect, aspect),
            first_frame=frame,
            options=options,
        )

    def _submitted(self, request: ClipRequest, ctx: Any) -> str:
        """The task id: the journal's (a resumed node), or a new submission journaled at once."""
        task_id = ctx.journal.get("task_id")
        if task_id:  # "" marks a task that failed: a later attempt submits anew
            ctx.log.info("clip.resumed", vendor=self.name, task_id=task_id)
            if _lost_cost(ctx.journal.get("billed")):
                # its process died before storing it
                self._bill(request, task_id, ctx, self.quote(request))
            return task_id
        cost = self.quote(request)  # before paying: an unknown price submits nothing
        task_id = self.submit(request, ctx)
        ctx.journal.record("task_id", task_id)
        self._bill(request, task_id, ctx, cost)
        return task_id

    def _bill(self, request: ClipRequest, task_id: str, ctx: Any, cost: float) -> None:
        """Report the task's price, and journal that this process reported it.

        The kernel stores a reported cost when the attempt ends. The journal
        says ``pending:<process>`` until this attempt's hook returns (then
        ``settled``), so an attempt finding ``pending`` from another process
        knows that process died before the cost was stored (a kill -9 while
        polling) and reports it once more; in the same process (a retry) the
        earlier attempt's cost was stored.
        """
        ctx.journal.record("billed", _PENDING + _process_token())
        ctx.report_usage(operation="generate_video", provider_name=self.name, model=request.model)
        ctx.report_cost(
            cost, detail=f"{self.name} {request.model} {request.duration_s:g} s ({request.shot.id})"
        )
        ctx.log.info(
            "clip.submitted", vendor=self.name, task_id=task_id, model=request.model,
            billed_s=request.duration_s, cost_usd=round(cost, 4),
        )  # fmt: skip

    def _wait(self, task_id: str, request: ClipRequest, ctx: Any) -> str:
        """Poll until the task succeeds (its URL), fails or the deadline passes.

        Raises:
            InvalidInputError: the task failed or was cancelled (the vendor's
                reason and code).
            TransientError: the deadline passed (the next attempt polls the
                same task).
        """
        timeout = float(request.options.get("timeout_s", self.timeout_s))
        wait = float(request.options.get("poll_s", self.poll_s))
        cap = float(request.options.get("poll_max_s", self.poll_max_s))
        deadline = time.monotonic() + timeout
        where = f"{self.name} task {task_id} (shot {request.shot.id})"
        state = TaskState("queued")
        while True:
            try:
                state = self.poll(task_id, request, ctx)
            except Exception as err:
                classified = self.classify(err) or _kernel_classify(err)
                if not isinstance(classified, TransientError):
                    raise
                # a 429 or a 5xx while polling: the task runs on; look again later
                hint = getattr(classified, "retry_after_s", None)
                wait = max(wait, hint or 0.0)
                ctx.log.warning("clip.poll_retry", vendor=self.name, error=str(classified))
            else:
                if state.status == "succeeded":
                    if not state.url:
                        raise InvalidInputError(f"{where}: succeeded without an output URL")
                    return state.url
                if state.status == "failed":
                    ctx.journal.record("task_id", "")  # a resumed run submits a new task
                    code = f" [{state.code}]" if state.code else ""
                    raise InvalidInputError(
                        f"{where} failed{code}: {state.reason or 'no reason given'}"
                    )
                if state.progress is not None:
                    ctx.progress(state.progress, 1.0, state.status)
            if time.monotonic() + wait > deadline:
                raise TransientError(
                    f"{where} still {state.status} after {timeout:g} s (timeout_s); "
                    "a retry polls the same task"
                )
            _sleep(wait, ctx)
            wait = min(wait * self.poll_backoff, cap)

    def download(self, url: str, request: ClipRequest, ctx: Any) -> bytes:
        """The finished task's video, as bytes (``url``: what :meth:`poll` gave in
        :attr:`TaskState.url`).

        The default fetches ``url`` with
        :func:`reelgraph.plugins._media.fetch.fetch`: https only, every
        redirect re-checked, private and loopback addresses refused (unless
        ``REELGRAPH_ALLOW_LOOPBACK=1``), at most ``options.max_bytes``
        (:attr:`max_bytes`, 200 MiB), a content type in :attr:`accept`.
        Override it when the vendor's result needs the key (send it to the
        vendor's own origin only) or is not a URL (bytes in the answer); keep
        the size cap. What it returns is decoded, checked and normalised
        after it, the same for every vendor.

        Raises:
            InvalidInputError: a refused URL or redirect, an error answer, a
                body too big or of another content type.
            TransientError: the download failed in a way a retry may fix.
        """
        from reelgraph.plugins._media.fetch import fetch

        max_bytes = int(request.options.get("max_bytes", self.max_bytes))
        return fetch(url, accept=self.accept, max_bytes=max_bytes).data

    def _finish(self, url: str, request: ClipRequest, ctx: Any) -> Visual:
        """Download (:meth:`download`), decode, normalise; the shot's clip as a ``Visual``."""
        shot = request.shot
        what = f"{self.name} clip for shot {shot.id}"
        workdir = Path(ctx.workdir)
        raw = workdir / f"{shot.id}.{self.name}.raw"
        raw.write_bytes(self.download(url, request, ctx))
        found = probe_video(raw, what)
        if shot.needs_audio and not found.has_audio:
            raise InvalidInputError(f"{what}: the shot needs sound and the clip has none")
        target = workdir / f"{shot.id}.mp4"
        made = normalise_clip(
            raw,
            target,
            aspect=request.aspect,
            duration_s=shot.duration_s,
            keep_audio=found.has_audio,
            what=what,
        )
        raw.unlink(missing_ok=True)
        ctx.log.info(
            "clip.ready", vendor=self.name, frames=found.frames,
            source_s=round(found.duration_s, 3), duration_s=round(made.duration_s, 3),
        )  # fmt: skip
        return Visual(
            scene_index=shot.scene_index,
            kind="video",
            path=target,
            width_px=made.width_px,
            height_px=made.height_px,
            alt_text=_alt_text(shot),
            duration_s=shot.duration_s,
        )


_PENDING = "pending:"
_SETTLED = "settled"


_TOKEN: tuple[int, str] | None = None


def _process_token() -> str:
    """This process: its pid and a random part (a pid can be reused after a kill)."""
    global _TOKEN
    if _TOKEN is None or _TOKEN[0] != os.getpid():  # first use, or a forked child
        _TOKEN = (os.getpid(), f"{os.getpid()}-{secrets.token_hex(4)}")
    return _TOKEN[1]


def _lost_cost(billed: str | None) -> bool:
    """Whether a journal's ``billed`` says another process reported a cost it never stored."""
    return bool(billed and billed.startswith(_PENDING) and billed != _PENDING + _process_token())


def _validated(model: Any, value: dict[str, Any], where: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(value)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(whole)"
        raise InvalidInputError(f"{where}.{field}: {first['msg']}") from None


def _alt_text(shot: Shot) -> str:
    text = shot.storyboard_frame or shot.prompt
    return f"Video: {text}".strip()


def _kernel_classify(error: BaseException) -> ProviderError | None:
    from reelgraph.observe.classify import classify_error

    return classify_error(error)


def _sleep(seconds: float, ctx: Any) -> None:
    """Sleep, waking every 0.2 s to stop when the kernel gave up on the attempt."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if getattr(ctx, "cancelled", False):
            raise TransientError("the attempt was cancelled (timeout_s) while polling")
        time.sleep(min(left, 0.2))
