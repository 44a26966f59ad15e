"""Plugins load through the `reelgraph` entry-point group, lazily and once."""

from __future__ import annotations

import pytest

from reelgraph import Kernel, PluginError, hookimpl
from reelgraph.plan.registry import PluginRegistry

IN_TREE = {"markdown", "html", "text", "extractive", "slides", "espeak", "ffmpeg"}


def test_in_tree_plugins_register_through_entry_points() -> None:
    infos = {info.name: info for info in PluginRegistry(env={}).plugins()}
    assert set(infos) >= IN_TREE
    for name in IN_TREE:
        assert infos[name].error is None, infos[name].error
        assert infos[name].package == "reelgraph"
        assert infos[name].version
        assert infos[name].hooks
    assert infos["espeak"].hooks == ["synthesize_speech"]
    assert infos["ffmpeg"].hooks == ["assemble_video"]


def test_loading_is_lazy_and_happens_once() -> None:
    registry = PluginRegistry(env={})
    assert registry.pm.get_plugins() == set()
    registry.load()
    first = set(map(id, registry.pm.get_plugins()))
    registry.load()
    assert set(map(id, registry.pm.get_plugins())) == first


def test_reelgraph_plugins_restricts_and_disable_excludes() -> None:
    only = {i.name for i in PluginRegistry(env={"REELGRAPH_PLUGINS": "markdown, espeak"}).plugins()}
    assert only == {"markdown", "espeak"}
    rest = {
        i.name for i in PluginRegistry(env={"REELGRAPH_DISABLE_PLUGINS": "html,text"}).plugins()
    }
    assert "html" not in rest and "text" not in rest and "markdown" in rest


def test_disabled_provider_is_a_validation_problem_naming_it() -> None:
    from reelgraph import SpecError

    # the shipped spec pins ffmpeg (its narration pins no provider: piper or espeak)
    kernel = Kernel(env={"REELGRAPH_DISABLE_PLUGINS": "ffmpeg", "REELGRAPH_HOME": "/tmp"})
    with pytest.raises(SpecError) as info:
        kernel.plan("document-to-video")
    assert "unknown provider 'ffmpeg'" in str(info.value)


def test_duplicate_names_and_classes_are_refused() -> None:
    class Plugin:
        @hookimpl
        def render_shot(self, scene, ctx):
            return None

    registry = PluginRegistry(entry_points=False)
    registry.register(Plugin(), name="mine")
    with pytest.raises(PluginError, match="already registered"):
        registry.register(Plugin(), name="mine")
    with pytest.raises(PluginError, match="names a class"):
        registry.register(Plugin, name="cls")


def test_hookimpl_with_an_argument_the_hookspec_lacks_is_refused() -> None:
    class Wrong:
        @hookimpl
        def render_shot(self, scene, colour, ctx):
            return None

    with pytest.raises(PluginError, match="colour"):
        PluginRegistry(entry_points=False).register(Wrong(), name="wrong")
