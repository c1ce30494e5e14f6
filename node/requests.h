// The shapes of client-level requests and answers inside a node, shared by the transport, the
// coordinator and the local request core.
#ifndef RINGKV_NODE_REQUESTS_H_
#define RINGKV_NODE_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/consistency.h"
#include "common/version.h"

namespace ringkv {

struct RequestOptions {
  Consistency consistency = Consistency::kDefault;
  uint8_t explicit_count = 0;  // R for reads, W for writes; 0: from `consistency`
  int64_t timeout_ms = 0;      // 0: the node's default
};

struct ReadReply {
  bool found = false;
  std::vector<Sibling> siblings;  // live only
  std::string context;            // VersionVector::EncodeContext of the merged clock
};

struct WriteReply {
  std::string context;    // the object's clock after the write
  uint32_t siblings = 0;  // live siblings after the write
  VersionedObject object; // the object as stored by the coordinator: what replicas receive
};

// A replica's whole copy of a key, tombstones and clock included. found = false: it has none.
struct ReplicaReadReply {
  bool found = false;
  VersionedObject object;
};

// A client write (put or delete) as it travels from a node outside the key's preference list to
// one inside it, which coordinates.
struct ForwardedWrite {
  std::string keyspace;
  std::string key;
  std::string value;
  std::string context;
  uint32_t ttl_s = 0;
  bool is_delete = false;
  RequestOptions options;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_REQUESTS_H_
