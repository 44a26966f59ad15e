"""Veo clips through the official ``google-genai`` SDK (``generate_clip``).

Protocol (Gemini API, https://ai.google.dev/gemini-api/docs/video, and the
SDK's request and response converters, ``google/genai/models.py``
``_GenerateVideosParameters_to_mldev`` / ``_GenerateVideosOperation_from_mldev``):

- ``client.models.generate_videos(model=..., source=GenerateVideosSource(prompt,
  image), config=GenerateVideosConfig(...))`` sends ``POST
  /v1beta/models/{model}:predictLongRunning`` with ``{"instances": [{"prompt",
  "image": {"bytesBase64Encoded", "mimeType"}}], "parameters": {"aspectRatio",
  "durationSeconds", "resolution", "negativePrompt", "sampleCount"}}`` and
  gets a long-running operation ``{"name": "models/{model}/operations/{id}"}``;
  the operation's name is journaled before the first poll;
- ``client.operations.get(operation)`` sends ``GET /v1beta/{name}`` until
  ``done``; then ``error`` (``code``, ``message``) or ``response.
  generateVideoResponse``: ``generatedSamples[0].video.uri`` (a Files API URI,
  downloaded with the key, "``curl -L -H 'x-goog-api-key: ...'``" in the
  docs) or ``encodedVideo`` (bytes), and ``raiMediaFilteredCount`` /
  ``raiMediaFilteredReasons`` when safety filters removed the video;
- the docs' example loop polls every 10 s; latency is 11 s to 6 minutes
  ("Request latency", the same page), so we poll from 10 s, backing off to
  30 s, for at most 10 minutes.

The result is downloaded in two hops so the key goes nowhere but the API:
the URI on the API's own origin is asked for with ``x-goog-api-key`` and
*without* following redirects; a redirect target (a signed storage URL) is
fetched with :func:`reelgraph.plugins._media.fetch.fetch`, without the key,
with every check (https, public addresses, size cap, content type). A body
served directly by the API origin gets the same size and type checks.

SDK versions: google-genai 3.x refuses ``generate_videos`` with an API key
("only supported in Gemini Enterprise Agent Platform mode"), so the extra
pins ``google-genai<3``; 2.34 is tested.

Key: ``GOOGLE_API_KEY`` or ``GEMINI_API_KEY`` (the SDK reads both, the first
winning; or ``options.api_key`` from a secret input); base URL:
``GOOGLE_GEMINI_BASE_URL`` (the SDK's variable; or ``options.base_url``).
The SDK's own retries stay off (its default): the kernel's policy decides.

Options: ``model`` (a model name is configuration: preview models get
retired; default ``veo-3.1-fast-generate-preview``, priced from the tool
catalog; an unknown name is sent as given, with Veo 3's limits, and needs
``price_usd_per_s``), ``resolution`` (``720p``, the catalog's price basis,
or ``1080p``), ``first_frame_url`` is *not* taken (the API takes image
bytes), ``timeout_s``, ``poll_s``, ``price_usd_per_s``, ``max_bytes``,
``max_hold_s``, ``api_key``, ``base_url``.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from reelgraph import hookimpl
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from reelgraph.models import Shot, Visual
from reelgraph.plugins.vendors._clips import (
    ClipLimits,
    ClipRequest,
    ClipVendor,
    TaskState,
    image_data_uri,
)

__all__ = ["BASE_URL_ENV", "DEFAULT_BASE_URL", "INSTALL", "KEY_ENVS", "MODELS", "VeoClips"]

INSTALL = "pip install 'reelgraph[veo]'"
#: the SDK reads GOOGLE_API_KEY first, then GEMINI_API_KEY (google/genai/_api_client.py)
KEY_ENVS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
BASE_URL_ENV = "GOOGLE_GEMINI_BASE_URL"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/"
#: a Google API key: "AIza" and 35 more characters (Google Cloud's API key format)
KEY_PATTERN = r"AIza[0-9A-Za-z_-]{35}"

_ASPECTS = {"16:9": "16:9", "9:16": "9:16"}
_BOTH = frozenset({"text_to_video", "image_to_video"})
#: durations and aspects per model (the Veo docs page, cited in tools.yaml)
MODELS: dict[str, ClipLimits] = {
    name: ClipLimits(name, _BOTH, durations, frozenset(_ASPECTS), _ASPECTS)
    for name, durations in (
        ("veo-3.1-fast-generate-preview", (4.0, 6.0, 8.0)),
        ("veo-3.1-generate-preview", (4.0, 6.0, 8.0)),
        ("veo-3.0-generate-001", (8.0,)),
    )
}
_INLINE = "inline-file://"
_REDIRECTS = {301, 302, 303, 307, 308}


class VeoClips(ClipVendor):
    """The ``veo`` provider: ``generate_clip`` on the Gemini API's Veo models."""

    name = "veo"
    vendor = "Google"
    default_model = "veo-3.1-fast-generate-preview"
    key_variable = "GEMINI_API_KEY"
    poll_s = 10.0  # the docs' example loop sleeps 10 s
    poll_backoff = 1.5
    poll_max_s = 30.0
    timeout_s = 600.0
    sdk_module = "google.genai"

    def limits(self, model: str) -> ClipLimits:
        if model in MODELS:
            return MODELS[model]
        if not model.startswith("veo-"):
            raise InvalidInputError(
                f"veo: {model!r} is not a Veo model (options.model); use one of {', '.join(MODELS)}"
            )
        # a newer or renamed Veo model: Veo 3's documented limits
        return ClipLimits(model, _BOTH, (4.0, 6.0, 8.0), frozenset(_ASPECTS), _ASPECTS)

    def request(
        self, shot: Shot, first_frame: Visual | None, aspect: str, options: dict[str, Any]
    ) -> ClipRequest:
        """As :meth:`ClipVendor.request`; an ``image_to_video`` shot needs the frame
        as a file (the Gemini API takes image bytes; ``first_frame_url`` is not used).

        Raises:
            InvalidInputError: as the base, or no storyboard frame file.
        """
        if shot.mode == "image_to_video" and first_frame is None:
            raise InvalidInputError(
                f"veo shot {shot.id}: image_to_video needs the storyboard frame as a file "
                "(first_frame); the Gemini API takes image bytes, not a URL"
            )
        return super().request(shot, first_frame, aspect, options)

    # -- the SDK -------------------------------------------------------------------------

    @staticmethod
    def _key(options: dict[str, Any]) -> str:
        key = options.get("api_key") or next(
            (os.environ[n] for n in KEY_ENVS if os.environ.get(n)), None
        )
        if not key:
            raise ConfigurationError(
                "veo: no API key; set GEMINI_API_KEY (or GOOGLE_API_KEY, or pass a secret "
                "input as options.api_key)"
            )
        return str(key)

    @staticmethod
    def _base_url(options: dict[str, Any]) -> str:
        return str(options.get("base_url") or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)

    def client(self, options: dict[str, Any]) -> Any:
        """A ``google.genai.Client`` on the Gemini API (key and base URL as above).

        Raises:
            ConfigurationError: no key.
        """
        from google import genai
        from google.genai import types

        http = types.HttpOptions(base_url=self._base_url(options), timeout=60_000)  # ms
        return genai.Client(api_key=self._key(options), http_options=http)

    def shared_client(self, options: dict[str, Any]) -> Any:
        """One SDK client per key and base URL (either key variable, or the option)."""
        cache_key = (self._key(options), self._base_url(options))
        with self._clients_lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = self._clients[cache_key] = self.client(options)
        return client

    def submit(self, request: ClipRequest, ctx: Any) -> str:
        from google.genai import types

        # priced before anything is paid for (an unpriced model stops here, not after)
        self.price_usd_per_s(request.model, request.options)
        image = None
        if request.mode == "image_to_video" and request.first_frame is not None:
            uri = image_data_uri(request.first_frame)
            head, _, data = uri.partition(",")
            mime = head.removeprefix("data:").removesuffix(";base64")
            image = types.Image(image_bytes=base64.b64decode(data), mime_type=mime)
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=int(request.duration_s),
            aspect_ratio=request.ratio,
            resolution=str(request.options.get("resolution", "720p")),
            negative_prompt=request.shot.negative_prompt or None,
        )
        source = types.GenerateVideosSource(prompt=request.shot.prompt, image=image)
        client = self.shared_client(request.options)
        operation = client.models.generate_videos(model=request.model, source=source, config=config)
        if not operation.name:
            raise TransientError("veo: the API accepted the request without an operation name")
        return str(operation.name)

    def poll(self, task_id: str, request: ClipRequest, ctx: Any) -> TaskState:
        from google.genai import types

        client = self.shared_client(request.options)
        operation = client.operations.get(types.GenerateVideosOperation(name=task_id))  # type: ignore[call-arg]
        if not operation.done:
            return TaskState("running")
        if operation.error:
            error = operation.error
            return TaskState(
                "failed",
                reason=str(error.get("message") or error),
                code=str(error.get("code")) if error.get("code") is not None else None,
            )
        response = operation.response or operation.result
        videos = (response.generated_videos or []) if response else []
        video = videos[0].video if videos else None
        if video is None:
            reasons = "; ".join(response.rai_media_filtered_reasons or []) if response else ""
            return TaskState(
                "failed",
                reason=reasons or "the operation finished without a video",
                code="RAI_FILTERED" if reasons else None,
            )
        if video.video_bytes:
            path = Path(ctx.workdir) / f"{request.shot.id}.veo.inline"
            path.write_bytes(video.video_bytes)
            return TaskState("succeeded", url=_INLINE + str(path))
        return TaskState("succeeded", url=video.uri)

    # -- download: the key to the API's own origin only ------------------------------------

    def download(self, url: str, request: ClipRequest, ctx: Any) -> bytes:
        """The video's bytes (:meth:`ClipVendor.download`, overridden): inline, from the
        API origin with the key, or fetched with every check.

        Raises:
            InvalidInputError: a refused URL or redirect target, an error
                answer, a body over ``max_bytes`` or of another content type.
        """
        from reelgraph.plugins._media.fetch import _read, fetch

        max_bytes = int(request.options.get("max_bytes", self.max_bytes))
        if url.startswith(_INLINE):
            path = Path(url.removeprefix(_INLINE))
            inside = path.resolve().parent == Path(ctx.workdir).resolve()
            if not inside or path.stat().st_size > max_bytes:
                raise InvalidInputError(f"veo: inline video {path.name} refused")
            data = path.read_bytes()
            path.unlink()
            return data
        target = httpx.URL(url)
        base = httpx.URL(self._base_url(request.options))
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            return fetch(url, accept=self.accept, max_bytes=max_bytes).data
        headers = {"x-goog-api-key": self._key(request.options)}
        with (
            httpx.Client(follow_redirects=False, timeout=httpx.Timeout(60.0)) as client,
            client.stream("GET", target, headers=headers) as response,
        ):
            if response.status_code in _REDIRECTS and response.headers.get("location"):
                # a signed storage URL: fetched without the key, every check applied
                location = str(target.join(response.headers["location"]))
                return fetch(location, accept=self.accept, max_bytes=max_bytes).data
            return _read(response, url, self.accept, max_bytes).data

    # -- errors and knowledge for the kernel --------------------------------------------

    def classify(self, error: BaseException) -> ProviderError | None:
        """``google.genai.errors.APIError`` by HTTP code: 429 rate limited; 401, 403
        or the Gemini API's 400 with reason ``API_KEY_INVALID`` a rejected key
        (naming the variables); other 4xx bad input; 5xx transient."""
        sdk = sys.modules.get("google.genai.errors")
        if sdk is None or not isinstance(error, sdk.APIError):
            return None
        code = int(error.code or 0)
        words = f"veo: HTTP {code} {error.status or ''}: {error.message or 'no message'}"
        found: ProviderError
        if code == 429:
            found = RateLimitedError(words)
        elif code in (401, 403) or "API_KEY_INVALID" in str(error.details):
            found = ConfigurationError(
                f"{words}; the API key was rejected: check GEMINI_API_KEY (or GOOGLE_API_KEY)"
            )
        elif 400 <= code < 500:
            found = InvalidInputError(words)
        else:
            found = TransientError(words)
        found.__cause__ = error
        return found

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """Google API keys (``AIza...``), for redaction."""
        return [("google-api-key", KEY_PATTERN)]

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """What this provider reads from the environment, for ``reelgraph doctor``."""
        return [
            ("GEMINI_API_KEY", "Gemini API key for Veo; or options.api_key"),
            ("GOOGLE_API_KEY", "the same key under Google's name; wins when both are set"),
            (BASE_URL_ENV, "another Gemini API base URL: a proxy, a test server"),
        ]
