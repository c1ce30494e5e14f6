#include "tools/kvload/error_log.h"

#include <cerrno>
#include <cstring>

namespace ringkv::kvload {

ErrorLog::ErrorLog(std::string path) : path_(std::move(path)) { std::remove(path_.c_str()); }

ErrorLog::~ErrorLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void ErrorLog::Add(const std::string& file, uint64_t line, const nlohmann::json& row,
                   const std::string& reason) {
  nlohmann::json entry = {{"file", file}, {"line", line}, {"row", row}, {"reason", reason}};
  // Invalid UTF-8 in a raw record is replaced rather than aborting the dump.
  std::string text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(mu_);
  ++entries_;
  if (!write_error_.empty()) return;
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "w");
    if (file_ == nullptr) {
      write_error_ = std::strerror(errno);
      return;
    }
  }
  // Flushed per entry: the file is for a person reading it while a long load runs.
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    write_error_ = std::strerror(errno);
  }
}

uint64_t ErrorLog::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

bool ErrorLog::ok() const {
  std::lock_guard lock(mu_);
  return write_error_.empty();
}

std::string ErrorLog::write_error() const {
  std::lock_guard lock(mu_);
  return write_error_;
}

}  // namespace ringkv::kvload
