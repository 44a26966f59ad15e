"""Shared fixtures: every test gets its own REELGRAPH_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def reelgraph_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REELGRAPH_HOME", str(home))
    monkeypatch.delenv("REELGRAPH_PLUGINS", raising=False)
    monkeypatch.delenv("REELGRAPH_DISABLE_PLUGINS", raising=False)
    return home
