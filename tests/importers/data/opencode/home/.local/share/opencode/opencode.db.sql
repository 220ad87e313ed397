-- OpenCode 1.2+'s opencode.db: its project, session, message and part tables as OpenCode's
-- drizzle schema makes them (message and part documents as JSON in data, without the id and
-- sessionID that are their columns), built by the tests into opencode.db beside this file.
-- ses_4a1b2c3d's messages were migrated here from storage/message/ (the files stay): the same
-- ids, so counted once. msg_b4 is a reply still streaming (no tokens yet). The 1.2 rows carry
-- tokens.total = input + cache + output + reasoning: their reasoning is apart from output.
PRAGMA journal_mode = WAL;
CREATE TABLE `project` (
	`id` text PRIMARY KEY,
	`worktree` text NOT NULL,
	`vcs` text,
	`name` text,
	`icon_url` text,
	`icon_color` text,
	`time_created` integer NOT NULL,
	`time_updated` integer NOT NULL,
	`time_initialized` integer,
	`sandboxes` text NOT NULL
);
CREATE TABLE `session` (
	`id` text PRIMARY KEY,
	`project_id` text NOT NULL,
	`parent_id` text,
	`slug` text NOT NULL,
	`directory` text NOT NULL,
	`title` text NOT NULL,
	`version` text NOT NULL,
	`share_url` text,
	`summary_additions` integer,
	`summary_deletions` integer,
	`summary_files` integer,
	`summary_diffs` text,
	`revert` text,
	`permission` text,
	`time_created` integer NOT NULL,
	`time_updated` integer NOT NULL,
	`time_compacting` integer,
	`time_archived` integer,
	CONSTRAINT `fk_session_project_id_project_id_fk` FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON DELETE CASCADE
);
CREATE TABLE `message` (
	`id` text PRIMARY KEY,
	`session_id` text NOT NULL,
	`time_created` integer NOT NULL,
	`time_updated` integer NOT NULL,
	`data` text NOT NULL,
	CONSTRAINT `fk_message_session_id_session_id_fk` FOREIGN KEY (`session_id`) REFERENCES `session`(`id`) ON DELETE CASCADE
);
CREATE TABLE `part` (
	`id` text PRIMARY KEY,
	`message_id` text NOT NULL,
	`session_id` text NOT NULL,
	`time_created` integer NOT NULL,
	`time_updated` integer NOT NULL,
	`data` text NOT NULL,
	CONSTRAINT `fk_part_message_id_message_id_fk` FOREIGN KEY (`message_id`) REFERENCES `message`(`id`) ON DELETE CASCADE
);
CREATE INDEX `session_project_idx` ON `session` (`project_id`);
CREATE INDEX `session_parent_idx` ON `session` (`parent_id`);
CREATE INDEX `message_session_idx` ON `message` (`session_id`);
CREATE INDEX `part_message_idx` ON `part` (`message_id`);
CREATE INDEX `part_session_idx` ON `part` (`session_id`);

INSERT INTO project VALUES ('b7e1f0c2a9d8', '/home/dev/src/shop', 'git', NULL, NULL, NULL, 1762506000000, 1762760000000, 1762506000000, '[]');
INSERT INTO session VALUES ('ses_4a1b2c3d', 'b7e1f0c2a9d8', NULL, 'calm-river', '/home/dev/src/shop', 'Checkout totals', '1.1.20', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1762506000000, 1762506109000, NULL, NULL);
INSERT INTO session VALUES ('ses_7c1d5e2f', 'b7e1f0c2a9d8', NULL, 'brave-otter', '/home/dev/src/shop', 'Cart refactor', '1.2.6', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1762765200000, 1762855300000, NULL, NULL);
INSERT INTO session VALUES ('ses_7c1e0a9b', 'b7e1f0c2a9d8', 'ses_7c1d5e2f', 'quiet-heron', '/home/dev/src/shop', 'Find callers (@general subagent)', '1.2.6', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1762765500000, 1762765530000, NULL, NULL);

INSERT INTO message VALUES ('msg_01', 'ses_4a1b2c3d', 1762506000000, 1762700000000, '{"role":"user","time":{"created":1762506000000},"agent":"build","model":{"providerID":"anthropic","modelID":"claude-sonnet-4-5-20250929"}}');
INSERT INTO message VALUES ('msg_02', 'ses_4a1b2c3d', 1762506012345, 1762700000000, '{"role":"assistant","time":{"created":1762506012345,"completed":1762506030000},"parentID":"msg_01","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.0216,"tokens":{"input":12,"output":640,"reasoning":0,"cache":{"read":0,"write":4100}},"finish":"tool-calls"}');
INSERT INTO message VALUES ('msg_03', 'ses_4a1b2c3d', 1762506101000, 1762700000000, '{"role":"assistant","time":{"created":1762506101000,"completed":1762506109000},"parentID":"msg_01","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.00441,"tokens":{"input":8,"output":210,"reasoning":0,"cache":{"read":4100,"write":320}},"finish":"stop"}');
INSERT INTO message VALUES ('msg_b0', 'ses_7c1d5e2f', 1762765200000, 1762765200000, '{"role":"user","time":{"created":1762765200000},"agent":"build","model":{"providerID":"anthropic","modelID":"claude-sonnet-4-5-20250929"}}');
INSERT INTO message VALUES ('msg_b1', 'ses_7c1d5e2f', 1762765204000, 1762765231000, '{"role":"assistant","time":{"created":1762765204000,"completed":1762765231000},"parentID":"msg_b0","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.03606,"tokens":{"total":6920,"input":20,"output":900,"reasoning":0,"cache":{"read":0,"write":6000}},"finish":"tool-calls"}');
INSERT INTO message VALUES ('msg_b3', 'ses_7c1e0a9b', 1762765510000, 1762765528000, '{"role":"assistant","time":{"created":1762765510000,"completed":1762765528000},"parentID":"msg_b2u","modelID":"gpt-5","providerID":"openai","mode":"general","agent":"general","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.0141,"tokens":{"total":7640,"input":4200,"output":880,"reasoning":512,"cache":{"read":2048,"write":0}},"finish":"stop"}');
INSERT INTO message VALUES ('msg_b2', 'ses_7c1d5e2f', 1762765540000, 1762765559000, '{"role":"assistant","time":{"created":1762765540000,"completed":1762765559000},"parentID":"msg_b0","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.012936,"tokens":{"total":7634,"input":14,"output":420,"reasoning":0,"cache":{"read":6000,"write":1200}},"finish":"stop"}');
INSERT INTO message VALUES ('msg_b5', 'ses_7c1d5e2f', 1762855200000, 1762855290000, '{"role":"assistant","time":{"created":1762855200000,"completed":1762855290000},"parentID":"msg_b0","modelID":"gpt-5","providerID":"openai","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0.0,"tokens":{"total":13828,"input":9000,"output":1500,"reasoning":256,"cache":{"read":3072,"write":0}},"finish":"stop"}');
INSERT INTO message VALUES ('msg_b4', 'ses_7c1d5e2f', 1762855300000, 1762855300000, '{"role":"assistant","time":{"created":1762855300000},"parentID":"msg_b0","modelID":"claude-sonnet-4-5-20250929","providerID":"anthropic","mode":"build","agent":"build","path":{"cwd":"/home/dev/src/shop","root":"/home/dev/src/shop"},"cost":0,"tokens":{"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}}}');
INSERT INTO part VALUES ('prt_b1a', 'msg_b1', 'ses_7c1d5e2f', 1762765231000, 1762765231000, '{"type":"step-finish","reason":"tool-calls","cost":0.03606,"tokens":{"input":20,"output":900,"reasoning":0,"cache":{"read":0,"write":6000}}}');
