"""The run store's schema, as the migrations that build it (see :mod:`reelgraph.store.runs`).

Migration N+1 is ``MIGRATIONS[N]``; ``PRAGMA user_version`` records how many
have run. Append new migrations; never edit one that has shipped: a store
made by an older reelgraph must open and migrate.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

MIGRATIONS: list[str] = [
    # 1: initial schema. item_index is -1 for "not a map item" so it can sit in
    # a primary key (NULLs are distinct in SQLite keys).
    """
    CREATE TABLE runs (
        id         TEXT PRIMARY KEY,    -- sortable by start: 20261130-101500-3fa2c1
        spec       TEXT NOT NULL,       -- the spec's name
        spec_path  TEXT,                -- the file it was loaded from, if any
        spec_text  TEXT NOT NULL,       -- the spec as run, for resume
        inputs     TEXT NOT NULL,       -- JSON object
        output_dir TEXT,
        status     TEXT NOT NULL,       -- running | succeeded | failed | cancelled
        started_at REAL NOT NULL,
        ended_at   REAL,
        seconds    REAL,
        error      TEXT,
        cost_usd   REAL NOT NULL DEFAULT 0   -- sum of costs.amount_usd
    );
    CREATE INDEX runs_started_at ON runs (started_at);

    CREATE TABLE nodes (                -- rowid keeps insertion order
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        hook       TEXT NOT NULL DEFAULT '',
        provider   TEXT,
        status     TEXT NOT NULL,       -- running | succeeded | failed | cancelled
        attempts   INTEGER NOT NULL DEFAULT 0,
        cached     INTEGER NOT NULL DEFAULT 0,   -- 1: served from the memo cache
        items      INTEGER,             -- map items, for map nodes
        started_at REAL,
        ended_at   REAL,
        seconds    REAL,
        error      TEXT,
        output     TEXT,                -- JSON (serialize.dump_value form)
        cache_key  TEXT,
        PRIMARY KEY (run_id, node_id)
    );

    CREATE TABLE attempts (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        item_index INTEGER NOT NULL,    -- -1: not a map item
        attempt    INTEGER NOT NULL,    -- 1-based
        status     TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at   REAL,
        error      TEXT,
        PRIMARY KEY (run_id, node_id, item_index, attempt)
    );

    CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,   -- write order
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        ts         REAL NOT NULL,
        type       TEXT NOT NULL,       -- run.started, node.succeeded, ...
        node_id    TEXT,
        data       TEXT                 -- JSON object or NULL
    );
    CREATE INDEX events_run ON events (run_id, id);

    CREATE TABLE costs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT,
        amount_usd REAL NOT NULL,
        detail     TEXT NOT NULL DEFAULT '',
        ts         REAL NOT NULL
    );
    CREATE INDEX costs_run ON costs (run_id);

    -- Memo cache: outlives the run that filled it, so no foreign key.
    CREATE TABLE memo (
        cache_key  TEXT PRIMARY KEY,    -- serialize.digest_value of hook, provider, version, args
        output     TEXT NOT NULL,       -- JSON (serialize.dump_value form)
        run_id     TEXT NOT NULL,
        node_id    TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    -- Notes hooks keep about remote work (a submitted task id) for resume.
    CREATE TABLE journal (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        item_index INTEGER NOT NULL,    -- -1: not a map item
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (run_id, node_id, item_index, key)
    );
    """,
    # 2: events and attempts become tables clustered by run (WITHOUT ROWID), so a
    # commit appending an event or an attempt writes one b-tree page for it instead of
    # a table page, an index page and the AUTOINCREMENT counter's page. Attempts gain
    # the provider that ran them, their seconds and cost; started_at joins their key,
    # so a resumed run's attempts do not replace those of the interrupted execution.
    # Nodes gain their cost.
    """
    CREATE TABLE events_v2 (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,    -- write order within the run
        ts         REAL NOT NULL,
        type       TEXT NOT NULL,
        node_id    TEXT,
        data       TEXT,                -- JSON object or NULL
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    INSERT INTO events_v2 SELECT run_id, id, ts, type, node_id, data FROM events;
    DROP TABLE events;
    ALTER TABLE events_v2 RENAME TO events;

    CREATE TABLE attempts_v2 (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        item_index INTEGER NOT NULL,    -- -1: not a map item
        attempt    INTEGER NOT NULL,    -- 1-based, per execution of the node
        started_at REAL NOT NULL,
        status     TEXT NOT NULL,
        ended_at   REAL,
        seconds    REAL,
        error      TEXT,
        provider   TEXT,                -- the plugin that ran it (a fallback's, if it fell back)
        cost_usd   REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, node_id, item_index, attempt, started_at)
    ) WITHOUT ROWID;
    INSERT INTO attempts_v2 (run_id, node_id, item_index, attempt, started_at, status,
                             ended_at, seconds, error)
        SELECT run_id, node_id, item_index, attempt, started_at, status, ended_at,
               ended_at - started_at, error
        FROM attempts;
    DROP TABLE attempts;
    ALTER TABLE attempts_v2 RENAME TO attempts;

    ALTER TABLE nodes ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;  -- sum of its costs
    """,
    # 3: run leases (store/leases.py): the one process executing a run.
    """
    CREATE TABLE leases (
        run_id       TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        owner        TEXT NOT NULL,     -- random id of the execution holding it
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        acquired_at  REAL NOT NULL,
        heartbeat_at REAL NOT NULL,
        expires_at   REAL NOT NULL
    );
    """,
    # 4: what the last execution of a run cost the machine (observe/resources.py), JSON
    """
    ALTER TABLE runs ADD COLUMN resources TEXT;
    """,
    # 5: clarifying questions (run/questions.py). runs.status gains 'needs_input' (the
    # column is not constrained); questions: JSON list of the last questions asked;
    # answers: JSON object of every answer given, by question key.
    """
    ALTER TABLE runs ADD COLUMN questions TEXT;
    ALTER TABLE runs ADD COLUMN answers TEXT;
    """,
    # 6: benchmark clips (store/benchmarks.py, `reelgraph tools benchmark`): one row per
    # case of a benchmark, beside the run that made it (its nodes, attempts and costs).
    # Vendor-free: provider and model are whatever the plugin is called and was asked for.
    """
    CREATE TABLE benchmarks (
        bench_id    TEXT NOT NULL,      -- one `tools benchmark` invocation
        case_id     TEXT NOT NULL,      -- the suite's case
        run_id      TEXT REFERENCES runs (id) ON DELETE CASCADE,  -- NULL: never started
        provider    TEXT NOT NULL,
        model       TEXT,
        mode        TEXT NOT NULL,      -- text_to_video | image_to_video | slide
        aspect      TEXT NOT NULL,
        requested_s REAL NOT NULL,      -- the shot's seconds
        status      TEXT NOT NULL,      -- succeeded | failed | skipped (budget)
        latency_s   REAL,               -- wall seconds of the clip's attempts
        attempts    INTEGER NOT NULL DEFAULT 0,
        cost_usd    REAL NOT NULL DEFAULT 0,
        duration_s  REAL,               -- decoded from the delivered clip (PyAV)
        width_px    INTEGER,
        height_px   INTEGER,
        fps         REAL,
        frames      INTEGER,
        decodable   INTEGER,            -- 1: every frame decoded
        error       TEXT,
        created_at  REAL NOT NULL,
        PRIMARY KEY (bench_id, case_id)
    );
    CREATE INDEX benchmarks_provider ON benchmarks (provider, model);
    """,
    # 7: every event gets a store-wide id, gid, in commit order (writes hold the write
    # lock from BEGIN IMMEDIATE to COMMIT, so ids become visible in increasing order):
    # a reader of all runs' events resumes after the last gid it saw
    # (RunStore.read_events). Events stored before are numbered by time, then run, then
    # seq. Runs gain an index by spec for per-spec reads (list_runs, store/stats.py).
    """
    ALTER TABLE events ADD COLUMN gid INTEGER;
    UPDATE events SET gid = ordered.n FROM (
        SELECT run_id, seq, ROW_NUMBER() OVER (ORDER BY ts, run_id, seq) AS n FROM events
    ) AS ordered
    WHERE events.run_id = ordered.run_id AND events.seq = ordered.seq;
    CREATE UNIQUE INDEX events_gid ON events (gid);
    CREATE INDEX runs_spec ON runs (spec, started_at);
    """,
    # 8: run lineage (store/lineage.py): a fork's parent run and the inputs it changed.
    # parent_id has no foreign key: a parent removed by gc leaves its forks readable.
    """
    CREATE TABLE forks (
        run_id     TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        parent_id  TEXT NOT NULL,
        changed    TEXT NOT NULL,       -- JSON object: input name -> [parent value, fork value]
        created_at REAL NOT NULL
    );
    CREATE INDEX forks_parent ON forks (parent_id, created_at);
    """,
]

SCHEMA_VERSION: int = len(MIGRATIONS)
