// The workloads one client thread runs, each a short sequence of operations through the ringkv
// client library, every operation recorded in the History (history.h). Values are unique per
// history ("<kind><client>.<n>"), so a value a read returns names the write that wrote it.
//
//   unique    put a fresh key once (blind): "u:<client>:<n>"
//   register  read "r:<k>", then put a new value with the read's context (read-modify-write)
//   grow      read "s:<k>", merge the siblings' elements (comma-separated), add one, put with the
//             read's context: a set many clients grow at once; siblings are merged by the client
//   session   the client's own key "q:<client>": put the next sequence number with the previous
//             put's context, then read it back (read-your-writes, monotonic reads)
//   delete    put "d:<client>:<n>", delete it with the put's context, read it again
//
// Thread safety: a Worker belongs to one thread; the History and Client it uses are shared.
#ifndef RINGKV_JEPSEN_TESTS_WORKLOAD_WORKLOAD_H_
#define RINGKV_JEPSEN_TESTS_WORKLOAD_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "jepsen-tests/workload/history.h"
#include "ringkv/client.h"

namespace ringkv::jepsen {

struct WorkloadOptions {
  std::string keyspace;
  uint8_t r = 0, w = 0;   // 0: the keyspace's default (QUORUM)
  uint32_t register_keys = 4;
  uint32_t grow_keys = 2;
  std::chrono::milliseconds timeout{1000};
};

class Worker {
 public:
  // `client` and `history` must outlive the Worker. `node` names the client's home node: the one
  // it talks to, or (with every node as a contact point) its first contact point.
  Worker(int id, std::string node, Client* client, History* history, WorkloadOptions options,
         uint64_t seed);

  // Runs one workload step, chosen at random (a step is one to three operations). After a step
  // whose operation was refused (down node, too few replicas) it backs off 50 ms, so a client of
  // a dead node does not spin.
  void Step();

 private:
  struct Read {
    bool ok = false;
    std::vector<std::string> values;
    std::string context;
  };
  Read Get(const std::string& key);
  // Whether the put was acknowledged; if so *context_out (when not null) is its new context.
  bool Put(const std::string& key, const std::string& value, const std::string& context,
           const std::vector<std::string>& seen, std::string* context_out);
  bool Del(const std::string& key, const std::string& context,
           const std::vector<std::string>& seen);

  void Unique();
  void Register();
  void Grow();
  void Session();
  void Delete();

  std::string Next(const char* kind);
  // Writes the invoke line (the base fields plus `extra`) and returns the base fields, which the
  // completion line carries.
  nlohmann::json Invoke(const char* f, const std::string& key,
                        nlohmann::json extra = nlohmann::json::object());
  WriteOptions Writing(const std::string& context) const;
  void Complete(nlohmann::json event, Outcome outcome, const Error* error);

  int id_;
  std::string node_;
  Client* client_;
  History* history_;
  WorkloadOptions options_;
  std::mt19937_64 rng_;
  uint64_t n_ = 0;
  bool refused_ = false;  // the last operation failed (not in doubt)
  uint64_t session_seq_ = 0;
  std::string session_context_;
  std::vector<std::string> session_seen_;
};

}  // namespace ringkv::jepsen

#endif  // RINGKV_JEPSEN_TESTS_WORKLOAD_WORKLOAD_H_
