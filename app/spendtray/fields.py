"""Event field names shared by ingest, the database, the client and exports (no imports, so
the client stays light)."""

from __future__ import annotations

# The longest project, agent, user… name an event may carry.
MAX_TEXT = 256

# The parts of cache_write_tokens by cache lifetime; the rollup tables keep only the total.
CACHE_WRITE_TTL_FIELDS = ("cache_write_5m_tokens", "cache_write_1h_tokens")
# Every token count of a usage event (SPEC §5), in the order of TokenCounts and of the events
# table's columns.
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    *CACHE_WRITE_TTL_FIELDS,
    "reasoning_tokens",
)
# Free-text labels of a usage event.
TEXT_FIELDS = ("project", "agent", "user", "session", "trace_id", "request_id", "service_tier")
# Every field a posted usage event may have (SPEC §5).
EVENT_FIELDS = frozenset(
    {
        "model",
        "provider",
        *TOKEN_FIELDS,
        *TEXT_FIELDS,
        "timestamp",
        "batch",
        "cost_usd",
        "latency_ms",
        "status",
        "tags",
        "usage",
        "response",
        "source",
    }
)
