// RenderMetrics: the node's /metrics page in the Prometheus text exposition format 0.0.4, read
// from the components at scrape time. Every family has HELP and TYPE lines; counters end in
// _total; latencies are histograms in seconds with cumulative `le` buckets, _sum and _count.
//
// Not exported because they do not exist yet (no made-up values): anti-entropy repair bytes,
// gossip rounds.
//
// Thread safety: call on the node's loop (the components are the loop's).
#ifndef RINGKV_NODE_SERVER_METRICS_EXPORT_H_
#define RINGKV_NODE_SERVER_METRICS_EXPORT_H_

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "node/aae_trees.h"
#include "node/anti_entropy.h"
#include "node/tombstone_gc.h"
#include "node/cluster_view.h"
#include "node/membership.h"
#include "node/range_streamer.h"
#include "node/coordinator.h"
#include "node/hinted_handoff.h"
#include "node/kv_service.h"
#include "node/metrics.h"
#include "node/server/membership_client.h"
#include "storage/storage.h"

namespace ringkv {

class Server;

struct MetricsSources {
  std::string node_name;
  std::string version;
  const NodeMetrics* requests = nullptr;
  const Server* server = nullptr;
  const Coordinator* coordinator = nullptr;
  const KvService* service = nullptr;
  Storage* storage = nullptr;
  const ClusterView* view = nullptr;
  const Membership* membership = nullptr;  // may be null: no gossip families
  std::vector<const StreamProgress*> streams;  // join, decommission, removenode
  const HintedHandoff* hints = nullptr;  // may be null: no hint families
  const AntiEntropy* anti_entropy = nullptr;  // may be null: no anti-entropy families
  const AaeTrees* trees = nullptr;
  const TombstoneCollector* tombstone_gc = nullptr;  // may be null: no tombstone families
  const MembershipClient* membership_client = nullptr;  // may be null: no gossip bytes
  const Clock* clock = nullptr;
  int64_t started_us = 0;  // clock->MonoUs() at start
};

std::string RenderMetrics(const MetricsSources& sources);

// "a\"b" -> "a\\\"b": a label value as the exposition format quotes it.
std::string EscapeLabelValue(std::string_view value);

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_METRICS_EXPORT_H_
