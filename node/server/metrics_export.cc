#include "node/server/metrics_export.h"

#include <map>

#include <fmt/format.h>

#include "node/server/server.h"

namespace ringkv {
namespace {

class Page {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    out_ += labels.empty() ? fmt::format("{} {}\n", name, Number(value))
                           : fmt::format("{}{{{}}} {}\n", name, labels, Number(value));
  }
  // Unlabelled counters, each its family and its one sample.
  struct Counter {
    const char* name;
    uint64_t value;
    const char* help;
  };
  void Counters(std::initializer_list<Counter> counters) {
    for (const Counter& c : counters) {
      Family(c.name, "counter", c.help);
      Sample(c.name, "", static_cast<double>(c.value));
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  static std::string Number(double v) {
    if (v == static_cast<double>(static_cast<int64_t>(v))) {
      return fmt::format("{}", static_cast<int64_t>(v));
    }
    return fmt::format("{}", v);
  }
  std::string out_;
};

std::string Label(std::string_view name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, EscapeLabelValue(value));
}

std::string ConsistencyLabel(Consistency c) {
  // kDefault is what the client did not name (or an explicit R / W): the node's default.
  return c == Consistency::kDefault ? "default" : std::string(ConsistencyName(c));
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderMetrics(const MetricsSources& s) {
  Page p;
  p.Family("ringkv_build_info", "gauge", "Build of this node (always 1).");
  p.Sample("ringkv_build_info",
           Label("version", s.version) + "," + Label("node", s.node_name), 1);
  p.Family("ringkv_uptime_seconds", "gauge", "Seconds since the node started.");
  p.Sample("ringkv_uptime_seconds", "",
           static_cast<double>((s.clock->MonoUs() - s.started_us) / 1'000'000));

  p.Family("ringkv_request_duration_seconds", "histogram",
           "Client requests coordinated here, from admission to answer, by operation and "
           "consistency level.");
  for (const auto& [key, h] : s.requests->latency()) {
    const std::string labels = Label("op", MetricOpName(key.first)) + "," +
                               Label("consistency", ConsistencyLabel(key.second));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBucketsS.size(); ++i) {
      cumulative += h.counts[i];
      p.Sample("ringkv_request_duration_seconds_bucket",
               labels + "," + Label("le", fmt::format("{}", kLatencyBucketsS[i])),
               static_cast<double>(cumulative));
    }
    p.Sample("ringkv_request_duration_seconds_bucket", labels + "," + Label("le", "+Inf"),
             static_cast<double>(h.count));
    p.Sample("ringkv_request_duration_seconds_sum", labels, h.sum_s);
    p.Sample("ringkv_request_duration_seconds_count", labels, static_cast<double>(h.count));
  }
  p.Family("ringkv_request_errors_total", "counter",
           "Client requests answered with an error, by operation and error class.");
  for (const auto& [key, n] : s.requests->errors()) {
    p.Sample("ringkv_request_errors_total",
             Label("op", MetricOpName(key.first)) + "," + Label("class", CodeName(key.second)),
             static_cast<double>(n));
  }
  p.Family("ringkv_requests_in_flight", "gauge", "Client requests admitted and not yet answered.");
  p.Sample("ringkv_requests_in_flight", "", static_cast<double>(s.requests->in_flight()));
  p.Family("ringkv_connections", "gauge", "Open connections to this node (clients and peers).");
  p.Sample("ringkv_connections", "", static_cast<double>(s.server->connections()));
  p.Family("ringkv_strangers_refused_total", "counter",
           "Connections refused as a peer (wrong cluster secret or name) and peer-only messages "
           "(gossip, replica traffic) from connections that are not peers.");
  p.Sample("ringkv_strangers_refused_total", "", static_cast<double>(s.server->strangers_refused()));

  p.Family("ringkv_peer_up", "gauge", "1 if the failure detector believes the peer up, else 0.");
  for (const auto& [name, m] : s.view->members()) {
    if (name == s.view->self()) continue;
    p.Sample("ringkv_peer_up", Label("peer", name), s.view->IsUp(name) ? 1 : 0);
  }
  p.Family("ringkv_ring_nodes", "gauge", "Nodes in this node's ring.");
  p.Sample("ringkv_ring_nodes", "", static_cast<double>(s.view->node_count()));
  p.Family("ringkv_members", "gauge", "Members this node knows, by gossip status.");
  {
    std::map<std::string_view, size_t> by_status;
    for (const auto& [name, m] : s.view->members()) ++by_status[gossip::StatusName(m.status)];
    for (const auto& [status, n] : by_status) {
      p.Sample("ringkv_members", Label("status", status), static_cast<double>(n));
    }
  }
  if (s.membership != nullptr) {
    const MembershipStats& g = s.membership->stats();
    p.Counters({
        {"ringkv_gossip_rounds_total", g.rounds, "Gossip rounds this node ran."},
        {"ringkv_gossip_exchanges_total", g.exchanges_ok, "Gossip exchanges that got an answer."},
        {"ringkv_gossip_exchanges_failed_total", g.exchanges_failed, "Gossip exchanges that failed."},
        {"ringkv_gossip_states_received_total", g.states_received, "Full member states received in answers."},
        {"ringkv_gossip_refused_total", g.refused, "Gossip states refused (limits, conflicts)."},
        {"ringkv_failure_detector_convictions_total", g.convicted, "Members the failure detector convicted."},
        {"ringkv_schema_pulls_total", g.schema_pulls, "Keyspace catalogs pulled from a peer with another schema version."},
    });
  }
  if (s.membership_client != nullptr) {
    const auto& t = s.membership_client->traffic();
    p.Family("ringkv_gossip_bytes_total", "counter",
             "Bytes of gossip exchanges this node started (Syn and Ack2, with their answers).");
    p.Sample("ringkv_gossip_bytes_total", Label("direction", "sent"),
             static_cast<double>(t.gossip_sent));
    p.Sample("ringkv_gossip_bytes_total", Label("direction", "received"),
             static_cast<double>(t.gossip_received));
  }
  p.Family("ringkv_stream_bytes_total", "counter", "Bytes streamed, by stream (join, decommission, removenode).");
  p.Family("ringkv_stream_keys_total", "counter", "Keys streamed, by stream.");
  for (const StreamProgress* stream : s.streams) {
    if (stream->state == "idle") continue;
    p.Sample("ringkv_stream_bytes_total", Label("stream", stream->what),
             static_cast<double>(stream->bytes));
    p.Sample("ringkv_stream_keys_total", Label("stream", stream->what),
             static_cast<double>(stream->keys));
  }

  const CoordinatorStats& c = s.coordinator->stats();
  p.Counters({
      {"ringkv_coordinator_reads_total", c.reads, "Reads coordinated here (gets, and the reads of blind deletes)."},
      {"ringkv_coordinator_writes_total", c.writes, "Writes (puts, deletes) coordinated or forwarded here."},
      {"ringkv_coordinator_scans_total", c.scans, "Range scans coordinated here."},
      {"ringkv_forwarded_writes_total", c.forwarded, "Writes forwarded to a replica of the key."},
      {"ringkv_read_repairs_total", c.read_repairs, "Read repair writes sent to stale replicas."},
      {"ringkv_coordinator_unavailable_total", c.unavailable, "Requests failed as UNAVAILABLE (too few replicas up)."},
      {"ringkv_coordinator_timeouts_total", c.timeouts, "Requests failed by their deadline."},
      {"ringkv_replica_reads_total", s.service->replica_reads(), "Local replica reads served."},
      {"ringkv_replica_writes_total", s.service->replica_writes(), "Local replica writes applied."},
  });

  if (s.anti_entropy != nullptr && s.trees != nullptr) {
    const AntiEntropyStats& a = s.anti_entropy->stats();
    p.Counters({
        {"ringkv_aae_exchanges_total", a.exchanges, "Anti-entropy exchanges with another replica of a range."},
        {"ringkv_aae_exchanges_failed_total", a.exchanges_failed, "Anti-entropy exchanges that could not run (peer down, refused, timed out)."},
        {"ringkv_aae_keys_repaired_total", a.keys_repaired, "Keys anti-entropy found differing and merged both ways."},
        {"ringkv_aae_bytes_total", a.bytes, "Bytes of anti-entropy exchanges and of the objects their repairs sent."},
    });
    p.Family("ringkv_aae_tree_bytes", "gauge", "Memory held by this node's anti-entropy trees.");
    p.Sample("ringkv_aae_tree_bytes", "", static_cast<double>(s.trees->memory_bytes()));
  }
  if (s.tombstone_gc != nullptr) {
    const TombstoneGcStats& g = s.tombstone_gc->stats();
    p.Counters({
        {"ringkv_tombstone_walks_total", g.walks, "Walks of tombstone collection over the stored objects."},
        {"ringkv_tombstones_dead_total", g.dead, "Objects the walks found dead (tombstones or expired) past the grace period."},
        {"ringkv_tombstones_collected_total", g.collected, "Dead objects erased: every other replica held the same or nothing."},
        {"ringkv_tombstones_kept_total", g.kept, "Dead objects kept: a replica held something else, was down or did not answer."},
    });
  }
  if (s.hints != nullptr) {
    const HintStats h = s.hints->stats();
    p.Family("ringkv_hints_pending", "gauge",
             "Hints stored on this node and not yet delivered, in all and by target node.");
    p.Sample("ringkv_hints_pending", "", static_cast<double>(h.pending));
    const auto by_target = s.hints->pending();
    for (const auto& [target, t] : by_target) {
      p.Sample("ringkv_hints_pending", Label("target", target), static_cast<double>(t.count));
    }
    p.Family("ringkv_hints_pending_bytes", "gauge", "Bytes of the pending hints, by target node.");
    p.Sample("ringkv_hints_pending_bytes", "", static_cast<double>(h.pending_bytes));
    for (const auto& [target, t] : by_target) {
      p.Sample("ringkv_hints_pending_bytes", Label("target", target), static_cast<double>(t.bytes));
    }
    p.Family("ringkv_hints_stored_total", "counter", "Hints durably stored since start.");
    p.Sample("ringkv_hints_stored_total", "", static_cast<double>(h.stored));
    p.Family("ringkv_hints_delivered_total", "counter",
             "Hints acknowledged by their target, and deleted, since start.");
    p.Sample("ringkv_hints_delivered_total", "", static_cast<double>(h.delivered));
    p.Family("ringkv_hints_rehomed_total", "counter",
             "Hints of a node that left or was removed, written to their keys' current replicas.");
    p.Sample("ringkv_hints_rehomed_total", "", static_cast<double>(h.rehomed));
    p.Family("ringkv_hints_delivery_failures_total", "counter",
             "Hint deliveries that failed (the hint stays for a later attempt).");
    p.Sample("ringkv_hints_delivery_failures_total", "", static_cast<double>(h.delivery_failures));
    p.Family("ringkv_hints_dropped_total", "counter", "Hints not stored or not delivered, by reason.");
    const std::pair<const char*, uint64_t> dropped[] = {
        {"window", h.dropped_window}, {"cap", h.dropped_cap},
        {"not_member", h.dropped_not_member}, {"expired", h.dropped_expired},
        {"io_error", h.dropped_io}, {"corrupt", h.corrupt_skipped},
        {"no_keyspace", h.dropped_no_keyspace}};
    for (const auto& [reason, n] : dropped) {
      p.Sample("ringkv_hints_dropped_total", Label("reason", reason), static_cast<double>(n));
    }
    p.Family("ringkv_hints_needs_repair_total", "counter",
             "Times a node was down past the hint window, so it needs a repair.");
    p.Sample("ringkv_hints_needs_repair_total", "", static_cast<double>(h.needs_repair));
  }

  const StorageStats st = s.storage->Stats();
  p.Family("ringkv_storage_bytes", "gauge",
           "Approximate bytes on disk: LevelDB table files plus the write-ahead log.");
  p.Sample("ringkv_storage_bytes", "", static_cast<double>(st.bytes_approx));
  p.Family("ringkv_storage_keys", "gauge", "Approximate objects stored (tombstones included).");
  p.Sample("ringkv_storage_keys", "", static_cast<double>(st.objects_approx));
  p.Family("ringkv_storage_fsyncs_total", "counter", "fsyncs of the write-ahead log.");
  p.Sample("ringkv_storage_fsyncs_total", "", static_cast<double>(st.fsyncs));
  p.Family("ringkv_storage_writes_queued", "gauge", "Writes waiting for the storage writer.");
  p.Sample("ringkv_storage_writes_queued", "", static_cast<double>(st.writes_queued));
  return p.Take();
}

}  // namespace ringkv
