#include "master/store/retention.h"

#include <string>

#include "master/store/database.h"

namespace gpuq {

Result<PurgeResult> PurgeEndedTasks(Database* db, UnixMs cutoff, int limit) {
  // The doomed tasks go to a temporary table so that the runs and the tasks are deleted from
  // exactly the same set.
  static const std::string kPick =
      "INSERT INTO temp.purge_tasks (id) SELECT t.id FROM tasks t"
      " WHERE t.ended_at IS NOT NULL AND t.ended_at < ?"
      " AND NOT EXISTS (SELECT 1 FROM tasks w, json_each(w.after_json) a"
      "                 WHERE w.ended_at IS NULL AND a.value = t.id)"
      " ORDER BY t.ended_at LIMIT ?";
  return db->Tx([&](Connection& conn) -> Result<PurgeResult> {
    GPUQ_RETURN_IF_ERROR(
        conn.Exec("CREATE TEMP TABLE IF NOT EXISTS purge_tasks (id INTEGER PRIMARY KEY)"));
    GPUQ_RETURN_IF_ERROR(conn.Exec("DELETE FROM temp.purge_tasks"));
    {
      Result<Statement> pick = conn.Prepare(kPick);
      if (!pick.ok()) return pick.status();
      GPUQ_RETURN_IF_ERROR(pick->BindAll(cutoff, static_cast<int64_t>(limit)));
      GPUQ_RETURN_IF_ERROR(pick->Run());
    }
    PurgeResult result;
    result.tasks = conn.Changes();
    {
      Result<Statement> list =
          conn.Prepare("SELECT id FROM runs WHERE task_id IN (SELECT id FROM temp.purge_tasks)");
      if (!list.ok()) return list.status();
      for (;;) {
        Result<bool> row = list->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        result.runs.push_back(RunId(list->ColumnInt64(0)));
      }
    }
    GPUQ_RETURN_IF_ERROR(
        conn.Exec("DELETE FROM runs WHERE task_id IN (SELECT id FROM temp.purge_tasks)"));
    GPUQ_RETURN_IF_ERROR(
        conn.Exec("DELETE FROM tasks WHERE id IN (SELECT id FROM temp.purge_tasks)"));
    GPUQ_RETURN_IF_ERROR(conn.Exec("DELETE FROM temp.purge_tasks"));
    return result;
  });
}

}  // namespace gpuq
