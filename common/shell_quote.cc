#include "common/shell_quote.h"

namespace gpuq {

std::string ShellQuote(std::string_view word) {
  std::string out;
  out.reserve(word.size() + 2);
  out += '\'';
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";  // close, an escaped quote, reopen
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace gpuq
