#ifndef GPUQ_COMMON_EMBEDDED_FILE_H_
#define GPUQ_COMMON_EMBEDDED_FILE_H_

#include <string_view>

namespace gpuq {

// A text asset compiled into the binary by cmake/Embed.cmake.
struct EmbeddedFile {
  std::string_view name;      // base file name, e.g. "0001_initial.sql"
  std::string_view contents;  // the file's bytes
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_EMBEDDED_FILE_H_
