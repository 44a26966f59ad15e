"""Luma clips through the official ``lumaai`` SDK (``generate_clip``).

Protocol (Luma Dream Machine API v1, https://docs.lumalabs.ai/, and the
SDK's generated types, ``lumaai/types/generation.py``,
``generation_create_params.py``):

- ``POST /generations/video`` (``model``: ``ray-2`` or ``ray-flash-2``,
  ``prompt``, ``aspect_ratio``, ``duration``: ``"5s"`` or ``"9s"``,
  ``resolution``: ``"540p"`` ... ``"4k"``, ``keyframes.frame0``: ``{"type":
  "image", "url": ...}`` for image-to-video) answers a generation object
  with its ``id`` and ``state: "queued"``;
- ``GET /generations/{id}`` answers the generation: ``state`` ``queued``,
  ``dreaming``, ``completed`` (``assets.video``: the MP4's URL) or
  ``failed`` (``failure_reason``).
- The SDK's README polls every 3 s; we start there and back off to 30 s.

Luma takes keyframe images by URL only (no data URIs in the schema): an
image-to-video shot needs its storyboard frame at a public https URL,
``options.first_frame_url``. A ``slide`` shot without one is made
text-to-video from its prompt; an ``image_to_video`` shot without one is
refused before anything is sent.

Key: ``LUMAAI_API_KEY`` (or ``options.api_key`` from a secret input); base
URL: ``LUMAAI_BASE_URL`` (the SDK reads both). The SDK's own retries are
off (``max_retries=0``): the kernel's policy decides.

Options: ``model`` (``ray-flash-2``, the default, or ``ray-2``),
``resolution`` (``720p``), ``first_frame_url``, ``timeout_s``, ``poll_s``,
``price_usd_per_s``, ``max_bytes``, ``max_hold_s``, ``api_key``.
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, InvalidInputError, ProviderError, TransientError
from reelgraph.models import Shot, Visual
from reelgraph.observe.classify import classify_error as http_classify
from reelgraph.plugins.vendors._clips import ClipLimits, ClipRequest, ClipVendor, TaskState

__all__ = ["INSTALL", "KEY_ENV", "MODELS", "LumaClips"]

INSTALL = "pip install 'reelgraph[luma]'"
KEY_ENV = "LUMAAI_API_KEY"
BASE_URL_ENV = "LUMAAI_BASE_URL"

_ASPECTS = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}
_BOTH = frozenset({"text_to_video", "image_to_video"})
#: durations 5 s and 9 s, every aspect we make (the SDK's ``duration`` and
#: ``aspect_ratio`` literals; tools.yaml cites Luma's schema as forwarded)
MODELS: dict[str, ClipLimits] = {
    name: ClipLimits(name, _BOTH, (5.0, 9.0), frozenset(_ASPECTS), _ASPECTS)
    for name in ("ray-flash-2", "ray-2")
}
_STATES = {"queued": "queued", "dreaming": "running", "completed": "succeeded", "failed": "failed"}


class LumaClips(ClipVendor):
    """The ``luma`` provider: ``generate_clip`` on Luma's generations API."""

    name = "luma"
    vendor = "Luma"
    default_model = "ray-flash-2"
    key_variable = KEY_ENV
    poll_s = 3.0  # the lumaai README's example loop sleeps 3 s
    poll_backoff = 1.5
    poll_max_s = 30.0
    timeout_s = 900.0
    sdk_module = "lumaai"
    base_url_variable = BASE_URL_ENV

    def limits(self, model: str) -> ClipLimits:
        try:
            return MODELS[model]
        except KeyError:
            known = ", ".join(MODELS)
            raise InvalidInputError(
                f"luma: unknown model {model!r} (options.model); use one of {known}"
            ) from None

    def request(
        self, shot: Shot, first_frame: Visual | None, aspect: str, options: dict[str, Any]
    ) -> ClipRequest:
        """As :meth:`ClipVendor.request`; without ``options.first_frame_url`` a slide
        shot is made text-to-video (Luma takes keyframes by URL only)."""
        if not options.get("first_frame_url"):
            if shot.mode == "slide":
                first_frame = None
            elif shot.mode == "image_to_video":
                raise InvalidInputError(
                    f"luma shot {shot.id}: image_to_video needs the storyboard frame at a "
                    "public https URL (Luma takes keyframes by URL); pass "
                    "options.first_frame_url, or choose another provider"
                )
        return super().request(shot, first_frame, aspect, options)

    def client(self, options: dict[str, Any]) -> Any:
        """A ``lumaai.LumaAI`` client (key from the environment or ``options.api_key``).

        Raises:
            ConfigurationError: no key.
        """
        import lumaai

        try:
            return lumaai.LumaAI(auth_token=options.get("api_key"), max_retries=0)
        except lumaai.LumaAIError as err:
            raise ConfigurationError(
                f"luma: no API key; set {KEY_ENV} (or pass a secret input as options.api_key)"
            ) from err

    def submit(self, request: ClipRequest, ctx: Any) -> str:
        extra: dict[str, Any] = {}
        if request.mode == "image_to_video":
            url = str(request.options["first_frame_url"])
            extra["keyframes"] = {"frame0": {"type": "image", "url": url}}
        client = self.shared_client(request.options)
        generation = client.generations.create(
            model=request.model,
            prompt=request.shot.prompt,
            aspect_ratio=request.ratio,
            duration=f"{int(request.duration_s)}s",
            resolution=str(request.options.get("resolution", "720p")),
            loop=False,
            **extra,
        )
        if not generation.id:
            raise TransientError("luma: the API accepted the generation without an id")
        return str(generation.id)

    def poll(self, task_id: str, request: ClipRequest, ctx: Any) -> TaskState:
        client = self.shared_client(request.options)
        generation = client.generations.get(task_id)
        status = _STATES.get(generation.state or "", "failed")
        if status == "succeeded":
            video = generation.assets.video if generation.assets else None
            return TaskState("succeeded", url=video)
        if status == "failed":
            reason = generation.failure_reason or f"state {generation.state!r}"
            return TaskState("failed", reason=reason)
        return TaskState(status)  # type: ignore[arg-type]

    def classify(self, error: BaseException) -> ProviderError | None:
        """``lumaai`` exceptions: HTTP rules, a 401 naming ``LUMAAI_API_KEY``, no response transient."""
        sdk = sys.modules.get("lumaai")
        if sdk is None or not isinstance(error, sdk.LumaAIError):
            return None
        if isinstance(error, sdk.AuthenticationError):
            found: ProviderError = ConfigurationError(
                f"luma: the API key was rejected (HTTP 401); check {KEY_ENV}"
            )
        else:
            base = http_classify(error)
            if base is not None:
                return base
            if not isinstance(error, sdk.APIConnectionError):
                return None
            found = TransientError(f"luma: {type(error).__name__}: {error}")
        found.__cause__ = error
        return found

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (KEY_ENV, "Luma API key (or a secret input as options.api_key)"),
            (BASE_URL_ENV, "another Luma API base URL (a proxy, a test server)"),
        ]
