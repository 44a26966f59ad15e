"""The plugin registry: pluggy's manager, loaded from the ``reelgraph`` entry-point group.

In-tree plugins are registered through the same entry points a third party
declares in its ``pyproject.toml``::

    [project.entry-points.reelgraph]
    shout = "reelgraph_shout"

The entry-point name (``shout``) is the plugin's name and the ``provider`` a
spec node names. Entry points load lazily, on first use, and once.
``REELGRAPH_PLUGINS`` (comma-separated names) restricts which load;
``REELGRAPH_DISABLE_PLUGINS`` excludes some. A plugin that fails to load is
recorded with its package and error; it only stops a run that needs it.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from reelgraph import hookspecs as _hookspecs
from reelgraph._markers import PROJECT
from reelgraph.errors import PluginError, ProviderError

__all__ = ["PluginInfo", "PluginRegistry"]

ENTRY_POINT_GROUP = "reelgraph"


@dataclass(slots=True)
class PluginInfo:
    """What ``reelgraph plugins`` shows about one plugin."""

    name: str
    package: str | None = None
    version: str | None = None
    module: str | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "module": self.module,
            "hooks": self.hooks,
            "error": self.error,
        }


def _names(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


class PluginRegistry:
    """Owns one pluggy ``PluginManager`` and knows every plugin's name and package.

    Args:
        plugins: plugin objects (modules or instances) to register besides the
            entry points, as a list or a ``{name: plugin}`` mapping. A list item
            is named by its ``reelgraph_name`` attribute, else its module's or
            class's name.
        entry_points: load the ``reelgraph`` entry-point group.
        env: environment to read ``REELGRAPH_PLUGINS`` and
            ``REELGRAPH_DISABLE_PLUGINS`` from (``os.environ`` by default).
        hookspecs: extra hookspec modules or classes (marked with
            ``reelgraph.hookspecs.hookspec``), for hook families of your own.
    """

    def __init__(
        self,
        plugins: Iterable[object] | Mapping[str, object] | None = None,
        *,
        entry_points: bool = True,
        env: Mapping[str, str] | None = None,
        hookspecs: Iterable[object] = (),
    ) -> None:
        import os

        self._env = os.environ if env is None else env
        self._entry_points = entry_points
        self._pending = _named(plugins)
        self._loaded = False
        self._infos: dict[str, PluginInfo] = {}
        self._callers: dict[tuple[str, str | None], Any] = {}
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(_hookspecs)
        for extra in hookspecs:
            self.pm.add_hookspecs(extra)  # type: ignore[arg-type]

    # -- loading ------------------------------------------------------------

    def load(self) -> PluginRegistry:
        """Load entry points and register given plugins; does nothing the second time."""
        if self._loaded:
            return self
        self._loaded = True
        if self._entry_points:
            self._load_entry_points()
        for name, plugin in self._pending:
            self.register(plugin, name=name)
        return self

    def _load_entry_points(self) -> None:
        only = _names(self._env.get("REELGRAPH_PLUGINS"))
        disabled = _names(self._env.get("REELGRAPH_DISABLE_PLUGINS"))
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if (only and ep.name not in only) or ep.name in disabled:
                continue
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                package=dist.name if dist else None,
                version=dist.version if dist else None,
                module=ep.value,
            )
            if ep.name in self._infos:
                other = self._infos[ep.name].package
                info.error = f"the name is already taken by package {other!r}"
                self._infos[f"{ep.name} ({info.package})"] = info
                continue
            self._infos[ep.name] = info
            try:
                plugin = ep.load()
            except Exception as err:  # a broken plugin must not break every command
                info.error = f"import of {ep.value!r} failed: {type(err).__name__}: {err}"
                continue
            self._register(plugin, info)

    def register(self, plugin: object, *, name: str | None = None) -> PluginInfo:
        """Register a plugin object under ``name`` (the provider name).

        Raises:
            PluginError: the name is taken, or pluggy rejects a hookimpl (an
                argument the hookspec does not have).
        """
        name = name or _default_name(plugin)
        if name in self._infos and self._infos[name].error is None:
            raise PluginError(f"a plugin named {name!r} is already registered")
        module = (
            plugin.__name__ if isinstance(plugin, types.ModuleType) else type(plugin).__module__
        )
        info = PluginInfo(name=name, module=module, package=_package_of(module))
        self._infos[name] = info
        self._register(plugin, info)
        if info.error:
            raise PluginError(f"plugin {name!r}: {info.error}")
        return info

    def _register(self, plugin: object, info: PluginInfo) -> None:
        if inspect.isclass(plugin):
            info.error = "the entry point names a class; point it at a module or an instance"
            return
        try:
            self.pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as err:
            info.error = str(err)
            return
        problem = self._add_secret_patterns(info.name)
        if problem is not None:
            # a key format it cannot declare would leak: the plugin does not run
            self.pm.unregister(name=info.name)
            info.error = problem
            return
        info.hooks = sorted(
            impl_name
            for impl_name in dir(self.pm.hook)
            if not impl_name.startswith("_")
            and any(
                i.plugin_name == info.name for i in getattr(self.pm.hook, impl_name).get_hookimpls()
            )
        )
        self._callers.clear()

    def _add_secret_patterns(self, name: str) -> str | None:
        """Add the key formats plugin ``name`` declares (``secret_patterns``) to the
        process's redactor; return what went wrong, or ``None``."""
        from reelgraph.observe.secrets import register_pattern

        for impl in self.pm.hook.secret_patterns.get_hookimpls():
            if impl.plugin_name != name:
                continue
            try:
                declared: Any = impl.function()
                for pattern_name, pattern in declared or ():
                    register_pattern(pattern_name, pattern)
            except Exception as err:  # the plugin's bug: it is reported as broken
                return f"secret_patterns failed: {type(err).__name__}: {err}"
        return None

    # -- queries ------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, loaded or broken, sorted by name."""
        self.load()
        return sorted(self._infos.values(), key=lambda info: info.name)

    def info(self, name: str) -> PluginInfo | None:
        self.load()
        return self._infos.get(name)

    def classify_error(self, error: BaseException) -> ProviderError | None:
        """What the plugins' ``classify_error`` hook makes of ``error``; ``None``: none knows it.

        A hook implementation that raises, or answers with something other
        than a :class:`~reelgraph.errors.ProviderError`, is passed over: the
        kernel's own rules decide, and a note on ``error`` (shown with its
        traceback) says which implementation failed. The answer's
        ``__cause__`` is ``error`` unless the implementation set another.
        """
        self.load()
        try:
            answer = self.pm.hook.classify_error(error=error)
        except Exception as err:
            error.add_note(f"reelgraph: a classify_error hook failed: {type(err).__name__}: {err}")
            return None
        if answer is None:
            return None
        if not isinstance(answer, ProviderError):
            error.add_note(
                f"reelgraph: a classify_error hook answered {type(answer).__name__}, "
                "not a ProviderError; ignored"
            )
            return None
        if answer.__cause__ is None and answer is not error:
            answer.__cause__ = error
        return answer

    def hook_names(self) -> list[str]:
        """Names of every hookspec a spec node can call (kernel hooks left out)."""
        from reelgraph.hookspecs import KERNEL_HOOKS

        return sorted(
            n
            for n in dir(self.pm.hook)
            if not n.startswith("_")
            and n not in KERNEL_HOOKS
            and getattr(self.pm.hook, n).spec is not None
        )

    def providers(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``."""
        self.load()
        caller = getattr(self.pm.hook, hook, None)
        if caller is None:
            return []
        return sorted({impl.plugin_name for impl in caller.get_hookimpls()})

    def caller(self, hook: str, provider: str | None) -> Any:
        """The pluggy hook caller for ``hook``, pinned to ``provider`` when given.

        Raises:
            PluginError: the provider is unknown, broken or does not implement the hook.
        """
        key = (hook, provider)
        cached = self._callers.get(key)
        if cached is not None:
            return cached
        self.load()
        full = getattr(self.pm.hook, hook)
        if provider is None:
            caller = full
        else:
            info = self._infos.get(provider)
            if info is None or info.error:
                reason = info.error if info else "not installed"
                package = f" from package {info.package!r}" if info and info.package else ""
                raise PluginError(f"plugin {provider!r}{package} is unavailable: {reason}")
            others = [
                self.pm.get_plugin(n)
                for n in self.providers(hook)
                if n != provider and self.pm.get_plugin(n) is not None
            ]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            if provider not in self.providers(hook):
                raise PluginError(f"plugin {provider!r} does not implement hook {hook!r}")
        self._callers[key] = caller
        return caller


def _named(
    plugins: Iterable[object] | Mapping[str, object] | None,
) -> list[tuple[str | None, object]]:
    if plugins is None:
        return []
    if isinstance(plugins, Mapping):
        return list(plugins.items())
    return [(None, plugin) for plugin in plugins]


def _default_name(plugin: object) -> str:
    explicit = getattr(plugin, "reelgraph_name", None)
    if isinstance(explicit, str):
        return explicit
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__.rsplit(".", 1)[-1]
    return type(plugin).__name__.lower()


def _package_of(module: str) -> str | None:
    packages = _distributions().get(module.split(".", 1)[0])
    return packages[0] if packages else None


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    try:
        return metadata.packages_distributions()
    except Exception:
        return {}
