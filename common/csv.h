#ifndef GPUQ_COMMON_CSV_H_
#define GPUQ_COMMON_CSV_H_

// An RFC 4180 CSV reader. Pure; never throws.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuq {

struct CsvRecord {
  int line = 0;  // the physical line (1-based) the record starts on
  std::vector<std::string> fields;
};

// Splits `text` into records of fields:
//   - fields are separated by ',' and records by LF, CRLF or a lone CR;
//   - a field that starts with '"' is quoted: it may hold ',', line breaks (kept byte for
//     byte, and counted as lines) and '"' written as '""'; after the closing quote comes
//     ',' or the end of the record;
//   - a '"' inside an unquoted field is kept as it is;
//   - a UTF-8 byte order mark at the start is skipped; empty lines are skipped (they are no
//     records), and a last line break ends the last record rather than starting one.
// Errors: InvalidArgument "line N: ..." (N is where the offending field starts) and, when
// error_line is given, N in *error_line: a quoted field that never closes, or text after a
// closing quote.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, int* error_line = nullptr);

// One record as ParseCsv reads it back: fields joined with ',', each quoted (with '"'
// doubled) when it holds ',', '"', a line break, or starts or ends with a space or tab;
// then `line_end`.
// A field without the spaces and tabs around it (CSV written by hand pads fields).
std::string TrimCsvField(std::string_view field);
// ASCII lower case, for header names and Yes/No values.
std::string LowerAscii(std::string text);

std::string FormatCsvRecord(const std::vector<std::string>& fields,
                            std::string_view line_end = "\n");

}  // namespace gpuq

#endif  // GPUQ_COMMON_CSV_H_
