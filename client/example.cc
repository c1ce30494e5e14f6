// A tour of the ringkv client: a put, a get that may return siblings, a read-modify-write that
// carries the causal context, error handling by code, and where a key's replicas are.
//
//   client_example [host:port]     (default 127.0.0.1:7000)
#include <cstdio>
#include <string>
#include <vector>

#include "ringkv/client.h"

namespace {

// Resolves concurrent writes to one value. Here: the longest wins; a real application merges
// (a set union, a counter sum, the newest stage of a pipeline record...).
std::string Resolve(const std::vector<ringkv::Sibling>& siblings) {
  std::string best;
  for (const auto& s : siblings) {
    if (s.value.size() > best.size()) best = s.value;
  }
  return best;
}

// What to do next depends on the code, not on the message.
void Explain(const char* what, const ringkv::Error& error) {
  switch (error.code()) {
    case ringkv::ErrorCode::kUnavailable:
      std::fprintf(stderr, "%s: only %u of %u replicas reachable; retry later or lower the "
                   "consistency\n", what, error.alive(), error.needed());
      break;
    case ringkv::ErrorCode::kTimeout:
      if (error.in_doubt()) {
        std::fprintf(stderr, "%s: in doubt, it may have been applied; read before retrying\n",
                     what);
      } else {
        std::fprintf(stderr, "%s: timed out; safe to retry\n", what);
      }
      break;
    case ringkv::ErrorCode::kOverloaded:
      std::fprintf(stderr, "%s: the cluster is shedding load; back off\n", what);
      break;
    case ringkv::ErrorCode::kDisconnected:
      std::fprintf(stderr, "%s: no node reachable (nothing was sent)\n", what);
      break;
    default:
      std::fprintf(stderr, "%s: %s\n", what, error.ToString().c_str());
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ringkv::ClientOptions options;
  options.contact_points = {argc > 1 ? argv[1] : "127.0.0.1:7000"};
  ringkv::Client client(options);

  // 1. A blind put: no context, so it supersedes nothing.
  auto put = client.Put("doc:42", R"({"lang":"en"})");
  if (!put.ok()) {
    Explain("put", put.error());
    return 1;
  }

  // 2. A get. More than one sibling means concurrent writes the application must resolve.
  auto got = client.Get("doc:42");
  if (!got.ok()) {
    Explain("get", got.error());
    return 1;
  }
  if (!got->found) {
    std::printf("doc:42 is not there\n");
    return 0;
  }
  std::printf("doc:42 has %zu sibling(s)\n", got->siblings.size());
  for (const auto& s : got->siblings) {
    std::printf("  %s (written by %llu:%llu)\n", s.value.c_str(),
                static_cast<unsigned long long>(s.actor),
                static_cast<unsigned long long>(s.counter));
  }

  // 3. Read-modify-write: write back with the context of the read, so the new value supersedes
  //    exactly the siblings we saw (and stands beside any we did not).
  ringkv::WriteOptions write;
  write.context = got->context;
  std::string value = Resolve(got->siblings);
  if (!value.empty() && value.back() == '}') {
    value.insert(value.size() - 1, R"(,"quality":0.91)");
  } else {
    value = R"({"quality":0.91})";
  }
  auto updated = client.Put("doc:42", value, write);
  if (!updated.ok()) {
    Explain("update", updated.error());
    return 1;
  }
  if (updated->siblings > 1) std::printf("a concurrent write landed meanwhile; read again\n");

  // 4. Asynchronous forms: a future, or a callback on the client's I/O thread.
  auto pending = client.GetAsync("doc:42");
  auto final_read = pending.get();
  if (final_read.ok() && final_read->found) {
    std::printf("doc:42 = %s\n", final_read->siblings[0].value.c_str());
  }

  // 5. Errors are values: an oversized key fails locally with kInvalidArgument.
  auto too_big = client.Get(std::string(70 * 1024, 'k'));
  if (!too_big.ok()) Explain("oversized get", too_big.error());

  // 6. Where doc:42 lives: its replicas, primary first. The client sent every request above
  //    straight to the first of them that was up.
  auto replicas = client.Endpoints("doc:42");
  if (replicas.ok()) {
    std::printf("doc:42 is replicated on:");
    for (const auto& node : replicas.value()) std::printf(" %s", node.c_str());
    std::printf("\n");
  } else {
    Explain("endpoints", replicas.error());
  }
  return 0;
}
