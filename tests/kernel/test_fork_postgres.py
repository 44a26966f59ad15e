"""Forks, lineage and diffs on the PostgreSQL run store (a real server; see
tests/contrib/postgres_fixtures.py): the forks table is migrated there too, and
every query of store/lineage.py and cli/lineage.py runs through its dialect."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("psycopg", reason="pip install 'reelgraph[postgres]'")

from reelgraph import Kernel  # noqa: E402
from reelgraph.cli.lineage import diff_runs  # noqa: E402
from reelgraph.store.lineage import children, fork_of  # noqa: E402
from tests.contrib.postgres_fixtures import postgres_server, postgres_url  # noqa: E402, F401
from tests.kernel.test_fork import DOCUMENT, SPEC, Studio, VideoSpecs  # noqa: E402


def test_a_fork_on_postgresql(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    studio = Studio()
    kernel = Kernel(
        plugins=[studio],
        entry_points=False,
        hookspecs=[VideoSpecs],
        home=tmp_path,
        store=postgres_url,
        env={},
    )
    parent = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    studio.calls.clear()
    child = kernel.fork(parent.id, {"voice": "bob"}, cache=False)
    assert child.status == "succeeded" and studio.calls == {"speak": 3, "join": 1}
    record = fork_of(kernel.store, child.id)
    assert record is not None and record.changed == {"voice": ["alice", "bob"]}
    assert [f.run_id for f in children(kernel.store, parent.id)] == [child.id]
    data = diff_runs(kernel, parent.id, child.id)
    assert data["recomputed"] == ["narration", "video"]
    assert data["reused"] == ["script", "slides"]
    kernel.close()
