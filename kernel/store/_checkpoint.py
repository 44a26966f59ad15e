"""Background WAL checkpoints for the SQLite run store (:mod:`reelgraph.store.runs`)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path


class _Checkpointer:
    """Checkpoints a WAL database from a daemon thread with a connection of its own.

    ``PRAGMA wal_checkpoint(PASSIVE)`` copies committed WAL frames into the
    database file without blocking writers or readers
    (https://www.sqlite.org/wal.html#checkpointing); its fsyncs would
    otherwise land inside whichever commit crossed SQLite's automatic
    threshold, on the event loop. A process crash loses nothing: the WAL is
    replayed on the next open. Requests coalesce: one pending at a time.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="reelgraph-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        try:
            db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        except sqlite3.Error:
            return  # checkpoints then happen when the last connection closes
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                with contextlib.suppress(sqlite3.Error):  # busy: the next request retries
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            db.close()
