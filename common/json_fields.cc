#include "common/json_fields.h"

#include <cstring>

namespace gpuq {

Result<nlohmann::json> JsonFields::ParseObject(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  return j;
}

const nlohmann::json* JsonFields::Find(const char* name) const {
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> JsonFields::String(const char* name, size_t max_len) const {
  const nlohmann::json* v = Find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Status::InvalidArgument("must be a string", name);
  const std::string& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Status::InvalidArgument("must be at most " + std::to_string(max_len) + " bytes", name);
  }
  return std::optional<std::string>(s);
}

Result<std::string> JsonFields::RequiredString(const char* name, size_t max_len) const {
  Result<std::optional<std::string>> s = String(name, max_len);
  if (!s.ok()) return s.status();
  if (!s->has_value()) return Status::InvalidArgument("is required", name);
  return std::move(**s);
}

Result<std::optional<int64_t>> JsonFields::Int(const char* name, int64_t min, int64_t max) const {
  const nlohmann::json* v = Find(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->is_number_integer()) return Status::InvalidArgument("must be an integer", name);
  int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                  ? INT64_MAX
                  : v->get<int64_t>();
  if (n < min || n > max) {
    return Status::InvalidArgument(
        "must be between " + std::to_string(min) + " and " + std::to_string(max), name);
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> JsonFields::Bool(const char* name) const {
  const nlohmann::json* v = Find(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return Status::InvalidArgument("must be true or false", name);
  return std::optional<bool>(v->get<bool>());
}

Status JsonFields::RejectUnknown(std::initializer_list<const char*> known) const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    bool found = false;
    for (const char* k : known) {
      if (it.key() == k) found = true;
    }
    if (!found) return Status::InvalidArgument("unknown field", it.key());
  }
  return Status::Ok();
}

}  // namespace gpuq
