"""Subscription-window rows in SQLite: observations, delivered window alerts, agent-reported
session costs, and the event rows the 5-hour block estimate reads. Runs on the caller's thread.

Writes take the connection of a transaction the caller owns (the writer thread through
``Writer.call`` in a running app, a short-lived write connection in the CLI); reads take any
connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from spendtray.limits.model import Observation
from spendtray.store.timed import between

_COLUMNS = (
    "provider, account, window_name, window_minutes, used_percent, resets_at, observed_at, "
    "source, origin"
)
# A reset time that moved by less than this is the same window (Codex jitters by a second).
SAME_WINDOW_SECONDS = 600
RESET_JITTER_SECONDS = 5
# History is thinned: a reading that moved less than this from its window's latest row, within
# the same window instance and ``THIN_SECONDS`` of it, replaces that row instead of adding one
# (the statusline repeats 23.5, 23.6, 23.8 … every few seconds). API-key buckets refill all the
# time and keep no history at all: their one row is updated.
THIN_PERCENT = 1.0
THIN_SECONDS = 10 * 60


def same_reset(a: int | None, b: int | None) -> bool:
    """Two reset times of one reading: Codex writes the same reset a second apart."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= RESET_JITTER_SECONDS


def _replaces(latest: tuple[object, ...], obs: Observation) -> bool:
    """Whether ``obs`` updates its window's ``latest`` row in place (see ``THIN_PERCENT``)."""
    _, minutes, used, resets, observed, source = latest
    if obs.observed_at <= int(observed) or source != obs.source:  # type: ignore[call-overload]
        return False
    if obs.account == "api":
        return True
    return (
        minutes == obs.window_minutes
        and abs(float(used) - obs.used_percent) < THIN_PERCENT  # type: ignore[arg-type]
        and same_reset(resets, obs.resets_at)  # type: ignore[arg-type]
        and obs.observed_at - int(observed) < THIN_SECONDS * 1000  # type: ignore[call-overload]
    )


def record_observations(conn: sqlite3.Connection, observations: Iterable[Observation]) -> int:
    """Store readings; returns how many new rows. A reading equal to its window's latest only
    moves that row's ``observed_at`` forward, a small step replaces it (``THIN_PERCENT``); one
    already stored is ignored (a re-import)."""
    added = 0
    for obs in observations:
        latest = conn.execute(
            "SELECT id, window_minutes, used_percent, resets_at, observed_at, source "
            "FROM limit_observations WHERE provider = ? AND account = ? AND window_name = ? "
            "ORDER BY observed_at DESC LIMIT 1",
            obs.key,
        ).fetchone()
        if (
            latest is not None
            and (latest[1], latest[2], latest[5])
            == (obs.window_minutes, obs.used_percent, obs.source)
            and same_reset(latest[3], obs.resets_at)
        ):
            if obs.observed_at > latest[4]:
                conn.execute(
                    "UPDATE limit_observations SET observed_at = ?, origin = ? WHERE id = ?",
                    (obs.observed_at, obs.origin, latest[0]),
                )
            continue
        if latest is not None and _replaces(tuple(latest), obs):
            conn.execute(
                "UPDATE limit_observations SET window_minutes = ?, used_percent = ?, "
                "resets_at = ?, observed_at = ?, origin = ? WHERE id = ?",
                (
                    obs.window_minutes,
                    obs.used_percent,
                    obs.resets_at,
                    obs.observed_at,
                    obs.origin,
                    latest[0],
                ),
            )
            continue
        seen = conn.execute(
            "SELECT 1 FROM limit_observations WHERE provider = ? AND account = ? "
            "AND window_name = ? AND observed_at = ? AND used_percent = ? "
            "AND resets_at IS ? LIMIT 1",
            (*obs.key, obs.observed_at, obs.used_percent, obs.resets_at),
        ).fetchone()
        if seen is not None:
            continue
        conn.execute(
            f"INSERT INTO limit_observations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                obs.provider,
                obs.account,
                obs.window,
                obs.window_minutes,
                obs.used_percent,
                obs.resets_at,
                obs.observed_at,
                obs.source,
                obs.origin,
            ),
        )
        added += 1
    return added


def _observation(row: tuple[object, ...]) -> Observation:
    provider, account, window, minutes, used, resets, observed, source, origin = row
    return Observation(
        provider=str(provider),
        account=str(account),
        window=str(window),
        window_minutes=None if minutes is None else int(minutes),  # type: ignore[call-overload]
        used_percent=float(used),  # type: ignore[arg-type]
        resets_at=None if resets is None else int(resets),  # type: ignore[call-overload]
        observed_at=int(observed),  # type: ignore[call-overload]
        source=str(source),
        origin=str(origin),
    )


def latest_observations(conn: sqlite3.Connection) -> list[Observation]:
    """The newest reading of every window, ordered by provider, account, window."""
    # SQLite takes the bare columns of an aggregate query from the row holding max().
    rows = conn.execute(
        "SELECT provider, account, window_name, window_minutes, used_percent, resets_at, "
        "max(observed_at), source, origin FROM limit_observations "
        "GROUP BY provider, account, window_name ORDER BY provider, account, window_name"
    )
    return [_observation(r) for r in rows]


def observation_history(
    conn: sqlite3.Connection, provider: str, account: str, window: str, since_ms: int
) -> list[Observation]:
    """Every reading of one window since ``since_ms``, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM limit_observations WHERE provider = ? AND account = ? "
        "AND window_name = ? AND observed_at >= ? ORDER BY observed_at",
        (provider, account, window, since_ms),
    )
    return [_observation(r) for r in rows]


def claim_limit_alert(
    conn: sqlite3.Connection,
    obs: Observation,
    threshold: float,
    text: str,
    now_ms: int,
    delivered: bool,
) -> bool:
    """Record that ``threshold`` fired for this window instance; False when it had already
    fired for it (a reset time within ``SAME_WINDOW_SECONDS`` is the same instance)."""
    resets = obs.resets_at if obs.resets_at is not None else 0
    seen = conn.execute(
        "SELECT 1 FROM limit_alerts WHERE provider = ? AND account = ? AND window_name = ? "
        "AND threshold = ? AND resets_at BETWEEN ? AND ? LIMIT 1",
        (*obs.key, threshold, resets - SAME_WINDOW_SECONDS, resets + SAME_WINDOW_SECONDS),
    ).fetchone()
    if seen is not None:
        return False
    conn.execute(
        "INSERT OR IGNORE INTO limit_alerts (provider, account, window_name, resets_at, "
        "threshold, fired_at, delivered, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (*obs.key, resets, threshold, now_ms, 1 if delivered else 0, text),
    )
    return True


def fired_limit_alerts(conn: sqlite3.Connection) -> list[dict[str, object]]:
    """Window-alert history, newest first."""
    names = ("provider", "account", "window", "resets_at", "threshold", "fired_at", "delivered")
    rows = conn.execute(
        "SELECT provider, account, window_name, resets_at, threshold, fired_at, delivered, text "
        "FROM limit_alerts ORDER BY fired_at DESC, threshold DESC"
    )
    out: list[dict[str, object]] = []
    for r in rows:
        row: dict[str, object] = dict(zip(names, r[:7], strict=True))
        row["text"] = r[7]
        out.append(row)
    return out


def put_agent_session(
    conn: sqlite3.Connection,
    agent: str,
    session: str,
    project: str,
    model: str | None,
    cost_nanos: int,
    now_ms: int,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO agent_sessions (agent, session, project, model, cost_nanos, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (agent, session, project, model, cost_nanos, now_ms),
    )


def agent_session_cost(conn: sqlite3.Connection, agent: str, session: str) -> int | None:
    row = conn.execute(
        "SELECT cost_nanos FROM agent_sessions WHERE agent = ? AND session = ?", (agent, session)
    ).fetchone()
    return None if row is None else int(row[0])


def block_usage_rows(
    conn: sqlite3.Connection, source: str, since_ms: int, until_ms: int | None = None
) -> list[tuple[int, int, int, int, int, int, str]]:
    """(ts ms, uncached input, output, cache write, cache read, cost nanos or 0, model) of one
    source's events, oldest first: what the 5-hour block estimate sums."""
    selected, params = between(
        "{ts} AS ts, {id} AS id, e.input_tokens - e.cache_read_tokens - e.cache_write_tokens, "
        "e.output_tokens, e.cache_write_tokens, e.cache_read_tokens, "
        "coalesce(e.cost_nanos, 0), e.model",
        "source = ?",
        [source],
        since_ms,
        until_ms,
        ordered=True,
    )
    return [
        (r[0], *r[2:])  # type: ignore[misc]
        for r in conn.execute(f"{selected} ORDER BY ts, id", params)
    ]
