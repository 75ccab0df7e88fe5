#include "master/store/node_store.h"

#include <string>

#include "master/store/database.h"

namespace gpuq {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, name, host, port, probe, schedulable, host_key_sha256, pending_host_key_sha256,"
    " created_at, updated_at FROM nodes";

std::string NotFound(NodeId id) { return "node " + std::to_string(id.value) + " not found"; }

Status NameTaken(std::string_view name) {
  return Status::AlreadyExists("a node named \"" + std::string(name) + "\" already exists", "name");
}

NodeRow ReadNodeRow(const Statement& stmt) {
  NodeRow row;
  row.id = NodeId(stmt.ColumnInt64(0));
  row.name = stmt.ColumnText(1);
  row.host = stmt.ColumnText(2);
  row.port = static_cast<int>(stmt.ColumnInt64(3));
  row.probe = stmt.ColumnText(4);
  row.schedulable = stmt.ColumnInt64(5) != 0;
  row.host_key_sha256 = stmt.ColumnOptionalText(6);
  row.pending_host_key_sha256 = stmt.ColumnOptionalText(7);
  row.created_at = stmt.ColumnInt64(8);
  row.updated_at = stmt.ColumnInt64(9);
  return row;
}

// Runs a one-row UPDATE of nodes whose last parameter is the id.
template <typename... Args>
Status UpdateNode(Connection& conn, NodeId id, std::string_view sql, const Args&... args) {
  Result<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(args..., id));
  GPUQ_RETURN_IF_ERROR(stmt->Run());
  if (conn.Changes() == 0) return Status::NotFound(NotFound(id));
  return Status::Ok();
}

}  // namespace

Result<NodeId> NodeStore::Create(const NodeSpec& spec) {
  return db_->WithLock([&](Connection& conn) -> Result<NodeId> {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO nodes (name, host, port, probe, schedulable, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    const UnixMs now = clock_->NowUnixMs();
    GPUQ_RETURN_IF_ERROR(
        stmt->BindAll(spec.name, spec.host, spec.port, spec.probe, spec.schedulable, now, now));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kAlreadyExists) return NameTaken(spec.name);
    GPUQ_RETURN_IF_ERROR(status);
    return NodeId(conn.LastInsertRowId());
  });
}

Result<NodeRow> NodeStore::Get(NodeId id) {
  return db_->WithLock([&](Connection& conn) -> Result<NodeRow> {
    Result<Statement> stmt = conn.Prepare(std::string(kSelect) + " WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound(NotFound(id));
    return ReadNodeRow(*stmt);
  });
}

Result<NodeRow> NodeStore::GetByName(std::string_view name) {
  return db_->WithLock([&](Connection& conn) -> Result<NodeRow> {
    Result<Statement> stmt = conn.Prepare(std::string(kSelect) + " WHERE name = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(name));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("node \"" + std::string(name) + "\" not found");
    return ReadNodeRow(*stmt);
  });
}

Result<std::vector<NodeRow>> NodeStore::List() {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<NodeRow>> {
    Result<Statement> stmt = conn.Prepare(std::string(kSelect) + " ORDER BY id");
    if (!stmt.ok()) return stmt.status();
    std::vector<NodeRow> nodes;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      nodes.push_back(ReadNodeRow(*stmt));
    }
    return nodes;
  });
}

Status NodeStore::Update(NodeId id, const NodeUpdate& update) {
  return db_->WithLock([&](Connection& conn) -> Status {
    // One statement for every combination: a NULL parameter keeps the column's value.
    Status status =
        UpdateNode(conn, id,
                   "UPDATE nodes SET name = COALESCE(?, name), host = COALESCE(?, host),"
                   " port = COALESCE(?, port), probe = COALESCE(?, probe),"
                   " schedulable = COALESCE(?, schedulable), updated_at = ?"
                   " WHERE id = ?",
                   update.name, update.host, update.port, update.probe, update.schedulable,
                   clock_->NowUnixMs());
    if (status.code() == ErrorCode::kAlreadyExists) return NameTaken(update.name.value_or(""));
    return status;
  });
}

Status NodeStore::Delete(NodeId id) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM nodes WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0) return Status::NotFound(NotFound(id));
    return Status::Ok();
  });
}

Status NodeStore::PinHostKey(NodeId id, std::string_view sha256) {
  return db_->WithLock([&](Connection& conn) -> Status {
    return UpdateNode(conn, id,
                      "UPDATE nodes SET host_key_sha256 = ?, pending_host_key_sha256 = NULL,"
                      " updated_at = ? WHERE id = ?",
                      sha256, clock_->NowUnixMs());
  });
}

Status NodeStore::SetPendingHostKey(NodeId id, std::optional<std::string_view> sha256) {
  return db_->WithLock([&](Connection& conn) -> Status {
    return UpdateNode(conn, id,
                      "UPDATE nodes SET pending_host_key_sha256 = ?, updated_at = ? WHERE id = ?",
                      sha256, clock_->NowUnixMs());
  });
}

Status NodeStore::AcceptPendingHostKey(NodeId id) {
  return db_->Tx([&](Connection& conn) -> Status {
    Status status = UpdateNode(conn, id,
                               "UPDATE nodes SET host_key_sha256 = pending_host_key_sha256,"
                               " pending_host_key_sha256 = NULL, updated_at = ?"
                               " WHERE id = ? AND pending_host_key_sha256 IS NOT NULL",
                               clock_->NowUnixMs());
    if (status.code() != ErrorCode::kNotFound) return status;
    // Nothing changed: tell a missing node from one with no pending key.
    Result<Statement> stmt = conn.Prepare("SELECT 1 FROM nodes WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return status;
    return Status::FailedPrecondition("node " + std::to_string(id.value) +
                                      " has no pending host key to accept");
  });
}

}  // namespace gpuq
