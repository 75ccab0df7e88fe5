-- gpuq schema, version 1.
--
-- Migrations are append-only: a released file is never edited; a change is a new file
-- 0002_..., 0003_..., applied in name order, each in its own transaction, with the file number
-- recorded in PRAGMA user_version (master/store/database.h).
--
-- Conventions: times are Unix milliseconds (INTEGER); booleans are INTEGER 0/1; NULL means
-- "not set" (no constraint, not yet happened). Ids use AUTOINCREMENT so that an id is never
-- reused after a delete: run logs, audit entries and URLs name rows by id.

CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  username       TEXT    NOT NULL UNIQUE,
  password_hash  TEXT    NOT NULL,  -- Argon2id string (master/secrets/password.h)
  role           TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  lang           TEXT    NOT NULL DEFAULT '' CHECK (lang IN ('', 'en', 'zh')),  -- '' = browser's
  notify_default TEXT    NOT NULL DEFAULT 'end' CHECK (notify_default IN ('end', 'failure', 'off')),
  created_at     INTEGER NOT NULL
);

-- The SSH account a user's runs start under, and the private key for it, sealed with
-- DATA/secret.key (master/secrets/secret_box.h). The key itself is never sent back.
CREATE TABLE ssh_credentials (
  user_id            INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  remote_user        TEXT    NOT NULL,
  private_key_sealed BLOB    NOT NULL,
  public_key_sha256  TEXT    NOT NULL,
  updated_at         INTEGER NOT NULL
);

-- API tokens are stored as the SHA-256 of the token; the token is shown once, on creation.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_sha256 TEXT    NOT NULL UNIQUE,
  name         TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_user_id ON api_tokens(user_id);

-- Admin panel sessions. id is the SHA-256 of the cookie value, never the cookie itself.
CREATE TABLE web_sessions (
  id         TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_user_id ON web_sessions(user_id);
CREATE INDEX web_sessions_expires_at ON web_sessions(expires_at);

-- GPU servers. host_key_sha256 is the pinned SSH host key (NULL until first contact);
-- pending_host_key_sha256 is a different key the node presented, kept until an admin
-- accepts it.
CREATE TABLE nodes (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  name                    TEXT    NOT NULL UNIQUE,
  host                    TEXT    NOT NULL,
  port                    INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
  probe                   TEXT    NOT NULL DEFAULT 'nvidia-smi',
  schedulable             INTEGER NOT NULL DEFAULT 1 CHECK (schedulable IN (0, 1)),
  host_key_sha256         TEXT,
  pending_host_key_sha256 TEXT,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL
);

-- GPU inventory as last probed: what each node has. Live samples (memory, utilisation,
-- processes) stay in memory.
CREATE TABLE gpus (
  node_id       INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  idx           INTEGER NOT NULL CHECK (idx >= 0),  -- nvidia-smi index
  uuid          TEXT    NOT NULL DEFAULT '',
  model         TEXT    NOT NULL DEFAULT '',
  mem_total_mib INTEGER,
  last_seen_at  INTEGER NOT NULL,
  PRIMARY KEY (node_id, idx)
) WITHOUT ROWID;

-- What users asked for. Users are disabled, never deleted, so tasks keep their owner.
CREATE TABLE tasks (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT    NOT NULL DEFAULT '',
  user_id      INTEGER NOT NULL REFERENCES users(id),
  command      TEXT    NOT NULL,
  workdir      TEXT,                                  -- NULL: the account's home
  gpus         INTEGER NOT NULL DEFAULT 1 CHECK (gpus >= 0),
  mem_mib      INTEGER NOT NULL DEFAULT 0 CHECK (mem_mib >= 0),   -- per GPU; 0: no need
  util_pct     INTEGER NOT NULL DEFAULT 0 CHECK (util_pct BETWEEN 0 AND 100),
  exclusive    INTEGER NOT NULL DEFAULT 0 CHECK (exclusive IN (0, 1)),
  share        INTEGER NOT NULL DEFAULT 0 CHECK (share IN (0, 1)),
  node         TEXT,                                  -- node name constraint; NULL: any
  gpu_model    TEXT,                                  -- GPU model constraint; NULL: any
  env_json     TEXT    NOT NULL DEFAULT '{}',         -- {"K": "V", ...}
  priority     INTEGER NOT NULL DEFAULT 0,
  time_limit_s INTEGER CHECK (time_limit_s IS NULL OR time_limit_s > 0),  -- NULL: none
  retries      INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0),
  retries_left INTEGER NOT NULL DEFAULT 0 CHECK (retries_left >= 0),
  after_json   TEXT    NOT NULL DEFAULT '[]',         -- [task id, ...] to wait for
  notify       TEXT    NOT NULL DEFAULT 'off' CHECK (notify IN ('end', 'failure', 'off')),
  status       TEXT    NOT NULL CHECK (status IN ('held', 'queued', 'starting', 'running',
                 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost')),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  ended_at     INTEGER
);
CREATE INDEX tasks_status ON tasks(status);
CREATE INDEX tasks_user_id ON tasks(user_id);

-- Each attempt at running a task. node_name keeps the node's name for history after the
-- node row is deleted (node_id then becomes NULL).
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL CHECK (attempt >= 1),
  node_id     INTEGER REFERENCES nodes(id) ON DELETE SET NULL,
  node_name   TEXT    NOT NULL DEFAULT '',
  gpu_indices TEXT    NOT NULL DEFAULT '',    -- "0,1"; '' for a CPU-only task
  remote_user TEXT    NOT NULL DEFAULT '',
  run_dir     TEXT    NOT NULL DEFAULT '',    -- on the node
  pid         INTEGER,                        -- NULL until the node reports it
  status      TEXT    NOT NULL CHECK (status IN ('starting', 'running', 'succeeded', 'failed',
                'cancelled', 'timed_out', 'lost')),
  exit_code   INTEGER,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  ended_at    INTEGER,
  end_reason  TEXT                            -- why it ended, in words; NULL while live
);
CREATE UNIQUE INDEX runs_task_id_attempt ON runs(task_id, attempt);
CREATE INDEX runs_status ON runs(status);
CREATE INDEX runs_node_id ON runs(node_id);

CREATE TABLE settings (
  key        TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who did what. user_id is NULL for actions of the master itself.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  action  TEXT    NOT NULL,
  target  TEXT    NOT NULL DEFAULT '',
  detail  TEXT    NOT NULL DEFAULT ''
);
