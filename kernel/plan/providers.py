"""Providers chosen by an input: ``provider: $inputs.llm``.

A node may name its provider through a string input, so one shipped spec
serves every vendor: ``reelgraph run presentation -i llm=anthropic``. The
input's value (the one given, else its default) must be an installed
provider of the node's hook, checked like a literal ``provider:`` before
anything runs. Values of the input's ``enum`` that are not installed are
fine until someone chooses one (an optional extra not installed is not an
error of the spec). The value :data:`ANY_PROVIDER` (``auto``), unless a
plugin is called that, leaves the node's provider open, as if it named
none: every implementation may answer (``-i video=auto``: each clip
provider answers for the shots a production plan gave it). An ``on_error``
fallback to the very provider the input chose is dropped (``-i video=slides``
with ``on_error: [{provider: slides}]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelgraph.errors import Problem, did_you_mean
from reelgraph.plan.registry import PluginRegistry
from reelgraph.spec.model import Spec

__all__ = [
    "ANY_PROVIDER",
    "INPUT_PREFIX",
    "bind_providers",
    "chooses_providers",
    "provider_input",
]

INPUT_PREFIX = "$inputs."
#: an input value that leaves the node's provider open (no plugin of that name)
ANY_PROVIDER = "auto"


def provider_input(provider: str | None) -> str | None:
    """The input name in ``$inputs.NAME``, or ``None`` for a literal provider."""
    if isinstance(provider, str) and provider.startswith(INPUT_PREFIX):
        return provider[len(INPUT_PREFIX) :]
    return None


def chooses_providers(spec: Spec) -> bool:
    """True when some node of ``spec`` names its provider by an input."""
    return any(provider_input(node.provider) for node in spec.nodes)


def bind_providers(
    spec: Spec,
    registry: PluginRegistry,
    inputs: Mapping[str, Any] | None,
    problems: list[Problem],
) -> Spec:
    """``spec`` with every ``provider: $inputs.NAME`` replaced by the input's value.

    Args:
        spec: the spec as written.
        registry: the installed plugins.
        inputs: the bound inputs, or ``None`` to use each input's default
            (``reelgraph plan``, or validating before inputs are known).
        problems: where problems are appended (unknown input, an input
            that is not a string, a value that is not a provider of the hook).

    Returns:
        The same spec object when no node names its provider by an input,
        else a copy with concrete provider names (``None`` where a problem
        was found, so the rest of validation still runs).
    """
    if not chooses_providers(spec):
        return spec
    file = spec.source
    nodes = []
    for node in spec.nodes:
        name = provider_input(node.provider)
        if name is None:
            nodes.append(node)
            continue
        value = _value(spec, node.id, node.hook, name, registry, inputs, file, problems)
        update: dict[str, Any] = {"provider": value}
        if value is not None and any(f.provider == value for f in node.on_error):
            # falling back to the provider the input chose adds nothing: drop it
            update["on_error"] = [f for f in node.on_error if f.provider != value]
        nodes.append(node.model_copy(update=update))
    return spec.model_copy(update={"nodes": nodes})


def _value(
    spec: Spec,
    node_id: str,
    hook: str,
    name: str,
    registry: PluginRegistry,
    inputs: Mapping[str, Any] | None,
    file: str,
    problems: list[Problem],
) -> str | None:
    declared = spec.inputs.get(name)
    if declared is None:
        hint = did_you_mean(name, list(spec.inputs), "declare it under `inputs:`")
        problems.append(Problem(f"unknown input '{name}'", file, node_id, "provider", hint))
        return None
    if declared.type != "string":
        problems.append(
            Problem(
                f"input '{name}' names a provider, so it must be a string, not {declared.type}",
                file,
                node_id,
                "provider",
                f"declare `{name}: {{type: string}}`",
            )
        )
        return None
    if inputs is not None and name in inputs:
        value, origin = inputs[name], "given"
    elif not declared.required:
        value, origin = declared.default, "its default"
    else:
        return None  # a required input, not given yet: checked once it is
    if value is None:
        return None
    providers = registry.providers(hook)
    if value == ANY_PROVIDER and value not in providers:
        return None  # open: every implementation may answer
    if value not in providers:
        hint = did_you_mean(str(value), providers, "providers: " + ", ".join(providers) or "none")
        problems.append(
            Problem(
                f"input '{name}' ({origin}: {value!r}) is not an installed provider "
                f"of hook '{hook}'",
                file,
                node_id,
                "provider",
                hint,
            )
        )
        return None
    return str(value)
