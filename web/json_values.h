#ifndef GPUQ_WEB_JSON_VALUES_H_
#define GPUQ_WEB_JSON_VALUES_H_

// How the API writes values that may be absent: JSON null, never "" or 0.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"

namespace gpuq {

inline nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// RFC 3339 UTC, or null for an absent time (0 counts as absent).
inline nlohmann::json TimeOrNull(const std::optional<UnixMs>& t) {
  return t && *t > 0 ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace gpuq

#endif  // GPUQ_WEB_JSON_VALUES_H_
