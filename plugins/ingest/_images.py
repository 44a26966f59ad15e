"""Which images in a document are content a listener should hear about.

A reader of a rendered README does not read badges and logos; they are
decoration. An image's alt text is kept (read as text) only when the image is
*content*:

- it has alt text of at least three words (a one- or two-word alt such as
  ``Logo``, ``HTTPX`` or ``Test`` names a thing, it does not describe a
  picture);
- it is not inside a link (a linked image is a badge, a button or a logo that
  leads somewhere);
- its address is not a badge service's (shields.io, badgen, badge.fury.io,
  a CI's ``/badge.svg``, codecov, coveralls, a ``badge`` path);
- neither its address nor its alt text says logo, banner, sponsor, icon or
  avatar.

Everything else vanishes with no trace in the narration.
"""

from __future__ import annotations

import re

__all__ = ["is_badge_source", "is_content_image"]

_BADGE = re.compile(
    r"shields\.io|badgen\.net|badge\.fury\.io|badge|codecov\.io|coveralls\.io|"
    r"/workflows/|travis-ci\.|circleci\.com|pepy\.tech|readthedocs\.org/projects/",
    re.IGNORECASE,
)
_DECORATION = re.compile(r"logo|banner|sponsor|icon|avatar|emblem|mascot", re.IGNORECASE)
_MIN_WORDS = 3


def is_badge_source(src: str) -> bool:
    """True when ``src`` is a badge service's address (see the module docstring)."""
    return bool(_BADGE.search(src))


def is_content_image(src: str, alt: str, linked: bool) -> bool:
    """True when an image with address ``src`` and alt text ``alt`` is content.

    Args:
        src: the image's address (``src`` or Markdown link destination).
        alt: its alt text.
        linked: whether the image sits inside a link.
    """
    if linked or len(re.findall(r"\w+", alt)) < _MIN_WORDS:
        return False
    return not (is_badge_source(src) or _DECORATION.search(src) or _DECORATION.search(alt))
