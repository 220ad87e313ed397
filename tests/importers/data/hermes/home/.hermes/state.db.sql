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
-- 2025-11-21 09:00:00.25 UTC, Anthropic, cost Hermes computed from its own rates.
INSERT INTO sessions (id, source, model, started_at, ended_at, message_count, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, billing_provider,
    estimated_cost_usd, actual_cost_usd, cost_status)
VALUES ('20251121_090000_a1b2c3', 'cli', 'claude-sonnet-4-5-20250929', 1763715600.25, 1763716800,
    24, 18250, 3120, 142336, 20480, 0, 'anthropic', 0.2110018, NULL, 'estimated');
-- 2025-11-21 15:30 UTC, OpenAI, reasoning apart from output, an actual cost.
INSERT INTO sessions (id, source, model, started_at, message_count, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, billing_provider,
    estimated_cost_usd, actual_cost_usd, cost_status)
VALUES ('20251121_153000_d4e5f6', 'telegram', 'gpt-5', 1763739000, 9, 40210, 2280, 12800, 0,
    1536, 'openai-codex', 0.0901, 0.0923375, 'actual');
-- 2025-11-22 08:05 UTC, no cost recorded: priced from the tokens.
INSERT INTO sessions (id, source, model, started_at, message_count, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, billing_provider)
VALUES ('20251122_080500_0a9b8c', 'cli', 'claude-sonnet-4-5-20250929', 1763798700, 6, 5400, 960,
    30720, 4096, 0, 'anthropic');
-- A session that never called a model.
INSERT INTO sessions (id, source, model, started_at, message_count)
VALUES ('20251122_081000_ffffff', 'cli', NULL, 1763799000, 0);
