"""What the stock footage providers share: search terms, choice, cache, errors, the hooks.

A library (:class:`StockLibrary` subclass: ``pexels``, ``pixabay``) writes
:meth:`StockLibrary.request` (the search call: path, query parameters,
headers) and :meth:`StockLibrary.parse` (its answer as
:class:`StockVideo` objects). Everything else is here:

1. **search terms**: a shot's ``subject`` (the visual designer's words);
   a scene's ``visual_intent`` when the script has one, else the best
   keyphrase :mod:`yake` extracts from its title and narration (YAKE,
   Campos et al. 2020, unsupervised, per language; ``pip install
   'reelgraph[stock]'``); ``options.query`` overrides both;
2. **search** once per query (answers cached in the process for 24 hours:
   Pixabay's terms ask for it and Pexels' help centre recommends it),
   ``per_page`` :data:`PER_PAGE`, the orientation of the aspect;
3. **choose** a video whose file is an MP4 of the aspect's orientation and
   the smallest at least the frame's short side (else the largest); among
   the first :data:`VARIETY` usable videos, scene *i* takes number *i mod
   n*, so consecutive scenes with the same terms do not repeat one clip;
4. **make** the clip (:func:`._footage.make_clip`: safe download, decode,
   loop, dimmed title, normalise), credited (:class:`reelgraph.models.Credit`,
   written to ``credits.txt`` by the ``credits`` gate);
5. **no result**: the scene's slide (the ``slides`` provider's
   ``render_shot``), a shot's Ken Burns clip (its ``generate_clip``), with a
   ``stock.no_results`` warning naming the query.

Errors: no key is a :class:`ConfigurationError` naming the variable, raised
before any request (never retried); HTTP 401/403 the same, naming the
variable; 429 a :class:`RateLimitedError` whose message gives the library's
rate-limit headers and whose ``retry_after_s`` is their reset; 5xx and
network failures :class:`TransientError`; other 4xx
:class:`InvalidInputError`. No message holds the key or a URL carrying it.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reelgraph import hookimpl
from reelgraph.errors import (
    ConfigurationError,
    InvalidInputError,
    RateLimitedError,
    TransientError,
)
from reelgraph.models import Credit, Scene, Shot, ToolEntry, Visual, frame_size

__all__ = [
    "PER_PAGE",
    "StockFile",
    "StockLibrary",
    "StockVideo",
    "choose_file",
    "scene_length_s",
    "search_terms",
]

#: results asked per search (Pexels allows up to 80, Pixabay 3-200)
PER_PAGE = 15
#: how many of the best results scenes rotate through
VARIETY = 3
#: seconds a search answer is reused (Pixabay: "requests must be cached for 24 hours")
CACHE_S = 24 * 3600
#: words per minute of espeak-ng at 140 wpm as measured on a README (document-to-video)
WORDS_PER_MINUTE = 130
#: a scene's clip is made this much longer than its estimated narration (the
#: assembler cuts a clip to the scene; a shorter one would hold its last frame)
LENGTH_MARGIN = 1.25
_TIMEOUT = httpx.Timeout(20.0, connect=10.0)  # seconds


@dataclass(frozen=True)
class StockFile:
    """One rendition of a stock video: its download URL, size in pixels and bytes."""

    url: str
    width_px: int
    height_px: int
    file_type: str = "video/mp4"
    size_bytes: int | None = None


@dataclass(frozen=True)
class StockVideo:
    """One search result: the library's id, page, author, length (seconds), files."""

    media_id: str
    page_url: str
    author: str
    author_url: str | None
    duration_s: float
    files: tuple[StockFile, ...]


def search_terms(scene: Scene, language: str | None = None) -> str:
    """The query for a scene: its ``visual_intent``, else YAKE's best keyphrase.

    YAKE reads the title and narration (``n=2``: phrases of at most two
    words, which libraries match better than sentences). The scene's title
    is the query when YAKE finds nothing.
    """
    if scene.visual_intent:
        return scene.visual_intent.strip()
    import yake

    text = ". ".join([scene.title, *scene.bullets, *scene.narration])
    lang = (language or "en").split("-")[0].lower()
    extractor = yake.KeywordExtractor(lan=lang, n=2, top=3)
    found = extractor.extract_keywords(text)
    return str(found[0][0]) if found else scene.title.strip()


def scene_length_s(scene: Scene, options: dict[str, Any]) -> float:
    """Seconds of clip a scene needs: ``options.duration_s``, its ``duration_s``, or an estimate.

    The estimate is its narration at :data:`WORDS_PER_MINUTE` plus 0.75 s
    (document-to-video's pause), times :data:`LENGTH_MARGIN`, at least 3 s.
    """
    if options.get("duration_s"):
        return float(options["duration_s"])
    if scene.duration_s:
        return float(scene.duration_s)
    words = sum(len(sentence.split()) for sentence in scene.narration)
    return max(3.0, round((words * 60 / WORDS_PER_MINUTE + 0.75) * LENGTH_MARGIN, 2))


def _orientation(width: int, height: int) -> str:
    if abs(width - height) <= 0.1 * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def choose_file(video: StockVideo, aspect: str) -> StockFile | None:
    """The MP4 rendition that fits ``aspect`` best, or ``None`` when none does.

    Only ``video/mp4`` files with a known size; the aspect's orientation
    first; then the smallest whose short side reaches the frame's (1080 px),
    else the largest.
    """
    width, height = frame_size(aspect)
    want, short = _orientation(width, height), min(width, height)
    usable = [
        f for f in video.files
        if f.url and f.width_px > 0 and f.height_px > 0 and f.file_type == "video/mp4"
    ]  # fmt: skip
    if not usable:
        return None

    def rank(f: StockFile) -> tuple[int, int, int]:
        pixels = f.width_px * f.height_px
        big_enough = min(f.width_px, f.height_px) >= short
        fits = _orientation(f.width_px, f.height_px) == want
        return (0 if fits else 1, 0 if big_enough else 1, pixels if big_enough else -pixels)

    return min(usable, key=rank)


class _RedactFilter:
    """Redacts keys from httpx's own log lines (its INFO line shows the request URL,
    and Pixabay's URL carries the key)."""

    def filter(self, record: Any) -> bool:
        from reelgraph.observe.secrets import redact

        record.msg = redact(record.getMessage())
        record.args = None
        return True


_HTTPX_FILTER = _RedactFilter()


def _guard_httpx_log() -> None:
    """Put :class:`_RedactFilter` on the ``httpx`` logger (once; on first search, not import)."""
    import logging

    logger = logging.getLogger("httpx")
    if _HTTPX_FILTER not in logger.filters:
        logger.addFilter(_HTTPX_FILTER)


def stock_tool(provider: str, vendor: str, docs: str, *, limitations: list[str]) -> dict[str, Any]:
    """A stock library's tool-catalog entry (the ``tool_catalog`` hook's shape).

    Free (``price_usd_per_s`` 0.0), text-to-video by keyword search, every
    aspect. ``docs`` is the vendor's API page, cited (dated 2026-12-05) for
    the figures it states; latency (one search plus one download of an HD
    file, tens of MB) and the quality tier (real footage that matches the
    words, not the shot: between a slide, 1, and generated video, 3) are
    estimates and say so.
    """
    vendor_doc = {"url": docs, "date": "2026-12-05", "basis": "vendor"}
    estimate = {
        "url": docs, "date": "2026-12-05", "basis": "estimate",
        "note": "one search and one download of an HD file (tens of MB); real footage that "
        "matches the words, not the shot: between a slide (1) and generated video (3)",
    }  # fmt: skip
    return {
        "name": f"{provider}-stock", "provider": provider, "vendor": vendor,
        "model": "stock video search", "modes": ["text_to_video"], "durations_s": [],
        "resolutions": ["1920x1080", "1080x1920", "1080x1080"],
        "aspects": ["16:9", "9:16", "1:1"], "native_audio": False,
        "price_usd_per_s": 0.0, "latency_s": 10.0, "concurrency": 2, "quality_tier": 2,
        "best_for": ["real footage behind narration", "no budget"],
        "limitations": ["found by keywords, not made to the prompt", *limitations],
        "sources": {
            "modes": vendor_doc, "durations_s": vendor_doc, "resolutions": vendor_doc,
            "aspects": vendor_doc, "native_audio": vendor_doc, "price_usd_per_s": vendor_doc,
            "latency_s": estimate, "concurrency": vendor_doc, "quality_tier": estimate,
        },
    }  # fmt: skip


class StockLibrary:
    """The ``render_shot``, ``generate_clip`` and ``tool_catalog`` hooks of a stock library.

    Subclass it, set the class attributes and write :meth:`request` and
    :meth:`parse`; register an instance through the entry point.

    Attributes:
        name: the provider name.
        library: the library's name for people (``Pexels``).
        key_variable, base_url_variable: the environment variables of the key
            and of the API's base URL (tests point it at a fake server).
        default_base_url: the API's base URL.
        key_page: where to get a free key (named in the missing-key error).
        tool: the tool catalog entry (a dict of :class:`ToolEntry` fields).
    """

    name: str = ""
    library: str = ""
    key_variable: str = ""
    base_url_variable: str = ""
    default_base_url: str = ""
    key_page: str = ""
    tool: dict[str, Any] = {}

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], tuple[float, list[StockVideo]]] = {}
        self._lock = threading.Lock()

    # -- what a library writes -----------------------------------------------------

    def request(
        self, query: str, orientation: str, key: str
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The search call: path under the base URL, query parameters, headers."""
        raise NotImplementedError

    def parse(self, answer: Any) -> list[StockVideo]:
        """The search answer (decoded JSON) as videos, in the library's order."""
        raise NotImplementedError

    def reset_s(self, headers: httpx.Headers) -> float | None:
        """Seconds until the rate limit resets, from the answer's headers."""
        raise NotImplementedError

    def refuses_key(self, response: httpx.Response) -> bool:
        """Whether an error answer says the key is wrong (HTTP 401 or 403 by default)."""
        return response.status_code in (401, 403)

    def rate_headers(self, headers: httpx.Headers) -> dict[str, str]:
        """The library's rate-limit headers present in ``headers`` (for logs and messages)."""
        return {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}

    # -- the hooks ---------------------------------------------------------------

    @hookimpl
    def render_shot(
        self, scene: Scene, aspect: str, options: dict[str, Any], ctx: Any
    ) -> Visual | None:
        """A scene's stock clip under its dimmed title, or its slide when nothing is found.

        Options: ``query`` (search terms instead of the scene's), ``duration_s``
        (the clip's length instead of the estimate, :func:`scene_length_s`),
        ``language`` (for YAKE and the fallback slide), ``api_key`` (instead of
        the environment variable), ``max_bytes``; the slide options
        (``theme``...) go to the fallback slide.

        Raises:
            ConfigurationError: no key, or the library refused it.
            RateLimitedError, TransientError: see the module docstring.
            InvalidInputError: a refused download, a file that is not a video.
        """
        if isinstance(scene, dict):
            scene = Scene.model_validate(scene)
        options = dict(options or {})
        query = str(options.get("query") or search_terms(scene, options.get("language")))
        found = self._find(query, aspect, scene.index, options, ctx)
        if found is None:
            ctx.log.warning("stock.no_results", provider=self.name, query=query, scene=scene.index)
            from reelgraph.plugins.visuals.slides import render_shot as slide

            keep = ("theme", "background", "foreground", "accent", "font", "language")
            return slide(scene, aspect, {k: v for k, v in options.items() if k in keep}, ctx)
        video, file = found
        seconds = scene_length_s(scene, options)
        target = Path(ctx.workdir) / f"scene-{scene.index:03d}.mp4"
        made = self._make(video, file, target, aspect, seconds, scene.title, options, ctx)
        return Visual(
            scene_index=scene.index, kind="video", path=target, width_px=made.width_px,
            height_px=made.height_px, duration_s=seconds,
            alt_text=f"Video: {query} (stock footage by {video.author} on {self.library}), "
            f"under the title: {scene.title}",
            credit=self._credit(video, query),
        )  # fmt: skip

    @hookimpl
    def generate_clip(
        self, shot: Shot, first_frame: Visual | None, aspect: str, options: dict[str, Any], ctx: Any
    ) -> Visual | None:
        """A shot's stock clip found by its ``subject``, ``shot.duration_s`` long.

        Returns ``None`` in a node without a pinned provider when the plan
        chose another provider for the shot. Without a result, the shot's
        Ken Burns clip (the ``slides`` provider's ``generate_clip``).
        Options and errors as :meth:`render_shot`.
        """
        from reelgraph.plugins.vendors._clips import clip_inputs

        item = clip_inputs(shot, first_frame, options, self.name)
        if not item.answers(self.name, getattr(ctx, "provider", None)):
            return None
        shot, options = item.shot, item.options
        query = str(options.get("query") or shot.subject or shot.prompt)
        found = self._find(query, aspect, shot.scene_index, options, ctx)
        if found is None:
            ctx.log.warning("stock.no_results", provider=self.name, query=query, shot=shot.id)
            from reelgraph.plugins.visuals.motion import generate_clip as ken_burns

            return ken_burns(shot, item.first_frame, aspect, {"provider": "slides"}, ctx)
        video, file = found
        target = Path(ctx.workdir) / f"{shot.id}.mp4"
        made = self._make(video, file, target, aspect, shot.duration_s, None, options, ctx)
        return Visual(
            scene_index=shot.scene_index, kind="video", path=target, width_px=made.width_px,
            height_px=made.height_px, duration_s=shot.duration_s,
            alt_text=f"Video: {query} (stock footage by {video.author} on {self.library})",
            credit=self._credit(video, query),
        )  # fmt: skip

    @hookimpl
    def tool_catalog(self) -> list[ToolEntry] | None:
        """This library as a free tool, offered only when its key is set.

        Without the key the solver could choose a tool that cannot run; set
        the variable and ``reelgraph tools`` lists it.
        """
        if not os.environ.get(self.key_variable):
            return None
        return [ToolEntry.model_validate(self.tool)]

    @hookimpl
    def environment_variables(self) -> list[tuple[str, str]]:
        """The key and base URL variables, for ``reelgraph doctor``."""
        return [
            (self.key_variable, f"{self.library} API key ({self.key_page})"),
            (self.base_url_variable, f"another {self.library} API base URL (tests)"),
        ]

    # -- the steps ---------------------------------------------------------------

    def _key(self, options: dict[str, Any]) -> str:
        key = options.get("api_key") or os.environ.get(self.key_variable, "")
        if not str(key).strip():
            raise ConfigurationError(
                f"{self.name}: no {self.library} API key; set {self.key_variable} "
                f"(a free key from {self.key_page})"
            )
        return str(key).strip()

    def _find(
        self, query: str, aspect: str, index: int, options: dict[str, Any], ctx: Any
    ) -> tuple[StockVideo, StockFile] | None:
        width, height = frame_size(aspect)
        orientation = _orientation(width, height)
        videos = self._search(query, orientation, options, ctx)
        usable = [(v, f) for v in videos if (f := choose_file(v, aspect)) is not None]
        if not usable:
            return None
        return usable[index % min(len(usable), VARIETY)]

    def _search(
        self, query: str, orientation: str, options: dict[str, Any], ctx: Any
    ) -> list[StockVideo]:
        key = self._key(options)
        base = os.environ.get(self.base_url_variable) or self.default_base_url
        cache_key = (base, query.lower(), orientation)
        with self._lock:
            hit = self._cache.get(cache_key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_S:
            ctx.log.info("stock.search_cached", provider=self.name, query=query)
            return hit[1]
        path, params, headers = self.request(query, orientation, key)
        _guard_httpx_log()
        try:
            with httpx.Client(base_url=base, timeout=_TIMEOUT) as client:
                response = client.get(path, params=params, headers=headers)
        except httpx.HTTPError as err:
            # the message may carry the request URL (Pixabay's holds the key): name the kind only
            raise TransientError(
                f"{self.name}: {type(err).__name__} reaching the {self.library} API at {base}"
            ) from None
        rate = self.rate_headers(response.headers)
        self._check(response, rate)
        try:
            videos = self.parse(response.json())
        except (ValueError, KeyError, TypeError) as err:
            raise TransientError(
                f"{self.name}: the {self.library} API answered something that is not its "
                f"search result ({type(err).__name__}: {err})"
            ) from None
        ctx.log.info("stock.search", provider=self.name, query=query, results=len(videos), **rate)
        with self._lock:
            self._cache[cache_key] = (time.monotonic(), videos)
        return videos

    def _check(self, response: httpx.Response, rate: dict[str, str]) -> None:
        status = response.status_code
        if status == 200:
            return
        where = f"{self.name}: the {self.library} API answered HTTP {status}"
        if self.refuses_key(response):
            raise ConfigurationError(f"{where}: it refused the key; check {self.key_variable}")
        if status == 429:
            reset = self.reset_s(response.headers)
            shown = ", ".join(f"{k}: {v}" for k, v in sorted(rate.items())) or "no rate headers"
            raise RateLimitedError(
                f"{where} (rate limited; {shown}); wait for the reset or ask "
                f"{self.library} for a higher limit",
                retry_after_s=reset,
            )
        if status >= 500:
            raise TransientError(f"{where}; a retry may succeed")
        raise InvalidInputError(f"{where}: {response.text[:200]}")

    def _make(
        self,
        video: StockVideo,
        file: StockFile,
        target: Path,
        aspect: str,
        seconds: float,
        title: str | None,
        options: dict[str, Any],
        ctx: Any,
    ) -> Any:
        from reelgraph.plugins._media.fetch import fetch
        from reelgraph.plugins.stock._footage import make_clip
        from reelgraph.plugins.vendors._clips import MAX_CLIP_BYTES, VIDEO_TYPES

        what = f"{self.name} clip {video.media_id} ({target.stem})"
        max_bytes = int(options.get("max_bytes", MAX_CLIP_BYTES))
        started = time.perf_counter()
        data = fetch(file.url, accept=VIDEO_TYPES, max_bytes=max_bytes).data
        ctx.log.info(
            "stock.downloaded", provider=self.name, media_id=video.media_id, bytes=len(data),
            width_px=file.width_px, height_px=file.height_px,
            seconds=round(time.perf_counter() - started, 3),
        )  # fmt: skip
        found, made = make_clip(
            data, target, aspect=aspect, duration_s=seconds, title=title, what=what,
            language=options.get("language"),
        )  # fmt: skip
        ctx.log.info(
            "stock.clip_ready", provider=self.name, media_id=video.media_id,
            source_s=round(found.duration_s, 3), duration_s=round(made.duration_s, 3),
        )  # fmt: skip
        return made

    def _credit(self, video: StockVideo, query: str) -> Credit:
        return Credit(
            provider=self.name,
            library=self.library,
            author=video.author,
            author_url=video.author_url,
            page_url=video.page_url,
            media_id=video.media_id,
            query=query,
        )
