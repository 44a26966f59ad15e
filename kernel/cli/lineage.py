"""``reelgraph fork`` and ``reelgraph diff``: a run's variations and how two runs differ.

:func:`diff_runs` is the data behind ``reelgraph diff RUN_A RUN_B`` (and its
``--json``): the inputs that differ, per node how each run got its output
(``ran``, ``cached``: the memo cache, ``reused``: taken from the parent of a
fork, or ``skipped``, ``failed``...), its seconds and cost (US dollars), and
the quality gates' verdicts and figures side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reelgraph.run.result import jsonable
from reelgraph.store.lineage import fork_of

__all__ = ["changes_text", "diff_runs", "fork_command", "how_nodes_ran", "print_diff"]


def changes_text(changed: dict[str, list[Any]]) -> str:
    """``voice: None -> 'en-gb', aspect: '16:9' -> '9:16'`` (or ``no input changed``)."""
    if not changed:
        return "no input changed"
    return ", ".join(f"{name}: {old!r} -> {new!r}" for name, (old, new) in changed.items())


def how_nodes_ran(kernel: Any, run_id: str) -> dict[str, str]:
    """Per node of a stored run, how it got its output in its last execution.

    ``ran`` (its hook ran), ``cached`` (the memo cache), ``reused from RUN``
    (a fork's parent), or the node's status when it did not succeed.
    """
    reused = {}
    for _ts, kind, node_id, data in kernel.store.get_events(run_id):
        if kind == "node.succeeded" and node_id and data and data.get("from_run"):
            reused[node_id] = f"reused from {data['from_run']}"
    how = {}
    for node in kernel.store.get_nodes(run_id):
        if node.status != "succeeded":
            how[node.node_id] = node.status
        elif node.node_id in reused:
            how[node.node_id] = reused[node.node_id]
        else:
            how[node.node_id] = "cached" if node.cached else "ran"
    return how


def _gates(kernel: Any, nodes: list[Any]) -> dict[str, dict[str, Any]]:
    """Gate results by ``node/gate`` (``node/gate (check)``): verdict, measured, threshold, unit."""
    from reelgraph.models import GateResult
    from reelgraph.store.artifacts import ArtifactError
    from reelgraph.store.serialize import load_value

    gates: dict[str, dict[str, Any]] = {}
    for node in nodes:
        if node.hook != "check_quality" or node.output is None:
            continue
        try:
            value = load_value(node.output, kernel.artifacts, verify=False)
        except ArtifactError:
            continue
        for result in value if isinstance(value, list) else []:
            if isinstance(result, GateResult):
                verdict = "pass" if result.passed else result.severity
                check = result.details.get("check")  # one gate may measure several things
                name = result.gate + (f" ({check})" if check else "")
                gates[f"{node.node_id}/{name}"] = {
                    "verdict": verdict,
                    "measured": jsonable(result.measured),
                    "threshold": jsonable(result.threshold),
                    "unit": result.unit,
                }
    return gates


def diff_runs(kernel: Any, run_a: str, run_b: str) -> dict[str, Any]:
    """How stored run ``run_b`` differs from ``run_a``, as JSON-ready data.

    Keys: ``a`` and ``b`` (id, spec, status, seconds, cost_usd, and
    ``parent`` when the run is a fork), ``inputs`` (``{name: [a value, b
    value]}`` for the inputs that differ), ``recomputed`` (nodes whose hook
    ran in ``b``), ``reused`` (nodes ``b`` took from a parent or the memo
    cache), ``nodes`` (per node id: ``how``, ``seconds``, ``cost_usd`` of
    each run) and ``gates`` (per ``node/gate``: each run's verdict,
    measured value, threshold and unit).

    Raises:
        ReelgraphError: either run does not exist, or an id prefix is ambiguous.
    """
    rows = [kernel.find_run(run_a), kernel.find_run(run_b)]
    nodes = [kernel.store.get_nodes(row.id) for row in rows]
    hows = [how_nodes_ran(kernel, row.id) for row in rows]
    names = list(dict.fromkeys([*rows[0].inputs, *rows[1].inputs]))
    inputs = {
        name: [rows[0].inputs.get(name), rows[1].inputs.get(name)]
        for name in names
        if rows[0].inputs.get(name) != rows[1].inputs.get(name)
    }
    ids = list(dict.fromkeys([n.node_id for n in nodes[1]] + [n.node_id for n in nodes[0]]))
    by_id = [{n.node_id: n for n in run_nodes} for run_nodes in nodes]
    per_node = {}
    for node_id in ids:
        sides = []
        for side in (0, 1):
            node = by_id[side].get(node_id)
            sides.append(
                None
                if node is None
                else {
                    "how": hows[side][node_id],
                    "seconds": node.seconds,
                    "cost_usd": node.cost_usd,
                }
            )
        per_node[node_id] = sides
    gates = [_gates(kernel, run_nodes) for run_nodes in nodes]
    gate_ids = list(dict.fromkeys([*gates[0], *gates[1]]))

    def run_data(row: Any) -> dict[str, Any]:
        record = fork_of(kernel.store, row.id)
        return {
            "id": row.id,
            "spec": row.spec,
            "status": row.status,
            "seconds": row.seconds,
            "cost_usd": row.cost_usd,
            "parent": None if record is None else record.parent_id,
        }

    return {
        "a": run_data(rows[0]),
        "b": run_data(rows[1]),
        "inputs": inputs,
        "recomputed": [n for n in ids if hows[1].get(n) == "ran"],
        "reused": [n for n in ids if hows[1].get(n, "").startswith(("reused", "cached"))],
        "nodes": per_node,
        "gates": {g: [gates[0].get(g), gates[1].get(g)] for g in gate_ids},
    }


def print_diff(data: dict[str, Any]) -> None:
    """``reelgraph diff`` as rich tables: inputs, nodes, gates."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    a, b = data["a"], data["b"]
    for tag, run in (("A", a), ("B", b)):
        seconds = "-" if run["seconds"] is None else f"{run['seconds']:.2f} s"
        parent = f" · fork of {run['parent']}" if run["parent"] else ""
        console.print(
            f"{tag} [bold]{run['id']}[/] · {run['spec']} · {run['status']} · {seconds} · "
            f"{run['cost_usd']:.4f} USD{parent}"
        )
    if data["inputs"]:
        table = Table(title="inputs that differ")
        for column in ("input", "A", "B"):
            table.add_column(column)
        for name, (old, new) in data["inputs"].items():
            table.add_row(name, escape(repr(old)), escape(repr(new)))
        console.print(table)
    else:
        console.print("no input differs")
    table = Table(title="nodes")
    for column in ("node", "A", "A s", "A USD", "B", "B s", "B USD"):
        table.add_column(column, justify="right" if " " in column else "left")
    for node_id, sides in data["nodes"].items():
        cells = [node_id]
        for side in sides:
            if side is None:
                cells += ["-", "", ""]
                continue
            seconds = "" if side["seconds"] is None else f"{side['seconds']:.2f}"
            cells += [side["how"], seconds, f"{side['cost_usd']:.4f}" if side["cost_usd"] else ""]
        table.add_row(*cells)
    console.print(table)
    console.print(f"recomputed in B: {', '.join(data['recomputed']) or 'none'}")
    console.print(f"reused in B:     {', '.join(data['reused']) or 'none'}")
    if data["gates"]:
        table = Table(title="quality gates")
        for column in ("node/gate", "A", "A measured", "B", "B measured", "unit"):
            table.add_column(column)
        for gate, sides in data["gates"].items():
            cells = [gate]
            unit = ""
            for side in sides:
                if side is None:
                    cells += ["-", ""]
                    continue
                unit = side["unit"] or unit
                measured = side["measured"]
                shown = f"{measured:.2f}" if isinstance(measured, float) else str(measured)
                cells += [side["verdict"], escape(shown)]
            table.add_row(*cells, unit)
        console.print(table)


def fork_command(
    kernel: Any,
    run_id: str,
    given: dict[str, str],
    *,
    output_dir: Path,
    as_json: bool,
    cache: bool,
    budget: dict[str, float] | None,
    provider: Any,
) -> None:
    """Check the fork (exit 2 with one line), then run it as ``reelgraph run`` does."""
    from reelgraph.cli._exits import fail, fail_with, spec_error_text, stderr
    from reelgraph.cli.running import drive, finish
    from reelgraph.errors import InputError, ReelgraphError, SpecError
    from reelgraph.kernel import new_run_id
    from reelgraph.run.fork import check_fork

    try:
        row = kernel.find_run(run_id)
        plan, _, _, _, changed = check_fork(kernel, row, given)
    except (InputError, SpecError) as err:
        fail(spec_error_text(err))
    except ReelgraphError as err:
        fail_with(err)
    fork_id = new_run_id()
    console = stderr()
    if not as_json:
        from rich.markup import escape

        shown = json.loads(json.dumps(jsonable({k: list(v) for k, v in changed.items()})))
        console.print(
            f"fork [bold]{fork_id}[/] of {row.id} ({escape(changes_text(shown))}) · "
            f"spec {row.spec} · output {output_dir}",
            soft_wrap=True,
        )

    def start(on_event: Any) -> Any:
        return kernel.afork(
            row.id,
            given,
            output_dir=output_dir,
            on_event=on_event,
            fork_id=fork_id,
            cache=cache,
            budget=budget,
        )

    result = drive(start, plan, fork_id, console, quiet=as_json, provider=provider)
    finish(result, output_dir, console, as_json)
