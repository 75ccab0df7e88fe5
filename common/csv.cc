#include "common/csv.h"

#include <cctype>

namespace gpuq {
namespace {

// Reads records from text; `pos_` moves forward, `line_` counts line breaks passed.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  Result<std::vector<CsvRecord>> ReadAll(int* error_line) {
    std::vector<CsvRecord> records;
    while (pos_ < text_.size()) {
      if (AtLineBreak()) {  // an empty line
        SkipLineBreak();
        continue;
      }
      CsvRecord record;
      record.line = line_;
      for (;;) {
        int field_line = line_;
        Result<std::string> field = ReadField();
        if (!field.ok()) {
          if (error_line != nullptr) *error_line = field_line;
          return Status::InvalidArgument("line " + std::to_string(field_line) + ": " +
                                         field.status().message());
        }
        record.fields.push_back(std::move(*field));
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size()) SkipLineBreak();
        break;
      }
      records.push_back(std::move(record));
    }
    return records;
  }

 private:
  bool AtLineBreak() const { return text_[pos_] == '\n' || text_[pos_] == '\r'; }

  // REQUIRES: AtLineBreak().
  void SkipLineBreak() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  // Reads one field and stops at ',', a line break or the end.
  Result<std::string> ReadField() {
    std::string out;
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      while (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) out += text_[pos_++];
      return out;
    }
    ++pos_;  // the opening quote
    for (;;) {
      if (pos_ >= text_.size()) {
        return Status::InvalidArgument(
            "unterminated quoted field (a field that opens with \" never closes)");
      }
      char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          out += '"';
          pos_ += 2;
          continue;
        }
        ++pos_;  // the closing quote
        break;
      }
      // Count line breaks inside the field; keep them byte for byte.
      if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) {
        ++line_;
      }
      out += c;
      ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) {
      return Status::InvalidArgument(
          "text after the closing quote of a field (write a \" inside a quoted field as \"\")");
    }
    return out;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, int* error_line) {
  return CsvReader(text).ReadAll(error_line);
}

std::string FormatCsvRecord(const std::vector<std::string>& fields, std::string_view line_end) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    if (i > 0) out += ',';
    const bool quote = f.find_first_of(",\"\r\n") != std::string::npos ||
                       (!f.empty() && (f.front() == ' ' || f.front() == '\t' || f.back() == ' ' ||
                                       f.back() == '\t'));
    if (!quote) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += line_end;
  return out;
}

std::string TrimCsvField(std::string_view field) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  return std::string(field);
}

std::string LowerAscii(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace gpuq
