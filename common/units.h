#ifndef GPUQ_COMMON_UNITS_H_
#define GPUQ_COMMON_UNITS_H_

// Sizes and durations as people type them on a command line or in a CSV file, and back.
// Pure functions of text; never throw.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuq {

// A memory size in MiB. A bare number is MiB ("8000"); a suffix names the unit, case-
// insensitive, with or without "B"/"iB": K (KiB), M (MiB), G (GiB), T (TiB). Units are
// binary, as nvidia-smi counts them: "8G" = "8GB" = "8GiB" = 8192. A fraction is allowed
// ("1.5G" = 1536) and a result that is not a whole MiB is rounded up ("1K" = 1), so a
// memory need is never understated. Surrounding spaces and one space before the unit are
// allowed ("8 GiB").
// Errors: InvalidArgument (no field) for anything else, negative numbers, or more than
// 2^40 MiB.
Result<int64_t> ParseMemMib(std::string_view text);

// A duration in seconds: a bare number is seconds ("90"); otherwise one or more
// number+unit parts, units s, m, h, d, w (one letter each, case-insensitive), largest first,
// each at most once, optionally separated by spaces ("90s", "30m", "2h", "1d", "1h30m",
// "1d 12h").
// Errors: InvalidArgument (no field) naming what was expected; more than 100 years.
Result<int64_t> ParseDurationSeconds(std::string_view text);

// "1h30m", "45s", "2d3h", "1h0m5s" -> the shortest of such forms that ParseDurationSeconds
// reads back as the same value; "0s" for 0; negative values are shown with a '-'.
std::string FormatDuration(int64_t seconds);

// "8G" (whole GiB), "1.5G" (GiB with up to two exact decimals), else "500M"; "0" for 0.
// ParseMemMib reads the result back as the same value.
std::string FormatMib(int64_t mib);

}  // namespace gpuq

#endif  // GPUQ_COMMON_UNITS_H_
