"""PostgreSQL for reelgraph: the run store several hosts share (``pip install "reelgraph[postgres]"``).

- :mod:`.store`: :class:`~.store.PostgresRunStore`, selected with
  ``REELGRAPH_STORE=postgresql://user@host:5432/db`` through the
  ``reelgraph.stores`` entry point ``postgresql`` (see
  :mod:`reelgraph.store.backends`);
- :mod:`._dialect`: where PostgreSQL's SQL differs from SQLite's;
- :mod:`.local_server`: a throwaway server on loopback (initdb, pg_ctl) for
  tests and ``bench/store_backends.py``.

Importing this package imports nothing heavy; :mod:`.store` needs psycopg 3.
"""
