"""Which tools can make which shot, at what cost and in how long.

A tool can make a shot when it offers the shot's mode (a ``slide`` shot is
a slide; a clip is made ``text_to_video`` or ``image_to_video``), the shot
list's aspect, sound when the shot needs it, and a clip length that covers
the shot (the shortest such length is paid for and trimmed; a clip up to
``max_hold_s`` shorter is held on its last frame). Generated shots must
also reach the quality floor; a slide shot is exempt (the designer chose a
slide). These are the solver's hard constraints: everything else is cost,
time and quality to trade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reelgraph.models import PlanConstraints, Shot, ShotList, ToolCatalog, ToolEntry

__all__ = [
    "FRAME_S",
    "Option",
    "animated",
    "billed_seconds",
    "frame_seconds",
    "lanes_by_provider",
    "option",
    "options_for",
    "why_no_tool",
]

#: seconds to draw a storyboard frame with the slides renderer when the
#: catalog has no ``slides`` entry to say so
FRAME_S = 2.0


@dataclass(frozen=True, slots=True)
class Option:
    """One tool for one shot: seconds paid for, US dollars, seconds of lane time."""

    shot_id: str
    tool: ToolEntry
    billed_s: float
    cost_usd: float
    task_s: int  # whole seconds: the solver's lanes count in seconds
    held_s: float  # seconds the last frame is held (clip shorter than the shot)


def billed_seconds(tool: ToolEntry, duration_s: float, max_hold_s: float) -> float | None:
    """The clip length to ask ``tool`` for a shot of ``duration_s``, or ``None``."""
    if not tool.durations_s:
        return duration_s
    fitting = [d for d in sorted(tool.durations_s) if d >= duration_s - max_hold_s - 1e-9]
    return fitting[0] if fitting else None


def frame_seconds(catalog: ToolCatalog) -> float:
    """Seconds to draw one storyboard frame (the ``slides`` tool's latency)."""
    slides = catalog.get("slides")
    return slides.latency_s if slides else FRAME_S


def _fits(tool: ToolEntry, shot: Shot, aspect: str, constraints: PlanConstraints) -> str | None:
    """Why ``tool`` cannot make ``shot`` (one phrase), or ``None`` when it can."""
    if shot.mode not in tool.modes:
        return f"no {shot.mode.replace('_', '-')}"
    if aspect not in tool.aspects:
        return f"no {aspect}"
    if shot.needs_audio and not tool.native_audio:
        return "no sound"
    if billed_seconds(tool, shot.duration_s, constraints.max_hold_s) is None:
        longest = max(tool.durations_s)
        return f"clips up to {longest:g} s (the shot is {shot.duration_s:g} s)"
    if shot.mode != "slide" and tool.quality_tier < constraints.min_quality:
        return f"quality {tool.quality_tier} < {constraints.min_quality}"
    return None


def option(
    tool: ToolEntry, shot: Shot, constraints: PlanConstraints, frame_s: float
) -> Option | None:
    """The option of making ``shot`` with ``tool`` (fit assumed checked)."""
    billed = billed_seconds(tool, shot.duration_s, constraints.max_hold_s)
    if billed is None:
        return None
    task = tool.latency_s + (frame_s if shot.mode == "image_to_video" else 0.0)
    return Option(
        shot_id=shot.id,
        tool=tool,
        billed_s=billed,
        cost_usd=round(billed * tool.price_usd_per_s, 6),
        task_s=max(1, math.ceil(task - 1e-9)),
        held_s=max(0.0, round(shot.duration_s - billed, 3)),
    )


def animated(shot: Shot) -> Shot:
    """A slide shot made image-to-video from its storyboard frame instead."""
    return shot.model_copy(update={"mode": "image_to_video"})


def options_for(
    shots: ShotList, catalog: ToolCatalog, constraints: PlanConstraints
) -> dict[str, list[Option]]:
    """Every feasible option per shot id, cheapest first (then by tool name)."""
    frame_s = frame_seconds(catalog)
    found: dict[str, list[Option]] = {}
    for shot in shots.shots:
        ways = [shot]
        if shot.mode == "slide" and constraints.animate_slides:
            ways.append(animated(shot))
        opts = [
            opt
            for way in ways
            for tool in catalog.tools
            if _fits(tool, way, shots.aspect, constraints) is None
            and (opt := option(tool, way, constraints, frame_s)) is not None
        ]
        found[shot.id] = sorted(opts, key=lambda o: (o.cost_usd, -o.tool.quality_tier, o.tool.name))
    return found


def why_no_tool(shot: Shot, aspect: str, catalog: ToolCatalog, constraints: PlanConstraints) -> str:
    """One line on why no catalog tool can make ``shot``: each tool's first reason."""
    reasons: dict[str, list[str]] = {}
    for tool in catalog.tools:
        reason = _fits(tool, shot, aspect, constraints)
        if reason:
            reasons.setdefault(reason, []).append(tool.name)
    parts = [f"{', '.join(names)}: {reason}" for reason, names in sorted(reasons.items())]
    needs = [shot.mode.replace("_", "-"), aspect, f"{shot.duration_s:g} s"]
    if shot.needs_audio:
        needs.append("with sound")
    return f"shot {shot.id} ({' '.join(needs)}) fits no tool: " + "; ".join(parts)


def lanes_by_provider(catalog: ToolCatalog, constraints: PlanConstraints) -> dict[str, int]:
    """Concurrent slots per provider: the user's figure, else its tools' largest."""
    lanes: dict[str, int] = {}
    for tool in catalog.tools:
        lanes[tool.provider] = max(lanes.get(tool.provider, 1), tool.concurrency)
    for provider, limit in constraints.concurrency.items():
        lanes[provider] = max(1, int(limit))
    return lanes
