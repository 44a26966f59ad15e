"""``reelgraph runs`` and ``reelgraph show``: reading runs back from the run store."""

from __future__ import annotations

import json
import time
from typing import Any

from reelgraph.run.result import jsonable
from reelgraph.spec.refs import parse_ref, resolve_path
from reelgraph.store.artifacts import ArtifactError
from reelgraph.store.serialize import load_value

__all__ = ["describe_run", "runs_command", "show_command"]


def _when(ts: float | None) -> str:
    return time.strftime("%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def runs_command(kernel: Any, *, as_json: bool, limit: int) -> None:
    rows = kernel.store.list_runs(limit)
    if as_json:
        data = [
            {
                "id": r.id,
                "spec": r.spec,
                "status": r.status,
                "started_at": r.started_at,
                "seconds": r.seconds,
                "cost_usd": r.cost_usd,
            }
            for r in rows
        ]
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"runs in {kernel.home}")
    for column in ("id", "spec", "status", "started", "seconds", "cost (USD)"):
        right = column in ("seconds", "cost (USD)")
        table.add_column(column, justify="right" if right else "left", no_wrap=column != "spec")
    for r in rows:
        table.add_row(
            r.id, r.spec, r.status, _when(r.started_at), _seconds(r.seconds), f"{r.cost_usd:.4f}"
        )
    Console().print(table)


def describe_run(kernel: Any, run_id: str) -> dict[str, Any]:
    """A stored run as JSON-ready data: status, inputs, outputs and every node.

    Raises:
        ReelgraphError: no such run, or an ambiguous id prefix.
    """
    from reelgraph.cli.lineage import how_nodes_ran
    from reelgraph.store.lineage import children, fork_of

    row = kernel.find_run(run_id)
    nodes = kernel.store.get_nodes(row.id)
    how = how_nodes_ran(kernel, row.id)
    parent = fork_of(kernel.store, row.id)
    return {
        "id": row.id,
        "spec": row.spec,
        "status": row.status,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "seconds": row.seconds,
        "cost_usd": row.cost_usd,
        "error": row.error,
        "resources": row.resources,
        "output_dir": row.output_dir,
        "inputs": row.inputs,
        "questions": row.questions or [],
        "answers": row.answers or {},
        "outputs": _outputs(kernel, row, nodes),
        # lineage: the run this one was forked from, and the forks made from it
        "parent": None if parent is None else {"id": parent.parent_id, "changed": parent.changed},
        "forks": [{"id": f.run_id, "changed": f.changed} for f in children(kernel.store, row.id)],
        "quality": _quality(kernel, nodes),
        "nodes": [
            {
                "id": n.node_id,
                "hook": n.hook,
                "provider": n.provider,
                "status": n.status,
                "attempts": n.attempts,
                "cached": n.cached,
                "how": how[n.node_id],  # ran, cached, reused from RUN, or its status
                "items": n.items,
                "started_at": n.started_at,
                "ended_at": n.ended_at,
                "seconds": n.seconds,
                "cost_usd": n.cost_usd,
                "error": n.error,
            }
            for n in nodes
        ],
        "attempts": [
            {
                "node": a.node_id,
                "item": a.item,
                "attempt": a.attempt,
                "provider": a.provider,
                "status": a.status,
                "seconds": a.seconds,
                "cost_usd": a.cost_usd,
                "error": a.error,
            }
            for a in kernel.store.get_attempts(row.id)
        ],
    }


def _outputs(kernel: Any, row: Any, nodes: list[Any]) -> dict[str, Any]:
    spec_outputs = json.loads(row.spec_text).get("outputs") or {}
    stored = {n.node_id: n.output for n in nodes if n.status == "succeeded"}
    out: dict[str, Any] = {}
    for name, text in spec_outputs.items():
        ref = parse_ref(text)
        if ref is None or isinstance(ref, str) or ref.root not in stored:
            continue
        try:
            value = load_value(stored[ref.root], kernel.artifacts, verify=False)
            out[name] = jsonable(resolve_path(value, ref.path))
        except (ArtifactError, LookupError):
            continue
    return out


def _quality(kernel: Any, nodes: list[Any]) -> list[Any]:
    """Gate results stored as the outputs of gate (check_quality) nodes."""
    from reelgraph.models import GateResult

    results: list[Any] = []
    for n in nodes:
        if n.hook != "check_quality" or n.output is None:
            continue
        try:
            value = load_value(n.output, kernel.artifacts, verify=False)
        except ArtifactError:
            continue
        results += [jsonable(r) for r in value if isinstance(r, GateResult)]
    return results


def _resources_line(used: dict[str, Any]) -> str:
    """``peak RSS 212.4 MiB · CPU 14.2 s (+ 31.0 s in subprocesses) · wrote 48.1 MiB · ...``."""

    def mib(value: Any) -> str:
        return "?" if value is None else f"{value / 2**20:,.1f} MiB"

    return (
        f"peak RSS {used.get('peak_rss_mib')} MiB · CPU {used.get('cpu_s')} s "
        f"(+ {used.get('children_cpu_s')} s in subprocesses) · "
        f"wrote {mib(used.get('artifact_bytes_written'))} to the artifact store · "
        f"disk free {mib(used.get('disk_free_start_bytes'))} -> "
        f"{mib(used.get('disk_free_end_bytes'))}"
    )


def _questions(console: Any, data: dict[str, Any]) -> None:
    """The questions the run asked last, each with its answer when it has one."""
    from rich.markup import escape

    answers = data["answers"]
    for question in data["questions"]:
        key = question["key"]
        answer = answers.get(key)
        said = f"answered: {answer!r}" if answer is not None else "[yellow]open[/]"
        console.print(
            f"  asked  {escape(key)} ({escape(question.get('node') or '-')}): "
            f"{escape(question['question'])} · {escape(said) if answer is not None else said}",
            soft_wrap=True,
        )
    for key in sorted(set(answers) - {q["key"] for q in data["questions"]}):
        console.print(f"  answer {escape(key)} = {escape(repr(answers[key]))}", soft_wrap=True)
    if data["status"] == "needs_input":
        from reelgraph.cli.running import answer_command

        console.print(f"  answer with: {escape(answer_command(data['questions'], data['id']))}")


def _lineage(console: Any, data: dict[str, Any]) -> None:
    """The run's parent (with the inputs the fork changed) and the forks made from it."""
    from rich.markup import escape

    from reelgraph.cli.lineage import changes_text

    if data["parent"]:
        parent = data["parent"]
        console.print(
            f"  fork of {parent['id']} ({escape(changes_text(parent['changed']))})", soft_wrap=True
        )
    for fork in data["forks"]:
        console.print(
            f"  forked  {fork['id']} ({escape(changes_text(fork['changed']))})", soft_wrap=True
        )


def show_command(kernel: Any, run_id: str, *, as_json: bool) -> None:
    data = describe_run(kernel, run_id)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"run [bold]{data['id']}[/] · spec {data['spec']} · [bold]{data['status']}[/] · "
        f"started {_when(data['started_at'])} · {_seconds(data['seconds'])} s · "
        f"{data['cost_usd']:.4f} USD"
    )
    if data["error"]:
        console.print(f"[red]error:[/] {data['error']}", soft_wrap=True)
    _lineage(console, data)
    for name, value in data["inputs"].items():
        console.print(f"  input  {name} = {value!r}")
    for name, value in data["outputs"].items():
        console.print(f"  output {name} = {value}")
    for gate in data["quality"]:
        verdict = "pass" if gate["passed"] else gate["severity"].upper()
        console.print(f"  gate   {gate['gate']}: {verdict} ({gate['message']})")
    if data.get("resources"):
        console.print("  used   " + _resources_line(data["resources"]))
    _questions(console, data)
    table = Table()
    for column in (
        "node",
        "hook",
        "provider",
        "status",
        "attempts",
        "cached",
        "started",
        "seconds",
        "USD",
        "error",
    ):
        table.add_column(column)
    for n in data["nodes"]:
        table.add_row(
            n["id"],
            n["hook"] or "-",
            n["provider"] or "-",
            n["status"],
            str(n["attempts"]),
            "from parent" if n["how"].startswith("reused") else ("yes" if n["cached"] else ""),
            _when(n["started_at"]),
            _seconds(n["seconds"]),
            f"{n['cost_usd']:.4f}" if n["cost_usd"] else "",
            (n["error"] or "")[:80],
        )
    console.print(table)
