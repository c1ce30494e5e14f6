// kvnode's command line: the flags, their defaults and checks (`kvnode --help` lists them), and
// the small parsers main() uses on them.
#ifndef RINGKV_NODE_SERVER_KVNODE_FLAGS_H_
#define RINGKV_NODE_SERVER_KVNODE_FLAGS_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/limits.h"
#include "ring/tokens.h"

namespace ringkv {

struct KvnodeFlags {
  std::string name;
  std::string listen = "127.0.0.1:7000";
  std::string broadcast_address;  // empty: --listen
  std::string data;
  std::string seeds;
  std::string http;
  std::string cql;
  std::string cql_credentials_file;
  std::string cluster_name = "ringkv";
  std::string cluster_secret_file;
  std::string sync = "batch";
  int64_t sync_period_ms = 1000;
  int64_t clock_offset_ms = 0;
  std::string log_level = "info";
  size_t value_bytes_max = ringkv::kValueBytesMaxDefault;
  size_t object_bytes_max = ringkv::kObjectBytesMaxDefault;
  uint32_t in_flight_max = 128;
  uint32_t connections_max = 1024;
  int64_t handshake_timeout_ms = 10'000;
  int64_t frame_timeout_ms = 30'000;
  int64_t shutdown_timeout_ms = 10'000;
  uint32_t vnodes = ringkv::kDefaultTokensPerNode;
  double stream_throughput_mb_per_s = 0;
  int64_t request_timeout_ms = 2000;
  bool blocking_read_repair = false;
  bool read_repair = true;
  // Anti-entropy (node/anti_entropy.h). Off: no trees, no rounds, peers' requests and `kvctl
  // repair`, `merkle`, `fingerprint` refused; only to measure what the trees cost the writes.
  bool anti_entropy = true;
  int64_t anti_entropy_interval_s = 600;
  uint64_t anti_entropy_kb_per_s = 4096;
  // Hinted handoff (node/hinted_handoff.h).
  bool hinted_handoff = true;
  int64_t max_hint_window_s = 10800;
  int64_t gc_grace_s = 864000;
  int64_t gc_interval_s = 600;  // tombstone collection (node/tombstone_gc.h)
  uint64_t max_hints_bytes_per_target = uint64_t{1} << 30;
  uint64_t max_hints_bytes = uint64_t{4} << 30;
  uint64_t hint_throughput_kb_per_s = 1024;
  uint64_t hint_total_throughput_kb_per_s = 4096;
};

// Defines every flag on `app`, bound to `f`.
void AddKvnodeFlags(CLI::App* app, KvnodeFlags* f);

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& s);
// "HOST:PORT" -> host, port; false if it is not one.
bool SplitHostPort(const std::string& s, std::string* host, uint16_t* port);

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_KVNODE_FLAGS_H_
