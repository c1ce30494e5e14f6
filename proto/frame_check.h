// Validation of a received frame before any handler reads it. Cap'n Proto checks pointers lazily,
// as they are followed, and throws kj::Exception on a malformed one; a frame is checked here, once,
// by following every pointer it holds with the schema's type, so handlers never see one that
// throws.
//
// Two checkers that must agree (the fuzz target and frame_test compare them on every input):
//   CheckFrameTyped: the typed readers of the frames that carry the traffic (get, put, del, their
//     results, replica reads and writes, error). Cheap: no reflection. Returns false, without
//     checking, for any other frame kind.
//   CheckFrameDeep: any frame, through Cap'n Proto's dynamic (reflection) API: the schema decides
//     what to follow. About ten times the cost of the typed walk.
// Both throw kj::Exception on a frame a handler could not read.
#ifndef RINGKV_PROTO_FRAME_CHECK_H_
#define RINGKV_PROTO_FRAME_CHECK_H_

#include "proto/ringkv.capnp.h"

namespace ringkv::proto {

bool CheckFrameTyped(wire::Frame::Reader frame);
void CheckFrameDeep(wire::Frame::Reader frame);

// CheckFrameTyped, falling back to CheckFrameDeep for the kinds it does not cover.
inline void CheckFrame(wire::Frame::Reader frame) {
  if (!CheckFrameTyped(frame)) CheckFrameDeep(frame);
}

}  // namespace ringkv::proto

#endif  // RINGKV_PROTO_FRAME_CHECK_H_
