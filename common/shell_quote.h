#ifndef GPUQ_COMMON_SHELL_QUOTE_H_
#define GPUQ_COMMON_SHELL_QUOTE_H_

#include <string>
#include <string_view>

namespace gpuq {

// Quotes `word` for a POSIX shell so that it reaches the command as exactly these bytes:
// 'it'\''s' style. Safe for any byte except NUL (which no shell word can hold).
std::string ShellQuote(std::string_view word);

}  // namespace gpuq

#endif  // GPUQ_COMMON_SHELL_QUOTE_H_
