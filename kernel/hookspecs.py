"""The hook catalogue: every hook a reelgraph plugin can implement.

A spec node names one of these hooks; its ``with`` arguments fill the hook's
parameters, and the kernel adds ``ctx`` (a :class:`~reelgraph.NodeContext`).
Hooks are always called with keyword arguments, and an implementation may
accept a subset of the parameters, so adding a parameter never breaks an old
plugin. Parameters left out of a node's ``with`` take the defaults declared
with :func:`defaults`. Implementations may be ``def`` (run in a worker
thread) or ``async def`` (awaited on the event loop).

"One answer" hooks are ``firstresult``: when a node names a provider only
that plugin is called; otherwise implementations are tried last-registered
first until one returns something other than ``None``.

The hookspecs live in one module per family, all re-exported here (import
them from here; the plugin manager reads this module): the video pipeline
(``_hooks_video``), production (``_hooks_production``), the text workflows
(``_hooks_text``) and the hooks the kernel calls itself (``_hooks_kernel``).
"""

from __future__ import annotations

from reelgraph._hooks_kernel import (  # noqa: F401  re-exported: the hook catalogue
    choose_provider,
    classify_error,
    environment_variables,
    estimate_cost,
    publish_asset,
    register_executors,
    secret_patterns,
)
from reelgraph._hooks_production import (  # noqa: F401  re-exported: the hook catalogue
    plan_production,
    tool_catalog,
)
from reelgraph._hooks_text import (  # noqa: F401  re-exported: the hook catalogue
    analyse_performance,
    compose_feedback,
    differentiate,
    find_standards,
    outline_lesson,
    render_document,
    write_lesson,
    write_questions,
    write_rubric,
)
from reelgraph._hooks_video import (  # noqa: F401  re-exported: the hook catalogue
    assemble_video,
    check_quality,
    design_shots,
    generate_clip,
    ingest_document,
    load_brief,
    optimize,
    plan_video,
    prepare_narration,
    render_shot,
    review,
    synthesize_speech,
    write_script,
)
from reelgraph._markers import PROJECT, defaults, hookimpl, hookspec

__all__ = ["KERNEL_HOOKS", "PROJECT", "defaults", "hookimpl", "hookspec"]

#: hooks the kernel calls itself; spec nodes cannot name them
KERNEL_HOOKS = frozenset(
    {
        "estimate_cost",
        "classify_error",
        "secret_patterns",
        "environment_variables",
        "choose_provider",
        "publish_asset",
        "register_executors",
    }
)
