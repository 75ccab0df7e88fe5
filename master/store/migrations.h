#ifndef GPUQ_MASTER_STORE_MIGRATIONS_H_
#define GPUQ_MASTER_STORE_MIGRATIONS_H_

#include <span>

#include "common/embedded_file.h"

namespace gpuq {

// Defined in the migrations_embedded.cc that cmake/Embed.cmake generates from the
// migrations/*.sql files that CMakeLists.txt lists.
extern const EmbeddedFile kMigrations[];
extern const int kMigrationsCount;

// The schema migrations compiled into this binary, in the order CMakeLists.txt lists them.
std::span<const EmbeddedFile> EmbeddedMigrations();

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_MIGRATIONS_H_
