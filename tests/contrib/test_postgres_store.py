"""The PostgreSQL run store on a real server: the SQLite store's tests, migrations, selection.

Every test of ``tests/kernel/test_store.py`` that needs nothing but a
``store``, and three of ``test_store_costs.py``'s (the recorder's costs and
attempts), run here again on :class:`PostgresRunStore` (collected under the
same names), so the two backends answer the same questions the same way.
"""

from __future__ import annotations

import inspect
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from reelgraph import Kernel
from reelgraph.contrib.postgres import _dialect
from reelgraph.contrib.postgres.store import WRITE_LOCK_KEY, PostgresRunStore, redact
from reelgraph.store import benchmarks
from reelgraph.store.backends import open_run_store
from reelgraph.store.leases import RunLeased, acquire_lease, get_lease, release_lease
from reelgraph.store.runs import SCHEMA_VERSION, RunStore, StoreError
from tests.contrib.postgres_fixtures import postgres_server, postgres_url  # noqa: F401
from tests.kernel import test_store as sqlite_suite
from tests.kernel import test_store_costs as costs_suite


@pytest.fixture
def store(postgres_url: str):  # noqa: F811
    with PostgresRunStore(postgres_url) as opened:
        yield opened


# the SQLite store's tests that take only a store, on PostgreSQL
for _name, _test in list(vars(sqlite_suite).items()):
    if _name.startswith("test_") and list(inspect.signature(_test).parameters) == ["store"]:
        globals()[_name] = _test
del _name, _test

# and the recorder's cost and attempt tests (those that read through the store, not a file)
test_attempts_and_costs_add_up_per_node_and_per_run = (
    costs_suite.test_attempts_and_costs_add_up_per_node_and_per_run
)
test_run_cost_counts_earlier_executions_of_the_run = (
    costs_suite.test_run_cost_counts_earlier_executions_of_the_run
)
test_a_cost_for_a_node_not_recorded_yet_makes_a_pending_row = (
    costs_suite.test_a_cost_for_a_node_not_recorded_yet_makes_a_pending_row
)

new_run = sqlite_suite.new_run


# -- migrations ------------------------------------------------------------------------


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as raw:
        rows = raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    return {r[0] for r in rows}


def test_migrations_from_an_empty_database(postgres_url: str) -> None:  # noqa: F811
    assert _tables(postgres_url) == set()
    with PostgresRunStore(postgres_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.integrity_check() == "ok"
    expected = {"runs", "nodes", "attempts", "events", "costs", "memo", "journal", "leases"}
    assert expected | {"benchmarks", "reelgraph_schema"} <= _tables(postgres_url)
    with psycopg.connect(postgres_url) as raw:
        types = dict(
            raw.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'runs'"
            ).fetchall()
        )
    assert types["started_at"] == "double precision"  # REAL would keep 6 digits of a time


def test_reopening_does_not_migrate_again_and_keeps_data(postgres_url: str) -> None:  # noqa: F811
    with PostgresRunStore(postgres_url) as store:
        new_run(store, "r1")
    with psycopg.connect(postgres_url) as raw:
        raw.execute("CREATE TABLE marker (x int)")  # a migration would not touch it; a rerun fails
    with PostgresRunStore(postgres_url) as store:
        assert store.get_run("r1") is not None
        assert store.schema_version() == SCHEMA_VERSION


def test_two_stores_opening_an_empty_database_at_once_migrate_it_once(postgres_url: str) -> None:  # noqa: F811
    import threading

    errors: list[BaseException] = []
    opened: list[PostgresRunStore] = []

    def open_one() -> None:
        try:
            opened.append(PostgresRunStore(postgres_url))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [s.schema_version() for s in opened] == [SCHEMA_VERSION] * 3
    for store in opened:
        store.close()


def test_a_newer_schema_is_refused(postgres_url: str) -> None:  # noqa: F811
    PostgresRunStore(postgres_url).close()
    with psycopg.connect(postgres_url) as raw:
        raw.execute("UPDATE reelgraph_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this reelgraph"):
        PostgresRunStore(postgres_url)


# -- what SQLite's suite does not cover --------------------------------------------------


def test_times_keep_their_microseconds(store: RunStore) -> None:
    started = 1796493812.895479
    new_run(store, "r1", started_at=started)
    row = store.get_run("r1")
    assert row is not None and row.started_at == started


def test_nodes_keep_insertion_order_across_updates(store: RunStore) -> None:
    new_run(store, "r1")
    for node in ("zeta", "alpha", "mid"):
        store.node_started("r1", node, hook="h", provider=None, started_at=1.0, attempt=1)
    store.node_finished("r1", "zeta", status="succeeded", ended_at=2.0, seconds=1.0)
    store.add_cost("r1", "late", 0.5)
    assert [n.node_id for n in store.get_nodes("r1")] == ["zeta", "alpha", "mid", "late"]


def test_read_events_pages_across_runs_and_lists_filter(store: RunStore) -> None:
    new_run(store, "a", started_at=1.0)
    new_run(store, "b", started_at=2.0, spec="other")
    store.add_events("a", [(1.0, "run.started", None, None)])
    store.add_events("b", [(2.0, "run.started", None, {"k": [1, 2]})])
    store.add_events("a", [(3.0, "node.started", "n", None)])
    rows = store.read_events(None, after=0, limit=None)
    assert [(r.run_id, r.seq, r.gid) for r in rows] == [("a", 1, 1), ("b", 1, 2), ("a", 2, 3)]
    assert [r.gid for r in store.read_events(None, after=1, limit=1)] == [2]
    assert store.last_event_id() == 3
    assert [r.id for r in store.list_runs(None, spec="other")] == ["b"]
    assert [r.id for r in store.list_runs(1)] == ["b"]


def test_leases_one_owner_renewal_and_release(store: RunStore) -> None:
    new_run(store, "r1")
    lease, previous, reason = acquire_lease(store, "r1")
    assert previous is None and reason is None
    with pytest.raises(RunLeased):
        acquire_lease(store, "r1")
    forced, previous, reason = acquire_lease(store, "r1", force=True)
    assert previous == lease and reason == "forced"
    release_lease(store, lease)  # not the owner any more: a no-op
    assert get_lease(store, "r1") == forced
    release_lease(store, forced)
    assert get_lease(store, "r1") is None


def test_benchmark_rows_are_replaced_by_case(store: RunStore) -> None:
    row = benchmarks.BenchmarkRow("b1", "c1", None, "slides", None, "slide", "16:9", 4.0, "failed")
    benchmarks.add_benchmarks(store, [row])
    done = benchmarks.BenchmarkRow(
        "b1", "c1", None, "slides", None, "slide", "16:9", 4.0, "succeeded", decodable=True
    )
    benchmarks.add_benchmarks(store, [done])
    rows = store._read("read", "SELECT status, decodable FROM benchmarks")
    assert rows == [("succeeded", 1)]


# -- selection by URL --------------------------------------------------------------------


def test_reelgraph_store_selects_postgresql_for_the_kernel(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    kernel = Kernel(entry_points=False, home=tmp_path, env={"REELGRAPH_STORE": postgres_url})
    try:
        assert isinstance(kernel.store, PostgresRunStore)
        assert not (tmp_path / "reelgraph.db").exists()
    finally:
        kernel.close()
    kernel = Kernel(entry_points=False, home=tmp_path, store=postgres_url, env={})
    try:
        assert isinstance(kernel.store, PostgresRunStore)
    finally:
        kernel.close()
    alias = postgres_url.replace("postgresql://", "postgres://")
    with open_run_store(alias, tmp_path) as store:
        assert isinstance(store, PostgresRunStore)
    with open_run_store(None, tmp_path) as store:
        assert type(store) is RunStore and store.path == tmp_path / "reelgraph.db"
    with open_run_store(f"sqlite://{tmp_path}/elsewhere.db", tmp_path) as store:
        assert store.path == tmp_path / "elsewhere.db"


def test_an_unknown_scheme_is_refused_and_a_path_is_a_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no run store for mysql:// URLs .*installed: sqlite"):
        open_run_store("mysql://u@h/db", tmp_path)
    with open_run_store(str(tmp_path / "mine.db"), tmp_path) as store:
        assert type(store) is RunStore and store.path == tmp_path / "mine.db"


def test_a_missing_psycopg_says_which_extra_to_install(monkeypatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    monkeypatch.delitem(sys.modules, "reelgraph.contrib.postgres.store", raising=False)
    with pytest.raises(StoreError, match=r'pip install "reelgraph\[postgres\]"') as caught:
        open_run_store("postgresql://u@127.0.0.1/db", tmp_path)
    assert caught.value.kind == "not_installed"


def test_cli_with_an_unreachable_server_is_one_line_exit_6_without_the_password(
    postgres_server,  # noqa: F811
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    dead = f"postgresql://someone:s3cret-pw@127.0.0.1:{postgres_server.port + 1}/db"
    env = {**os.environ, "REELGRAPH_STORE": dead, "REELGRAPH_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", "runs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr and "s3cret-pw" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, done.stderr  # one message (rich may wrap it)
    assert "cannot be reached" in done.stderr and "REELGRAPH_STORE" in done.stderr


def test_a_password_never_appears_in_errors(postgres_server) -> None:  # noqa: F811
    url = f"postgresql://someone:s3cret-pw@127.0.0.1:{postgres_server.port}/missing_db"
    with pytest.raises(StoreError) as caught:
        open_run_store(url, Path("/nonexistent"), busy_timeout_s=2)
    assert "s3cret-pw" not in str(caught.value)
    assert "postgresql://someone@127.0.0.1" in str(caught.value)
    assert redact(url) == f"postgresql://someone@127.0.0.1:{postgres_server.port}/missing_db"


def test_a_write_waiting_past_the_timeout_names_the_wait(postgres_url: str) -> None:  # noqa: F811
    with PostgresRunStore(postgres_url, busy_timeout_s=0.5) as store:
        new_run(store, "r1")
        with psycopg.connect(postgres_url) as holder:
            holder.execute(  # in a transaction, held until it ends
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (WRITE_LOCK_KEY,)
            )
            started = time.monotonic()
            with pytest.raises(StoreError, match="another writer held the store for 0.5 s"):
                store.add_events("r1", [(1.0, "x", None, None)])
            assert time.monotonic() - started < 10
        store.add_events("r1", [(1.0, "x", None, None)])  # the lock is gone with the transaction
        assert len(store.get_events("r1")) == 1


# -- the dialect -------------------------------------------------------------------------


def test_dialect_placeholders_limits_and_literals() -> None:
    assert _dialect.statement("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = $1 AND c = $2"
    )
    assert _dialect.statement("UPDATE t SET x = ?2 WHERE id = ?1 AND y = ?2") == (
        "UPDATE t SET x = $2 WHERE id = $1 AND y = $2"
    )
    assert _dialect.statement("SELECT '?' , 'it''s?' FROM t WHERE a = ?") == (
        "SELECT '?' , 'it''s?' FROM t WHERE a = $1"
    )
    assert _dialect.statement("SELECT a FROM t WHERE b > ? LIMIT ?").endswith(
        "LIMIT NULLIF($2, -1)"
    )
    with pytest.raises(ValueError, match="ON CONFLICT"):
        _dialect.statement("INSERT OR REPLACE INTO t VALUES (?)")
    with pytest.raises(ValueError, match="mixes"):
        _dialect.statement("SELECT ?1, ?")
    assert _dialect.values((True, False, None, 2.5)) == (1, 0, None, 2.5)
    ddl = _dialect.migration("CREATE TABLE nodes (a REAL, b INTEGER) WITHOUT ROWID;")
    assert ddl == (
        "CREATE TABLE nodes (rowid BIGINT GENERATED ALWAYS AS IDENTITY,"
        "a DOUBLE PRECISION, b BIGINT);"
    )


# -- gc ----------------------------------------------------------------------------------


def test_gc_removes_old_runs_with_their_rows_and_keeps_a_leased_one(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from reelgraph.store.gc import GcPolicy, apply_gc, plan_gc
    from tests.kernel.steps import AsyncAdder, StepSpecs, chain_spec

    kernel = Kernel(
        plugins=[AsyncAdder()],
        entry_points=False,
        hookspecs=[StepSpecs],
        home=tmp_path,
        env={"REELGRAPH_STORE": postgres_url},
    )
    try:
        runs = [kernel.run(chain_spec(2), {"start": n}) for n in range(3)]
        assert [r.status for r in runs] == ["succeeded"] * 3
        store = kernel.store
        acquire_lease(store, runs[0].id)  # live: this process holds it
        plan = plan_gc(store, kernel.artifacts, tmp_path / "runs", GcPolicy(keep_last=1))
        assert [r.id for r in plan.runs] == [runs[1].id]
        assert [r.id for r in plan.protected] == [runs[0].id]
        result = apply_gc(store, kernel.artifacts, tmp_path / "runs", plan)
        assert result.runs == [runs[1].id] and result.vacuum_error is None
        assert result.store_bytes_before > 0 and result.store_bytes_after > 0
        assert store.get_run(runs[1].id) is None
        for table in ("nodes", "events", "attempts"):
            left = store._read("count", f"SELECT COUNT(*) FROM {table} WHERE run_id = ?",
                               (runs[1].id,))  # fmt: skip
            assert left == [(0,)], table  # ON DELETE CASCADE
        assert {r.id for r in store.list_runs()} == {runs[0].id, runs[2].id}
    finally:
        kernel.close()


def test_stores_in_two_schemas_do_not_wait_on_each_other(postgres_server) -> None:  # noqa: F811
    first = postgres_server.create_schema("a_" + uuid.uuid4().hex[:10])
    second = postgres_server.create_schema("b_" + uuid.uuid4().hex[:10])
    with PostgresRunStore(first) as one, PostgresRunStore(second, busy_timeout_s=1) as two:
        new_run(one, "r1")
        new_run(two, "r1")  # same id, other schema: no clash
        with psycopg.connect(first) as holder:
            holder.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (WRITE_LOCK_KEY,)
            )
            two.add_events("r1", [(1.0, "x", None, None)])  # not blocked by the first's lock
        assert len(two.get_events("r1")) == 1 and one.get_events("r1") == []


def test_a_writer_stuck_inside_a_transaction_loses_the_lock_after_the_timeout(
    postgres_url: str,  # noqa: F811
) -> None:
    import contextlib

    from reelgraph.contrib.postgres.store import WRITE_LOCK

    with PostgresRunStore(postgres_url) as setup:
        new_run(setup, "r1")
    stuck = PostgresRunStore(postgres_url, busy_timeout_s=1)
    transaction = stuck._conn.transaction()
    transaction.__enter__()  # as a host that vanished mid-write: the lock held, then silence
    stuck._conn.execute(WRITE_LOCK, (WRITE_LOCK_KEY,))
    try:
        started = time.monotonic()
        with PostgresRunStore(postgres_url, busy_timeout_s=20) as other:  # opening writes too
            other.add_events("r1", [(1.0, "x", None, None)])  # waits until the server ends it
            assert 0.5 < time.monotonic() - started < 15
            assert len(other.get_events("r1")) == 1
    finally:
        with contextlib.suppress(psycopg.Error):
            transaction.__exit__(None, None, None)
        stuck.close()
