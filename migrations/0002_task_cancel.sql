-- gpuq schema, version 2: cancelling a live task.
--
-- Cancelling a held or queued task ends it at once (status 'cancelled', ended_at set).
-- A starting or running task cannot end before its processes on the node are gone, so the
-- request is recorded here and the master acts on it (kills the process group, then records
-- the end). NULL: no cancel was asked for.
ALTER TABLE tasks ADD COLUMN cancel_requested_at INTEGER;
