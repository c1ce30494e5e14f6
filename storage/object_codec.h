// The byte encoding of a VersionedObject as stored in LevelDB and carried in ReplicaWrite.
//
//   format:u8 (=1) | clock (varint n, then n x (actor varint, counter varint), sorted)
//   | varint sibling count | per sibling: actor varint, counter varint, timestamp_us zigzag varint,
//     flags u8 (bit0 tombstone, bit1 has expiry), [expires_at_us zigzag varint],
//     value (varint length, bytes)
//
// DecodeObject takes untrusted bytes (a peer's ReplicaWrite, or a disk that lied) and returns
// Corruption for anything malformed; it never reads out of bounds and never allocates more than the
// input's size allows.
#ifndef RINGKV_STORAGE_OBJECT_CODEC_H_
#define RINGKV_STORAGE_OBJECT_CODEC_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/version.h"

namespace ringkv {

std::string EncodeObject(const VersionedObject& object);
Result<VersionedObject> DecodeObject(std::string_view bytes);

}  // namespace ringkv

#endif  // RINGKV_STORAGE_OBJECT_CODEC_H_
