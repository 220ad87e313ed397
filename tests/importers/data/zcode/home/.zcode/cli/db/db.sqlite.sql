-- ZCode's cli/db/db.sqlite: the session and model_usage tables (built by the tests into
-- db.sqlite beside this file). input_tokens holds the cached parts, as OpenAI counts.
CREATE TABLE session (
    id TEXT PRIMARY KEY,
    title TEXT,
    directory TEXT,
    created_at INTEGER,
    updated_at INTEGER
);
CREATE TABLE model_usage (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    message_id TEXT,
    provider_id TEXT,
    model_id TEXT,
    status TEXT,
    started_at INTEGER,
    completed_at INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    reasoning_tokens INTEGER,
    cache_creation_input_tokens INTEGER,
    cache_read_input_tokens INTEGER,
    computed_total_tokens INTEGER
);
INSERT INTO session VALUES ('ses_7f3a', 'Fix the parser', '/home/dev/src/shop', 1763888400000,
    1763892000000);
INSERT INTO session VALUES ('ses_8b4c', 'Docs', '/home/dev/src/docs', 1763974800000,
    1763975400000);
-- 2025-11-23 09:00 UTC onwards
INSERT INTO model_usage VALUES ('mu_01', 'ses_7f3a', 'msg_01', 'zai', 'glm-4.6', 'completed',
    1763888400123, 1763888406000, 16507, 59, 0, 0, 11712, 16566);
INSERT INTO model_usage VALUES ('mu_02', 'ses_7f3a', 'msg_02', 'zai', 'glm-4.6', 'completed',
    1763888460000, 1763888470000, 18230, 412, 0, 1024, 16384, 18642);
INSERT INTO model_usage VALUES ('mu_03', 'ses_7f3a', 'msg_03', 'zai', 'glm-4.6', 'error',
    1763888500000, NULL, 0, 0, 0, 0, 0, 0);
INSERT INTO model_usage VALUES ('mu_04', 'ses_7f3a', 'msg_04', 'zai', 'glm-4.6', 'cancelled',
    1763888600000, NULL, 0, 0, 0, 0, 0, 0);
-- 2025-11-24 09:00 UTC, another project
INSERT INTO model_usage VALUES ('mu_05', 'ses_8b4c', 'msg_05', 'zai', 'glm-4.6', 'completed',
    1763974800000, 1763974812000, 9120, 1840, 0, 0, 0, 10960);
