"""Numbered schema migrations (``store.migrate``). Run once at open, by the opener.

Never edit a migration that has shipped; add the next number. Money columns are integer
nano-dollars (1e-9 USD) so sums in SQLite are exact and per-event rounding is far below a cent
even over millions of events.
"""

from __future__ import annotations

from spendtray.store.db import Database
from spendtray.store.migrate import Migrations

migrations = Migrations("spendtray")


@migrations(name="0001_events_and_rollups")
def m0001(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,              -- call time, epoch milliseconds UTC
            received_at INTEGER NOT NULL,     -- epoch milliseconds UTC
            project TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            agent TEXT NOT NULL DEFAULT '',
            user TEXT,
            session TEXT,
            trace_id TEXT,
            request_id TEXT,
            source TEXT NOT NULL,
            service_tier TEXT,
            batch INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cache_write_5m_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER,               -- NULL when unpriced
            priced INTEGER NOT NULL,
            unpriced_reason TEXT,
            price_model TEXT,
            price_provider TEXT,
            unit_prices TEXT,                 -- JSON: price key -> USD per unit block
            price_source TEXT,
            price_date TEXT,
            reported_cost_nanos INTEGER,
            latency_ms REAL,
            status TEXT,
            tags TEXT,
            raw_usage TEXT
        )
        """
    )
    db.execute("CREATE INDEX events_ts ON events (ts)")
    db.execute("CREATE INDEX events_project_ts ON events (project, ts)")
    db.execute(
        "CREATE UNIQUE INDEX events_request_id ON events (request_id) WHERE request_id IS NOT NULL"
    )
    # Quarter-hour buckets: every real time zone offset is a multiple of 15 minutes, so day,
    # week and month totals in any zone are exact sums of whole buckets.
    db.execute(
        """
        CREATE TABLE rollup (
            bucket INTEGER NOT NULL,          -- epoch seconds of the quarter-hour start, UTC
            project TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            agent TEXT NOT NULL,
            source TEXT NOT NULL,
            calls INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            PRIMARY KEY (bucket, project, model, provider, agent, source)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
    )


@migrations(name="0002_budgets")
def m0002(db: Database) -> None:
    # One budget per project (``*`` = all projects) and period; money in nano-dollars.
    db.execute(
        """
        CREATE TABLE budgets (
            project TEXT NOT NULL,
            period TEXT NOT NULL,             -- day | week | month
            limit_nanos INTEGER NOT NULL,
            mode TEXT NOT NULL,               -- soft | hard
            thresholds TEXT NOT NULL,         -- JSON list of percents, ascending
            updated_at INTEGER NOT NULL,      -- epoch milliseconds UTC
            PRIMARY KEY (project, period)
        ) WITHOUT ROWID
        """
    )
    # Alerts already delivered: a row per (budget, period instance, kind, threshold) makes each
    # alert fire once per period, across restarts; a new period_start re-arms it.
    db.execute(
        """
        CREATE TABLE budget_alerts (
            project TEXT NOT NULL,
            period TEXT NOT NULL,             -- day | week | month | runaway
            period_start INTEGER NOT NULL,    -- epoch seconds UTC of the period instance
            kind TEXT NOT NULL,               -- threshold | forecast | runaway
            threshold REAL NOT NULL,
            fired_at INTEGER NOT NULL,        -- epoch milliseconds UTC
            delivered INTEGER NOT NULL,       -- 0 when notifications were paused or off
            text TEXT NOT NULL,
            PRIMARY KEY (project, period, period_start, kind, threshold)
        ) WITHOUT ROWID
        """
    )


@migrations(name="0003_import_state")
def m0003(db: Database) -> None:
    # How far each agent log file was imported. inode + size + mtime say whether the file
    # changed; head_hash (of the first bytes already read) tells an in-place rewrite from an
    # append; context carries parser state a later read needs (Codex: model and running totals).
    db.execute(
        """
        CREATE TABLE import_state (
            path TEXT PRIMARY KEY,
            kind TEXT NOT NULL,               -- claude-code | codex
            inode INTEGER NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            offset INTEGER NOT NULL,          -- bytes consumed: always the end of a whole line
            head_hash TEXT NOT NULL,
            context TEXT NOT NULL,            -- JSON object
            updated_at INTEGER NOT NULL       -- epoch milliseconds UTC
        ) WITHOUT ROWID
        """
    )


@migrations(name="0004_rollup_by_dimension")
def m0004(db: Database) -> None:
    # One row per (dimension, key, quarter-hour): the dashboard's unfiltered and single-filter
    # summaries read ~tens of rows per bucket here instead of every key combination.
    db.execute(
        """
        CREATE TABLE rollup_dim (
            dim TEXT NOT NULL,                -- project|model|provider|agent|source|total
            bucket INTEGER NOT NULL,
            key TEXT NOT NULL,
            calls INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            PRIMARY KEY (dim, bucket, key)
        ) WITHOUT ROWID
        """
    )
    sums = (
        "sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nanos), sum(unpriced_calls)"
    )
    for dim in ("project", "model", "provider", "agent", "source"):
        db.execute(
            f"INSERT INTO rollup_dim SELECT '{dim}', bucket, {dim}, {sums} "
            f"FROM rollup GROUP BY bucket, {dim}"
        )
    db.execute(
        f"INSERT INTO rollup_dim SELECT 'total', bucket, '', {sums} FROM rollup GROUP BY bucket"
    )


@migrations(name="0005_rollup_fold_mark")
def m0005(db: Database) -> None:
    # From here on ingest only inserts events and the writer folds them into the rollups
    # afterwards (store.fold); every event stored so far is in the rollups already.
    db.execute(
        "INSERT INTO meta (key, value) "
        "SELECT 'rollup_folded_id', CAST(coalesce(max(id), 0) AS TEXT) FROM events"
    )


@migrations(name="0006_prices_used")
def m0006(db: Database) -> None:
    # Every event kept the price it was costed with in five columns, the same strings on every
    # event priced alike — about half of a row's bytes. One row per distinct price now, and
    # the event refers to it by id: the file is about half the size and inserts are cheaper.
    db.execute(
        """
        CREATE TABLE prices_used (
            id INTEGER PRIMARY KEY,
            price_model TEXT NOT NULL,
            price_provider TEXT NOT NULL,
            unit_prices TEXT NOT NULL,        -- JSON: price key -> USD per unit block
            price_source TEXT NOT NULL,
            price_date TEXT
        )
        """
    )
    db.execute(
        "CREATE INDEX prices_used_fields ON prices_used "
        "(price_model, price_provider, unit_prices, price_source, price_date)"
    )
    db.execute(
        "INSERT INTO prices_used (price_model, price_provider, unit_prices, price_source, "
        "price_date) SELECT DISTINCT price_model, price_provider, unit_prices, price_source, "
        "price_date FROM events WHERE price_model IS NOT NULL"
    )
    db.execute("ALTER TABLE events ADD COLUMN price_id INTEGER REFERENCES prices_used (id)")
    db.execute(
        "UPDATE events SET price_id = (SELECT p.id FROM prices_used p "
        "WHERE p.price_model = events.price_model AND p.price_provider = events.price_provider "
        "AND p.unit_prices = events.unit_prices AND p.price_source = events.price_source "
        "AND p.price_date IS events.price_date) WHERE price_model IS NOT NULL"
    )
    for column in ("price_model", "price_provider", "unit_prices", "price_source", "price_date"):
        db.execute(f"ALTER TABLE events DROP COLUMN {column}")


@migrations(name="0007_machine")
def m0007(db: Database) -> None:
    # Every event names the machine it was first stored on (SPEC §14). Events stored before
    # carry this machine's name: the opener puts it in meta before migrating.
    row = db.execute("SELECT value FROM meta WHERE key = 'machine'").fetchone()
    from spendtray.machine import default_machine_name

    name = row[0] if row is not None else default_machine_name()
    db.execute("ALTER TABLE events ADD COLUMN machine TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE events SET machine = ?", [name])
    # The rollup key gains the machine: a new table, the old rows all this machine's.
    sums = (
        "calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "reasoning_tokens, cost_nanos, unpriced_calls"
    )
    db.execute(
        """
        CREATE TABLE rollup_new (
            bucket INTEGER NOT NULL,
            project TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            agent TEXT NOT NULL,
            source TEXT NOT NULL,
            machine TEXT NOT NULL,
            calls INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            PRIMARY KEY (bucket, project, model, provider, agent, source, machine)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        f"INSERT INTO rollup_new SELECT bucket, project, model, provider, agent, source, ?, "
        f"{sums} FROM rollup",
        [name],
    )
    db.execute("DROP TABLE rollup")
    db.execute("ALTER TABLE rollup_new RENAME TO rollup")
    db.execute(
        f"INSERT INTO rollup_dim (dim, bucket, key, {sums}) "
        f"SELECT 'machine', bucket, ?, {sums} FROM rollup_dim WHERE dim = 'total'",
        [name],
    )


@migrations(name="0008_limits")
def m0008(db: Database) -> None:
    # Subscription-window observations (SPEC §12). A row per distinct reading; a reading equal
    # to the window's latest only moves that row's observed_at forward (the statusline repeats
    # itself every few seconds). The latest row per (provider, account, window) is the answer.
    db.execute(
        """
        CREATE TABLE limit_observations (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,           -- anthropic | openai | ...
            account TEXT NOT NULL,            -- subscription | api | a name the sender gave
            window_name TEXT NOT NULL,        -- five_hour | seven_day | primary | requests ...
            window_minutes INTEGER,           -- NULL when the sender did not say
            used_percent REAL NOT NULL,
            resets_at INTEGER,                -- epoch seconds UTC, NULL when unknown
            observed_at INTEGER NOT NULL,     -- epoch milliseconds UTC
            source TEXT NOT NULL,             -- official | estimated
            origin TEXT NOT NULL              -- statusline | codex | proxy | api
        )
        """
    )
    db.execute(
        "CREATE INDEX limit_observations_key "
        "ON limit_observations (provider, account, window_name, observed_at)"
    )
    # Window alerts already delivered, like budget_alerts: once per window instance (its
    # resets_at) and threshold, across restarts.
    db.execute(
        """
        CREATE TABLE limit_alerts (
            provider TEXT NOT NULL,
            account TEXT NOT NULL,
            window_name TEXT NOT NULL,
            resets_at INTEGER NOT NULL,       -- epoch seconds UTC of the window instance's end
            threshold REAL NOT NULL,
            fired_at INTEGER NOT NULL,        -- epoch milliseconds UTC
            delivered INTEGER NOT NULL,       -- 0 when notifications were paused or off
            text TEXT NOT NULL,
            PRIMARY KEY (provider, account, window_name, resets_at, threshold)
        ) WITHOUT ROWID
        """
    )
    # The running cost an agent reports for its own session (Claude Code's statusline JSON
    # carries cost.total_cost_usd). Kept apart from events: the same calls arrive as events
    # from the logs, so adding this to spend would count them twice.
    db.execute(
        """
        CREATE TABLE agent_sessions (
            agent TEXT NOT NULL,
            session TEXT NOT NULL,
            project TEXT NOT NULL,
            model TEXT,
            cost_nanos INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,      -- epoch milliseconds UTC
            PRIMARY KEY (agent, session)
        ) WITHOUT ROWID
        """
    )


@migrations(name="0009_sources")
def m0009(db: Database) -> None:
    # Bad lines per agent log file, so `spendtray sources` can say how many and the last
    # problem without re-reading anything. Counts restart when a file is read from the start.
    db.execute("ALTER TABLE import_state ADD COLUMN malformed INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE import_state ADD COLUMN problem TEXT")


@migrations(name="0010_hardening_bounds")
def m0010(db: Database) -> None:
    # Before the ingest bounds (ingest.bounds), one event could cost more than any sum can
    # hold: thirteen made every rollup fold, summary and budget read fail with "integer
    # overflow", for good. Such events keep their tokens but lose the cost no call can have;
    # the rollups are then rebuilt from the events (the writer folds everything above id 0).
    # The numbers are the bounds as they were when this shipped: $10,000 a call, 10^12 tokens.
    fields = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    out_of_bounds = " OR ".join(
        ["cost_nanos > 10000000000000", *(f"{f} > 1000000000000" for f in fields)]
    )
    changed = db.execute(
        "UPDATE events SET cost_nanos = NULL, priced = 0, price_id = NULL, "
        "unpriced_reason = 'out of bounds: stored before Spendtray bounded what one call may "
        f"count and cost' WHERE {out_of_bounds}"
    ).rowcount
    if changed:
        db.execute("DELETE FROM rollup")
        db.execute("DELETE FROM rollup_dim")
        db.execute("UPDATE meta SET value = '0' WHERE key = 'rollup_folded_id'")


@migrations(name="0011_reprice")
def m0011(db: Database) -> None:
    # `spendtray reprice --apply` rewrites an event's price on purpose; the price it had is kept
    # here, one row per event and run, so history can always say what changed and when.
    db.execute(
        """
        CREATE TABLE reprices (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL REFERENCES events (id),
            repriced_at INTEGER NOT NULL,     -- epoch milliseconds UTC
            old_provider TEXT NOT NULL,       -- "unknown" can become the override's provider
            old_cost_nanos INTEGER,
            old_priced INTEGER NOT NULL,
            old_unpriced_reason TEXT,
            old_price_id INTEGER REFERENCES prices_used (id),
            new_cost_nanos INTEGER,
            new_priced INTEGER NOT NULL,
            new_unpriced_reason TEXT,
            new_price_id INTEGER REFERENCES prices_used (id)
        )
        """
    )
    db.execute("CREATE INDEX reprices_event ON reprices (event_id)")


@migrations(name="0012_speed")
def m0012(db: Database) -> None:
    # Nothing reads events by (project, ts) any more that the ts index does not serve as well
    # (summaries read rollups, and raw events only over minutes at a range's edges), and with
    # timestamps spread over months every insert paid a random-position entry in it: dropping
    # it took a 1,000-event insert from ~60 to ~30 ms at 150k stored events (bench/ingest.py).
    db.execute("DROP INDEX IF EXISTS events_project_ts")


@migrations(name="0012_speed_rollup_day")
def m0012_day(db: Database) -> None:
    # Per-dimension sums by UTC day beside the quarter-hour ones (store.fold): a summary over
    # 91 days by project read ~175,000 quarter-hour rows (~116 ms with 1M events); whole days
    # now come from here and only the partial days at the edges from rollup_dim.
    db.execute(
        """
        CREATE TABLE rollup_day (
            dim TEXT NOT NULL,                -- as rollup_dim.dim
            day INTEGER NOT NULL,             -- epoch seconds of the UTC day's start
            key TEXT NOT NULL,
            calls INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            PRIMARY KEY (dim, day, key)
        ) WITHOUT ROWID
        """
    )
    sums = (
        "sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nanos), sum(unpriced_calls)"
    )
    db.execute(
        f"INSERT INTO rollup_day SELECT dim, bucket / 86400 * 86400, key, {sums} "
        "FROM rollup_dim GROUP BY 1, 2, 3"
    )


@migrations(name="0015_call_keys")
def m0015(db: Database) -> None:
    # A second identity for a call that reaches Spendtray by two ways that share no id (an
    # agent's OTLP telemetry and its log files): see spendtray.ingest.call_keys.
    db.execute("ALTER TABLE events ADD COLUMN call_key TEXT")
    db.execute("CREATE INDEX events_call_key ON events (call_key) WHERE call_key IS NOT NULL")


@migrations(name="0016_sync")
def m0016(db: Database) -> None:
    # Sync folder (SPEC §14). ``origin`` is the id of the machine an event came from through the
    # sync folder (NULL: stored here first, so this machine's to export).
    db.execute("ALTER TABLE events ADD COLUMN origin TEXT")
    # Other machines' files read so far: where to go on, and the last line's check to notice a
    # file that a sync tool replaced under the same name.
    db.execute(
        """
        CREATE TABLE sync_files (
            path TEXT PRIMARY KEY,            -- relative to the sync folder
            machine_id TEXT NOT NULL,
            offset INTEGER NOT NULL,
            last_line_crc TEXT NOT NULL,
            bad_lines INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL       -- epoch milliseconds UTC
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE sync_machines (
            machine_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            exported_at INTEGER,              -- epoch ms: their manifest's last write
            received_at INTEGER,              -- epoch ms: when we last took records from them
            records INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID
        """
    )


@migrations(name="0017_rollups_by_hour_and_day")
def m0017(db: Database) -> None:
    # With timestamps spread over months, folding an event cost ~15 upserts into quarter-hour
    # tables (``rollup`` by full key, ``rollup_dim`` per dimension) that outgrew the writer's
    # page cache at a million events. Hours and days replace quarter-hours (store.fold): every
    # whole-hour zone's hours, days, weeks and months are whole UTC hours, and the minutes a
    # range or a half-hour zone's day cuts off an hour come from the events; per-dimension
    # hours are kept for the total and projects only. The new tables are sums of the old
    # ones, so the folded mark stays as it is.
    sums = (
        "calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
        "cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL, "
        "reasoning_tokens INTEGER NOT NULL, cost_nanos INTEGER NOT NULL, "
        "unpriced_calls INTEGER NOT NULL"
    )
    summed = (
        "sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nanos), sum(unpriced_calls)"
    )
    keys = "project, model, provider, agent, source, machine"
    key_columns = ", ".join(f"{name} TEXT NOT NULL" for name in keys.split(", "))
    db.execute(
        f"""
        CREATE TABLE rollup_hour (
            dim TEXT NOT NULL,                -- total|project (store.fold.HOUR_DIMS)
            hour INTEGER NOT NULL,            -- epoch seconds of the UTC hour's start
            key TEXT NOT NULL,                -- '' for total
            {sums},
            PRIMARY KEY (dim, hour, key)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        f"INSERT INTO rollup_hour SELECT dim, bucket / 3600 * 3600, key, {summed} "
        "FROM rollup_dim WHERE dim IN ('total', 'project') GROUP BY 1, 2, 3"
    )
    for period in ("hour", "day"):
        db.execute(
            f"""
            CREATE TABLE rollup_key_{period} (
                {period} INTEGER NOT NULL,    -- epoch seconds of the UTC {period}'s start
                {key_columns},
                {sums},
                PRIMARY KEY ({period}, {keys})
            ) WITHOUT ROWID
            """
        )
    db.execute(
        f"INSERT INTO rollup_key_hour SELECT bucket / 3600 * 3600, {keys}, {summed} "
        "FROM rollup GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    db.execute(
        f"INSERT INTO rollup_key_day SELECT hour / 86400 * 86400, {keys}, {summed} "
        "FROM rollup_key_hour GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    db.execute("DROP TABLE rollup")
    db.execute("DROP TABLE rollup_dim")


@migrations(name="0018_rollup_recent")
def m0018(db: Database) -> None:
    # Each project's quarter-hours over the last two days (store.fold.RECENT_SECONDS), for the
    # runaway alarm's trailing day: read from the events it took ~0.4 s a project with 1M
    # events. Filled from the folded events; the writer moves its start on as time passes.
    import time

    db.execute(
        """
        CREATE TABLE rollup_recent (
            bucket INTEGER NOT NULL,          -- epoch seconds of the quarter-hour's start, UTC
            project TEXT NOT NULL,
            calls INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            PRIMARY KEY (bucket, project)
        ) WITHOUT ROWID
        """
    )
    start = int(time.time() - 2 * 86_400) // 900 * 900
    db.execute(
        "INSERT INTO rollup_recent SELECT ts / 1000 / 900 * 900, project, count(*), "
        "sum(coalesce(cost_nanos, 0)) FROM events WHERE ts >= ? "
        "AND id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup_folded_id') "
        "GROUP BY 1, 2",
        [start * 1000],
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('rollup_recent_from', ?)", [str(start)])


@migrations(name="0019_rollup_key_hour_by_project")
def m0019(db: Database) -> None:
    # One project's hours are a range of rollup_key_hour once it is keyed by project first,
    # so rollup_hour's per-project rows go: a fold writes one row per event fewer (store.fold).
    keys = "hour, project, model, provider, agent, source, machine"
    sums = (
        "calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "reasoning_tokens, cost_nanos, unpriced_calls"
    )
    columns = ", ".join(f"{name} TEXT NOT NULL" for name in keys.split(", ")[1:])
    db.execute(
        f"""
        CREATE TABLE rollup_key_hour_new (
            hour INTEGER NOT NULL,            -- epoch seconds of the UTC hour's start
            {columns},
            {", ".join(f"{name} INTEGER NOT NULL" for name in sums.split(", "))},
            PRIMARY KEY (project, hour, model, provider, agent, source, machine)
        ) WITHOUT ROWID
        """
    )
    db.execute(f"INSERT INTO rollup_key_hour_new SELECT {keys}, {sums} FROM rollup_key_hour")
    db.execute("DROP TABLE rollup_key_hour")
    db.execute("ALTER TABLE rollup_key_hour_new RENAME TO rollup_key_hour")
    db.execute("DELETE FROM rollup_hour WHERE dim = 'project'")


@migrations(name="0020_rollups_by_quarter")
def m0020(db: Database) -> None:
    # Hours were too coarse for the zones half or three quarters of an hour off UTC (India,
    # Nepal, Newfoundland, central Australia ...): every hour of theirs cut two UTC hours, read
    # from the events — a summary by hour over three months read every event (4 s at 1M).
    # Full-key and total rows per quarter-hour instead, rebuilt from the folded events.
    sums = (
        "calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "reasoning_tokens, cost_nanos, unpriced_calls"
    )
    summed = (
        "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(coalesce(cost_nanos, 0)), "
        "sum(1 - priced)"
    )
    sum_columns = ", ".join(f"{name} INTEGER NOT NULL" for name in sums.split(", "))
    keys = "project, model, provider, agent, source, machine"
    key_columns = ", ".join(f"{name} TEXT NOT NULL" for name in keys.split(", "))
    folded = "id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup_folded_id')"
    db.execute(
        f"""
        CREATE TABLE rollup_key_quarter (
            bucket INTEGER NOT NULL,          -- epoch seconds of the UTC quarter-hour's start
            {key_columns},
            {sum_columns},
            PRIMARY KEY (project, bucket, model, provider, agent, source, machine)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        f"INSERT INTO rollup_key_quarter SELECT ts / 1000 / 900 * 900, {keys}, {summed} "
        f"FROM events WHERE {folded} GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    db.execute(
        f"""
        CREATE TABLE rollup_quarter (
            dim TEXT NOT NULL,                -- total (store.fold.QUARTER_DIMS)
            bucket INTEGER NOT NULL,          -- epoch seconds of the UTC quarter-hour's start
            key TEXT NOT NULL,
            {sum_columns},
            PRIMARY KEY (dim, bucket, key)
        ) WITHOUT ROWID
        """
    )
    totals = ", ".join(f"sum({name})" for name in sums.split(", "))
    db.execute(
        f"INSERT INTO rollup_quarter SELECT 'total', bucket, '', {totals} "
        "FROM rollup_key_quarter GROUP BY bucket"
    )
    db.execute("DROP TABLE rollup_key_hour")
    db.execute("DROP TABLE rollup_hour")


@migrations(name="0021_events_time")
def m0021(db: Database) -> None:
    # The time index leaves the insert path (store.timed): with timestamps spread over months
    # each new entry of ``events_ts`` went to a random page, one more page per event written
    # to the WAL at COMMIT and again at the checkpoint. ``events_time`` holds the folded
    # events only; store.fold adds each fold's, sorted by time. Filled in the old index's
    # order, so each page is written once.
    db.execute(
        """
        CREATE TABLE events_time (
            ts INTEGER NOT NULL,              -- events.ts, epoch milliseconds UTC
            id INTEGER NOT NULL,              -- events.id
            PRIMARY KEY (ts, id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "INSERT INTO events_time (ts, id) SELECT ts, id FROM events INDEXED BY events_ts "
        "WHERE id <= coalesce((SELECT CAST(value AS INTEGER) FROM meta "
        "WHERE key = 'rollup_folded_id'), 0) ORDER BY ts, id"
    )
    db.execute("DROP INDEX events_ts")
