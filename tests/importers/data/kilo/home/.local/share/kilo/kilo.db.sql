-- Kilo CLI's kilo.db: its session and message tables (OpenCode's schema; message documents
-- as JSON in data), built by the tests into kilo.db beside this file.
CREATE TABLE session (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    parent_id TEXT,
    directory TEXT NOT NULL,
    title TEXT NOT NULL,
    time_created INTEGER NOT NULL,
    time_updated INTEGER NOT NULL
);
CREATE TABLE message (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    time_created INTEGER NOT NULL,
    time_updated INTEGER NOT NULL,
    data TEXT NOT NULL
);
INSERT INTO session VALUES ('ses_5k1a', 'prj_1', NULL, '/home/dev/src/shop', 'Refactor', 1764061200000, 1764064800000);
INSERT INTO session VALUES ('ses_5k1b', 'prj_1', 'ses_5k1a', '/home/dev/src/shop', 'Explore (@general subagent)', 1764061500000, 1764061800000);
INSERT INTO message VALUES ('msg_u1', 'ses_5k1a', 1764061200000, 1764061200000, '{"id":"msg_u1","sessionID":"ses_5k1a","role":"user","time":{"created":1764061200000}}');
INSERT INTO message VALUES ('msg_a1', 'ses_5k1a', 1764061204000, 1764061204000, '{"id":"msg_a1","sessionID":"ses_5k1a","role":"assistant","time":{"created":1764061204000,"completed":1764061208000},"parentID":"umsg_a1","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.0591075,"tokens":{"input":12,"output":388,"reasoning":0,"cache":{"read":0,"write":14210}}}');
INSERT INTO message VALUES ('msg_a2', 'ses_5k1a', 1764061260000, 1764061260000, '{"id":"msg_a2","sessionID":"ses_5k1a","role":"assistant","time":{"created":1764061260000,"completed":1764061264000},"parentID":"umsg_a2","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.030561,"tokens":{"input":6,"output":1210,"reasoning":0,"cache":{"read":14210,"write":2048}}}');
INSERT INTO message VALUES ('msg_a3', 'ses_5k1b', 1764061520000, 1764061520000, '{"id":"msg_a3","sessionID":"ses_5k1b","role":"assistant","time":{"created":1764061520000,"completed":1764061524000},"parentID":"umsg_a3","modelID":"gpt-5","providerID":"openai","mode":"general","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.0162,"tokens":{"input":5120,"output":940,"reasoning":640,"cache":{"read":2048,"write":0}}}');
INSERT INTO message VALUES ('msg_a4', 'ses_5k1a', 1764147600000, 1764147600000, '{"id":"msg_a4","sessionID":"ses_5k1a","role":"assistant","time":{"created":1764147600000,"completed":1764147604000},"parentID":"umsg_a4","modelID":"gpt-5","providerID":"openai","mode":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"tokens":{"input":3000,"output":200,"reasoning":0,"cache":{"read":0,"write":0}}}');
