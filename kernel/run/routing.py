"""The provider of each call of an open node: the ``choose_provider`` hook.

A node that names no provider (``provider: $inputs.video`` given ``auto``)
lets every implementation of its hook answer. When a plugin knows better
for a given call (the production plan chose Runway for shot 3), it answers
the ``choose_provider`` hook, and that call is *pinned*: the scheduler
runs it as the same node with that provider (a variant of the compiled
node, as an ``on_error`` provider fallback is), so the provider's
concurrency limit, price estimate, attempt records and ``ctx.provider``
all apply to it.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

from reelgraph.errors import ConfigurationError, PluginError

if TYPE_CHECKING:
    from reelgraph.plan.graph import CompiledNode
    from reelgraph.plan.registry import PluginRegistry

__all__ = ["Router"]


class Router:
    """Asks ``choose_provider`` for each call of an open node; pins the answer.

    Args:
        registry: the loaded plugins (their ``choose_provider`` answers and
            the callers of the providers chosen).
    """

    def __init__(self, registry: PluginRegistry) -> None:
        self._registry = registry
        self._ask = registry.pm.hook.choose_provider
        #: (node id, provider) -> the node pinned to that provider
        self._pinned: dict[tuple[str, str], CompiledNode] = {}
        #: hook -> its installed providers (the plugins do not change during a run)
        self._providers: dict[str, list[str]] = {}

    @property
    def active(self) -> bool:
        """Whether any plugin implements ``choose_provider`` (else no call is routed)."""
        return bool(self._ask.get_hookimpls())

    def route(self, node: CompiledNode, kwargs: dict[str, Any]) -> CompiledNode:
        """``node`` pinned to the provider chosen for this call, or ``node`` itself.

        Only open nodes of one-answer hooks are routed (a pinned node, or a
        collect hook every implementation answers, is returned as it is).

        Raises:
            ConfigurationError: the answer is not an installed provider of the
                node's hook (the message names the node, the answer and the
                providers there are).
        """
        if node.provider is not None or node.collect:
            return node
        providers = self._providers.get(node.hook)
        if providers is None:
            providers = self._providers[node.hook] = self._registry.providers(node.hook)
        arguments = {k: v for k, v in kwargs.items() if k != "ctx"}
        chosen = self._ask(hook=node.hook, arguments=arguments, providers=list(providers))
        if chosen is None:
            return node
        pinned = self._pinned.get((node.id, chosen))
        if pinned is None:
            pinned = self._pinned[(node.id, chosen)] = self._pin(node, chosen, providers)
        return pinned

    def _pin(self, node: CompiledNode, provider: str, providers: list[str]) -> CompiledNode:
        unavailable = ConfigurationError(
            f"node '{node.id}': provider '{provider}' was chosen for this call "
            f"(choose_provider), but it is not an installed provider of hook "
            f"'{node.hook}' (installed: {', '.join(providers) or 'none'}); "
            f"install it (`reelgraph plugins` says what failed to load) or choose another"
        )
        if provider not in providers:
            raise unavailable
        try:
            caller = self._registry.caller(node.hook, provider)
        except PluginError as err:
            raise unavailable from err
        impls = caller.get_hookimpls()
        direct = len(impls) == 1 and not (impls[0].hookwrapper or impls[0].wrapper)
        return dataclasses.replace(
            node,
            provider=provider,
            caller=caller,
            is_async=all(inspect.iscoroutinefunction(i.function) for i in impls),
            function=impls[0].function if direct else None,
            argnames=tuple(impls[0].argnames) if direct else (),
            fast=False,
            pass_all=False,
        )
