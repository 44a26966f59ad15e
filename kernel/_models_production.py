"""The models of production: the tool catalog and VideoSolver's plan.

Part of :mod:`reelgraph.models`, which re-exports every model: import them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from reelgraph._models_media import Aspect, GateResult, _Model

# -- production: tool catalog and plan (VideoSolver) --------------------------

#: How a shot is made: a slide rendered offline, or a clip generated from a
#: text prompt or from a first frame (the storyboard slide).
ShotMode = Literal["slide", "text_to_video", "image_to_video"]

#: The figures of a :class:`ToolEntry` that must each cite a source.
TOOL_FIGURES: tuple[str, ...] = (
    "modes",
    "durations_s",
    "resolutions",
    "aspects",
    "native_audio",
    "price_usd_per_s",
    "latency_s",
    "concurrency",
    "quality_tier",
)


class FigureSource(_Model):
    """Where a figure of the tool catalog comes from.

    Attributes:
        url: the page read (https), or ``reelgraph:<path>`` for a figure the
            project measured itself.
        date: the day the page was read, ``YYYY-MM-DD``.
        basis: ``vendor`` (the vendor's own page, SDK or repository),
            ``secondary`` (a third party quoting the vendor), ``measured``
            (by reelgraph), ``estimate`` (a judgement, e.g. a quality tier or a
            typical latency inside a published range).
        note: what exactly the page says, when it needs saying.
    """

    url: str = Field(pattern=r"^(https://|reelgraph:)")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    basis: Literal["vendor", "secondary", "measured", "estimate"] = "vendor"
    note: str = ""


class ToolEntry(_Model):
    """One video tool the solver can choose: a vendor model, or the offline renderer.

    Attributes:
        name: catalog key, e.g. ``runway-gen4-turbo``.
        provider: the reelgraph provider (plugin) that renders with it.
        vendor, model: who makes it and the vendor's model id.
        modes: what it can make (:data:`ShotMode`).
        durations_s: the clip lengths it can be asked for, in seconds; empty:
            any length (the offline renderer).
        resolutions: output sizes, ``WIDTHxHEIGHT`` in pixels.
        aspects: frame shapes it can deliver.
        native_audio: whether its clips carry generated sound.
        price_usd_per_s: US dollars per second of clip asked for.
        credits_per_s, usd_per_credit: the vendor's own unit, when it bills in
            credits (``price_usd_per_s`` = their product).
        latency_s: typical wall time of one clip, submission to download, seconds.
        concurrency: clips the vendor runs at once for one account (tasks
            beyond wait in a queue).
        quality_tier: 1 (a still slide) to 5 (premium generated footage).
        best_for, limitations: plain-English notes for the producer.
        sources: a :class:`FigureSource` for every figure in :data:`TOOL_FIGURES`.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    provider: str = Field(min_length=1)
    vendor: str
    model: str
    modes: list[ShotMode] = Field(min_length=1)
    durations_s: list[float] = Field(default_factory=list)
    resolutions: list[str] = Field(min_length=1)
    aspects: list[Aspect] = Field(min_length=1)
    native_audio: bool = False
    price_usd_per_s: float = Field(ge=0)
    credits_per_s: float | None = Field(None, ge=0)
    usd_per_credit: float | None = Field(None, gt=0)
    latency_s: float = Field(gt=0)
    concurrency: int = Field(1, ge=1)
    quality_tier: int = Field(ge=1, le=5)
    best_for: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    sources: dict[str, FigureSource]

    @model_validator(mode="after")
    def _cited_and_consistent(self) -> ToolEntry:
        missing = [f for f in TOOL_FIGURES if f not in self.sources]
        if missing:
            raise ValueError(f"tool {self.name!r}: no source for {', '.join(missing)}")
        if any(d <= 0 for d in self.durations_s):
            raise ValueError(f"tool {self.name!r}: durations_s must be positive seconds")
        if self.credits_per_s is not None and self.usd_per_credit is not None:
            usd = self.credits_per_s * self.usd_per_credit
            if abs(usd - self.price_usd_per_s) > 1e-6:
                raise ValueError(
                    f"tool {self.name!r}: {self.credits_per_s} credits/s x "
                    f"${self.usd_per_credit}/credit = ${usd:.4f}/s, "
                    f"not price_usd_per_s {self.price_usd_per_s}"
                )
        return self


class ToolCatalog(_Model):
    """Every tool the installed plugins bring, after patches (the user's file).

    Build it with :meth:`from_answers` from the ``tool_catalog`` hook's answers.
    """

    tools: list[ToolEntry]

    @classmethod
    def from_answers(cls, answers: list[Any]) -> ToolCatalog:
        """Merge ``tool_catalog`` answers: entries first, then patches, in order.

        Args:
            answers: :class:`ToolEntry` objects or dicts (one hook answer each,
                or lists of them). A dict with ``patch: true`` changes the
                fields it names of the entry with its ``name``; a patch of an
                unknown name adds a tool when it is a complete entry.

        Raises:
            ValueError: two plugins bring the same name; a patch of an unknown
                tool that is not a complete entry; an entry that does not
                validate (the message names the tool and the field).
        """
        flat: list[Any] = []
        for answer in answers:
            flat.extend(answer if isinstance(answer, list) else [answer])
        entries: dict[str, ToolEntry] = {}
        patches: list[dict[str, Any]] = []
        for item in flat:
            if isinstance(item, dict) and item.get("patch"):
                patches.append({k: v for k, v in item.items() if k != "patch"})
                continue
            entry = _tool_entry(item)
            if entry.name in entries:
                raise ValueError(f"tool {entry.name!r} is brought by two plugins; rename one")
            entries[entry.name] = entry
        for patch in patches:
            name = str(patch.get("name", ""))
            base = entries[name].model_dump() if name in entries else {}
            if not base and "sources" not in patch:
                raise ValueError(
                    f"tools file: {name or '(no name)'!r} patches a tool no plugin brings; "
                    "give a complete entry to add one"
                )
            if "sources" in patch and base:
                patch = {**patch, "sources": {**base["sources"], **patch["sources"]}}
            entries[name] = _tool_entry({**base, **patch})
        return cls(tools=sorted(entries.values(), key=lambda t: (t.quality_tier, t.name)))

    def get(self, name: str) -> ToolEntry | None:
        """The tool called ``name``, or ``None``."""
        return next((t for t in self.tools if t.name == name), None)


def _tool_entry(item: Any) -> ToolEntry:
    if isinstance(item, ToolEntry):
        return item
    if not isinstance(item, dict):
        raise ValueError(f"a tool_catalog answer must be a ToolEntry or a dict, not {item!r}")
    try:
        return ToolEntry.model_validate(item)
    except ValidationError as err:
        first = err.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a check of the whole entry names the tool itself
            raise ValueError(message) from err
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"tool {item.get('name', '(no name)')!r}: {field}: {message}") from err


class PlanStep(_Model):
    """One step of a shot's workflow (storyboard frame, generate, trim, captions)."""

    step: str
    tool: str | None = None
    detail: str
    seconds: float = Field(0.0, ge=0)
    cost_usd: float = Field(0.0, ge=0)


class ToolOption(_Model):
    """A tool that could make a shot: cost (USD), quality tier and time (seconds)."""

    tool: str
    provider: str
    cost_usd: float = Field(ge=0)
    quality_tier: int = Field(ge=1, le=5)
    billed_s: float = Field(ge=0)
    time_s: float = Field(ge=0)
    note: str = ""


class ShotPlan(_Model):
    """The solver's decision for one shot: the tool, the workflow and why.

    ``billed_s`` is the clip length paid for (the shortest the tool offers
    that covers ``duration_s``, trimmed or held to it); ``time_s`` the wall
    time of its task on the tool's lane; ``alternatives`` the other feasible
    tools, best first.
    """

    shot_id: str
    scene_index: int = Field(ge=0)
    beat_id: str | None = None
    mode: ShotMode
    duration_s: float = Field(gt=0)
    tool: str
    provider: str
    model: str
    quality_tier: int = Field(ge=1, le=5)
    billed_s: float = Field(ge=0)
    cost_usd: float = Field(ge=0)
    time_s: float = Field(ge=0)
    steps: list[PlanStep]
    alternatives: list[ToolOption] = Field(default_factory=list)
    reason: str


class CostLine(_Model):
    """What one tool costs over the plan: shots, seconds paid for, US dollars."""

    tool: str
    provider: str
    shots: int = Field(ge=0)
    billed_s: float = Field(ge=0)
    cost_usd: float = Field(ge=0)


class LaneTask(_Model):
    """A shot's task on a lane: start and end in seconds from the plan's start."""

    shot_id: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


class Lane(_Model):
    """One of a provider's concurrent slots and the tasks it runs, in order."""

    provider: str
    lane: int = Field(ge=0)
    tasks: list[LaneTask]
    busy_s: float = Field(ge=0)


class Timeline(_Model):
    """When the shots are made: per-provider lanes and the critical path.

    ``makespan_s`` is the wall time until the last clip is ready;
    ``critical_path`` the shots on the lane that ends last, in order.
    """

    makespan_s: float = Field(ge=0)
    critical_provider: str | None = None
    critical_path: list[str] = Field(default_factory=list)
    lanes: list[Lane] = Field(default_factory=list)


class PlanConstraints(_Model):
    """What the plan must respect: US dollars, seconds of wall time, a quality floor.

    ``min_quality`` applies to generated shots (a shot the designer made a
    slide may stay a slide); ``max_hold_s`` is how long a clip shorter than
    its shot may be held on its last frame; ``animate_slides`` lets the
    solver make a slide shot image-to-video from its storyboard frame when
    the limits allow.
    """

    max_cost_usd: float | None = Field(None, ge=0)
    max_time_s: float | None = Field(None, gt=0)
    min_quality: int = Field(1, ge=1, le=5)
    objective: Literal["quality", "cost"] = "quality"
    max_hold_s: float = Field(0.5, ge=0)
    animate_slides: bool = False
    concurrency: dict[str, int] = Field(default_factory=dict)


class Relaxation(_Model):
    """One change that makes an infeasible plan feasible, the cheapest of its kind.

    ``kind`` is ``budget`` (+``amount`` USD), ``time`` (+``amount`` s),
    ``quality`` (floor lowered to ``amount``) or ``slides`` (``shots`` made as
    slides); ``cost_usd`` and ``time_s`` are the plan's figures after it.
    """

    kind: Literal["budget", "time", "quality", "slides"]
    change: str
    amount: float | None = None
    shots: list[str] = Field(default_factory=list)
    cost_usd: float = Field(ge=0)
    time_s: float = Field(ge=0)


class Infeasibility(_Model):
    """Why no plan meets the constraints, and what would make one.

    ``binding`` names the constraints that block (``budget``, ``time``,
    ``quality``, or ``shot s03`` when a shot's own needs fit no tool).
    """

    binding: list[str]
    message: str
    relaxations: list[Relaxation] = Field(default_factory=list)


class ToolFigures(_Model):
    """Where the solver's figures for one tool came from: the run store, or the catalog.

    ``basis`` maps each figure the solver uses (``price_usd_per_s`` in US
    dollars per second, ``latency_s`` in seconds, ``success_rate`` 0-1) to
    ``measured`` (past runs and benchmarks in the run store) or ``claimed``
    (the tool catalog); ``used`` holds the values the solver planned with
    (price and latency already divided by the success rate) and ``claimed``
    the catalog's. ``excluded``: the measured success rate was below the
    solver's threshold, so the tool was not offered (``note`` says why).
    """

    tool: str
    basis: dict[str, Literal["measured", "claimed"]]
    used: dict[str, float] = Field(default_factory=dict)
    claimed: dict[str, float] = Field(default_factory=dict)
    attempts: int = Field(0, ge=0)
    excluded: bool = False
    note: str = ""


class ProductionPlan(_Model):
    """The solver's production plan for a shot list.

    Attributes:
        title, aspect: from the shot list.
        status: ``feasible`` or ``infeasible`` (then ``infeasibility`` says
            why and ``shots`` is empty).
        optimal: the solver proved the plan optimal for ``constraints.objective``.
        constraints: what was asked.
        shots: one decision per shot, in shot-list order.
        costs: per tool; ``total_cost_usd`` their sum (US dollars).
        timeline: lanes and critical path (seconds).
        tools: the catalog tools considered, by name.
        figures: per catalog tool, which figures were measured in the run
            store and which claimed by the catalog (:class:`ToolFigures`).
        solver: the solver and its version.
        json_path, markdown_path: ``plan.json`` and ``plan.md`` when written.

    A plan is a *verdict*: an infeasible plan fails its node with the
    relaxations as the remedy.
    """

    title: str
    aspect: Aspect = "16:9"
    status: Literal["feasible", "infeasible"]
    optimal: bool = True
    constraints: PlanConstraints
    shots: list[ShotPlan] = Field(default_factory=list)
    costs: list[CostLine] = Field(default_factory=list)
    total_cost_usd: float = Field(0.0, ge=0)
    timeline: Timeline | None = None
    infeasibility: Infeasibility | None = None
    tools: list[str] = Field(default_factory=list)
    figures: list[ToolFigures] = Field(default_factory=list)
    solver: str = ""
    json_path: Path | None = None
    markdown_path: Path | None = None

    def gate_results(self) -> list[GateResult]:
        """One ``production_plan`` result: passed, or blocking with the relaxations."""
        if self.status == "feasible":
            return [
                GateResult(
                    gate="production_plan",
                    passed=True,
                    measured=round(self.total_cost_usd, 2),
                    threshold=self.constraints.max_cost_usd,
                    unit="USD",
                    message=f"{len(self.shots)} shots, ${self.total_cost_usd:.2f}",
                    stage="shots",
                )
            ]
        why = self.infeasibility
        remedy = "; or ".join(r.change for r in why.relaxations) if why else ""
        message = why.message if why else "no plan meets the constraints"
        return [
            GateResult(
                gate="production_plan",
                passed=False,
                message=f"{message} (any one of: {remedy})" if remedy else message,
                remedy=remedy or "relax the budget, the time limit or the quality floor",
                stage="shots",
            )
        ]
