"""The ``credits`` gate: every stock clip is credited, and ``credits.txt`` lists them.

Pexels asks to "always credit our photographers when possible (e.g. 'Photo by
John Doe on Pexels' with a link to the photo page on Pexels)" and to show "a
prominent link to Pexels" (https://www.pexels.com/api/documentation/#guidelines);
Pixabay to "show your users where the images and videos are from"
(https://pixabay.com/api/docs/). The gate reads the visuals'
:class:`~reelgraph.models.Credit` (set by the ``pexels`` and ``pixabay``
providers), fails when one lacks its author or page, and writes
``credits.txt`` in its node's folder: one line per clip (scene, author,
author's page, the clip's page, library) and the libraries' own links. The
result's ``details`` hold the credits and the file (``credits_txt``), so a
spec can publish it (``outputs: {credits: $NODE.0.details.credits_txt}``)
and ``run.json`` lists every clip in its quality report.

Registered as ``stock_credits = "reelgraph.plugins.stock.credits"``; the gate's
name is ``credits``. Returns ``None`` when no visual carries a credit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph import hookimpl
from reelgraph.models import Credit, GateResult, Script, Visual
from reelgraph.plugins.gates._common import gate_selected

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["GATE", "check_quality", "credits_text"]

GATE = "credits"
#: the libraries' home pages, linked at the end of credits.txt (their guidelines ask for it)
LIBRARY_PAGES = {"Pexels": "https://www.pexels.com", "Pixabay": "https://pixabay.com"}


def credits_text(title: str | None, credited: list[tuple[int, Credit]]) -> str:
    """The text of ``credits.txt``: a line per ``(scene index, credit)``, then the libraries."""
    lines = [f"Stock footage in {title!r}" if title else "Stock footage", ""]
    for index, credit in credited:
        author = credit.author + (f" ({credit.author_url})" if credit.author_url else "")
        lines.append(f"Scene {index + 1}: video by {author} on {credit.library}: {credit.page_url}")
    libraries = sorted({credit.library for _, credit in credited})
    lines += ["", "Videos provided by " + " and ".join(
        f"{name} ({LIBRARY_PAGES.get(name, '')})".replace(" ()", "") for name in libraries
    ) + "."]  # fmt: skip
    return "\n".join(lines) + "\n"


@hookimpl
def check_quality(
    script: Script | None,
    visuals: list[Visual] | None,
    gates: list[str] | None,
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check every credited visual names its author and page; write ``credits.txt``.

    Returns:
        One ``credits`` result (error severity): passed when every credit has
        an author and a page URL; ``measured`` is the number of credited
        clips; ``details.credits`` the credits with their scene index,
        ``details.credits_txt`` the file. ``None`` when the gate is not
        asked for or no visual carries a credit.
    """
    if not gate_selected(GATE, gates) or not visuals:
        return None
    credited = [
        (v.scene_index, v.credit)
        for v in (Visual.model_validate(v) if isinstance(v, dict) else v for v in visuals)
        if v.credit is not None
    ]
    if not credited:
        return None
    missing = [i for i, c in credited if not c.author.strip() or not c.page_url.strip()]
    path = Path(ctx.workdir) / "credits.txt"
    partial = path.with_name("credits.txt.part")
    partial.write_text(
        credits_text(script.title if script is not None else None, credited), encoding="utf-8"
    )
    os.replace(partial, path)
    ctx.log.info("stock.credits", clips=len(credited), path=str(path))
    message = (
        f"{len(credited)} stock clip(s) credited in credits.txt"
        if not missing
        else f"scene(s) {[i + 1 for i in missing]} show stock footage without its author or page"
    )
    return [
        GateResult(
            gate=GATE,
            passed=not missing,
            measured=len(credited),
            unit="clips",
            message=message,
            remedy="" if not missing else "re-run those scenes so the provider records the credit",
            stage="shots",
            details={
                "credits": [{"scene": i, **c.model_dump()} for i, c in credited],
                "credits_txt": path,
            },
        )
    ]
