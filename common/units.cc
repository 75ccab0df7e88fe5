#include "common/units.h"

#include <cctype>

namespace gpuq {
namespace {

constexpr int64_t kMaxMib = int64_t{1} << 40;                // 1 EiB: no GPU comes close
constexpr int64_t kMaxSeconds = int64_t{100} * 365 * 86400;  // 100 years
constexpr int kMaxFractionDigits = 6;

constexpr char kMemExpected[] = "must be a size like 8000 (MiB), 512M, 8G or 1.5G";
constexpr char kDurationExpected[] =
    "must be a duration like 90 (seconds), 90s, 30m, 2h, 1d or 1h30m";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (Lower(s[i]) != lower[i]) return false;
  }
  return true;
}

// Reads leading digits of `*s` into `*value` (consuming them). false when there are none or
// the number exceeds `max`.
bool ReadNumber(std::string_view* s, int64_t max, int64_t* value, int* digits = nullptr) {
  int64_t v = 0;
  int n = 0;
  while (!s->empty() && IsDigit(s->front())) {
    v = v * 10 + (s->front() - '0');
    if (v > max) return false;
    s->remove_prefix(1);
    ++n;
  }
  if (digits != nullptr) *digits = n;
  *value = v;
  return n > 0;
}

// KiB per unit; 0 when `unit` is not one.
int64_t KibPerUnit(std::string_view unit) {
  if (unit.empty()) return 1024;  // a bare number is MiB
  const char first = Lower(unit[0]);
  std::string_view rest = unit.substr(1);
  if (!(rest.empty() || EqualsLower(rest, "b") || EqualsLower(rest, "ib"))) return 0;
  switch (first) {
    case 'k':
      return 1;
    case 'm':
      return 1024;
    case 'g':
      return int64_t{1} << 20;
    case 't':
      return int64_t{1} << 30;
    default:
      return 0;
  }
}

}  // namespace

Result<int64_t> ParseMemMib(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return Status::InvalidArgument(kMemExpected);
  int64_t whole = 0;
  if (!ReadNumber(&s, kMaxMib * 1024, &whole)) {
    if (!s.empty() && IsDigit(s.front())) return Status::InvalidArgument("is too large");
    return Status::InvalidArgument(kMemExpected);
  }
  int64_t fraction = 0;
  int fraction_digits = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    if (!ReadNumber(&s, 999'999, &fraction, &fraction_digits)) {
      return Status::InvalidArgument(kMemExpected);
    }
    if (fraction_digits > kMaxFractionDigits) return Status::InvalidArgument(kMemExpected);
  }
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const int64_t kib_per_unit = KibPerUnit(s);
  if (kib_per_unit == 0) return Status::InvalidArgument(kMemExpected);
  if (whole > kMaxMib * 1024 / kib_per_unit) return Status::InvalidArgument("is too large");

  int64_t scale = 1;
  for (int i = 0; i < fraction_digits; ++i) scale *= 10;
  // fraction < 10^6 and kib_per_unit <= 2^30: the product fits easily.
  const int64_t fraction_kib = (fraction * kib_per_unit + scale - 1) / scale;
  const int64_t kib = whole * kib_per_unit + fraction_kib;
  const int64_t mib = (kib + 1023) / 1024;
  if (mib > kMaxMib) return Status::InvalidArgument("is too large");
  return mib;
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return Status::InvalidArgument(kDurationExpected);
  int64_t total = 0;
  bool bare = true;
  int last_rank = 99;  // units must come largest first, each once
  while (!s.empty()) {
    int64_t n = 0;
    if (!ReadNumber(&s, kMaxSeconds, &n)) {
      if (!s.empty() && IsDigit(s.front())) return Status::InvalidArgument("is too long");
      return Status::InvalidArgument(kDurationExpected);
    }
    if (s.empty()) {
      if (!bare) {
        return Status::InvalidArgument(kDurationExpected + std::string(" (a unit is missing)"));
      }
      total = n;
      break;
    }
    bare = false;
    int64_t unit = 0;
    int rank = 0;
    switch (Lower(s.front())) {
      case 'w':
        unit = 7 * 86400, rank = 5;
        break;
      case 'd':
        unit = 86400, rank = 4;
        break;
      case 'h':
        unit = 3600, rank = 3;
        break;
      case 'm':
        unit = 60, rank = 2;
        break;
      case 's':
        unit = 1, rank = 1;
        break;
      default:
        return Status::InvalidArgument(kDurationExpected);
    }
    if (rank >= last_rank) {
      return Status::InvalidArgument(kDurationExpected +
                                     std::string(" (units largest first, each once)"));
    }
    last_rank = rank;
    s.remove_prefix(1);
    if (n > kMaxSeconds / unit) return Status::InvalidArgument("is too long");
    total += n * unit;
    if (total > kMaxSeconds) return Status::InvalidArgument("is too long");
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  return total;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  if (seconds < 0) {
    out = "-";
    seconds = seconds == INT64_MIN ? INT64_MAX : -seconds;
  }
  const struct {
    int64_t size;
    char letter;
  } kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& unit : kUnits) {
    const int64_t n = seconds / unit.size;
    seconds %= unit.size;
    if (n > 0) out += std::to_string(n) + unit.letter;
  }
  return out;
}

std::string FormatMib(int64_t mib) {
  if (mib == 0) return "0";
  if (mib % 1024 == 0) return std::to_string(mib / 1024) + "G";
  if (mib >= 1024 && mib <= kMaxMib && (mib * 100) % 1024 == 0) {
    const int64_t hundredths = mib * 100 / 1024;
    std::string out = std::to_string(hundredths / 100) + ".";
    const int64_t cents = hundredths % 100;
    out += cents % 10 == 0 ? std::to_string(cents / 10)
                           : (cents < 10 ? "0" : "") + std::to_string(cents);
    return out + "G";
  }
  return std::to_string(mib) + "M";
}

}  // namespace gpuq
