"""The error hierarchy of reelgraph.

Every error the kernel raises derives from :class:`ReelgraphError`. Plugins
raise the :class:`ProviderError` subclasses so the kernel can tell what may be
retried: a transient or rate-limited failure may succeed on another attempt;
invalid input, configuration and fatal errors never will.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reelgraph.observe.secrets import redact

__all__ = [
    "BudgetExceeded",
    "ConfigurationError",
    "FatalError",
    "GateFailed",
    "InputError",
    "InvalidInputError",
    "NeedsInput",
    "NodeError",
    "PluginError",
    "Problem",
    "ProviderError",
    "RateLimitedError",
    "ReelgraphError",
    "SpecError",
    "TransientError",
]


class ReelgraphError(Exception):
    """Base class of every error reelgraph raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while validating a spec or a run's inputs.

    Attributes:
        message: what is wrong, one sentence.
        file: the spec file (or ``"<spec>"`` for an in-memory spec).
        node: the node id, when the problem belongs to a node.
        field: the field inside the node or spec (``with.document``,
            ``provider``, ``inputs.document``).
        hint: how to fix it (``did you mean 'write_script'?``).
    """

    message: str
    file: str = "<spec>"
    node: str | None = None
    field: str | None = None
    hint: str | None = None

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.node:
            parts.append(f"node '{self.node}'")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


_SHOWN = 20


def did_you_mean(
    name: str, choices: Iterable[str], fallback: str, *, n: int = 1, shape: str = "'{}'"
) -> str:
    """A hint for a misspelled ``name``: the closest ``choices``, else ``fallback``.

    ``shape`` formats each suggestion (``"'$inputs.{}'"``); up to ``n`` are offered.
    """
    close = difflib.get_close_matches(name, list(choices), n=n)
    if not close:
        return fallback
    return "did you mean " + " or ".join(shape.format(c) for c in close) + "?"


class SpecError(ReelgraphError):
    """A spec is invalid. ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"spec is invalid ({count} problem{'s' if count != 1 else ''})"
        shown = "".join(f"\n  - {p}" for p in self.problems[:_SHOWN])
        if count > _SHOWN:
            shown += f"\n  ... and {count - _SHOWN} more"
        super().__init__(head + shown)


class InputError(SpecError):
    """A run's inputs do not fit the spec (missing, wrong type, file not found)."""


class PluginError(ReelgraphError):
    """A plugin could not be loaded or registered; the message names its package."""


class ProviderError(ReelgraphError):
    """Raised by a hook implementation. Subclasses say whether retrying can help.

    ``retryable`` is the kernel's default policy for the class.
    """

    retryable = False


class TransientError(ProviderError):
    """A failure that may pass on its own: a timeout, a 5xx, a dropped connection.

    Args:
        retry_after_s: seconds the provider asked us to wait before trying
            again (``Retry-After``, RFC 9110 section 10.2.3, which a 503 may
            carry too), when it said. The kernel waits at least that long.
    """

    retryable = True

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimitedError(TransientError):
    """The provider asked us to slow down (HTTP 429); ``retry_after_s`` as for
    :class:`TransientError`."""


class InvalidInputError(ProviderError):
    """The input cannot be processed (empty document, unreadable file, HTTP 4xx)."""


class ConfigurationError(ProviderError):
    """The provider is not set up (missing API key, missing binary, bad option)."""


class FatalError(ProviderError):
    """Anything else that will not succeed on another attempt."""


class NeedsInput(ProviderError):
    """The node needs a human answer before it can go on (clarifying questions).

    The run stops with status ``needs_input`` (CLI exit code 7); the
    questions are stored with the run, and ``reelgraph answer RUN_ID -a
    KEY=ANSWER`` (or :meth:`reelgraph.Kernel.answer`) resumes it: the node
    runs again with the answers, and nothing that finished runs again.

    Args:
        questions: the questions, each a mapping with at least ``key`` and
            ``question`` (a :class:`reelgraph.models.Question` dumped).
    """

    def __init__(self, message: str, questions: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.questions = questions


class NodeError(ReelgraphError):
    """A node failed. Names the node, hook, provider and attempt, and keeps the cause.

    ``__cause__`` is the exception the hook raised. The message is redacted
    (:func:`reelgraph.observe.secrets.redact`): an API key in the cause's message
    shows as ``[REDACTED:...]``; ``cause`` itself is kept as raised.
    """

    def __init__(
        self,
        *,
        node_id: str,
        hook: str,
        provider: str | None,
        cause: BaseException,
        attempt: int = 1,
        item_index: int | None = None,
    ) -> None:
        self.node_id = node_id
        self.hook = hook
        self.provider = provider
        self.attempt = attempt
        self.item_index = item_index
        self.cause = cause
        where = f"node '{node_id}'"
        if item_index is not None:
            where += f" item {item_index}"
        detail = redact(str(cause)) or type(cause).__name__
        super().__init__(
            f"{where} (hook {hook}, provider {provider or 'any'}, attempt {attempt}) "
            f"failed: {type(cause).__name__}: {detail}"
        )

    @property
    def invalid_input(self) -> bool:
        """True when the cause is bad input the user can fix."""
        return isinstance(self.cause, InvalidInputError | InputError)


class GateFailed(ReelgraphError):
    """An error-severity quality gate did not pass (after any revisions).

    ``results`` are the failing :class:`~reelgraph.models.GateResult` s; the
    run ends with status ``failed_quality`` and keeps its artifacts. The
    message is redacted; ``results`` are kept as measured.
    """

    def __init__(self, node_id: str, results: list, revisions: int = 0) -> None:
        self.node_id = node_id
        self.results = list(results)
        self.revisions = revisions
        parts = "; ".join(f"{r.gate}: {r.message}" for r in self.results)
        after = f" after {revisions} revision{'s' if revisions != 1 else ''}" if revisions else ""
        super().__init__(redact(f"quality gate failed at node '{node_id}'{after}: {parts}"))


class BudgetExceeded(ReelgraphError):
    """The run's budget would be exceeded: the node was not started.

    The run ends with status ``over_budget``; resume it with a larger budget
    (``reelgraph resume RUN --max-cost-usd 20``).

    Attributes:
        node_id: the node that was not started.
        kind: ``"cost"`` (US dollars) or ``"duration"`` (seconds).
        limit: the budget.
        spent: what the run had used when the node was about to start.
        estimate: the node's estimated cost (USD), when known.
    """

    def __init__(
        self,
        node_id: str,
        kind: str,
        limit: float,
        spent: float,
        estimate: float | None = None,
    ) -> None:
        self.node_id = node_id
        self.kind = kind
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        if kind == "cost":
            what = f"${spent:.4f} spent"
            if estimate:
                what += f" + ${estimate:.4f} estimated for this call"
            text = f"cost budget ${limit:.4f} would be exceeded ({what})"
            fix = "--max-cost-usd"
        else:
            text = f"duration budget {limit:g} s reached ({spent:.1f} s elapsed)"
            fix = "--max-duration-s"
        super().__init__(
            f"node '{node_id}' not started: {text}; resume the run with a larger {fix}"
        )
