"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

:class:`LocalServer` runs ``initdb`` into a temporary folder and ``pg_ctl
start`` on a free 127.0.0.1 port, with ``trust`` authentication for loopback
only and no Unix socket, and removes everything on :meth:`LocalServer.stop`.
The binaries are the Debian ``postgresql`` package's
(``/usr/lib/postgresql/<major>/bin``, newest first) or whatever ``initdb`` is
on ``PATH``. PostgreSQL refuses to run as root (initdb: "cannot be run as
root"), so as root the server runs as the unprivileged ``nobody`` through
``runuser``, in a folder it owns.

References: https://www.postgresql.org/docs/current/app-initdb.html,
https://www.postgresql.org/docs/current/app-pg-ctl.html.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["LocalServer", "find_binaries"]

_USER = "reelgraph"  # the database superuser initdb creates


def find_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None`` when PostgreSQL is absent."""
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in folders:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """A PostgreSQL server in a temporary folder; :meth:`start`, :meth:`url`, :meth:`stop`.

    Raises:
        RuntimeError: no PostgreSQL binaries (the message says which package
            to install), or ``initdb``/``pg_ctl`` failed (their output included).

    Args:
        settings: server settings (``postgresql.conf`` names) over the
            defaults here, which favour throwaway speed: ``fsync=off``
            (a test's data need not survive a power loss). A benchmark that
            compares durability passes ``{"fsync": "on"}``.
    """

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = {"fsync": "off", "max_connections": "100", **(settings or {})}
        binaries = find_binaries()
        if binaries is None:
            raise RuntimeError(
                "no PostgreSQL server binaries (initdb, pg_ctl): install the `postgresql` "
                "package (apt-get install postgresql)"
            )
        self.binaries = binaries
        self.port = 0
        self._folder: Path | None = None
        self._as_root = os.geteuid() == 0

    @property
    def data_dir(self) -> Path:
        assert self._folder is not None, "start() first"
        return self._folder / "data"

    def _run(self, *argv: str) -> None:
        command = [str(self.binaries / argv[0]), *argv[1:]]
        if self._as_root:
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}"
            )

    def start(self) -> LocalServer:
        """initdb and start the server; returns ``self``."""
        self._folder = Path(tempfile.mkdtemp(prefix="reelgraph-pg-"))
        if self._as_root:
            self._folder.chmod(0o755)
            shutil.chown(self._folder, user="nobody")
        self.port = _free_port()
        try:
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", _USER, "--auth=trust",
                "--encoding=UTF8", "--no-sync",
            )  # fmt: skip
            settings = {
                "listen_addresses": "127.0.0.1",
                "port": str(self.port),
                "unix_socket_directories": "''",
                **self.settings,
            }
            options = " ".join(f"-c {name}={value}" for name, value in settings.items())
            log = self._folder / "server.log"
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-o", options, "-w",
                      "start")  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, database: str = "postgres") -> str:
        """A libpq connection URL for ``database`` on this server."""
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (letters, digits, _); returns its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self, name: str, database: str = "postgres") -> str:
        """Create an empty schema ``name`` (letters, digits, _); a URL whose tables land there.

        Much quicker than a database (no template copy): the URL sets
        ``search_path`` to the schema through libpq's ``options``
        (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS).
        """
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"schema name {name!r}: letters, digits and _ only")
        with psycopg.connect(self.url(database), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url(database)}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server and remove its folder.

        ``immediate`` shutdown: the data is thrown away, so the shutdown
        checkpoint of a ``fast`` one (which took a minute on a loaded machine)
        buys nothing.
        """
        if self._folder is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
