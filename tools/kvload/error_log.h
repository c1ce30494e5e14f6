// ErrorLog: kvload's error file, one JSON object a line for each row that was not loaded:
//   {"file": "docs.jsonl", "line": 17, "row": <the row: its JSON, or the line as a string>,
//    "reason": "Invalid STRING constant (x) for \"shard\" of type int"}
// The file is created on the first entry (a load without bad rows leaves none behind); an older
// file at the same path is removed when the log is made, so the file only ever describes the
// latest run.
//
// Thread safety: Add may be called from any thread.
#ifndef RINGKV_TOOLS_KVLOAD_ERROR_LOG_H_
#define RINGKV_TOOLS_KVLOAD_ERROR_LOG_H_

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace ringkv::kvload {

class ErrorLog {
 public:
  explicit ErrorLog(std::string path);
  ~ErrorLog();
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  // Records one row. `row` is the parsed JSON object, or a string holding the raw record.
  void Add(const std::string& file, uint64_t line, const nlohmann::json& row,
           const std::string& reason);
  uint64_t entries() const;
  const std::string& path() const { return path_; }
  // False if the file could not be written (the reason is in write_error()).
  bool ok() const;
  std::string write_error() const;

 private:
  std::string path_;
  mutable std::mutex mu_;
  std::FILE* file_ = nullptr;  // guarded by mu_
  uint64_t entries_ = 0;       // guarded by mu_
  std::string write_error_;    // guarded by mu_
};

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_ERROR_LOG_H_
