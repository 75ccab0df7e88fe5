-- gpuq schema, version 3: notifications (issue 5).
--
-- Two-stage outbox. A state change that someone may want to hear about (a run started or
-- ended, a node went away or came back, a GPU sat idle) records a row in notify_events in
-- the same transaction as the change, so a master killed at any moment neither loses nor
-- repeats it. The master's notifier turns each event, once, into one notifications row per
-- recipient (rendered message included) and marks the event dispatched in that same
-- transaction; then it delivers the rows, retrying with backoff, and marks a row sent in the
-- statement that follows the SMTP/HTTP server's acceptance.

-- Where a user's task e-mails go ('' = none). Per-user default of a task's `notify` is the
-- existing users.notify_default.
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- Admin-configured recipients: webhooks (Slack, DingTalk, Feishu/Lark or generic JSON) and
-- e-mail addresses, each with the events it wants (a JSON array of event names).
CREATE TABLE notify_targets (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL DEFAULT '',
  kind        TEXT    NOT NULL CHECK (kind IN ('webhook', 'email')),
  address     TEXT    NOT NULL,  -- the URL, or the e-mail address
  format      TEXT    NOT NULL DEFAULT 'generic'
                CHECK (format IN ('generic', 'slack', 'dingtalk', 'feishu')),
  events_json TEXT    NOT NULL DEFAULT '[]',
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE notify_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT    NOT NULL CHECK (kind IN ('run_started', 'run_ended', 'node_down',
                  'node_up', 'gpu_idle')),
  facts_json    TEXT    NOT NULL DEFAULT '{}',  -- ids and what is not in other tables
  created_at    INTEGER NOT NULL,
  dispatched_at INTEGER                         -- NULL until turned into notifications
);
CREATE INDEX notify_events_undispatched ON notify_events(id) WHERE dispatched_at IS NULL;

CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        INTEGER REFERENCES notify_events(id) ON DELETE SET NULL,
  event           TEXT    NOT NULL,  -- run_started, run_ended, task_failed, ..., test
  channel         TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
  target_id       INTEGER REFERENCES notify_targets(id) ON DELETE SET NULL,  -- NULL: a user
  recipient       TEXT    NOT NULL,  -- e-mail address or URL
  format          TEXT    NOT NULL DEFAULT '',
  subject         TEXT    NOT NULL DEFAULT '',
  body            TEXT    NOT NULL,  -- the e-mail text, or the JSON payload
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT    NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX notifications_status_next ON notifications(status, next_attempt_at);
