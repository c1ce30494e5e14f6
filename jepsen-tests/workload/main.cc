// jepsen_workload: the client side of a jepsen-tests run (jepsen-tests/README.md). Runs inside the
// harness's namespace and talks to the nodes only through the ringkv client library.
//
//   jepsen_workload run   --nodes n1=127.0.0.11:7000,... --history H --duration-s S [...]
//       client threads run the workloads of workload.h until the duration passes or --ops-max
//       per client is reached. Client i's home is node i mod n. --client-contacts:
//         pinned (default)  the home node is the only contact point, not token-aware, no
//                           retries: the node a client talks to is the side of a partition it
//                           lives on (the CAP report's figures).
//         all               every node is a contact point, the home node first, token-aware,
//                           the library's default retries: the client as an application uses it,
//                           whose home only says where it starts.
//   jepsen_workload final --nodes ... --keys-from H --history F
//       after heal: reads every key H mentions at consistency ALL, retrying each until it is
//       answered or --deadline-s passes; the checker judges durability on these reads.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "jepsen-tests/workload/history.h"
#include "jepsen-tests/workload/workload.h"

namespace {

using namespace ringkv;
using namespace ringkv::jepsen;

struct NodeAddress {
  std::string name, address;
};

std::vector<NodeAddress> ParseNodes(const std::string& s) {
  std::vector<NodeAddress> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw CLI::ValidationError("--nodes", "want NAME=HOST:PORT,...");
    out.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  if (out.empty()) throw CLI::ValidationError("--nodes", "no nodes");
  return out;
}

enum class ClientContacts { kPinned, kAll };

// Client `c`'s options: its home node first (the only one when pinned), the others in order.
ClientOptions ClientFor(int c, const std::vector<NodeAddress>& nodes, ClientContacts contacts,
                        const WorkloadOptions& options) {
  const size_t home = static_cast<size_t>(c) % nodes.size();
  ClientOptions co;
  co.contact_points = {nodes[home].address};
  if (contacts == ClientContacts::kAll) {
    for (size_t i = 1; i < nodes.size(); ++i) {
      co.contact_points.push_back(nodes[(home + i) % nodes.size()].address);
    }
  } else {
    co.token_aware = false;
    co.retries = 0;
  }
  co.connect_timeout = std::chrono::milliseconds(500);
  co.request_timeout = options.timeout;
  co.client_name = fmt::format("jepsen-{}", c);
  return co;
}

int Run(const std::vector<NodeAddress>& nodes, const std::string& history_path, int clients,
        double duration_s, uint64_t ops_max, uint64_t seed, ClientContacts contacts,
        const WorkloadOptions& options) {
  History history(history_path);
  if (!history.ok()) {
    fmt::print(stderr, "jepsen_workload: cannot write {}\n", history_path);
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const NodeAddress& node = nodes[c % nodes.size()];
      Client client(ClientFor(c, nodes, contacts, options));
      Worker worker(c, node.name, &client, &history, options, seed * 1000 + c);
      for (uint64_t i = 0; i < ops_max && std::chrono::steady_clock::now() < deadline; ++i) {
        worker.Step();
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

int Final(const std::vector<NodeAddress>& nodes, const std::string& keys_from,
          const std::string& history_path, double deadline_s, const WorkloadOptions& options) {
  // Keys some write may have reached: a put or delete acknowledged, in doubt, or never answered
  // (the run stopped first). Writes that certainly failed leave nothing to read.
  std::ifstream in(keys_from);
  if (!in) {
    fmt::print(stderr, "jepsen_workload: cannot read {}\n", keys_from);
    return 1;
  }
  std::map<int64_t, std::string> writes;  // op -> key
  for (std::string line; std::getline(in, line);) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.contains("op") || e.value("f", "") == "get") continue;
    const int64_t op = e["op"].get<int64_t>();
    if (e.value("type", "") == "invoke") writes[op] = e["key"].get<std::string>();
    if (e.value("type", "") == "fail") writes.erase(op);
  }
  std::set<std::string> keys;
  for (const auto& [op, key] : writes) keys.insert(key);
  History history(history_path);
  if (!history.ok()) return 1;
  ClientOptions co;
  for (const auto& n : nodes) co.contact_points.push_back(n.address);
  co.request_timeout = std::chrono::milliseconds(2000);
  Client client(co);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(deadline_s * 1000));
  int unread = 0;
  for (const auto& key : keys) {
    ReadOptions ro;
    ro.keyspace = options.keyspace;
    ro.consistency = Consistency::kAll;
    for (;;) {
      auto got = client.Get(key, ro);
      nlohmann::json e = {{"process", "final"}, {"f", "get"}, {"key", key}};
      if (got.ok()) {
        std::vector<std::string> values;
        for (const auto& s : got->siblings) values.push_back(s.value);
        e["type"] = "ok";
        e["values"] = values;
        history.Write(std::move(e));
        break;
      }
      // Nodes may still be starting after the heal: poll every 100 ms (each attempt bounded by
      // its own request timeout) until the final phase's deadline.
      if (std::chrono::steady_clock::now() >= deadline) {
        e["type"] = OutcomeName(Classify(got.error()));
        e["error"] = std::string(ErrorCodeName(got.error().code()));
        history.Write(std::move(e));
        ++unread;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  fmt::print("jepsen_workload: final reads of {} keys, {} unanswered\n", keys.size(), unread);
  return unread == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jepsen_workload: the clients of a jepsen-tests run"};
  std::string nodes_flag, history_path, keys_from;
  int clients = 6;
  double duration_s = 10, deadline_s = 30;
  uint64_t ops_max = 100000, seed = 1;
  int r = 0, w = 0, timeout_ms = 1000;
  WorkloadOptions options;
  ClientContacts contacts = ClientContacts::kPinned;
  app.add_option("--nodes", nodes_flag, "NAME=HOST:PORT,...")->required();
  app.add_option("--history", history_path, "history file to write")->required();
  app.add_option("--keyspace", options.keyspace, "keyspace (empty: default)");
  app.add_option("--r", r, "explicit R (0: QUORUM)")->check(CLI::Range(0, 16));
  app.add_option("--w", w, "explicit W (0: QUORUM)")->check(CLI::Range(0, 16));
  app.add_option("--timeout-ms", timeout_ms, "request deadline")->check(CLI::Range(10, 60000));
  auto* run = app.add_subcommand("run", "run the workloads");
  run->add_option("--clients", clients)->check(CLI::Range(1, 64));
  run->add_option("--duration-s", duration_s)->check(CLI::Range(0.1, 3600.0));
  run->add_option("--ops-max", ops_max, "steps per client at most");
  run->add_option("--seed", seed);
  run->add_option("--client-contacts", contacts,
                  "pinned: each client talks to its node only; all: every node, its own first, "
                  "token-aware, default retries")
      ->transform(CLI::CheckedTransformer(std::map<std::string, ClientContacts>{
          {"pinned", ClientContacts::kPinned}, {"all", ClientContacts::kAll}}));
  run->add_option("--register-keys", options.register_keys)->check(CLI::Range(1, 1000));
  run->add_option("--grow-keys", options.grow_keys)->check(CLI::Range(1, 1000));
  auto* final = app.add_subcommand("final", "read every key of a history at ALL");
  final->add_option("--keys-from", keys_from)->required();
  final->add_option("--deadline-s", deadline_s)->check(CLI::Range(1.0, 600.0));
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  options.r = static_cast<uint8_t>(r);
  options.w = static_cast<uint8_t>(w);
  options.timeout = std::chrono::milliseconds(timeout_ms);
  std::vector<NodeAddress> nodes;
  try {
    nodes = ParseNodes(nodes_flag);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  if (*run) return Run(nodes, history_path, clients, duration_s, ops_max, seed, contacts, options);
  return Final(nodes, keys_from, history_path, deadline_s, options);
}
