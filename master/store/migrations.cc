#include "master/store/migrations.h"

namespace gpuq {

std::span<const EmbeddedFile> EmbeddedMigrations() {
  return {kMigrations, static_cast<size_t>(kMigrationsCount)};
}

}  // namespace gpuq
