"""Registers the ``dask`` executor. Importing this module imports no Dask: the
executor module (and Dask with it) loads only when a kernel opens the executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError


def open_dask_executor(**options: Any) -> Any:
    """Make a :class:`~reelgraph.contrib.dask.executor.DaskExecutor` with ``options``.

    Raises:
        ConfigurationError: Dask distributed is not installed (the message
            says ``pip install "reelgraph[dask]"``), or a bad option.
    """
    try:
        from reelgraph.contrib.dask.executor import DaskExecutor
    except ImportError as err:
        raise ConfigurationError(
            f"the dask executor needs Dask distributed ({err.name or err} is missing): "
            'pip install "reelgraph[dask]"'
        ) from err
    return DaskExecutor(**options)


@hookimpl
def register_executors(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("dask", open_dask_executor)
