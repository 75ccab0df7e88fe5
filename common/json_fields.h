#ifndef GPUQ_COMMON_JSON_FIELDS_H_
#define GPUQ_COMMON_JSON_FIELDS_H_

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"

namespace gpuq {

// Reads typed fields out of a JSON object given by a user, with an error that names the
// field ("port: must be an integer"). Absent fields leave the optional empty; `null` counts
// as absent. Never throws.
class JsonFields {
 public:
  explicit JsonFields(const nlohmann::json& object) : object_(object) {}

  // Parses `body` and checks that it is an object.
  static Result<nlohmann::json> ParseObject(const std::string& body);

  Result<std::optional<std::string>> String(const char* name, size_t max_len = 4096) const;
  Result<std::optional<int64_t>> Int(const char* name, int64_t min, int64_t max) const;
  Result<std::optional<bool>> Bool(const char* name) const;

  // Like the above, but absence is an error ("is required").
  Result<std::string> RequiredString(const char* name, size_t max_len = 4096) const;

  // An error for the first field not in `known`, so a typo is not silently ignored.
  Status RejectUnknown(std::initializer_list<const char*> known) const;

 private:
  const nlohmann::json* Find(const char* name) const;
  const nlohmann::json& object_;
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_JSON_FIELDS_H_
