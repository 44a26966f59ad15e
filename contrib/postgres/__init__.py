"""PostgreSQL for reelgraph: the run store several hosts share (``pip install "reelgraph[postgres]"``).

- :mod:`.store`: :class:`~.store.PostgresRunStore`, selected with
  ``REELGRAPH_STORE=postgresql://user@host:5432/db`` through the
  ``reelgraph.stores`` entry point ``postgresql`` (see
  :mod:`reelgraph.store.backends`);
- :mod:`._dialect`: where PostgreSQL's SQL differs from SQLite's;
- :mod:`.local_server`: a throwaway server on loopback (initdb, pg_ctl) for
  tests and ``bench/store_backends.py``.

Setting one up: an empty database and a user that may create tables in it
(``CREATE DATABASE reelgraph OWNER render;``); the first process to open it
runs the migrations (under the store's lock: two first opens migrate once).
Several stores can share a database, each in a schema of its own (created first;
``?options=-csearch_path%3Dstudio_a`` in the URL). Each process holds one
connection; session settings (``lock_timeout``,
``idle_in_transaction_session_timeout``) are set on it, so a pooler in front
must keep sessions (PgBouncer's ``session`` mode, not ``transaction``).

Importing this package imports nothing heavy; :mod:`.store` needs psycopg 3.
"""
