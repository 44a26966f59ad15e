"""``check_quality`` gate ``title_length``: every scene title fits on a card.

Threshold ``max_chars`` (default 40; a spec overrides it with ``thresholds:
{title_length: {max_chars: 30}}``). The gate runs when the node's ``gates``
names it (or names none) and a script is given; it returns one
:class:`~reelgraph.models.GateResult` at stage ``script``, an error when a
title is longer, with a remedy the script writer can act on (``review:``).
"""

from __future__ import annotations

from typing import Any

from reelgraph import InvalidInputError, hookimpl
from reelgraph.models import GateResult, Script

GATE = "title_length"
DEFAULT_MAX_CHARS = 40


@hookimpl
def check_quality(
    script: Script | None, gates: list[str] | None, thresholds: dict[str, Any], ctx: Any
) -> list[GateResult] | None:
    """The longest scene title against ``max_chars`` characters; ``None`` without a script.

    Raises:
        InvalidInputError: ``max_chars`` is not a whole number of at least 1.
    """
    if script is None or (gates is not None and GATE not in gates):
        return None
    limit = (thresholds.get(GATE) or {}).get("max_chars", DEFAULT_MAX_CHARS)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidInputError(f"{GATE}: max_chars must be a whole number >= 1, not {limit!r}")
    titles = [(scene.index, scene.title or "") for scene in script.scenes]
    longest = max(titles, key=lambda t: len(t[1]), default=(0, ""))
    too_long = [index for index, title in titles if len(title) > limit]
    return [
        GateResult(
            gate=GATE,
            passed=not too_long,
            severity="error",
            measured=float(len(longest[1])),
            threshold=float(limit),
            unit="chars",
            message=f"longest title: {len(longest[1])} characters (scene {longest[0]})",
            remedy=(
                f"too long: shorten the titles of scenes {too_long} to {limit} characters"
                if too_long
                else ""
            ),
            stage="script",
            details={"too_long": too_long},
        )
    ]
