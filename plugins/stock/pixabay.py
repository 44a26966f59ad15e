"""The ``pixabay`` provider: stock video from the Pixabay API over httpx.

Protocol (Pixabay API documentation, https://pixabay.com/api/docs/, sections
"Rate Limit", "Hotlinking", "Error Handling" and "Search Videos", read
2026-12-05):

- ``GET https://pixabay.com/api/videos/`` with ``key`` (the API key, a query
  parameter), ``q`` (at most 100 characters), ``video_type``,
  ``safesearch``, ``per_page`` (3-200) and ``page``;
- the answer: ``{"total", "totalHits", "hits": [...]}``; a hit has ``id``,
  ``pageURL``, ``tags``, ``duration`` (seconds), ``user_id``, ``user`` and
  ``videos`` with the renditions ``large`` (usually 3840x2160, empty when
  there is none), ``medium`` (1920x1080), ``small`` (1280x720) and ``tiny``
  (960x540), each ``url``, ``width``, ``height``, ``size`` (bytes) and
  ``thumbnail``; no orientation filter for videos: the choice reads the
  renditions' sizes;
- limits: 100 requests per 60 seconds per key; the headers
  ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
  (seconds until the window resets); past it, HTTP 429. "Requests must be
  cached for 24 hours" (the providers' shared cache does);
- terms: "show your users where the images and videos are from": every
  clip's :class:`~reelgraph.models.Credit` goes to ``credits.txt``; videos
  are downloaded, not hotlinked.

The key travels in the URL, so no message here or in :mod:`._stock` shows a
request URL. Key: ``PIXABAY_API_KEY`` (or ``options.api_key``); base URL
``PIXABAY_BASE_URL`` (default :data:`DEFAULT_BASE_URL`). Registered as
``pixabay = "reelgraph.plugins.stock.pixabay:plugin"``.
"""

from __future__ import annotations

from typing import Any

import httpx

from reelgraph import hookimpl
from reelgraph.plugins.stock._stock import (
    PER_PAGE,
    StockFile,
    StockLibrary,
    StockVideo,
    stock_tool,
)
from reelgraph.plugins.vendors._extras import require_sdk

__all__ = ["DEFAULT_BASE_URL", "PixabayFootage", "plugin"]

DEFAULT_BASE_URL = "https://pixabay.com"
_DOCS = "https://pixabay.com/api/docs/"
_RENDITIONS = ("large", "medium", "small", "tiny")


class PixabayFootage(StockLibrary):
    """Pixabay video search (see the module docstring)."""

    name = "pixabay"
    library = "Pixabay"
    key_variable = "PIXABAY_API_KEY"
    base_url_variable = "PIXABAY_BASE_URL"
    default_base_url = DEFAULT_BASE_URL
    key_page = "https://pixabay.com/api/docs/"
    tool = stock_tool(
        "pixabay",
        "Pixabay",
        _DOCS,
        limitations=["100 searches a minute (free key)", "mostly landscape footage"],
    )

    def request(
        self, query: str, orientation: str, key: str
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        params = {
            "key": key, "q": query[:100], "video_type": "film", "safesearch": "true",
            "per_page": PER_PAGE, "page": 1,
        }  # fmt: skip
        return "/api/videos/", params, {}

    def parse(self, answer: Any) -> list[StockVideo]:
        videos = []
        for hit in answer["hits"]:
            renditions = hit.get("videos") or {}
            files = tuple(
                StockFile(
                    url=str(r.get("url") or ""),
                    width_px=int(r.get("width") or 0),
                    height_px=int(r.get("height") or 0),
                    size_bytes=int(r["size"]) if r.get("size") else None,
                )
                for name in _RENDITIONS
                if isinstance(r := renditions.get(name), dict)
            )
            user, user_id = str(hit.get("user") or "unknown"), hit.get("user_id")
            videos.append(
                StockVideo(
                    media_id=str(hit["id"]),
                    page_url=str(hit["pageURL"]),
                    author=user,
                    author_url=f"https://pixabay.com/users/{user}-{user_id}/" if user_id else None,
                    duration_s=float(hit.get("duration") or 0),
                    files=files,
                )
            )
        return videos

    @hookimpl
    def secret_patterns(self) -> list[tuple[str, str]]:
        """Pixabay's key shape: the account id, a dash, 32 hex digits (the docs' example key)."""
        return [("pixabay", r"\b\d{5,10}-[0-9a-f]{32}\b")]

    def refuses_key(self, response: httpx.Response) -> bool:
        """A wrong key is HTTP 400 ``[ERROR 400] Invalid or missing API key`` (or 401/403)."""
        if response.status_code in (401, 403):
            return True
        return response.status_code == 400 and "api key" in response.text.lower()

    def reset_s(self, headers: httpx.Headers) -> float | None:
        """``X-RateLimit-Reset`` (seconds until the window resets), or ``Retry-After``."""
        for name in ("x-ratelimit-reset", "retry-after"):
            try:
                return max(0.0, float(headers.get(name, "")))
            except ValueError:
                continue
        return None


require_sdk("yake", "pixabay", "pip install 'reelgraph[stock]'", "the yake keyword extractor")

#: the instance the entry point registers
plugin = PixabayFootage()
