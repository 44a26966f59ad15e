"""Measured figures over catalog claims: what the solver plans with.

The catalog's price and latency are the vendors' claims (``tools.yaml``).
Once the run store has measured a tool (``reelgraph tools benchmark``, or
ordinary runs: :func:`reelgraph.store.benchmarks.clip_measurements`), the
solver plans with the measured figures instead. The rule, per catalog tool
(matched by provider and model; figures measured with no model name apply
to a provider that brings a single tool):

- **latency_s**: the median wall seconds of a successful ``generate_clip``
  attempt, once there are :data:`MIN_CLIPS` of them; not for a slides-only
  tool, whose catalog latency is also the time to draw a storyboard frame
  (``_options.frame_seconds``), not a whole animated clip;
- **price_usd_per_s**: US dollars spent per second of clip paid for, once
  any priced clip was made (the offline ``slides`` reports no cost: its $0
  stays claimed);
- **success_rate**: succeeded / finished attempts, once there are
  :data:`MIN_ATTEMPTS`. Below :data:`EXCLUDE_BELOW` the tool is **excluded**
  (not offered for any shot); otherwise the price and the latency the solver
  uses are divided by it: the expected cost and time of a *delivered* clip
  when a failed try is tried again (a tool that fails one clip in five costs
  and takes 1.25x its figures).

Every replaced figure gets a ``measured`` source (``reelgraph:`` URL, today's
date, the sample in the note), and the plan's ``figures`` say per tool
which figures were measured and which claimed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from reelgraph.models import FigureSource, ToolCatalog, ToolEntry, ToolFigures
from reelgraph.store.benchmarks import ToolMeasure

__all__ = [
    "EXCLUDE_BELOW",
    "MIN_ATTEMPTS",
    "MIN_CLIPS",
    "apply_measurements",
    "measure_for",
]

#: successful clips before a measured median latency replaces the claim
MIN_CLIPS = 3
#: finished attempts before a measured success rate counts
MIN_ATTEMPTS = 3
#: a measured success rate below this excludes the tool
EXCLUDE_BELOW = 0.5

_SOURCE_URL = "reelgraph:kernel/store/benchmarks.py"


def measure_for(
    tool: ToolEntry, catalog: ToolCatalog, measures: Sequence[ToolMeasure]
) -> ToolMeasure | None:
    """The measurement of ``tool``: its provider and model, else its provider's (one tool)."""
    exact = next(
        (m for m in measures if m.provider == tool.provider and m.model == tool.model), None
    )
    if exact is not None:
        return exact
    alone = sum(1 for t in catalog.tools if t.provider == tool.provider) == 1
    if not alone:
        return None
    return next((m for m in measures if m.provider == tool.provider and m.model is None), None)


def _source(note: str) -> FigureSource:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return FigureSource(url=_SOURCE_URL, date=today, basis="measured", note=note)


def _adjusted(tool: ToolEntry, measure: ToolMeasure | None) -> tuple[ToolEntry | None, ToolFigures]:
    """The tool as the solver should see it (``None``: excluded), and the figures' basis."""
    claimed = {"price_usd_per_s": tool.price_usd_per_s, "latency_s": tool.latency_s}
    basis: dict[str, Any] = {"price_usd_per_s": "claimed", "latency_s": "claimed"}
    basis["success_rate"] = "claimed"
    sources = dict(tool.sources)
    notes: list[str] = []
    price, latency, rate = tool.price_usd_per_s, tool.latency_s, 1.0
    attempts = measure.attempts if measure else 0
    if measure is not None:
        median = measure.median_s
        slide_only = set(tool.modes) == {"slide"}
        if median is not None and measure.succeeded >= MIN_CLIPS and not slide_only:
            latency = max(median, 0.001)
            basis["latency_s"] = "measured"
            sources["latency_s"] = _source(
                f"median of {measure.succeeded} successful clips over {measure.runs} runs"
            )
        per_s = measure.usd_per_s
        if per_s is not None:
            price = per_s
            basis["price_usd_per_s"] = "measured"
            sources["price_usd_per_s"] = _source(
                f"${measure.cost_usd:.2f} for {measure.billed_s:g} s of clips"
            )
        measured_rate = measure.success_rate
        if measured_rate is not None and measure.attempts >= MIN_ATTEMPTS:
            rate = measured_rate
            basis["success_rate"] = "measured"
    figures = ToolFigures(
        tool=tool.name,
        basis=basis,
        claimed={**claimed, "success_rate": 1.0},
        attempts=attempts,
    )
    if rate < EXCLUDE_BELOW:
        figures.excluded = True
        figures.used = {"success_rate": round(rate, 3)}
        figures.note = (
            f"{measure.succeeded} of {measure.attempts} attempts succeeded"  # type: ignore[union-attr]
            f" ({rate:.0%}): below {EXCLUDE_BELOW:.0%}, not offered"
        )
        return None, figures
    if rate < 1.0:
        notes.append(f"price and latency divided by the success rate {rate:.2f}")
    used_price, used_latency = price / rate, latency / rate
    figures.used = {
        "price_usd_per_s": round(used_price, 6),
        "latency_s": round(used_latency, 3),
        "success_rate": round(rate, 3),
    }
    figures.note = "; ".join(notes)
    if basis == {"price_usd_per_s": "claimed", "latency_s": "claimed", "success_rate": "claimed"}:
        return tool, figures
    data = tool.model_dump()
    if used_price != tool.price_usd_per_s:  # the vendor's credits no longer multiply to it
        data.update(credits_per_s=None, usd_per_credit=None)
    data.update(price_usd_per_s=used_price, latency_s=used_latency, sources=sources)
    return ToolEntry.model_validate(data), figures


def apply_measurements(
    catalog: ToolCatalog, measures: Sequence[ToolMeasure]
) -> tuple[ToolCatalog, list[ToolFigures]]:
    """The catalog with measured figures in place of claims (see the module for the rule).

    Args:
        catalog: the merged tool catalog (claims).
        measures: :func:`reelgraph.store.benchmarks.clip_measurements`.

    Returns:
        The catalog the solver should use (excluded tools removed) and, per
        catalog tool, a :class:`~reelgraph.models.ToolFigures`.
    """
    kept: list[ToolEntry] = []
    figures: list[ToolFigures] = []
    for tool in catalog.tools:
        adjusted, basis = _adjusted(tool, measure_for(tool, catalog, measures))
        figures.append(basis)
        if adjusted is not None:
            kept.append(adjusted)
    return ToolCatalog(tools=kept), figures
