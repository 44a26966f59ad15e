"""A real PostgreSQL server for the tests: started once per session, a fresh database per test.

The server is :class:`reelgraph.contrib.postgres.local_server.LocalServer`
(initdb into a temporary folder, pg_ctl on a free loopback port, as ``nobody``
when the tests run as root). Tests that use these fixtures are skipped, with
the reason, only when no PostgreSQL binaries exist (``.ci/run`` installs the
``postgresql`` package). Import the fixtures into a test module by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from reelgraph.contrib.postgres.local_server import LocalServer, find_binaries


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalServer]:
    if find_binaries() is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: LocalServer) -> str:
    """A URL whose tables land in a new, empty schema on the session's server.

    A schema, not a database: creating one takes milliseconds, a database
    (a copy of its template) most of a second on a loaded machine.
    """
    return postgres_server.create_schema(f"t_{uuid.uuid4().hex[:12]}")
