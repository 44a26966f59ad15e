"""What a run cost the machine: memory, CPU time, bytes written, free disk space.

Figures come from ``getrusage(2)`` (``RUSAGE_SELF`` for this process, where
espeak-ng runs in-process; ``RUSAGE_CHILDREN`` for the ffmpeg and other
subprocesses a hook waited for), the artifact store's byte counter and
``statvfs(3)`` through :func:`shutil.disk_usage`. ``ru_maxrss`` is in
kibibytes on Linux (bytes on macOS) and is the process's peak so far, so
``peak_rss_mib`` covers everything the process did up to the run's end.
"""

from __future__ import annotations

import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ResourceMeter"]

_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


def _free_bytes(folder: Path) -> int | None:
    from reelgraph.store.faults import existing_ancestor

    try:
        return shutil.disk_usage(existing_ancestor(folder)).free
    except OSError:
        return None


def _cpu_s(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime)


@dataclass
class ResourceMeter:
    """Reads the counters at the start of an execution; :meth:`finish` gives the figures.

    Args:
        home: the folder whose file system's free space is reported.
        bytes_written: a callable returning the artifact store's byte counter.
    """

    home: Path
    artifact_bytes: Any

    def __post_init__(self) -> None:
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._bytes = int(self.artifact_bytes())
        self._free = _free_bytes(self.home)

    def finish(self) -> dict[str, Any]:
        """The figures of this execution, JSON-ready.

        Returns:
            ``peak_rss_mib`` (this process's peak resident memory, MiB),
            ``children_peak_rss_mib`` (the largest waited-for subprocess),
            ``cpu_s`` and ``children_cpu_s`` (user + system CPU seconds
            during the execution), ``artifact_bytes_written`` (new bytes in
            the artifact store), ``disk_free_start_bytes`` and
            ``disk_free_end_bytes`` (of the home folder's file system).
        """
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "peak_rss_mib": round(own.ru_maxrss * _RSS_UNIT / 2**20, 1),
            "children_peak_rss_mib": round(children.ru_maxrss * _RSS_UNIT / 2**20, 1),
            "cpu_s": round(_cpu_s(own) - _cpu_s(self._self), 3),
            "children_cpu_s": round(_cpu_s(children) - _cpu_s(self._children), 3),
            "artifact_bytes_written": int(self.artifact_bytes()) - self._bytes,
            "disk_free_start_bytes": self._free,
            "disk_free_end_bytes": _free_bytes(self.home),
        }
