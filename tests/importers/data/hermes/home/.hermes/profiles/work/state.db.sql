-- Hermes Agent's state.db, the columns of its sessions table that carry usage (built by the
-- tests into state.db beside this file).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    user_id TEXT,
    model TEXT,
    model_config TEXT,
    system_prompt TEXT,
    parent_session_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    message_count INTEGER DEFAULT 0,
    tool_call_count INTEGER DEFAULT 0,
    input_tokens INTEGER DEFAULT 0,
    output_tokens INTEGER DEFAULT 0,
    cache_read_tokens INTEGER DEFAULT 0,
    cache_write_tokens INTEGER DEFAULT 0,
    reasoning_tokens INTEGER DEFAULT 0,
    billing_provider TEXT,
    billing_base_url TEXT,
    billing_mode TEXT,
    estimated_cost_usd REAL,
    actual_cost_usd REAL,
    cost_status TEXT,
    cost_source TEXT,
    title TEXT
);
-- The "work" profile: its own session, and a copy of one of the default profile's (stored once).
INSERT INTO sessions (id, source, model, started_at, message_count, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, billing_provider,
    estimated_cost_usd, actual_cost_usd)
VALUES ('20251123_140000_77aa55', 'cli', 'gpt-5', 1763906400, 4, 8800, 610, 0, 0, 512,
    'openai', 0.01732, NULL);
INSERT INTO sessions (id, source, model, started_at, ended_at, message_count, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, billing_provider,
    estimated_cost_usd, actual_cost_usd, cost_status)
VALUES ('20251121_090000_a1b2c3', 'cli', 'claude-sonnet-4-5-20250929', 1763715600.25, 1763716800,
    24, 18250, 3120, 142336, 20480, 0, 'anthropic', 0.2110018, NULL, 'estimated');
