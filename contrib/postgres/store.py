"""The run store in PostgreSQL: ``REELGRAPH_STORE=postgresql://user@host/db``.

:class:`PostgresRunStore` is a :class:`~reelgraph.store.runs.RunStore` whose
connection, transactions and migrations are PostgreSQL's (psycopg 3); every
statement, the schema and its migrations are the SQLite store's, rewritten
where the dialects differ by :mod:`reelgraph.contrib.postgres._dialect`. Several
processes on several hosts share one database: they list, show and resume the
same runs.

Writes: every write transaction starts with ``pg_advisory_xact_lock`` on one
key (per schema), the store's write lock, so writes are serialised store-wide as SQLite's
``BEGIN IMMEDIATE`` serialises them, and the SQL keeps SQLite's semantics
unchanged:

- an event's ``seq`` (its run's next) and ``gid`` (the store's next, in
  commit order) are ``MAX + 1`` read after the lock is held: two concurrent
  writers never collide or lose an event, and ids become visible in
  increasing order (the lock is held until COMMIT);
- a run's lease (:mod:`reelgraph.store.leases`) is read and replaced in one
  transaction under the lock: of two processes taking it at once, exactly
  one wins.

Why an advisory lock and not ``SELECT ... FOR UPDATE`` on the run's row: the
store-wide ``gid`` needs store-wide order anyway, a lease taken for a run
must also exclude a concurrent gc deleting that run, and one lock taken the
same way by every write cannot deadlock. A transaction-level advisory lock is
released at COMMIT or ROLLBACK, and when a process dies its connection's
transaction is rolled back by the server: a killed writer never leaves the
store locked (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS).
A host that vanishes mid-transaction (no TCP FIN) is covered by
``idle_in_transaction_session_timeout``, set to the busy timeout: the server
ends that session and releases its lock (a write transaction lasts
milliseconds; https://www.postgresql.org/docs/current/runtime-config-client.html).
The leases themselves stay rows (they must outlive the connection that took
them, and say who holds the run). Reads take no lock (MVCC snapshots).

``lock_timeout`` is the store's busy timeout: a write that waits longer for
the lock fails with :class:`~reelgraph.store.runs.StoreError`
(https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT).
The schema version is the row of table ``reelgraph_schema`` (SQLite keeps it
in ``PRAGMA user_version``). Passwords in the URL never appear in messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from reelgraph.contrib.postgres import _dialect
from reelgraph.store._migrations import MIGRATIONS, SCHEMA_VERSION
from reelgraph.store.runs import RunStore, StoreError, _statements

__all__ = ["PostgresRunStore", "open_store", "redact"]

#: the store's write lock: pg_advisory_xact_lock(WRITE_LOCK_KEY, hashtext(current_schema())),
#: "reel" in ASCII and the schema, so stores in two schemas of one database do not wait
#: on each other
WRITE_LOCK_KEY = 0x7265656C
WRITE_LOCK = "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))"
_RETRIES = 5  # serialization failures and deadlocks, which the server asks us to retry
_RETRY_STATES = ("40001", "40P01")  # serialization_failure, deadlock_detected


def redact(url: str) -> str:
    """``postgresql://user@host:port/db``: the URL without its password or options."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def _password(url: str) -> str | None:
    """The password in ``url``, to keep it out of messages (``None``: none, or unparsable)."""
    try:
        return conninfo_to_dict(url).get("password") or None
    except psycopg.ProgrammingError:
        return None


class _Connection:
    """The part of ``sqlite3.Connection`` the store's transaction bodies use, on psycopg."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self._conn.execute(_dialect.statement(sql), _dialect.values(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self._conn.cursor()
        cursor.executemany(_dialect.statement(sql), [_dialect.values(r) for r in rows])
        return cursor


class PostgresRunStore(RunStore):
    """A run store in a PostgreSQL database. Safe to share between threads and processes.

    Args:
        url: a libpq connection URL or string
            (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING).
        busy_timeout_s: how long a write waits for another writer (seconds).

    Raises:
        StoreError: the server cannot be reached or refused the login, or the
            database was migrated by a newer reelgraph.
    """

    def __init__(self, url: str, busy_timeout_s: float = 30.0) -> None:  # noqa: D107
        # RunStore.__init__ opens SQLite: this class sets up its own state instead
        self.url = url
        self.location = redact(url)
        self.path = None  # type: ignore[assignment]  # no file: see location
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._secret = _password(url)
        self._conn: psycopg.Connection[Any] | None = None
        self._conn = self._connect()
        try:
            self._write("migrate", self._migrate)
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,  # reads are single statements; writes open a transaction
                cursor_factory=psycopg.RawCursor,  # $N placeholders, see _dialect
                connect_timeout=max(1, int(self.busy_timeout_s)),
                application_name="reelgraph",
            )
            timeout_ms = int(self.busy_timeout_s * 1000)
            conn.execute(f"SET lock_timeout = {timeout_ms:d}")
            # a host that dies mid-transaction sends no FIN: the server ends the session
            # (and its write lock) once it has sat idle in the transaction this long
            conn.execute(f"SET idle_in_transaction_session_timeout = {timeout_ms:d}")
        except psycopg.Error as err:
            raise self._error("cannot open run store", err) from err
        return conn

    def _error(self, what: str, err: psycopg.Error) -> StoreError:
        """A StoreError naming the store (no password) and what the server or driver said.

        A connection that failed or broke is kind ``unreachable``: the CLI
        reports it as a storage fault in one line, and the run resumes once
        the server is back.
        """
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if self._secret:
            text = text.replace(str(self._secret), "***")
        unreachable = self._conn is None or (  # not connected yet, or the connection broke
            isinstance(err, psycopg.OperationalError) and (self._conn.broken or self._conn.closed)
        )
        return StoreError(
            f"run store {self.location}: {what}: {text}",
            kind="unreachable" if unreachable else None,
            location=self.location,
            detail=text,
        )

    def _migrate(self, db: _Connection) -> None:  # type: ignore[override]
        db.execute("CREATE TABLE IF NOT EXISTS reelgraph_schema (version BIGINT NOT NULL)")
        row = db.execute("SELECT version FROM reelgraph_schema").fetchone()
        if row is None:
            db.execute("INSERT INTO reelgraph_schema (version) VALUES (0)")
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run store {self.location} has schema version {version}, newer than this "
                f"reelgraph's {SCHEMA_VERSION}; upgrade reelgraph or use another REELGRAPH_STORE"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for sql in _statements(_dialect.migration(MIGRATIONS[number - 1])):
                db.execute(sql)
            db.execute("UPDATE reelgraph_schema SET version = ?", (number,))

    def schema_version(self) -> int:
        """The migrations applied to the database (``SCHEMA_VERSION`` once opened)."""
        return int(self._read("schema version", "SELECT version FROM reelgraph_schema")[0][0])

    def close(self) -> None:
        """Close the connection. The store cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    def _attempt(self, what: str, action: Callable[[], Any], *, reconnect: bool) -> Any:
        """Run ``action``; retry what the server asks to retry; wrap errors in StoreError."""
        for attempt in range(1, _RETRIES + 1):
            try:
                if self._conn.closed or self._conn.broken:
                    self._conn = self._connect()
                return action()
            except psycopg.Error as err:
                retry = err.sqlstate in _RETRY_STATES or (reconnect and self._conn.broken)
                if not retry or attempt == _RETRIES:
                    if isinstance(err, psycopg.errors.LockNotAvailable):
                        what += f" (another writer held the store for {self.busy_timeout_s:g} s)"
                    raise self._error(what, err) from err
        raise AssertionError("unreachable")

    def _write(self, what: str, body: Callable[[Any], Any]) -> Any:
        """Run ``body`` in one transaction holding the store's write lock, and commit it.

        A write whose connection broke is not retried: its commit may have
        happened (the next call reconnects).
        """

        def transaction() -> Any:
            with self._conn.transaction():
                self._conn.execute(WRITE_LOCK, (WRITE_LOCK_KEY,))
                return body(_Connection(self._conn))

        with self._lock:
            return self._attempt(what, transaction, reconnect=False)

    def _read(self, what: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._attempt(  # type: ignore[no-any-return]
                what,
                lambda: _Connection(self._conn).execute(sql, params).fetchall(),
                reconnect=True,
            )

    def integrity_check(self) -> str:
        """``"ok"`` once the server answers and the schema is current.

        PostgreSQL checks pages itself (checksums, WAL); there is no
        ``PRAGMA integrity_check`` to ask.
        """
        version = self.schema_version()
        if version != SCHEMA_VERSION:
            return f"schema version {version}, expected {SCHEMA_VERSION}"
        return "ok"

    def size_bytes(self) -> int:
        """Bytes the database takes on the server (``pg_database_size``)."""
        rows = self._read("store size", "SELECT pg_database_size(current_database())")
        return int(rows[0][0])

    def compact(self) -> None:
        """``VACUUM`` the database: dead rows' space becomes reusable (not returned to the OS).

        Runs outside a transaction (the connection autocommits reads), as
        VACUUM must (https://www.postgresql.org/docs/current/sql-vacuum.html).
        """
        with self._lock:
            self._attempt("gc: vacuum", lambda: self._conn.execute("VACUUM"), reconnect=True)


def open_store(url: str, *, busy_timeout_s: float = 30.0) -> PostgresRunStore:
    """The ``postgresql`` entry point of group ``reelgraph.stores``: open the store at ``url``."""
    return PostgresRunStore(url, busy_timeout_s=busy_timeout_s)
