// Consistency levels: how many replicas must answer a read (R) or acknowledge a write (W).
#ifndef RINGKV_COMMON_CONSISTENCY_H_
#define RINGKV_COMMON_CONSISTENCY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>


namespace ringkv {

enum class Consistency : uint8_t { kDefault, kOne, kTwo, kThree, kQuorum, kAll, kAny };

std::string_view ConsistencyName(Consistency c);

// Which nodes a write may count toward W. Strict: only the key's preference list (too few of them
// up is UNAVAILABLE). Sloppy (the Dynamo paper's sloppy quorum): the next healthy nodes clockwise
// past the preference list stand in for the replicas that are down, each storing the write as a
// durable hint for the replica it stands in for, and count toward W. kDefault: the keyspace's mode.
// Reads always count the preference list only.
enum class QuorumMode : uint8_t { kDefault, kStrict, kSloppy };
bool ParseConsistency(std::string_view name, Consistency* out);

// Replicas a request needs out of `n`, the key's effective replication (the keyspace's factor,
// capped by the nodes in the ring). `explicit_count` (an R or W given as a number) wins when
// non-zero. kDefault is QUORUM over n, so a lone node needs 1 and a 3-node ring with factor 3 needs
// 2. kAny needs 1 (a hint may count, once hinted handoff exists). The coordinator checks the
// result: more than the keyspace's factor is kInvalidArgument; more than the replicas up is
// kUnavailable.
size_t RequiredReplicas(Consistency c, uint8_t explicit_count, size_t n);

}  // namespace ringkv

#endif  // RINGKV_COMMON_CONSISTENCY_H_
