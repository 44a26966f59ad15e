"""reelgraph: a plugin-based microkernel for AI video production pipelines."""

from __future__ import annotations

from reelgraph._markers import hookimpl
from reelgraph.errors import (
    BudgetExceeded,
    ConfigurationError,
    FatalError,
    GateFailed,
    InputError,
    InvalidInputError,
    NeedsInput,
    NodeError,
    PluginError,
    Problem,
    ProviderError,
    RateLimitedError,
    ReelgraphError,
    SpecError,
    TransientError,
)

__version__ = "0.1.0"

__all__ = [
    "BudgetExceeded",
    "ConfigurationError",
    "FatalError",
    "GateFailed",
    "InputError",
    "InvalidInputError",
    "NeedsInput",
    "Kernel",
    "NodeContext",
    "NodeError",
    "PluginError",
    "Problem",
    "ProviderError",
    "RateLimitedError",
    "ReelgraphError",
    "Run",
    "Spec",
    "SpecError",
    "TransientError",
    "Workflow",
    "__version__",
    "hookimpl",
    "load_spec",
]


def __getattr__(name: str) -> object:
    # Kernel, Run, Spec and load_spec pull in networkx and the scheduler; load
    # them on first use so `import reelgraph` stays light.
    if name in ("Kernel", "Run"):
        from reelgraph import kernel as _kernel

        return getattr(_kernel, name)
    if name == "NodeContext":
        from reelgraph.run.context import NodeContext

        return NodeContext
    if name == "Workflow":
        from reelgraph.workflow import Workflow

        return Workflow
    if name in ("Spec", "load_spec"):
        import reelgraph.spec.model as _spec

        return getattr(_spec, name)
    raise AttributeError(f"module 'reelgraph' has no attribute {name!r}")
