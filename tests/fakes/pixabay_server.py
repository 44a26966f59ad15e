"""A fake Pixabay video API on loopback.

It follows the published wire format (https://pixabay.com/api/docs/, "Rate
Limit", "Error Handling", "Search Videos"):

- ``GET /api/videos/?key=&q=&video_type=&per_page=&page=``; a missing or
  wrong key is HTTP 400 ``[ERROR 400] Invalid or missing API key`` (text);
- the answer ``{"total", "totalHits", "hits"}``; a hit has ``id``,
  ``pageURL``, ``type``, ``tags``, ``duration``, ``videos`` (``large``:
  empty here, as for footage without 4K; ``medium`` 1920x1080, ``small``
  1280x720, ``tiny`` 960x540: ``url``, ``width``, ``height``, ``size``,
  ``thumbnail``), ``views``, ``downloads``, ``likes``, ``comments``,
  ``user_id``, ``user``, ``userImageURL``;
- ``X-RateLimit-Limit`` (100), ``X-RateLimit-Remaining`` and
  ``X-RateLimit-Reset`` (seconds until the 60-second window resets) on every
  answer; past the limit a 429.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.pexels_server import AUTHORS, FakeStockServer

__all__ = ["FakePixabay"]


class FakePixabay(FakeStockServer):
    """The fake Pixabay video API (see the module docstring)."""

    vendor = "pixabay"
    reset_s = 42

    def author(self, index: int) -> str:
        """Pixabay gives a user name, here the first name."""
        return AUTHORS[index].split()[0]

    def _rate(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }

    def search(
        self, path: str, headers: dict[str, str], query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path != "/api/videos/":
            return 404, b"[ERROR 404] Not found", {}
        if query.get("key") != self.key:
            return 400, b"[ERROR 400] Invalid or missing API key", {}
        with self.lock:
            self.searches.append(query)
        if self.answer == "rate_limited":
            self.remaining = 0
            return 429, b"[ERROR 429] Too many requests", self._rate()
        self.remaining -= 1
        hits = [] if self.answer == "empty" else [
            self._hit(201 + i, author) for i, author in enumerate(AUTHORS)
        ]  # fmt: skip
        return 200, {"total": len(hits), "totalHits": len(hits), "hits": hits}, self._rate()

    def _hit(self, media_id: int, author: str) -> dict[str, Any]:
        def rendition(w: int, h: int) -> dict[str, Any]:
            return {
                "url": self.link(media_id, f"{w}x{h}"), "width": w, "height": h,
                "size": 1_000_000, "thumbnail": f"https://cdn.pixabay.com/video/{media_id}.jpg",
            }  # fmt: skip

        user = author.split()[0]
        return {
            "id": media_id, "pageURL": f"https://pixabay.com/videos/clip-{media_id}/",
            "type": "film", "tags": "city, night", "duration": 2,
            "videos": {
                "large": {"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""},
                "medium": rendition(1920, 1080), "small": rendition(1280, 720),
                "tiny": rendition(960, 540),
            },
            "views": 10, "downloads": 5, "likes": 1, "comments": 0,
            "user_id": media_id * 3, "user": user,
            "userImageURL": f"https://cdn.pixabay.com/user/{media_id}.png",
        }  # fmt: skip
