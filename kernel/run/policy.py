"""Execution policy: when to retry a failed attempt, how long to wait, and the run's budget.

Retry waits come from tenacity's ``wait_exponential_jitter``
(https://tenacity.readthedocs.io), raised to the provider's ``Retry-After``
when it asked for longer (RFC 9110 section 10.2.3). Whether an error may be
retried is the error class's ``retryable`` flag; exceptions that are not
reelgraph errors are classified first: by the plugins' ``classify_error`` hook
(a vendor's SDK exceptions), then by the kernel's httpx-level rules
(:mod:`reelgraph.observe.classify`: HTTP 429 is rate-limited, 5xx and timeouts
are transient, other 4xx are invalid input or configuration).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from reelgraph.errors import BudgetExceeded, ProviderError, TransientError
from reelgraph.spec.model import BudgetSpec, RetrySpec

__all__ = ["Budget", "classify", "retry_wait"]


def classify(
    error: BaseException,
    plugins: Callable[[BaseException], ProviderError | None] | None = None,
) -> ProviderError | None:
    """The reelgraph error class ``error`` amounts to, or ``None`` when unknown.

    Args:
        error: what a hook raised.
        plugins: asks the plugins (the ``classify_error`` hook,
            :meth:`reelgraph.plan.registry.PluginRegistry.classify_error`);
            their answer wins over the kernel's rules.

    An attempt that ran out of time (``TimeoutError``) is transient.
    """
    if isinstance(error, ProviderError):
        return error
    if plugins is not None:
        answer = plugins(error)
        if answer is not None:
            return answer
    if isinstance(error, TimeoutError):
        return TransientError(str(error) or "the attempt timed out")
    from reelgraph.observe.classify import classify_error

    return classify_error(error)


@functools.cache
def _first_wait_parameter() -> str:
    """tenacity 9.2 renamed ``initial`` to ``multiplier``; older releases only know ``initial``."""
    import inspect

    import tenacity

    params = inspect.signature(tenacity.wait_exponential_jitter).parameters
    return "multiplier" if "multiplier" in params else "initial"


def _wait_strategy(policy: RetrySpec) -> Any:
    import tenacity

    return tenacity.wait_exponential_jitter(
        max=policy.max_s,
        exp_base=policy.exp_base,
        jitter=policy.jitter_s,
        **{_first_wait_parameter(): policy.initial_s},
    )


def retry_wait(
    policy: RetrySpec, attempt: int, error: ProviderError | None, elapsed_s: float
) -> tuple[float | None, str]:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up.

    Args:
        policy: the node's retry policy.
        attempt: the attempt that just failed (1 for the first).
        error: the failure, classified (``None`` when unknown: not retried).
        elapsed_s: seconds since the first attempt started.

    Returns:
        ``(wait_s, reason)``; ``wait_s`` is ``None`` when the error is not
        retryable, the attempts are used up, or waiting would pass
        ``deadline_s``, and ``reason`` says which.
    """
    if error is None or not error.retryable:
        return None, "not retryable"
    if attempt >= policy.max_attempts:
        return None, f"{policy.max_attempts} attempts made"
    import tenacity

    state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    wait = float(_wait_strategy(policy)(state))
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        wait = max(wait, retry_after)
    if policy.deadline_s is not None and elapsed_s + wait >= policy.deadline_s:
        return None, f"retry deadline of {policy.deadline_s:g} s reached"
    return wait, "retrying"


class Budget:
    """A run's spending limits and what it has spent so far.

    Args:
        spec: the limits (``None`` fields are no limit).
        spent_usd: US dollars already spent by earlier executions of the run.
        estimate: ``(hook, provider, arguments) -> USD or None``, the
            ``estimate_cost`` hook; asked only when a cost limit is set.
    """

    __slots__ = ("limits", "spent_usd", "reserved_usd", "started", "_estimate")

    def __init__(
        self,
        spec: BudgetSpec,
        *,
        spent_usd: float = 0.0,
        estimate: Callable[[str, str | None, dict[str, Any]], float | None] | None = None,
    ) -> None:
        self.limits = spec
        self.spent_usd = spent_usd
        self.reserved_usd = 0.0
        self.started = time.monotonic()
        self._estimate = estimate

    @property
    def active(self) -> bool:
        return self.limits.max_cost_usd is not None or self.limits.max_duration_s is not None

    def check_duration(self, node_id: str) -> None:
        """Raise :class:`BudgetExceeded` when the run's wall-clock budget is used up."""
        limit = self.limits.max_duration_s
        if limit is not None:
            elapsed = time.monotonic() - self.started
            if elapsed >= limit:
                raise BudgetExceeded(node_id, "duration", limit, elapsed)

    def reserve(
        self, node_id: str, hook: str, provider: str | None, kwargs: dict[str, Any]
    ) -> float:
        """Check a call against the budget before it starts; return the USD reserved for it.

        Raises:
            BudgetExceeded: the call would take the run past a limit.
        """
        self.check_duration(node_id)
        limit = self.limits.max_cost_usd
        if limit is None:
            return 0.0
        estimate = None
        if self._estimate is not None:
            arguments = {k: v for k, v in kwargs.items() if k != "ctx"}
            estimate = self._estimate(hook, provider, arguments)
        committed = self.spent_usd + self.reserved_usd
        if committed + (estimate or 0.0) > limit + 1e-9:
            raise BudgetExceeded(node_id, "cost", limit, committed, estimate)
        self.reserved_usd += estimate or 0.0
        return estimate or 0.0

    def settle(self, reserved: float, spent: float) -> None:
        """A call finished: release its reservation and add what it spent."""
        self.reserved_usd = max(0.0, self.reserved_usd - reserved)
        self.spent_usd += spent
