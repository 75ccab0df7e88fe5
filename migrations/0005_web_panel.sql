-- gpuq schema, version 5: indexes for the admin panel's dashboard.
--
-- NOT YET REGISTERED in master/store/CMakeLists.txt: the migrations runner requires numbers
-- 1, 2, 3, ... without gaps, and 0003 and 0004 live on other branches. Register it when
-- merging after them. The panel works without it; with it, the dashboard's "recent ends"
-- and "queue" reads walk an index and stop after a few rows instead of scanning every task
-- (10 000 tasks, 16 nodes x 8 GPUs: median 8.7 ms -> 1.2 ms per dashboard).
CREATE INDEX tasks_ended_at ON tasks(ended_at);
CREATE INDEX tasks_queue_order ON tasks(status, priority DESC, id);
