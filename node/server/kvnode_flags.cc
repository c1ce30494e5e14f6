#include "node/server/kvnode_flags.h"

namespace ringkv {

void AddKvnodeFlags(CLI::App* app, KvnodeFlags* f) {
  app->set_config("--config", "", "read flags from a TOML/INI file (key = value, flag names)");
  app->add_option("--name", f->name, "node name, unique in the cluster")->required();
  app->add_option("--listen", f->listen, "HOST:PORT for clients and peers")->capture_default_str();
  app->add_option("--broadcast-address", f->broadcast_address,
                 "HOST:PORT other nodes and clients are told to reach this node at (default: "
                 "--listen; set it when --listen is a wildcard or a local address)");
  app->add_option("--data", f->data, "data directory (created if missing)")->required();
  app->add_option("--seeds", f->seeds,
                 "HOST:PORT,... of nodes to gossip with first; a node listed in its own seeds "
                 "founds the cluster with them, any other joins the running cluster and streams "
                 "its ranges before it serves them");
  app->add_option("--stream-throughput-mb-per-s", f->stream_throughput_mb_per_s,
                 "cap on the bytes a join streams per second, in MB (0: no cap)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100000.0));
  app->add_option("--vnodes", f->vnodes, "tokens this node takes on the ring at its first start")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  app->add_option("--request-timeout-ms", f->request_timeout_ms,
                 "deadline of a coordinated request when the client gives none")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  app->add_flag("--blocking-read-repair", f->blocking_read_repair,
               "repair stale replicas before answering a read (monotonic reads)");
  app->add_option("--http", f->http, "HOST:PORT to serve Prometheus metrics on (GET /metrics)");
  app->add_option("--cql", f->cql,
                 "HOST:PORT to serve the CQL native protocol (v4) on, for Cassandra drivers; "
                 "off unless given");
  app->add_option("--cql-credentials-file", f->cql_credentials_file,
                 "user:password lines; with it, CQL drivers must authenticate (plain text)");
  app->add_option("--cluster-name", f->cluster_name, "cluster name; clients may insist on it")
      ->capture_default_str();
  app->add_option("--cluster-secret-file", f->cluster_secret_file,
                 "file holding the secret peers must present");
  app->add_option("--sync", f->sync, "durability: always | batch (group commit) | periodic")
      ->capture_default_str();
  app->add_option("--sync-period-ms", f->sync_period_ms, "fsync interval under --sync periodic")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  app->add_option("--clock-offset-ms", f->clock_offset_ms,
                 "shift this node's wall clock (fault tests)")
      ->capture_default_str();
  app->add_option("--log-level", f->log_level, "debug | info | warn | error")->capture_default_str();
  app->add_option("--value-bytes-max", f->value_bytes_max, "largest value accepted")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{64} << 20));
  app->add_option("--object-bytes-max", f->object_bytes_max,
                 "largest object (all siblings of a key together) a write may leave")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  app->add_option("--in-flight-max", f->in_flight_max, "requests in flight per connection")
      ->capture_default_str()
      ->check(CLI::Range(1u, 65536u));
  app->add_option("--connections-max", f->connections_max, "open connections")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app->add_option("--handshake-timeout-ms", f->handshake_timeout_ms,
                 "close connections that send no hello for this long")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  app->add_option("--frame-timeout-ms", f->frame_timeout_ms,
                 "close connections stalled this long in the middle of a frame")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  app->add_option("--read-repair", f->read_repair,
                  "repair the stale replicas a read finds (true | false; false only to let "
                  "replicas diverge on purpose, as anti-entropy's tests do)")
      ->capture_default_str();
  app->add_option("--anti-entropy", f->anti_entropy,
                  "keep anti-entropy trees and answer repairs (true | false; false builds no "
                  "trees, and peers' exchanges and kvctl repair, merkle and fingerprint are "
                  "refused: only to measure what the trees cost the writes)")
      ->capture_default_str();
  app->add_option("--anti-entropy-interval-s", f->anti_entropy_interval_s,
                  "every this many seconds, compare the trees of the ranges this node is first "
                  "replica of with their other replicas and repair what differs (0: only on "
                  "`kvctl repair`)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{30} * 86400));
  app->add_option("--anti-entropy-kb-per-s", f->anti_entropy_kb_per_s,
                  "scheduled anti-entropy rounds send at most this many KiB a second on average "
                  "(0: no limit; `kvctl repair` is not limited)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
  app->add_option("--hinted-handoff", f->hinted_handoff,
                 "store hints for replicas a write missed and replay them (true | false)")
      ->capture_default_str();
  app->add_option("--max-hint-window-s", f->max_hint_window_s,
                 "no hints for a node believed down for longer than this")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{365} * 86400));
  app->add_option("--gc-grace-s", f->gc_grace_s,
                 "tombstone grace period: a tombstone is collected only once older than this "
                 "and held alike by every replica; a hint older than this is dropped")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3650} * 86400));
  app->add_option("--gc-interval-s", f->gc_interval_s,
                 "every this many seconds, walk the stored objects and collect the tombstones "
                 "that no replica needs any more (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{30} * 86400));
  app->add_option("--max-hints-bytes-per-target", f->max_hints_bytes_per_target,
                 "hint bytes kept for one node; past it new hints are dropped and counted")
      ->capture_default_str();
  app->add_option("--max-hints-bytes", f->max_hints_bytes,
                 "hint bytes kept in all; past it new hints are dropped and counted")
      ->capture_default_str();
  app->add_option("--hint-throughput-kb-per-s", f->hint_throughput_kb_per_s,
                 "hint replay rate to one node, KiB/s")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  app->add_option("--hint-total-throughput-kb-per-s", f->hint_total_throughput_kb_per_s,
                 "hint replay rate to all nodes together, KiB/s")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
}


std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos
                                                                         : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool SplitHostPort(const std::string& s, std::string* host, uint16_t* port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = s.substr(0, colon);
  const std::string p = s.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(p);
  if (value < 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace ringkv
