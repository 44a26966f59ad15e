"""The video tool catalog: shipped data, the user's tools file, and every plugin's entries.

The shipped catalog is data, not code: ``plugins/production/tools.yaml``
(versioned; every figure cites its page, date and basis). A user changes it
without editing the package: the file named by ``$REELGRAPH_TOOLS``, else
``<reelgraph home>/tools.yaml`` when it exists, holds entries of the same
shape under ``tools:``. Each is a *patch*: it changes the fields it names
of the tool with its ``name`` (from any plugin), or adds a tool when it is a
complete entry::

    tools:
      - {name: runway-gen4-turbo, concurrency: 5}   # your Runway tier

A third-party provider brings its own entries through the ``tool_catalog``
hook; :meth:`reelgraph.models.ToolCatalog.from_answers` merges them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import ToolCatalog

__all__ = ["TOOLS_ENV", "installed_catalog", "shipped_tools", "user_patches", "user_tools_path"]

#: environment variable naming the user's tools file
TOOLS_ENV = "REELGRAPH_TOOLS"

_SHIPPED = Path(__file__).with_name("tools.yaml")


def _read_yaml(path: Path) -> dict[str, Any]:
    """A tools file as a mapping with a ``tools`` list.

    Raises:
        InvalidInputError: unreadable, not YAML, or not ``tools: [...]``.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InvalidInputError(f"tools file {path}: cannot read it ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise InvalidInputError(f"tools file {path}: not valid YAML ({err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("tools"), list):
        raise InvalidInputError(
            f"tools file {path}: expected a mapping with a 'tools:' list of entries"
        )
    for i, entry in enumerate(data["tools"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InvalidInputError(f"tools file {path}: tools[{i}] needs a 'name:'")
    return data


@cache
def shipped_tools() -> list[dict[str, Any]]:
    """The shipped entries of ``tools.yaml`` (dicts, validated when merged)."""
    return list(_read_yaml(_SHIPPED)["tools"])


def user_tools_path(env: Mapping[str, str] | None = None) -> Path | None:
    """The user's tools file: ``$REELGRAPH_TOOLS``, else ``<home>/tools.yaml`` if it exists.

    Raises:
        InvalidInputError: ``$REELGRAPH_TOOLS`` names a file that does not exist.
    """
    from reelgraph.kernel import default_home

    env = os.environ if env is None else env
    named = env.get(TOOLS_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise InvalidInputError(f"{TOOLS_ENV}={named}: no such file (unset it or fix the path)")
        return path
    path = default_home(env) / "tools.yaml"
    return path if path.is_file() else None


def user_patches(env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The user's tools file as patches (``patch: true``), or ``[]`` without one."""
    path = user_tools_path(env)
    if path is None:
        return []
    return [{**entry, "patch": True} for entry in _read_yaml(path)["tools"]]


def installed_catalog(registry: Any = None, *, env: Mapping[str, str] | None = None) -> ToolCatalog:
    """Every installed plugin's ``tool_catalog`` answer, merged.

    Args:
        registry: a :class:`~reelgraph.plan.registry.PluginRegistry`; ``None``
            loads the installed entry points (``REELGRAPH_PLUGINS`` applies).
        env: environment for the registry (``os.environ`` by default).

    Raises:
        InvalidInputError: an entry or the user's file does not validate
            (the message names the tool and the field).
    """
    if registry is None:
        from reelgraph.plan.registry import PluginRegistry

        registry = PluginRegistry(env=env)
    registry.load()
    try:
        return ToolCatalog.from_answers(registry.pm.hook.tool_catalog(ctx=None))
    except ValueError as err:
        raise InvalidInputError(f"tool catalog: {err}") from err
