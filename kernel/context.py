"""The context every hook call receives as ``ctx``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

__all__ = ["NodeContext", "ProgressCallback"]

#: ``(node_id, item_index, completed, total, message)``
ProgressCallback = Callable[[str, "int | None", float, "float | None", "str | None"], None]


def _no_progress(*_: Any) -> None:
    return None


class NodeContext:
    """What a hook implementation gets from the kernel for one call.

    Attributes:
        run_id: the run's id.
        node_id: the spec node being executed.
        hook: the hook name.
        provider: the pinned provider, or ``None`` when any implementation may
            answer.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        item_index: the position of the map item, or ``None`` for a node
            without ``map``.
        run_dir: the run's working directory.

    A context is cheap to create: the logger and the working directory are
    made on first use.
    """

    __slots__ = (
        "run_id",
        "node_id",
        "hook",
        "provider",
        "attempt",
        "item_index",
        "run_dir",
        "_log",
        "_workdir",
        "_progress",
    )

    def __init__(
        self,
        *,
        run_id: str,
        node_id: str,
        hook: str,
        provider: str | None,
        run_dir: Path,
        attempt: int = 1,
        item_index: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.run_id = run_id
        self.node_id = node_id
        self.hook = hook
        self.provider = provider
        self.attempt = attempt
        self.item_index = item_index
        self.run_dir = run_dir
        self._log: Any = None
        self._workdir: Path | None = None
        self._progress = progress or _no_progress

    @property
    def log(self) -> Any:
        """A structlog logger bound to run, node, hook, provider and attempt."""
        if self._log is None:
            self._log = structlog.get_logger("reelgraph.node").bind(
                run_id=self.run_id,
                node_id=self.node_id,
                hook=self.hook,
                provider=self.provider,
                attempt=self.attempt,
                item_index=self.item_index,
            )
        return self._log

    @property
    def workdir(self) -> Path:
        """A directory for this call's files (created on first use).

        ``<run_dir>/<node_id>`` for a plain node, ``<run_dir>/<node_id>/<item_index>``
        for a map item. Files written here live as long as the run's directory.
        """
        if self._workdir is None:
            path = self.run_dir / self.node_id
            if self.item_index is not None:
                path = path / str(self.item_index)
            path.mkdir(parents=True, exist_ok=True)
            self._workdir = path
        return self._workdir

    def progress(
        self, completed: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress of long work (``completed`` out of ``total`` units).

        Shown as a progress bar by the CLI and stored as a ``node.progress`` event.
        """
        self._progress(self.node_id, self.item_index, completed, total, message)

    @classmethod
    def for_testing(
        cls, workdir: Path, *, node_id: str = "test", hook: str = "test"
    ) -> NodeContext:
        """A context for calling a hook implementation directly in a test."""
        return cls(run_id="test-run", node_id=node_id, hook=hook, provider=None, run_dir=workdir)
