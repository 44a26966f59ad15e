"""Executors: where one hook call runs.

The scheduler makes every decision in the kernel process: which node is
ready, the limits, the budget, the memo cache, retries and fallbacks, the
journal's store, events and spans. An executor is asked one thing: run this
call of a node's hook (``kwargs``, ``ctx`` included) and return its answer.

An executor is a plugin. The ``register_executors`` hook registers executors
by name::

    @hookimpl
    def register_executors(register):
        register("dask", DaskExecutor)

``register(name, factory)``: ``factory(**options)`` makes the executor
(``Kernel(executor="dask", executor_options={"workers": 2})``,
``reelgraph run --executor dask --workers 2``). The in-process asyncio
executor, ``asyncio``, is the default and registers the same way (the
``asyncio`` entry point is this module); it is always there, even when entry
points are off.

The contract an executor keeps (:class:`Executor`):

- ``await executor.call(node, kwargs)`` runs the call and returns the
  hook's answer (for a collect hook, the list of answers); it raises what the
  hook raised, or a :class:`~reelgraph.errors.ProviderError` for a failure of
  its own (a worker lost: :class:`~reelgraph.errors.TransientError`, so the
  node's retry policy decides). It never retries by itself.
- What the hook reported through ``ctx`` (cost, usage, journal entries,
  progress) reaches the kernel's ``ctx`` before ``call`` returns or raises.
- Cancelling the awaiting task cancels the call (as far as the executor can).
- ``close()`` releases what the executor holds; the kernel calls it once.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from reelgraph._markers import hookimpl
from reelgraph.errors import ConfigurationError
from reelgraph.run._aio import gather_answers

if TYPE_CHECKING:
    from reelgraph.plan.graph import CompiledNode
    from reelgraph.plan.registry import PluginRegistry

__all__ = [
    "DEFAULT_EXECUTOR",
    "Executor",
    "InProcessExecutor",
    "executor_names",
    "open_executor",
]

DEFAULT_EXECUTOR = "asyncio"


class Executor(Protocol):
    """Runs hook calls for the scheduler (see the module's contract)."""

    name: str

    async def call(self, node: CompiledNode, kwargs: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


class InProcessExecutor:
    """Runs every call in the kernel's process: ``async def`` implementations on the
    event loop, ``def`` ones in a worker thread (``asyncio.to_thread``).

    Takes no options.
    """

    name = DEFAULT_EXECUTOR

    def __init__(self, **options: Any) -> None:
        if options:
            names = ", ".join(sorted(options))
            raise ConfigurationError(
                f"executor 'asyncio' takes no options (got {names}); "
                "--scheduler and --workers are options of --executor dask"
            )

    async def call(self, node: CompiledNode, kwargs: dict[str, Any]) -> Any:
        """Call the hook (one implementation directly, or through pluggy)."""
        function = node.function
        if function is not None:
            # pluggy hands an implementation only the arguments it declares
            kwargs = {name: kwargs[name] for name in node.argnames}
        else:
            function = node.caller
        if node.collect:
            raw = (
                function(**kwargs) if node.is_async else await asyncio.to_thread(function, **kwargs)
            )
            return await gather_answers([raw] if node.function is not None else raw)
        if node.is_async:
            return await function(**kwargs)
        result = await asyncio.to_thread(function, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def close(self) -> None:
        return None


@hookimpl
def register_executors(register: Callable[[str, Callable[..., Executor]], None]) -> None:
    register(DEFAULT_EXECUTOR, InProcessExecutor)


def _factories(registry: PluginRegistry) -> dict[str, Callable[..., Executor]]:
    found: dict[str, Callable[..., Executor]] = {DEFAULT_EXECUTOR: InProcessExecutor}

    def register(name: str, factory: Callable[..., Executor]) -> None:
        found.setdefault(name, factory)  # the first registration of a name wins

    registry.load().pm.hook.register_executors(register=register)
    return found


def executor_names(registry: PluginRegistry) -> list[str]:
    """Names of the registered executors, sorted."""
    return sorted(_factories(registry))


def open_executor(
    registry: PluginRegistry, name: str, options: dict[str, Any] | None = None
) -> Executor:
    """Make the executor registered as ``name`` with ``options``.

    Raises:
        ConfigurationError: no executor has that name (the message lists the
            registered ones), or the executor refuses the options or cannot
            start (its message says what to install or set).
    """
    factories = _factories(registry)
    factory = factories.get(name)
    if factory is None:
        raise ConfigurationError(
            f"no executor named {name!r}; registered: {', '.join(sorted(factories))} "
            "(`reelgraph plugins` shows which plugins failed to load)"
        )
    return factory(**(options or {}))
