"""Which run store to open: SQLite in the home folder, or one named by a URL.

``REELGRAPH_STORE`` (or :class:`~reelgraph.Kernel`'s ``store`` argument)
names the run store by URL; without it the store is SQLite,
``<home>/reelgraph.db``. A URL's scheme picks a backend from the entry-point
group ``reelgraph.stores``: the entry point named like the scheme is a
callable ``open(url, *, busy_timeout_s) -> RunStore``. reelgraph ships
``postgresql`` (and its alias ``postgres``) in ``reelgraph.contrib.postgres``,
behind the ``postgres`` extra; a third party adds another by declaring an
entry point in that group, and the kernel names no vendor.

A backend subclasses :class:`~reelgraph.store.runs.RunStore`, whose queries it
inherits, and overrides the backend part of it: ``_write`` (one transaction,
serialised against other writers), ``_read``, ``close`` and
``integrity_check``; its statements reach the database in SQLite's dialect
(``?`` placeholders, ``ON CONFLICT`` upserts), for the backend to translate.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from reelgraph.store.runs import RunStore, StoreError

__all__ = ["ENTRY_POINT_GROUP", "open_run_store", "sqlite_file", "store_schemes"]

ENTRY_POINT_GROUP = "reelgraph.stores"

#: extras that provide the backends reelgraph ships, by scheme
_EXTRAS = {"postgresql": "postgres", "postgres": "postgres"}


def store_schemes() -> list[str]:
    """URL schemes with an installed backend, ``sqlite`` first."""
    names = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return ["sqlite", *sorted(names - {"sqlite"})]


def sqlite_file(url: str | None, home: Path) -> Path | None:
    """The SQLite file of the run store ``url`` names, ``None`` for another backend's.

    Readers that must not create a store (``doctor``, ``tools stats``, the
    solver's measured figures) ask this first: a SQLite store whose file
    does not exist yet holds no runs. Same URL forms as :func:`open_run_store`.
    """
    if not url:
        return home / "reelgraph.db"
    scheme, sep, rest = url.partition("://")
    if not sep:  # a path: a SQLite file of its own
        return Path(url).expanduser()
    if scheme.lower() == "sqlite":
        return Path(rest) if rest else home / "reelgraph.db"
    return None


def open_run_store(url: str | None, home: Path, *, busy_timeout_s: float = 30.0) -> RunStore:
    """Open the run store ``url`` names, or SQLite in ``home`` when it is empty.

    Args:
        url: ``None`` or ``""`` (SQLite, ``home/reelgraph.db``), a file path
            or ``sqlite:///abs/path/file.db`` (SQLite there: the path after
            ``sqlite://``), or a URL whose scheme names a
            backend (``postgresql://user@host:5432/db``).
        home: the reelgraph home folder.
        busy_timeout_s: how long a write waits for another writer (seconds).

    Raises:
        StoreError: an unknown scheme (the message lists the installed ones
            and the extra to install), a backend that cannot be imported, or
            a store that cannot be opened. The message never shows the URL's
            password.
    """
    path = sqlite_file(url, home)
    if path is not None:
        return RunStore(path, busy_timeout_s=busy_timeout_s)
    assert url is not None  # no URL is SQLite in home
    scheme = url.partition("://")[0].lower()
    found = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
    if not found:
        extra = _EXTRAS.get(scheme)
        hint = f'pip install "reelgraph[{extra}]"' if extra else "install a package that adds it"
        raise StoreError(
            f"REELGRAPH_STORE: no run store for {scheme}:// URLs ({hint}); "
            f"installed: {', '.join(store_schemes())}",
            kind="not_installed",
            location=f"{scheme}://",
            detail=f"no backend for {scheme}://; installed: {', '.join(store_schemes())}",
        )
    try:
        opener = found[0].load()
    except ImportError as err:
        extra = _EXTRAS.get(scheme, scheme)
        raise StoreError(
            f"REELGRAPH_STORE: the {scheme} run store needs a package that is missing "
            f'({err.name or err}): pip install "reelgraph[{extra}]"',
            kind="not_installed",
            location=f"{scheme}://",
            detail=f"missing package {err.name or err}",
        ) from err
    store = opener(url, busy_timeout_s=busy_timeout_s)
    if not isinstance(store, RunStore):
        kind = type(store).__name__
        raise StoreError(f"REELGRAPH_STORE: the {scheme} backend returned {kind}, not a RunStore")
    return store
