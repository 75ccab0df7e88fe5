#include "common/csv_queue.h"

#include <cctype>
#include <map>
#include <optional>

#include "common/csv.h"

namespace gpuq {
namespace {

// Yes/No and their usual spellings; nullopt for anything else.
std::optional<bool> ParseYesNo(const std::string& lower) {
  if (lower == "yes" || lower == "y" || lower == "true" || lower == "1") return true;
  if (lower == "no" || lower == "n" || lower == "false" || lower == "0") return false;
  return std::nullopt;
}

// "2", " 2 ", "2.0" (spreadsheets and pandas write whole numbers so) -> 2.
std::optional<int> ParseGpuCount(const std::string& text) {
  std::string s = text;
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    if (s.find_first_not_of('0', dot + 1) != std::string::npos) return std::nullopt;
    s.resize(dot);
  }
  if (s.empty() || s.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > kMaxTaskGpus) return std::nullopt;
  return n;
}

// "0,2", "0, 2", "0;2" (a spreadsheet's list), "" -> indices; nullopt for anything else.
std::optional<std::vector<int>> ParseIndexList(const std::string& text) {
  std::vector<int> out;
  std::string part;
  auto flush = [&]() -> bool {
    std::string p = TrimCsvField(part);
    part.clear();
    if (p.empty() || p.size() > 4 || p.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    out.push_back(std::stoi(p));
    return true;
  };
  if (TrimCsvField(text).empty()) return out;
  for (char c : text) {
    if (c == ',' || c == ';') {
      if (!flush()) return std::nullopt;
    } else {
      part += c;
    }
  }
  if (!flush()) return std::nullopt;
  return out;
}

// The CSV column behind a TaskSpec field, for messages.
std::string ColumnOf(const std::string& spec_field) {
  if (spec_field == "name") return "task_name";
  if (spec_field == "workdir") return "work_dir";
  if (spec_field == "gpus") return "n_gpus";
  if (spec_field == "hold") return "execution";
  return spec_field;
}

class QueueReader {
 public:
  explicit QueueReader(int* error_line) : error_line_(error_line) {}

  Result<std::vector<CsvQueueTask>> Read(std::string_view text) {
    Result<std::vector<CsvRecord>> records = ParseCsv(text, error_line_);
    if (!records.ok()) return records.status();
    std::vector<CsvQueueTask> tasks;
    if (records->empty()) return tasks;
    GPUQ_RETURN_IF_ERROR(ReadHeader((*records)[0]));
    tasks.reserve(records->size() - 1);
    for (size_t i = 1; i < records->size(); ++i) {
      const CsvRecord& record = (*records)[i];
      bool all_empty = true;
      for (const std::string& f : record.fields) all_empty = all_empty && TrimCsvField(f).empty();
      if (all_empty) continue;
      Result<TaskSpec> spec = ReadRow(record);
      if (!spec.ok()) return spec.status();
      tasks.push_back({record.line, std::move(*spec)});
    }
    return tasks;
  }

 private:
  Status Error(int line, const std::string& column, const std::string& message) {
    if (error_line_ != nullptr) *error_line_ = line;
    std::string text = "line " + std::to_string(line) + ": ";
    if (!column.empty()) text += column + ": ";
    return Status::InvalidArgument(text + message, column);
  }

  Status ReadHeader(const CsvRecord& header) {
    header_size_ = header.fields.size();
    std::string twice;
    for (size_t i = 0; i < header.fields.size(); ++i) {
      std::string name = LowerAscii(TrimCsvField(header.fields[i]));
      if (name.empty()) continue;
      if (!columns_.emplace(name, i).second && twice.empty()) twice = name;
    }
    // A file without a header is the likelier mistake: say so before anything else.
    if (!columns_.count("command")) {
      std::string expected;
      for (const char* c : kCsvQueueColumns)
        expected += (expected.empty() ? "" : ",") + std::string(c);
      return Error(
          header.line, "",
          "the first line must be the header (" + expected + "), and it has no \"command\" column");
    }
    if (!twice.empty()) {
      return Error(header.line, "", "the header names the column \"" + twice + "\" twice");
    }
    return Status::Ok();
  }

  // The value of `column` in `record`; "" when the header has no such column.
  const std::string& Field(const CsvRecord& record, const char* column) const {
    static const std::string kEmpty;
    auto it = columns_.find(column);
    return it == columns_.end() ? kEmpty : record.fields[it->second];
  }

  Result<TaskSpec> ReadRow(const CsvRecord& record) {
    const int line = record.line;
    if (record.fields.size() != header_size_) {
      return Error(line, "",
                   "has " + std::to_string(record.fields.size()) + " fields, the header has " +
                       std::to_string(header_size_) +
                       " (quote a field that holds a comma or a line break)");
    }
    TaskSpec spec;
    spec.name = TrimCsvField(Field(record, "task_name"));
    spec.command = Field(record, "command");
    spec.workdir = TrimCsvField(Field(record, "work_dir"));

    std::string gpus = TrimCsvField(Field(record, "n_gpus"));
    if (!gpus.empty()) {
      std::optional<int> n = ParseGpuCount(gpus);
      if (!n) {
        return Error(line, "n_gpus",
                     "must be a whole number from 0 to " + std::to_string(kMaxTaskGpus) +
                         " (found \"" + gpus.substr(0, 40) + "\")");
      }
      spec.gpus = *n;
    }

    std::string execution = LowerAscii(TrimCsvField(Field(record, "execution")));
    if (!execution.empty()) {
      std::optional<bool> run = ParseYesNo(execution);
      if (!run) return Error(line, "execution", "must be Yes or No (No imports the task held)");
      spec.hold = !*run;
    }

    std::string notify = LowerAscii(TrimCsvField(Field(record, "notify")));
    if (notify.empty() || notify == "off") {
      spec.notify = "off";
    } else if (notify == "end" || notify == "failure") {
      spec.notify = notify;
    } else {
      std::optional<bool> on = ParseYesNo(notify);
      if (!on) return Error(line, "notify", "must be Yes or No");
      spec.notify = *on ? "end" : "off";
    }

    for (auto [column, out] :
         {std::pair{"gpu_ids", &spec.gpu_ids}, std::pair{"prefer_gpus", &spec.prefer_gpus}}) {
      std::optional<std::vector<int>> ids = ParseIndexList(Field(record, column));
      if (!ids) return Error(line, column, "must be GPU indices like 0,2");
      *out = std::move(*ids);
    }

    Status valid = ValidateTaskSpec(spec);
    if (!valid.ok()) return Error(line, ColumnOf(valid.field()), valid.message());
    return spec;
  }

  int* error_line_;
  std::map<std::string, size_t> columns_;  // lower-case name -> index
  size_t header_size_ = 0;
};

}  // namespace

Result<std::vector<CsvQueueTask>> ParseCsvQueue(std::string_view text, int* error_line) {
  return QueueReader(error_line).Read(text);
}

}  // namespace gpuq
