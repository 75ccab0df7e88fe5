#include "web/account_rules.h"

#include <cctype>

namespace gpuq {

// POSIX-ish account names, as on the nodes: they end up as SSH login names.
Status ValidateAccountName(std::string_view name, const char* field) {
  if (name.empty() || name.size() > 32)
    return Status::InvalidArgument("must be 1 to 32 characters", field);
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
    return Status::InvalidArgument("must start with a letter or '_'", field);
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return Status::InvalidArgument("may hold only letters, digits, '_', '-' and '.'", field);
    }
  }
  return Status::Ok();
}

}  // namespace gpuq
