"""Every hookspec is documented, implemented in-tree and used by a shipped spec."""

from __future__ import annotations

import inspect

import pytest

from reelgraph import hookspecs
from reelgraph.plan.registry import PluginRegistry
from reelgraph.spec.model import load_spec, shipped_specs

HOOKS = sorted(
    name
    for name, fn in vars(hookspecs).items()
    if callable(fn) and hasattr(fn, "reelgraph_defaults")
)


def test_the_catalogue_is_what_we_document() -> None:
    registry = PluginRegistry(entry_points=False)
    assert registry.hook_names() == HOOKS
    assert HOOKS  # an empty catalogue would make every other test here vacuous


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_is_documented(hook: str) -> None:
    fn = getattr(hookspecs, hook)
    doc = inspect.getdoc(fn) or ""
    for section in ("Args:", "Returns:", "Raises:", "Example provider:"):
        assert section in doc, f"{hook} docstring lacks {section}"
    for param in inspect.signature(fn).parameters:
        assert f"{param}:" in doc, f"{hook} docstring does not describe {param}"
    for param in fn.reelgraph_defaults:
        assert param in inspect.signature(fn).parameters


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_has_an_in_tree_provider_and_a_shipped_spec_uses_it(hook: str) -> None:
    registry = PluginRegistry(env={})
    providers = registry.providers(hook)
    assert any(registry.info(p).package == "reelgraph" for p in providers), providers
    used = {node.hook for path in shipped_specs().values() for node in load_spec(path).nodes}
    assert hook in used
