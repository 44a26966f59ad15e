"""``reelgraph tools benchmark``: a fixed prompt suite against one clip provider, measured.

The suite is data (``benchmark.yaml``, versioned): a few short shots, text-
and image-to-video. :func:`plan_cases` fits it to the provider's catalog
tool (its modes; aspects taken in turn; each case's storyboard frame drawn
offline with Pillow). :func:`run_benchmark` makes every case through the
normal kernel: one run per case, a spec with one ``generate_clip`` node
pinned to the provider, so budgets, retries, the journal, the memo-free
store records (nodes, attempts, costs) all apply, and one failed clip does
not cancel the others. Each delivered clip is decoded with PyAV (every
frame) and one :class:`~reelgraph.store.benchmarks.BenchmarkRow` per case
goes into the store's ``benchmarks`` table: latency (first attempt's start
to last attempt's end, seconds), attempts, cost (USD, the run's), success,
and the clip's duration (s), size (px), fps and frame count.

The clip measured is the one the provider delivers to the pipeline (the
vendor's file after normalising to the aspect's frame size, 30 fps), so
``duration_s`` checks the provider kept the shot's length and ``decodable``
that the file is whole; the vendor's raw file is not kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import Shot, ToolCatalog, ToolEntry, frame_size
from reelgraph.store.benchmarks import BenchmarkRow

__all__ = [
    "Case",
    "Planned",
    "estimate_usd",
    "load_suite",
    "plan_cases",
    "run_benchmark",
    "suite_version",
    "summarise",
]

_SUITE = Path(__file__).with_name("benchmark.yaml")
_NODE = "clip"


@dataclass(frozen=True, slots=True)
class Case:
    """One shot of the suite (``duration_s`` in seconds; ``frame``: RGB colours)."""

    id: str
    mode: str
    duration_s: float
    subject: str
    prompt: str
    storyboard_frame: str
    frame: dict[str, list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class Planned:
    """A case fitted to a tool: the shot, the aspect, the frame to draw, the estimate (USD)."""

    case: Case
    shot: Shot
    aspect: str
    frame_path: Path | None = None
    estimate_usd: float | None = None


@cache
def _suite() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(_SUITE.read_text(encoding="utf-8")))


def suite_version() -> int:
    """The suite's ``version`` (bumped when a case changes)."""
    return int(_suite()["version"])


def load_suite() -> list[Case]:
    """The suite's cases, in order."""
    return [Case(**{k: v for k, v in c.items()}) for c in _suite()["cases"]]


def _tool(catalog: ToolCatalog, provider: str, model: str | None) -> ToolEntry:
    """The catalog tool benchmarked: the provider's ``model``, else its cheapest.

    Raises:
        InvalidInputError: no tool of the provider (or of that model) in the catalog.
    """
    mine = [t for t in catalog.tools if t.provider == provider]
    if not mine:
        providers = sorted({t.provider for t in catalog.tools})
        raise InvalidInputError(
            f"tools benchmark: no tool of provider {provider!r} in the catalog "
            f"(providers: {', '.join(providers)}; see `reelgraph tools list`)"
        )
    if model is None:
        return min(mine, key=lambda t: (t.price_usd_per_s, t.name))
    chosen = next((t for t in mine if t.model == model), None)
    if chosen is None:
        models = ", ".join(t.model for t in mine)
        raise InvalidInputError(
            f"tools benchmark: provider {provider!r} has no model {model!r} in the catalog "
            f"(it has {models}); pass --model with one of them"
        )
    return chosen


def plan_cases(
    catalog: ToolCatalog,
    provider: str,
    model: str | None,
    prompts: int,
    folder: Path,
) -> tuple[ToolEntry, list[Planned]]:
    """Fit the first ``prompts`` cases to the provider's tool (see ``benchmark.yaml``).

    Cases in a mode the tool does not make are left out (a slides-only tool
    makes each as a slide); image-to-video frames are drawn into ``folder``.

    Raises:
        InvalidInputError: no such tool, ``prompts`` below 1, or no case fits.
    """
    if prompts < 1:
        raise InvalidInputError("tools benchmark: --prompts must be at least 1")
    tool = _tool(catalog, provider, model)
    slides_only = set(tool.modes) == {"slide"}
    fitting = [c for c in load_suite() if slides_only or c.mode in tool.modes]
    if not fitting:
        raise InvalidInputError(
            f"tools benchmark: {tool.name} makes {', '.join(tool.modes)}; "
            "the suite has text-to-video and image-to-video cases only"
        )
    planned = []
    for number, case in enumerate(fitting[:prompts], 1):
        aspect = tool.aspects[(number - 1) % len(tool.aspects)]
        mode = "slide" if slides_only else case.mode
        shot = Shot(
            id=f"s{number:02d}",
            scene_index=number - 1,
            shot_type="wide",
            framing="wide",
            camera_move="slow push in",
            lighting="natural",
            subject=case.subject,
            prompt=case.prompt,
            storyboard_frame=case.storyboard_frame,
            duration_s=case.duration_s,
            mode=mode,  # type: ignore[arg-type]
        )
        frame = None
        if case.frame and (mode == "image_to_video" or slides_only):
            frame = folder / f"{case.id}-{aspect.replace(':', 'x')}.png"
            _draw_frame(frame, aspect, case.frame)
        planned.append(Planned(case, shot, aspect, frame))
    return tool, planned


def _draw_frame(path: Path, aspect: str, colours: Mapping[str, Sequence[int]]) -> None:
    """A simple storyboard frame: sky, ground and a subject block, the aspect's size in px."""
    from PIL import Image, ImageDraw

    width, height = frame_size(aspect)
    image = Image.new("RGB", (width, height), tuple(colours.get("sky", (120, 160, 220))))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (0, height * 2 // 3, width, height), fill=tuple(colours.get("ground", (60,) * 3))
    )
    cx, top = width // 2, height // 4
    draw.rectangle(
        (cx - width // 20, top, cx + width // 20, height * 2 // 3),
        fill=tuple(colours.get("subject", (240,) * 3)),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _frame_visual(planned: Planned) -> dict[str, Any] | None:
    if planned.frame_path is None:
        return None
    width, height = frame_size(planned.aspect)
    return {
        "scene_index": planned.shot.scene_index,
        "kind": "image",
        "path": str(planned.frame_path),
        "width_px": width,
        "height_px": height,
        "alt_text": planned.case.storyboard_frame,
    }


def case_spec(provider: str, planned: Planned, options: Mapping[str, Any]) -> dict[str, Any]:
    """The spec that makes one case: one ``generate_clip`` node pinned to ``provider``."""
    return {
        "name": "tools-benchmark",
        "description": f"reelgraph tools benchmark: case {planned.case.id} on {provider}",
        "nodes": [
            {
                "id": _NODE,
                "hook": "generate_clip",
                "provider": provider,
                "with": {
                    "shot": planned.shot.model_dump(mode="json"),
                    "first_frame": _frame_visual(planned),
                    "aspect": planned.aspect,
                    "options": dict(options),
                },
            }
        ],
        "outputs": {_NODE: f"${_NODE}"},
    }


def estimate_usd(kernel: Any, provider: str, planned: Planned, options: Mapping[str, Any]) -> float:
    """US dollars the provider's ``estimate_cost`` expects for the case (0 with no answer)."""
    arguments = case_spec(provider, planned, options)["nodes"][0]["with"]
    answer = kernel.registry.load().pm.hook.estimate_cost(
        hook="generate_clip", provider=provider, arguments=arguments
    )
    return 0.0 if answer is None else float(answer)


def _probe(path: Path) -> dict[str, Any]:
    """What PyAV decodes of the delivered clip (every frame), or ``decodable: False``."""
    from reelgraph.plugins.vendors._clip_media import probe_video

    try:
        found = probe_video(path, f"benchmark clip {path.name}")
    except InvalidInputError as err:
        return {"decodable": False, "error": str(err)}
    return {
        "decodable": True,
        "duration_s": round(found.duration_s, 3),
        "width_px": found.width_px,
        "height_px": found.height_px,
        "fps": round(found.fps, 3),
        "frames": found.frames,
    }


def _row(
    kernel: Any, run: Any, bench_id: str, provider: str, model: str, planned: Planned
) -> BenchmarkRow:
    from reelgraph.observe.secrets import redact

    store = kernel.store
    tries = store.get_attempts(run.id, _NODE)
    latency = None
    if tries:
        latency = round(
            max(a.ended_at or a.started_at for a in tries) - min(a.started_at for a in tries), 3
        )
    figures: dict[str, Any] = {}
    error = None if run.error is None else redact(str(run.error))
    clip = run.outputs.get(_NODE)
    path = getattr(clip, "path", None) or (clip.get("path") if isinstance(clip, dict) else None)
    status = "succeeded" if run.status == "succeeded" and path else "failed"
    if path and status == "succeeded":
        figures = _probe(Path(path))
        if not figures["decodable"]:
            status, error = "failed", figures.pop("error")
    return BenchmarkRow(
        bench_id=bench_id,
        case_id=planned.case.id,
        run_id=run.id,
        provider=provider,
        model=model,
        mode=planned.shot.mode,
        aspect=planned.aspect,
        requested_s=planned.shot.duration_s,
        status=status,
        latency_s=latency,
        attempts=len(tries),
        cost_usd=round(store.get_run_cost(run.id), 6),
        error=error,
        created_at=time.time(),
        **figures,
    )


def run_benchmark(
    kernel: Any,
    tool: ToolEntry,
    planned: Sequence[Planned],
    *,
    bench_id: str,
    max_cost_usd: float,
    options: Mapping[str, Any] | None = None,
    on_case: Callable[[Planned, BenchmarkRow], None] | None = None,
) -> list[BenchmarkRow]:
    """Make every planned case through ``kernel``, one run each; store and return the rows.

    A case whose estimate would take the spending past ``max_cost_usd`` (US
    dollars) is not started (``skipped``); each run also carries the budget
    left, so the kernel stops a call that would cross it.

    Raises:
        reelgraph.store.runs.StoreError: the rows cannot be stored.
    """
    from reelgraph.store.benchmarks import add_benchmarks

    options = {"model": tool.model, **(options or {})}
    rows: list[BenchmarkRow] = []
    spent = 0.0
    for case in planned:
        if case.estimate_usd is None:
            case.estimate_usd = estimate_usd(kernel, tool.provider, case, options)
        if spent + case.estimate_usd > max_cost_usd + 1e-9:
            row = BenchmarkRow(
                bench_id=bench_id, case_id=case.case.id, run_id=None, provider=tool.provider,
                model=tool.model, mode=case.shot.mode, aspect=case.aspect,
                requested_s=case.shot.duration_s, status="skipped", created_at=time.time(),
                error=f"estimated ${case.estimate_usd:.2f} would pass --max-cost-usd "
                f"{max_cost_usd:g} (${spent:.2f} spent)",
            )  # fmt: skip
        else:
            run = kernel.run(
                case_spec(tool.provider, case, options),
                cache=False,
                budget={"max_cost_usd": round(max_cost_usd - spent, 6)},
            )
            row = _row(kernel, run, bench_id, tool.provider, tool.model, case)
            spent += row.cost_usd
        rows.append(row)
        add_benchmarks(kernel.store, [row])
        if on_case is not None:
            on_case(case, row)
    return rows


def summarise(rows: Sequence[BenchmarkRow]) -> dict[str, Any]:
    """Clips made, succeeded, decodable; median latency (s); US dollars in all and per second."""
    import statistics

    made = [r for r in rows if r.status != "skipped"]
    good = [r for r in made if r.status == "succeeded"]
    cost = sum(r.cost_usd for r in made)
    return {
        "clips": len(made),
        "skipped": len(rows) - len(made),
        "succeeded": len(good),
        "success_rate": round(len(good) / len(made), 3) if made else None,
        "decodable": sum(bool(r.decodable) for r in made),
        "median_latency_s": round(statistics.median(r.latency_s for r in good), 3)
        if good
        else None,
        "cost_usd": round(cost, 6),
    }
