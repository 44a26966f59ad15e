"""Runway clips through the official ``runwayml`` SDK (``generate_clip``).

Protocol (Runway API version ``2024-11-06``, sent by the SDK as the
``X-Runway-Version`` header; https://docs.dev.runwayml.com/api/, and the SDK's
generated types, ``runwayml/types/task_retrieve_response.py``):

- ``POST /v1/image_to_video`` (``model``, ``promptImage``: an https URL or a
  data URI, at most 5 MB as a data URI per
  https://docs.dev.runwayml.com/assets/inputs/, ``promptText``, ``ratio``,
  ``duration``, ``seed``) and ``POST /v1/text_to_video`` (``gen4.5`` only,
  ratios ``1280:720`` and ``720:1280``) answer ``{"id": ...}``;
- ``GET /v1/tasks/{id}`` answers a task whose ``status`` is ``PENDING``,
  ``THROTTLED`` (waiting for a concurrency slot of the account), ``RUNNING``
  (``progress`` 0-1), ``SUCCEEDED`` (``output``: URLs that expire in 24-48
  hours: downloaded at once), ``FAILED`` (``failure``, ``failureCode``;
  https://docs.dev.runwayml.com/errors/task-failures/) or ``CANCELLED``.
  "Consumers of this API should not expect updates more frequent than once
  every five seconds" (the SDK's ``tasks.retrieve`` docstring); the SDK's own
  waiter polls every 6 s +- 1.5 s for at most 10 minutes
  (``runwayml/lib/polling.py``): so do we, backing off to 30 s.

Key: ``RUNWAYML_API_SECRET`` (or ``options.api_key`` from a secret input);
base URL: ``RUNWAYML_BASE_URL`` (the SDK reads both). The SDK's own retries
are turned off (``max_retries=0``): the kernel's retry policy decides, and a
submission is never repeated by a layer the journal does not see.

Options: ``model`` (``gen4.5``, the default, text- and image-to-video;
``gen4_turbo``, image-to-video only), ``seed``, ``first_frame_url`` (the
storyboard frame at a public https URL instead of inline), ``timeout_s`` (polling
deadline, seconds), ``poll_s``, ``price_usd_per_s``, ``max_bytes``,
``max_hold_s``, ``api_key``.
"""

from __future__ import annotations

import sys
from typing import Any

from reelgraph import hookimpl
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    TransientError,
)
from reelgraph.observe.classify import classify_error as http_classify
from reelgraph.plugins.vendors._clips import (
    ClipLimits,
    ClipRequest,
    ClipVendor,
    TaskState,
    image_data_uri,
)

__all__ = ["INSTALL", "KEY_ENV", "MODELS", "RunwayClips"]

INSTALL = "pip install 'reelgraph[runway]'"
KEY_ENV = "RUNWAYML_API_SECRET"
BASE_URL_ENV = "RUNWAYML_BASE_URL"

_RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960"}
_DURATIONS = tuple(float(d) for d in range(2, 11))

#: what each model makes (the SDK's ``image_to_video_create_params.py`` and
#: ``text_to_video_create_params.py``: durations 2-10 s; Runway's API
#: reference, cited in plugins/production/tools.yaml)
MODELS: dict[str, ClipLimits] = {
    "gen4.5": ClipLimits(
        "gen4.5",
        frozenset({"text_to_video", "image_to_video"}),
        _DURATIONS,
        frozenset(_RATIOS),
        _RATIOS,
    ),
    "gen4_turbo": ClipLimits(
        "gen4_turbo", frozenset({"image_to_video"}), _DURATIONS, frozenset(_RATIOS), _RATIOS
    ),
}
#: text-to-video ratios (the SDK's ``text_to_video.create``: 1280:720, 720:1280)
_TEXT_RATIOS = frozenset({"1280:720", "720:1280"})
_STATES = {
    "PENDING": "queued",
    "THROTTLED": "throttled",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "failed",
}


class RunwayClips(ClipVendor):
    """The ``runway`` provider: ``generate_clip`` on Runway's task API."""

    name = "runway"
    vendor = "Runway"
    default_model = "gen4.5"
    key_variable = KEY_ENV
    poll_s = 6.0  # runwayml/lib/polling.py: POLL_TIME = 6
    poll_backoff = 1.5
    poll_max_s = 30.0
    timeout_s = 600.0  # the SDK waiter's default: 10 minutes
    sdk_module = "runwayml"
    base_url_variable = BASE_URL_ENV

    models = MODELS

    def client(self, options: dict[str, Any]) -> Any:
        """A ``runwayml.RunwayML`` client (key from the environment or ``options.api_key``).

        Raises:
            ConfigurationError: no key.
        """
        import runwayml

        key = options.get("api_key")
        try:
            return runwayml.RunwayML(api_key=key, max_retries=0)
        except runwayml.RunwayMLError as err:
            raise ConfigurationError(
                f"runway: no API key; set {KEY_ENV} (or pass a secret input as options.api_key)"
            ) from err

    def submit(self, request: ClipRequest, ctx: Any) -> str:
        client = self.shared_client(request.options)
        extra: dict[str, Any] = {}
        if request.options.get("seed") is not None:
            extra["seed"] = int(request.options["seed"])
        prompt = request.shot.prompt[:1000]  # the API's limit: 1000 UTF-16 units
        duration = int(request.duration_s)
        if request.mode == "image_to_video":
            # a public https URL when given (up to 16 MB), else the frame inline (5 MB)
            url = request.options.get("first_frame_url")
            image = str(url) if url else image_data_uri(request.first_frame)  # type: ignore[arg-type]
            task = client.image_to_video.create(
                model=request.model,
                prompt_image=image,
                prompt_text=prompt,
                ratio=request.ratio,
                duration=duration,
                **extra,
            )
        else:
            if request.ratio not in _TEXT_RATIOS:
                raise InvalidInputError(
                    f"runway shot {request.shot.id}: text-to-video has no {request.aspect} "
                    "output (16:9 or 9:16); give the shot a storyboard frame (image_to_video)"
                )
            task = client.text_to_video.create(
                model=request.model,
                prompt_text=prompt,
                ratio=request.ratio,
                duration=duration,
                **extra,
            )
        return str(task.id)

    def poll(self, task_id: str, request: ClipRequest, ctx: Any) -> TaskState:
        client = self.shared_client(request.options)
        task = client.tasks.retrieve(task_id)
        status = _STATES.get(task.status, "failed")
        if status == "succeeded":
            outputs = list(getattr(task, "output", None) or [])
            return TaskState("succeeded", url=outputs[0] if outputs else None)
        if status == "failed":
            if task.status == "CANCELLED":
                return TaskState("failed", reason="the task was cancelled", code="CANCELLED")
            return TaskState(
                "failed",
                reason=getattr(task, "failure", None),
                code=getattr(task, "failure_code", None),
            )
        return TaskState(status, progress=getattr(task, "progress", None))  # type: ignore[arg-type]

    def classify(self, error: BaseException) -> ProviderError | None:
        """``runwayml`` exceptions: HTTP rules, plus no-response errors as transient.

        A 401 names ``RUNWAYML_API_SECRET``; a 429 is rate limited (the
        account's request rate; a task over the concurrency limit is not an
        error but ``THROTTLED``, https://docs.dev.runwayml.com/usage/tiers).
        """
        sdk = sys.modules.get("runwayml")
        if sdk is None or not isinstance(error, sdk.RunwayMLError):
            return None
        if isinstance(error, sdk.AuthenticationError):
            found = ConfigurationError(
                f"runway: the API key was rejected (HTTP 401); check {KEY_ENV}"
            )
            found.__cause__ = error
            return found
        base = http_classify(error)
        if base is None and isinstance(error, sdk.APIConnectionError):
            base = TransientError(f"runway: {type(error).__name__}: {error}")
            base.__cause__ = error
        return base

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            (KEY_ENV, "Runway API key (or a secret input as options.api_key)"),
            (BASE_URL_ENV, "another Runway API base URL (a proxy, a test server)"),
        ]
