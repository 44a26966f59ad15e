"""A fake Pexels Videos API on loopback, and the base of the fake stock libraries.

It follows the published wire format (https://www.pexels.com/api/documentation/,
"Search for Videos", "The Video Resource", "Request Statistics"):

- ``GET /videos/search?query=&orientation=&per_page=&page=`` with the key in
  the ``Authorization`` header (no scheme), else 401 ``{"error": ...}``;
- the answer ``{"page", "per_page", "total_results", "url", "videos"}``, each
  video ``id``, ``width``, ``height``, ``url`` (its page), ``image``,
  ``duration``, ``user`` (``id``, ``name``, ``url``), ``video_files``
  (``id``, ``quality``, ``file_type``, ``width``, ``height``, ``fps``,
  ``link``) and ``video_pictures``; files in the orientation asked;
- ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset``
  (a UNIX time) on every answer; past the limit a 429.

What a search answers is scripted (:attr:`FakeStockServer.answer`:
``results``, ``empty`` or ``rate_limited``), and so is what the file links
serve (:attr:`FakeStockServer.result`, the clip servers' kinds: ``clip``,
``redirect_private``, ``not_video``, ``garbage``...). Searches (with their
query parameters) and downloads are recorded.
"""

from __future__ import annotations

import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fakes.runway_server import FakeClipServer, Recorded

__all__ = ["AUTHORS", "FakePexels", "FakeStockServer"]

#: the videographers of the three results, in order
AUTHORS = ("Ana Lima", "Bo Chen", "Cleo Dubois")


class FakeStockServer(FakeClipServer):
    """A stock library's search API plus the media files its answers link to."""

    def __init__(self, mp4: Path, *, key: str) -> None:
        super().__init__(mp4, key=key)
        self.answer = "results"
        self.searches: list[dict[str, str]] = []
        self.remaining = 199
        self.reset_at = int(time.time()) + 1800

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append(Recorded(method, split.path, headers, query, time.monotonic()))
        if split.path.startswith("/media/"):
            self._media(handler, split.path.removeprefix("/media/"))
            return
        status, payload, extra = self.search(split.path, headers, query)
        self._send(handler, status, payload, extra)

    def search(
        self, path: str, headers: dict[str, str], query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def author(self, index: int) -> str:
        """The name the library gives the author of result ``index``."""
        return AUTHORS[index]

    def link(self, media_id: int, label: str) -> str:
        return f"{self.url}/media/{self.result}/{media_id}-{label}.mp4"


class FakePexels(FakeStockServer):
    """The fake Pexels Videos API (see the module docstring)."""

    vendor = "pexels"

    def _rate(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": "20000",
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Reset": str(self.reset_at),
        }

    def search(
        self, path: str, headers: dict[str, str], query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path != "/videos/search":
            return 404, {"error": "Not found"}, {}
        if headers.get("authorization") != self.key:
            return 401, {"error": "Authorization field missing or invalid"}, {}
        with self.lock:
            self.searches.append(query)
        if self.answer == "rate_limited":
            self.remaining = 0
            return 429, {"error": "Too Many Requests"}, self._rate()
        self.remaining -= 1
        videos = [] if self.answer == "empty" else [
            self._video(101 + i, author, query.get("orientation", "landscape"))
            for i, author in enumerate(AUTHORS)
        ]  # fmt: skip
        page = {
            "page": 1,
            "per_page": int(query.get("per_page", 15)),
            "total_results": len(videos),
            "url": f"https://www.pexels.com/search/videos/{urllib.parse.quote(query.get('query', ''))}/",
            "videos": videos,
        }
        return 200, page, self._rate()

    def _video(self, media_id: int, author: str, orientation: str) -> dict[str, Any]:
        sizes = {"landscape": [(1920, 1080), (640, 360), (3840, 2160)],
                 "portrait": [(1080, 1920), (360, 640)],
                 "square": [(1080, 1080), (540, 540)]}[orientation]  # fmt: skip
        slug = author.lower().replace(" ", "-")
        files = [
            {
                "id": media_id * 10 + i, "quality": "hd" if min(w, h) >= 720 else "sd",
                "file_type": "video/mp4", "width": w, "height": h, "fps": 25.0,
                "link": self.link(media_id, f"{w}x{h}"),
            }
            for i, (w, h) in enumerate(sizes)
        ]  # fmt: skip
        return {
            "id": media_id, "width": sizes[0][0], "height": sizes[0][1],
            "url": f"https://www.pexels.com/video/{slug}-clip-{media_id}/",
            "image": f"https://images.pexels.com/videos/{media_id}/free-video-{media_id}.jpg",
            "duration": 2, "full_res": None, "tags": [], "avg_color": None,
            "user": {"id": media_id * 7, "name": author, "url": f"https://www.pexels.com/@{slug}"},
            "video_files": files,
            "video_pictures": [{"id": media_id, "nr": 0, "picture": "https://images.pexels.com/p.jpg"}],
        }  # fmt: skip
