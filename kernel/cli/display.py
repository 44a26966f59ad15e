"""Rich rendering for the CLI: live progress of a run, tables, Mermaid graphs."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from reelgraph.plan.graph import Plan
from reelgraph.run.result import Event, Run

__all__ = ["RunDisplay", "mermaid", "plan_table", "run_table"]

_STATUS_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "yellow",
    "failed_quality": "bold red",
    "running": "cyan",
    "pending": "dim",
    "skipped": "dim",
    "blocked": "bold yellow",
    "over_budget": "bold yellow",
    "needs_input": "bold yellow",
}


class RunDisplay:
    """A progress bar per node, fed by the run's events (from any thread)."""

    def __init__(self, console: Console, plan: Plan) -> None:
        self.plan = plan
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[node]:<12}[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RunDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, event: Event) -> None:
        node_id = event.node_id
        if node_id is None:
            return
        with self._lock:
            task = self._tasks.get(node_id)
            if event.type == "node.started":
                node = self.plan.nodes[node_id]
                label = f"{node.hook}" + (f" [dim]({node.provider})[/]" if node.provider else "")
                self._tasks[node_id] = self.progress.add_task(label, node=node_id, total=None)
            elif task is None:
                if event.type == "node.succeeded" and event.data and event.data.get("from_run"):
                    # a fork took it from its parent without running it: one done line
                    label = f"[dim]reused from {event.data['from_run']}[/]"
                    done = self.progress.add_task(label, node=node_id, total=1)
                    self.progress.update(done, completed=1)  # finished: no spinner, no clock
                return
            elif event.type == "node.progress" and event.data:
                self._on_progress(task, node_id, event.data)
            elif event.type in ("node.retrying", "node.fallback") and event.data:
                node = self.plan.nodes[node_id]
                what = (
                    f"retry in {event.data.get('wait_s', 0):.1f} s"
                    if event.type == "node.retrying"
                    else f"falling back to {event.data.get('to')}"
                )
                self.progress.update(task, description=f"{node.hook} [yellow]{what}[/]")
            elif event.type == "node.succeeded":
                total = self.progress.tasks[self._index(task)].total or 1
                self.progress.update(task, total=total, completed=total)
            elif event.type in (
                "node.failed",
                "node.cancelled",
                "node.blocked",
                "node.needs_input",
            ):
                status = event.type.split(".")[1]
                self.progress.update(task, description=f"[{_STATUS_STYLE[status]}]{status}[/]")
                self.progress.stop_task(task)

    def _on_progress(self, task: Any, node_id: str, data: dict[str, Any]) -> None:
        is_map = self.plan.nodes[node_id].map_ref is not None
        if is_map and data.get("item") is not None:
            return  # per-item detail; the bar counts items
        fields: dict[str, Any] = {"completed": data["completed"]}
        if data.get("total") is not None:
            fields["total"] = data["total"]
        if data.get("message"):
            from rich.markup import escape

            from reelgraph.observe.secrets import redact

            node = self.plan.nodes[node_id]
            fields["description"] = f"{node.hook} [dim]{escape(redact(data['message']))}[/]"
        self.progress.update(task, **fields)

    def _index(self, task: Any) -> int:
        for index, candidate in enumerate(self.progress.tasks):
            if candidate.id == task:
                return index
        return 0


def run_table(run: Run) -> Table:
    """Per-node status, attempts, seconds and cost (a cost column only when something cost money)."""
    table = Table(title=f"run {run.id} [{_STATUS_STYLE.get(run.status, '')}]{run.status}[/]")
    costs = any(node.cost_usd for node in run.nodes.values())
    columns = ["node", "hook", "provider", "status", "cached", "attempts", "items", "seconds"]
    columns += ["USD"] if costs else []
    for column in columns:
        right = column in ("attempts", "items", "seconds", "USD")
        table.add_column(column, justify="right" if right else "left")
    for node in run.nodes.values():
        provider = node.provider or "-"
        if node.fallback:
            provider += f" -> {node.fallback.split(':', 1)[1]}"
        row = [
            node.id,
            node.hook,
            provider,
            f"[{_STATUS_STYLE.get(node.status, '')}]{node.status}[/]",
            "yes" if node.cached else "",
            str(node.attempts) if node.attempts > 1 else "",
            "" if node.items is None else str(node.items),
            "" if node.seconds is None else f"{node.seconds:.2f}",
        ]
        if costs:
            row.append(f"{node.cost_usd:.4f}" if node.cost_usd else "")
        table.add_row(*row)
    return table


def quality_table(results: list[Any]) -> Table:
    """The quality report: one row per gate result."""
    table = Table(title="quality")
    for column in ("gate", "stage", "verdict", "measured", "threshold", "message"):
        table.add_column(column)
    for r in results:
        if r.passed:
            verdict = "[green]pass[/]"
        else:
            verdict = "[bold red]FAIL[/]" if r.severity == "error" else f"[yellow]{r.severity}[/]"
        measured = f"{r.measured:.2f}" if isinstance(r.measured, float) else str(r.measured)
        threshold = f"{r.threshold:g}" if isinstance(r.threshold, float) else str(r.threshold)
        table.add_row(
            r.gate + (f" ({r.details['check']})" if r.details.get("check") else ""),
            r.stage or "-",
            verdict,
            f"{measured} {r.unit}".strip() if r.measured is not None else "-",
            f"{threshold} {r.unit}".strip() if r.threshold is not None else "-",
            r.message,
        )
    return table


def plan_table(plan: Plan) -> Table:
    """The execution order, one row per node, grouped by generation."""
    table = Table(title=f"plan {plan.spec.name} ({len(plan.nodes)} nodes)")
    for column in ("step", "node", "hook", "provider", "after", "map"):
        table.add_column(column)
    for step, generation in enumerate(plan.generations(), start=1):
        for node_id in generation:
            node = plan.nodes[node_id]
            table.add_row(
                str(step),
                node_id,
                node.hook,
                node.provider or "any",
                ", ".join(node.deps) or "-",
                str(node.map_ref) if node.map_ref else "",
            )
    return table


def mermaid(plan: Plan) -> str:
    """A Mermaid flowchart of the plan: inputs, nodes (map nodes stacked), edges."""
    lines = ["flowchart TD"]
    used_inputs = sorted(
        {
            ref.path[0]
            for node in plan.spec.nodes
            for ref in _refs(node.with_)
            if ref.root == "inputs" and ref.path
        }
    )
    for name in used_inputs:
        lines.append(f'    in_{_safe(name)}(["input: {name}"])')
    for node_id in plan.order:
        node = plan.nodes[node_id]
        label = (
            f"{node_id}<br/><small>{node.hook}"
            + (f" · {node.provider}" if node.provider else "")
            + "</small>"
        )
        shape = ('[["', '"]]') if node.map_ref else ('["', '"]')
        lines.append(f"    {_safe(node_id)}{shape[0]}{label}{shape[1]}")
    for spec_node in plan.spec.nodes:
        for ref in _refs(spec_node.with_):
            if ref.root == "inputs" and ref.path:
                lines.append(f"    in_{_safe(ref.path[0])} --> {_safe(spec_node.id)}")
    for source, target in sorted(plan.graph.edges):
        lines.append(f"    {_safe(source)} --> {_safe(target)}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def _refs(value: Any) -> list[Any]:
    from reelgraph.spec.refs import Ref, find_refs

    return [ref for _, ref in find_refs(value, "with") if isinstance(ref, Ref)]


def _safe(name: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)
