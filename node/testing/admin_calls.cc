#include "node/testing/admin_calls.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "node/testing/http_get.h"

namespace ringkv::testing {

CommandResult Kvctl(const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> argv = {NodeProcess::KvctlPath(), "--host", host};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, "", std::chrono::milliseconds(120'000));
}

std::set<std::string> Dump(const std::string& host, const std::string& key_prefix) {
  std::set<std::string> out;
  auto r = Kvctl(host, {"--format", "json", "dump"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  if (json.is_discarded()) return out;
  for (const auto& o : json["objects"]) {
    const auto key = o["key"].get<std::string>();
    if (key.rfind(key_prefix, 0) != 0) continue;
    out.insert(fmt::format("{} {} {}", key, o["siblings"].get<int>(), o["tombstones"].get<int>()));
  }
  return out;
}

double Metric(uint16_t port, const std::string& sample) {
  std::istringstream in(HttpGetBody(port, "/metrics"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

}  // namespace ringkv::testing
