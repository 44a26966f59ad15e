"""Run analytics (store/stats.py) read from a PostgreSQL run store.

``tests/kernel/test_stats.py``'s tests over a history of real runs run here
again with that history in PostgreSQL (collected under the same names): the
statistics' SQL is the SQLite store's, so the figures must be the same.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.contrib.postgres.store import PostgresRunStore
from tests.contrib.postgres_fixtures import postgres_server  # noqa: F401
from tests.kernel import test_stats as stats_suite


@pytest.fixture(scope="module")
def history(postgres_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:  # noqa: F811
    url = postgres_server.create_schema(f"stats_{uuid.uuid4().hex[:10]}")
    home = tmp_path_factory.mktemp("pgstats") / "home"
    kernel = Kernel(
        plugins=[stats_suite.Steady(), stats_suite.Flaky(), stats_suite.Broken()],
        entry_points=False,
        hookspecs=[stats_suite.ClipSpecs],
        home=home,
        env={"REELGRAPH_STORE": url},
    )
    for start in range(stats_suite.RUNS):
        run = kernel.run(stats_suite.SPEC, {"start": start * 10})
        assert run.status == "succeeded", run.error
    assert isinstance(kernel.store, PostgresRunStore)
    assert not Path(home / "reelgraph.db").exists()
    yield kernel
    kernel.close()


for _name, _test in list(vars(stats_suite).items()):
    if _name.startswith("test_") and list(inspect.signature(_test).parameters) == ["history"]:
        globals()[_name] = _test
del _name, _test
