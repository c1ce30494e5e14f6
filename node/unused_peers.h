// UnusedPeers: a PeerTransport for unit tests whose every call answers Internal("not used in this
// test") at once; a test's fake derives from it and overrides only the calls it serves.
//
// Thread safety: none.
#ifndef RINGKV_NODE_UNUSED_PEERS_H_
#define RINGKV_NODE_UNUSED_PEERS_H_

#include <string>
#include <string_view>

#include "node/effects.h"

namespace ringkv {

class UnusedPeers : public PeerTransport {
 public:
  void ReplicaWrite(const std::string&, std::string_view, std::string_view,
                    const VersionedObject&, int64_t, WriteDone done) override {
    done(NotUsed());
  }
  void ReplicaRead(const std::string&, std::string_view, std::string_view, int64_t,
                   ReadDone done) override {
    done(NotUsed());
  }
  void FallbackWrite(const std::string&, const std::string&, std::string_view, std::string_view,
                     const VersionedObject&, int64_t, WriteDone done) override {
    done(NotUsed());
  }
  void ForwardWrite(const std::string&, const ForwardedWrite&, int64_t, ForwardDone done) override {
    done(NotUsed());
  }
  void ReplicaScan(const std::string&, const ScanSpec&, int64_t, ScanDone done) override {
    done(NotUsed());
  }

 private:
  static Status NotUsed() { return Status::Internal("not used in this test"); }
};

}  // namespace ringkv

#endif  // RINGKV_NODE_UNUSED_PEERS_H_
