// The keyspace catalog on disk, so a node keeps its keyspaces (and the drops it has seen) across
// restarts. Two metadata records: "keyspaces" = "name:rf:created_us,..." (older nodes wrote
// "name:rf") and "dropped_keyspaces" = "name:dropped_us,...".
//
// Thread safety: the node's loop (Storage's metadata calls).
#ifndef RINGKV_NODE_KEYSPACE_STORE_H_
#define RINGKV_NODE_KEYSPACE_STORE_H_

#include <string>

#include "common/status.h"
#include "node/keyspaces.h"
#include "storage/storage.h"

namespace ringkv {

// Fills `catalog` with what was saved.
Status LoadKeyspaces(Storage* storage, KeyspaceCatalog* catalog);
// Saves (or updates) one keyspace definition.
Status SaveKeyspace(Storage* storage, const KeyspaceDef& keyspace);
// Removes a keyspace from the saved list and records its drop.
Status SaveDrop(Storage* storage, const std::string& name, int64_t dropped_us);

}  // namespace ringkv

#endif  // RINGKV_NODE_KEYSPACE_STORE_H_
