-- gpuq schema, version 4: where and how a task runs (issue 7).
--
-- gpu_ids / prefer_gpus: nvidia-smi indices, "0,2" ('' = none). gpu_ids restricts a task to
--   those GPUs (it waits for them); prefer_gpus is taken first when free, else any GPU.
-- on_time_limit: what a run that reaches its time limit does to its task: 'kill' ends the
--   task timed_out; 'requeue' puts it back in the queue (at the end of its priority class)
--   to run again, with a new run and a new log.
-- conda / venv: an environment activated on the node before the command (NULL = none).
-- queued_at: the task's place in its priority class: its submission, or its last requeue.
--   NULL for tasks from before this version (their created_at counts).
ALTER TABLE tasks ADD COLUMN gpu_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN prefer_gpus TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN on_time_limit TEXT NOT NULL DEFAULT 'kill'
  CHECK (on_time_limit IN ('kill', 'requeue'));
ALTER TABLE tasks ADD COLUMN conda TEXT;
ALTER TABLE tasks ADD COLUMN venv TEXT;
ALTER TABLE tasks ADD COLUMN queued_at INTEGER;

-- The time limit in force for a run, fixed when it starts: the task's own, else the global
-- default of that moment (NULL = none). A later change of the default does not touch it.
ALTER TABLE runs ADD COLUMN time_limit_s INTEGER CHECK (time_limit_s IS NULL OR time_limit_s > 0);

-- Tasks that came from the live CSV queue file (master/app/queue_file_*.h). The file's
-- task_id column holds the gpuq task id; row_hash is a digest of the row's editable
-- columns when gpuq last read it, so only a row a person changed updates its task.
CREATE TABLE queue_file_tasks (
  task_id  INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  file     TEXT    NOT NULL,
  row_hash TEXT    NOT NULL
);
CREATE INDEX queue_file_tasks_file ON queue_file_tasks(file);
