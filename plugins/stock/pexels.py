"""The ``pexels`` provider: stock video from the Pexels Videos API over httpx.

Protocol (Pexels API documentation, https://www.pexels.com/api/documentation/,
sections "Authorization", "Search for Videos", "The Video Resource",
"Request Statistics", read 2026-12-05):

- ``GET https://api.pexels.com/videos/search`` with ``query``,
  ``orientation`` (``landscape``, ``portrait``, ``square``), ``size``,
  ``per_page`` (at most 80) and ``page``; the key in the ``Authorization``
  header (no scheme);
- the answer: ``{"page", "per_page", "total_results", "url", "videos": [...]}``;
  a video has ``id``, ``width``, ``height``, ``url`` (its page on Pexels),
  ``duration`` (seconds), ``user`` (``id``, ``name``, ``url``) and
  ``video_files``: ``id``, ``quality`` (``hd``, ``sd``, ``uhd`` or null),
  ``file_type`` (``video/mp4``), ``width``, ``height``, ``fps``, ``link``;
- limits: 200 requests an hour and 20,000 a month by default; every
  successful answer carries ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining``
  and ``X-Ratelimit-Reset`` (the UNIX time, in seconds, when the period
  rolls over); past the limit, HTTP 429;
- guidelines: "Always credit our photographers when possible (e.g. 'Photo by
  John Doe on Pexels' with a link to the photo page on Pexels)": every clip's
  :class:`~reelgraph.models.Credit` goes to ``credits.txt``.

Key: ``PEXELS_API_KEY`` (or ``options.api_key``); base URL
``PEXELS_BASE_URL`` (default :data:`DEFAULT_BASE_URL`). Registered as
``pexels = "reelgraph.plugins.stock.pexels:plugin"``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from reelgraph.plugins.stock._stock import (
    PER_PAGE,
    StockFile,
    StockLibrary,
    StockVideo,
    stock_tool,
)
from reelgraph.plugins.vendors._extras import require_sdk

__all__ = ["DEFAULT_BASE_URL", "PexelsFootage", "plugin"]

DEFAULT_BASE_URL = "https://api.pexels.com"
_DOCS = "https://www.pexels.com/api/documentation/"


class PexelsFootage(StockLibrary):
    """Pexels Videos search (see the module docstring)."""

    name = "pexels"
    library = "Pexels"
    key_variable = "PEXELS_API_KEY"
    base_url_variable = "PEXELS_BASE_URL"
    default_base_url = DEFAULT_BASE_URL
    key_page = "https://www.pexels.com/api/"
    tool = stock_tool(
        "pexels",
        "Pexels",
        _DOCS,
        limitations=[
            "200 searches an hour, 20,000 a month (free key)",
            "credit the author (credits.txt)",
        ],
    )

    def request(
        self, query: str, orientation: str, key: str
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        params = {"query": query, "orientation": orientation, "per_page": PER_PAGE, "page": 1}
        return "/videos/search", params, {"Authorization": key}

    def parse(self, answer: Any) -> list[StockVideo]:
        videos = []
        for item in answer["videos"]:
            user = item.get("user") or {}
            files = tuple(
                StockFile(
                    url=str(f.get("link") or ""),
                    width_px=int(f.get("width") or 0),
                    height_px=int(f.get("height") or 0),
                    file_type=str(f.get("file_type") or ""),
                )
                for f in item.get("video_files") or []
            )
            videos.append(
                StockVideo(
                    media_id=str(item["id"]),
                    page_url=str(item["url"]),
                    author=str(user.get("name") or "unknown"),
                    author_url=user.get("url"),
                    duration_s=float(item.get("duration") or 0),
                    files=files,
                )
            )
        return videos

    def reset_s(self, headers: httpx.Headers) -> float | None:
        """Seconds to ``X-Ratelimit-Reset`` (a UNIX time), or ``Retry-After``."""
        for name, absolute in (("x-ratelimit-reset", True), ("retry-after", False)):
            value = headers.get(name, "")
            try:
                seconds = float(value)
            except ValueError:
                continue
            return max(0.0, seconds - time.time()) if absolute else max(0.0, seconds)
        return None


require_sdk("yake", "pexels", "pip install 'reelgraph[stock]'", "the yake keyword extractor")

#: the instance the entry point registers
plugin = PexelsFootage()
