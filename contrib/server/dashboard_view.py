"""What the dashboard shows, as JSON-ready data: the DAG laid out, node states, the timeline.

The DAG layout is networkx's: nodes in columns by
:func:`networkx.topological_generations` (every edge points rightwards), placed by
:func:`networkx.multipartite_layout`; this module only scales those positions to
pixels. The critical path is :func:`networkx.dag_longest_path` over node
durations. Nothing here writes to the store.

States a node is shown in: ``pending`` (not started, its dependencies done or
the run is not running), ``waiting`` (not started, waiting on the dependencies
named in ``waiting_on``), ``running`` (with ``progress``), ``succeeded``,
``cached`` (served from the memo cache or an earlier run), ``failed`` (with
``error_class`` and ``attempts``), ``skipped``, ``blocked`` (by the budget),
``needs_input`` and ``cancelled``.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from typing import Any

import networkx as nx

__all__ = ["NODE_HEIGHT_PX", "NODE_WIDTH_PX", "dag_layout", "node_states", "run_view", "verdict"]

NODE_WIDTH_PX = 150
NODE_HEIGHT_PX = 46
_COLUMN_PX = 200  # distance between two generations, left to right
_ROW_PX = 70  # distance between two nodes of one generation
_MARGIN_PX = 12

#: the cost detail the in-tree LLM vendors write (plugins/vendors/_genai.py ``_detail``)
_TOKENS = re.compile(r"(\d+) input \+ (\d+) output tokens")
#: the cause class in a NodeError's text (reelgraph.errors.NodeError: "... failed: Class: ...")
_ERROR_CLASS = re.compile(r"failed: ([A-Za-z_][\w.]*): ")
_FINISHED = {"succeeded", "failed", "skipped", "blocked", "cancelled", "needs_input"}


def dag_layout(graph: nx.DiGraph, order: list[str]) -> dict[str, Any]:
    """Pixel positions of a plan's DAG for an SVG: ``{"width", "height", "nodes", "edges"}``.

    ``nodes``: ``[{"id", "x", "y"}]``, the top-left corner of a node's box
    (``NODE_WIDTH_PX`` x ``NODE_HEIGHT_PX`` pixels); ``edges``: ``[{"source",
    "target", "path"}]`` with ``path`` an SVG path (a cubic Bezier from the right
    side of the source box to the left side of the target box). ``width`` and
    ``height`` are the drawing's size in pixels.
    """
    if not order:
        return {"width": 0, "height": 0, "nodes": [], "edges": []}
    layered = nx.DiGraph()
    for depth, generation in enumerate(nx.topological_generations(graph)):
        for node_id in sorted(generation, key=order.index):  # plan order within a column
            layered.add_node(node_id, layer=depth)
    layered.add_edges_from(graph.edges)
    widest = max(
        sum(1 for _, d in layered.nodes(data="layer") if d == layer)
        for layer in set(dict(layered.nodes(data="layer")).values())
    )
    columns = 1 + max(d for _, d in layered.nodes(data="layer"))
    # multipartite_layout spreads the layers along x over [-scale, scale] and each
    # layer's nodes along y; the aspect ratio we want comes from the pixel sizes below
    raw = nx.multipartite_layout(layered, subset_key="layer", align="vertical", scale=1)
    xs = [float(p[0]) for p in raw.values()]
    ys = [float(p[1]) for p in raw.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    width = (columns - 1) * _COLUMN_PX + NODE_WIDTH_PX + 2 * _MARGIN_PX
    height = (widest - 1) * _ROW_PX + NODE_HEIGHT_PX + 2 * _MARGIN_PX
    boxes = {}
    for node_id, (x, y) in raw.items():
        left = _MARGIN_PX + (float(x) - min(xs)) / span_x * (columns - 1) * _COLUMN_PX
        # y grows downwards in SVG; a single row sits in the middle
        top = _MARGIN_PX + (
            (max(ys) - float(y)) / span_y * (widest - 1) * _ROW_PX
            if len(set(ys)) > 1
            else (widest - 1) * _ROW_PX / 2
        )
        boxes[node_id] = (round(left, 1), round(top, 1))
    nodes = [{"id": n, "x": boxes[n][0], "y": boxes[n][1]} for n in order]
    edges = []
    for source, target in sorted(graph.edges):
        x1, y1 = boxes[source][0] + NODE_WIDTH_PX, boxes[source][1] + NODE_HEIGHT_PX / 2
        x2, y2 = boxes[target][0], boxes[target][1] + NODE_HEIGHT_PX / 2
        bend = (x2 - x1) / 2
        path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
        edges.append({"source": source, "target": target, "path": path})
    return {"width": round(width), "height": round(height), "nodes": nodes, "edges": edges}


def _progress(events: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """The last ``node.progress`` of each node: ``{node: {"completed", "total", "message"}}``."""
    last: dict[str, dict[str, Any]] = {}
    for _, type_, node_id, data in events:
        if type_ == "node.progress" and node_id and data:
            last[node_id] = {k: data.get(k) for k in ("completed", "total", "message")}
        elif type_ == "node.started" and node_id:
            last.pop(node_id, None)  # a resumed node starts its progress again
    return last


def node_states(
    plan: Any, rows: list[Any], events: list[Any], running: bool, attempts: list[Any]
) -> list[dict]:
    """Each node of ``plan`` with the state the dashboard shows (see the module docstring).

    ``rows`` are the run's stored ``NodeRow``s; ``running``: whether the run is
    executing now (a node not started is then ``waiting`` or ``pending``);
    ``attempts`` its ``AttemptRow``s (``attempts`` shown is the highest attempt number).
    Each item: ``{"id", "hook", "provider", "state", "attempts", "seconds",
    "cost_usd", "error", "error_class", "progress", "waiting_on"}``.
    """
    stored = {row.node_id: row for row in rows}
    progress = _progress(events)
    tries: dict[str, int] = {}
    for attempt in attempts:
        tries[attempt.node_id] = max(tries.get(attempt.node_id, 0), attempt.attempt)
    out = []
    for node_id in plan.order:
        node, row = plan.nodes[node_id], stored.get(node_id)
        state = "pending" if row is None else row.status
        if state == "succeeded" and row.cached:
            state = "cached"
        waiting_on: list[str] = []
        if row is None and running:
            waiting_on = [
                dep for dep in node.deps if dep not in stored or stored[dep].status not in _FINISHED
            ]
            state = "waiting" if waiting_on else "pending"
        error = row.error if row is not None else None
        match = _ERROR_CLASS.search(error or "")
        out.append(
            {
                "id": node_id,
                "hook": node.hook,
                "provider": row.provider if row is not None and row.provider else node.provider,
                "state": state,
                "attempts": max(row.attempts if row is not None else 0, tries.get(node_id, 0)),
                "seconds": row.seconds if row is not None else None,
                "cost_usd": row.cost_usd if row is not None else 0.0,
                "error": error,
                "error_class": match.group(1) if match else None,
                "progress": progress.get(node_id) if state == "running" else None,
                "waiting_on": waiting_on,
            }
        )
    return out


def _durations(graph: nx.DiGraph, weights: dict[str, float]) -> list[str]:
    """The path through ``graph`` whose nodes' ``weights`` (seconds) add up to the most,
    without the nodes that have no weight."""
    weighted = nx.DiGraph()
    end = object()  # every node leads to a sink, so a node's own weight counts as an edge
    for node_id in graph.nodes:
        weighted.add_edge(node_id, end, seconds=weights.get(node_id, 0.0))
    for source, target in graph.edges:
        weighted.add_edge(source, target, seconds=weights.get(source, 0.0))
    path = nx.dag_longest_path(weighted, weight="seconds", default_weight=0.0)
    return [n for n in path if n in weights]  # nodes without a duration are not on it


def _history(kernel: Any, spec: str, run_id: str, limit: int = 20) -> dict[Any, list[float]]:
    """Seconds of nodes that succeeded in earlier runs of ``spec``, by node id and by
    ``(hook, provider)`` (at most the ``limit`` latest such runs)."""
    found: dict[Any, list[float]] = defaultdict(list)
    earlier = [r for r in kernel.store.list_runs(200) if r.spec == spec and r.id != run_id]
    for row in earlier[:limit]:
        for node in kernel.store.get_nodes(row.id):
            if node.status == "succeeded" and not node.cached and node.seconds is not None:
                found[node.node_id].append(node.seconds)
                found[(node.hook, node.provider)].append(node.seconds)
    return found


def _eta_s(kernel: Any, plan: Any, run: Any, states: list[dict], now: float) -> float | None:
    """Seconds until the run should end: the longest path of the time each node still needs.

    A node not started needs its median in earlier runs of the spec (by node id,
    else by hook and provider, else the median of this run's finished nodes); a
    running node that estimate less the time it has run. None when nothing is
    known to estimate from.
    """
    history = _history(kernel, run.spec, run.id)
    finished = [s["seconds"] for s in states if s["state"] == "succeeded" and s["seconds"]]
    fallback = statistics.median(finished) if finished else None
    started = {n.node_id: n.started_at for n in kernel.store.get_nodes(run.id)}
    remaining: dict[str, float] = {}
    for state in states:
        if state["state"] not in ("pending", "waiting", "running"):
            continue
        node = plan.nodes[state["id"]]
        seen = history.get(state["id"]) or history.get((node.hook, node.provider))
        estimate = statistics.median(seen) if seen else fallback
        if estimate is None:
            return None
        if state["state"] == "running" and started.get(state["id"]):
            estimate = max(estimate - (now - started[state["id"]]), 0.0)
        remaining[state["id"]] = estimate
    path = _durations(plan.graph, remaining)
    return round(sum(remaining.get(n, 0.0) for n in path), 1)


def _with_running(
    bars: list[dict[str, Any]], attempts: list[Any], rows: list[Any]
) -> tuple[list[dict[str, Any]], float | None]:
    """The timeline's bars plus one open bar per running node whose attempt is not
    stored yet (attempts are stored when they end), and the time they count from.

    Each open bar takes the lowest lane free when it started; times are seconds
    after the returned origin (Unix seconds: the earliest start of all bars).
    """
    shown = {b["node"] for b in bars if b["end_s"] is None}
    running = sorted(
        (r for r in rows if r.status == "running" and r.started_at and r.node_id not in shown),
        key=lambda r: r.started_at,
    )
    starts = [a.started_at for a in attempts] + [r.started_at for r in running]
    if not starts:
        return bars, None
    origin = min(starts)
    shift = min(a.started_at for a in attempts) - origin if attempts else 0.0
    for bar in bars:  # an open bar may have started before the first stored attempt
        bar["start_s"] = round(bar["start_s"] + shift, 6)
        if bar["end_s"] is not None:
            bar["end_s"] = round(bar["end_s"] + shift, 6)
    for row in running:
        start = round(row.started_at - origin, 6)
        busy = {b["lane"] for b in bars if b["end_s"] is None or b["end_s"] > start}
        bars.append(
            {
                "lane": next(lane for lane in range(len(bars) + 1) if lane not in busy),
                "node": row.node_id,
                "item": None,
                "attempt": max(row.attempts, 1),
                "provider": row.provider,
                "status": "running",
                "start_s": start,
                "end_s": None,
                "seconds": None,
                "cost_usd": 0.0,
                "error": None,
            }
        )
    return bars, origin


def _tokens(details: list[str]) -> dict[str, int] | None:
    """Input and output tokens named in cost details (``"... 12 input + 3 output tokens"``)."""
    found = [_TOKENS.search(d or "") for d in details]
    pairs = [(int(m.group(1)), int(m.group(2))) for m in found if m]
    if not pairs:
        return None
    return {"input": sum(p[0] for p in pairs), "output": sum(p[1] for p in pairs)}


def _media(files: list[dict[str, Any]]) -> dict[str, str | None]:
    """The run's video and its WebVTT caption track (paths relative to the run directory),
    preferring what the run published into ``outputs/``."""
    paths = sorted((str(f["path"]) for f in files), key=lambda p: (not p.startswith("outputs/"), p))
    video = next((p for p in paths if p.endswith((".mp4", ".webm"))), None)
    vtts = [p for p in paths if p.endswith(".vtt")]
    if video is not None:  # the track made beside the video first
        stem = video.rsplit(".", 1)[0]
        vtts.sort(key=lambda p: not p.startswith(stem))
    return {"video": video, "captions": vtts[0] if vtts and video else None}


def verdict(gates: list[dict[str, Any]], status: str) -> str:
    """``failed`` (an error gate failed), ``warnings``, ``passed``, or ``""`` (no gate ran)."""
    if status == "failed_quality" or any(
        not g["passed"] and g.get("severity", "error") == "error" for g in gates
    ):
        return "failed"
    if not gates:
        return ""
    return "passed" if all(g["passed"] for g in gates) else "warnings"


def run_view(kernel: Any, plan: Any, run: Any, *, live: bool, files: list[dict]) -> dict:
    """Everything the run page shows of ``run`` (a ``RunRow``), as JSON-ready data.

    Returns ``{"run", "nodes", "timeline", "timeline_origin", "critical_path", "eta_s", "costs",
    "quality", "verdict", "questions", "answers", "media"}``: ``nodes`` as
    :func:`node_states`; ``timeline`` the rows of
    :func:`reelgraph.contrib.server.timeline.timeline` with ``retry``,
    ``fallback`` and ``critical`` flags, their times in seconds after
    ``timeline_origin`` (the first attempt's start, Unix seconds); ``eta_s`` seconds left (None when the
    run is not running or nothing is known); ``costs`` ``{"total_usd",
    "tokens", "by_node": {node: {"usd", "tokens"}}}`` (US dollars; tokens
    ``{"input", "output"}`` or None).
    """
    from reelgraph.cli.inspect import describe_run
    from reelgraph.contrib.server.timeline import timeline

    running = live or run.status == "running"
    rows = kernel.store.get_nodes(run.id)
    attempts = kernel.store.get_attempts(run.id)
    states = node_states(plan, rows, kernel.store.get_events(run.id), running, attempts)
    now = time.time()
    seconds = {}
    for row in rows:
        if row.seconds is not None:
            seconds[row.node_id] = row.seconds
        elif row.status == "running" and row.started_at:
            seconds[row.node_id] = now - row.started_at
    critical = _durations(plan.graph, seconds) if seconds else []
    bars, origin = _with_running(timeline(kernel.store, run.id), attempts, rows)
    for bar in bars:
        planned = plan.nodes[bar["node"]].provider if bar["node"] in plan.nodes else None
        bar["retry"] = bar["attempt"] > 1
        bar["fallback"] = bool(planned and bar["provider"] and bar["provider"] != planned)
        bar["critical"] = bar["node"] in critical
    by_node: dict[str, dict[str, Any]] = {}
    details: dict[str, list[str]] = defaultdict(list)
    for node_id, usd, detail in kernel.store.get_costs(run.id):
        entry = by_node.setdefault(node_id or "(run)", {"usd": 0.0, "tokens": None})
        entry["usd"] += usd
        details[node_id or "(run)"].append(detail)
    for key, entry in by_node.items():
        entry["tokens"] = _tokens(details[key])
    described = describe_run(kernel, run.id)
    return {
        "run": {
            "id": run.id,
            "spec": run.spec,
            "status": run.status,
            "live": live,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "seconds": run.seconds if run.seconds is not None else now - run.started_at,
            "error": run.error,
        },
        "nodes": states,
        "timeline": bars,
        "timeline_origin": origin,
        "critical_path": critical,
        "eta_s": _eta_s(kernel, plan, run, states, now) if running else None,
        "costs": {
            "total_usd": run.cost_usd,
            "tokens": _tokens([d for ds in details.values() for d in ds]),
            "by_node": by_node,
        },
        "quality": described["quality"],
        "verdict": verdict(described["quality"], run.status),
        "questions": described["questions"],
        "answers": described["answers"],
        "media": _media(files),
    }
