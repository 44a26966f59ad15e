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
image-to-video shot needs its storyboard frame at a URL Luma can fetch.
``options.first_frame_url`` gives one; else the frame's file is published
with ``ctx.publish_asset`` (the ``publish_asset`` hook: the ``s3_assets``
provider with ``REELGRAPH_ASSET_URL=s3://bucket/prefix`` uploads it and
answers a presigned URL that lives as long as the clip may take). With no
publisher configured, a ``slide`` shot is made text-to-video from its prompt,
and says so (a ``clip.text_to_video`` warning in the log and a progress
message on the node); an ``image_to_video`` shot is refused before anything
is sent.

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
from reelgraph.observe.classify import classify_error as http_classify
from reelgraph.plugins.vendors._clips import ClipLimits, ClipRequest, ClipVendor, TaskState

__all__ = ["INSTALL", "KEY_ENV", "MODELS", "LumaClips"]

INSTALL = "pip install 'reelgraph[luma]'"
KEY_ENV = "LUMAAI_API_KEY"
BASE_URL_ENV = "LUMAAI_BASE_URL"
#: the s3_assets publisher's setting, named in messages (plugins/vendors/s3_assets.py)
ASSET_URL_ENV = "REELGRAPH_ASSET_URL"

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

    models = MODELS

    def _frame_url(self, request: ClipRequest, ctx: Any) -> str | None:
        """The keyframe's URL: ``options.first_frame_url``, else the frame published
        through ``ctx.publish_asset`` (readable for the clip's timeout and an hour), else
        ``None`` (no publisher configured)."""
        given = request.options.get("first_frame_url")
        if given:
            return str(given)
        if request.first_frame is None:
            return None
        timeout = float(request.options.get("timeout_s", self.timeout_s))
        publish = getattr(ctx, "publish_asset", None)
        return publish(request.first_frame, expires_s=timeout + 3600) if publish else None

    def _keyframes(self, request: ClipRequest, ctx: Any) -> dict[str, Any] | None:
        """``keyframes`` for an image-to-video request, ``None`` for text-to-video.

        Raises:
            InvalidInputError: an ``image_to_video`` shot whose frame has no URL.
        """
        if request.mode != "image_to_video":
            return None
        url = self._frame_url(request, ctx)
        if url is not None:
            return {"frame0": {"type": "image", "url": url}}
        shot = request.shot
        if shot.mode == "image_to_video":
            raise InvalidInputError(
                f"luma shot {shot.id}: image_to_video needs the storyboard frame at a URL "
                f"(Luma takes keyframes by URL): set {ASSET_URL_ENV}=s3://bucket/prefix "
                "(the s3_assets publisher), pass options.first_frame_url, or choose "
                "another provider"
            )
        # a slide shot the plan animated: text-to-video from its prompt, said out loud
        reason = f"no frame publisher configured ({ASSET_URL_ENV} unset)"
        ctx.log.warning("clip.text_to_video", vendor=self.name, shot=shot.id, reason=reason)
        ctx.progress(0.0, 1.0, f"shot {shot.id}: text-to-video, {reason}")
        return None

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
        keyframes = self._keyframes(request, ctx)
        if keyframes is not None:
            extra["keyframes"] = keyframes
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
