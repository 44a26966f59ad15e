"""A production plan as files: ``plan.json`` (the model) and ``plan.md`` (for a producer).

The JSON follows ``specs/production-plan.schema.json``, the published JSON
Schema of :class:`~reelgraph.models.ProductionPlan` (:func:`plan_schema`).
Both files are written to a temporary name and renamed, so a half-written
plan never sits under its final name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reelgraph.models import ProductionPlan

__all__ = ["plan_schema", "render_markdown", "write_plan"]

_PATHS = {"json_path", "markdown_path"}


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of ``plan.json`` (what ``specs/production-plan.schema.json`` holds)."""
    schema = ProductionPlan.model_json_schema()
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in _PATHS}
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reelgraph production plan",
        **schema,
    }


def _usd(value: float | None) -> str:
    return "no limit" if value is None else f"${value:,.2f}"


def _secs(value: float | None) -> str:
    if value is None:
        return "no limit"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _figures(plan: ProductionPlan) -> list[str]:
    """Which tools' figures were measured in the run store (the rest are the catalog's claims)."""
    measured = [f for f in plan.figures if "measured" in f.basis.values()]
    if not measured:
        return ["- Figures: the catalog's claims (nothing measured in the run store yet)"]
    lines = ["- Figures measured in the run store (the rest are the catalog's claims):"]
    for f in measured:
        which = ", ".join(k for k, v in f.basis.items() if v == "measured")
        used = f.used
        if f.excluded:
            lines.append(f"  - {f.tool}: **excluded**, {f.note}")
            continue
        lines.append(
            f"  - {f.tool}: {which} measured; planned at ${used['price_usd_per_s']:.4g}/s "
            f"(claimed ${f.claimed['price_usd_per_s']:.4g}), {used['latency_s']:g} s "
            f"(claimed {f.claimed['latency_s']:g} s)" + (f"; {f.note}" if f.note else "")
        )
    return lines


def render_markdown(plan: ProductionPlan) -> str:
    """The plan as Markdown: summary, per-shot decisions, costs, timeline, or why none."""
    c = plan.constraints
    lines = [
        f"# Production plan: {plan.title}",
        "",
        f"- Status: **{plan.status}**"
        + ("" if plan.optimal else " (best found, not proven optimal)"),
        f"- Budget: {_usd(c.max_cost_usd)}; time limit: {_secs(c.max_time_s)}; "
        f"quality floor: {c.min_quality}; objective: best {c.objective}",
        f"- Aspect: {plan.aspect}; tools considered: {', '.join(plan.tools)}",
        f"- Solver: {plan.solver}",
    ]
    lines += _figures(plan)
    if plan.status == "infeasible" and plan.infeasibility:
        why = plan.infeasibility
        lines += ["", "## No plan meets the constraints", "", why.message, ""]
        lines.append(f"Binding: {', '.join(why.binding)}.")
        if why.relaxations:
            lines += ["", "Any one of these makes a plan:", ""]
            lines += [
                f"- {r.change}: ${r.cost_usd:.2f}, {_secs(r.time_s)}" for r in why.relaxations
            ]
        return "\n".join(lines) + "\n"
    timeline = plan.timeline
    lines.append(
        f"- Total: **${plan.total_cost_usd:.2f}**, ready in about "
        f"**{_secs(timeline.makespan_s if timeline else 0)}**"
    )
    lines += ["", "## Shots", ""]
    lines += [
        "| shot | mode | s | tool | quality | paid s | cost | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in plan.shots:
        lines.append(
            f"| {s.shot_id} | {s.mode.replace('_', '-')} | {s.duration_s:g} | {s.tool} | "
            f"{s.quality_tier} | {s.billed_s:g} | ${s.cost_usd:.2f} | {s.reason} |"
        )
    for s in plan.shots:
        lines += ["", f"### {s.shot_id}: {s.tool} ({s.model})", ""]
        lines += [
            f"{i}. **{step.step}**: {step.detail}"
            + (f" ({step.seconds:g} s)" if step.seconds else "")
            + (f", ${step.cost_usd:.2f}" if step.cost_usd else "")
            for i, step in enumerate(s.steps, 1)
        ]
        if s.alternatives:
            lines += [
                "",
                "Alternatives: " + "; ".join(f"{a.tool} ({a.note})" for a in s.alternatives),
            ]
    lines += [
        "",
        "## Costs",
        "",
        "| tool | provider | shots | paid s | cost |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {x.tool} | {x.provider} | {x.shots} | {x.billed_s:g} | ${x.cost_usd:.2f} |"
        for x in plan.costs
    ]
    lines.append(f"| **total** | | {len(plan.shots)} | | **${plan.total_cost_usd:.2f}** |")
    if timeline:
        lines += ["", "## Timeline", ""]
        lines.append(
            f"Critical path: {timeline.critical_provider} lane, "
            f"{' -> '.join(timeline.critical_path) or '-'} ({_secs(timeline.makespan_s)})."
        )
        lines += [""]
        for lane in timeline.lanes:
            tasks = ", ".join(f"{t.shot_id} {t.start_s:g}-{t.end_s:g} s" for t in lane.tasks)
            lines.append(f"- {lane.provider} lane {lane.lane + 1}: {tasks}")
    return "\n".join(lines) + "\n"


def _publish(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def write_plan(plan: ProductionPlan, folder: Path) -> ProductionPlan:
    """Write ``plan.json`` and ``plan.md`` into ``folder``; the plan with their paths.

    Raises:
        OSError: the folder cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "plan.json", folder / "plan.md"
    data = plan.model_dump(mode="json", exclude=_PATHS)
    _publish(json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    _publish(md_path, render_markdown(plan))
    return plan.model_copy(update={"json_path": json_path, "markdown_path": md_path})
