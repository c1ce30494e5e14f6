// What end-to-end tests ask a running node through its admin tools: kvctl commands, its stored
// objects (`kvctl dump`), one sample of its /metrics page.
#ifndef RINGKV_NODE_TESTING_ADMIN_CALLS_H_
#define RINGKV_NODE_TESTING_ADMIN_CALLS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "node/testing/node_process.h"

namespace ringkv::testing {

// `kvctl --host HOST ARGS...`, bounded at 120 s.
CommandResult Kvctl(const std::string& host, std::vector<std::string> args);

// The objects the node stores in the default keyspace, as "KEY SIBLINGS TOMBSTONES" lines
// (`kvctl dump`), sorted; with `key_prefix`, only the keys that start with it. Empty (and a test
// failure) when kvctl fails.
std::set<std::string> Dump(const std::string& host, const std::string& key_prefix = "");

// The value of one sample ("name{labels}") on the /metrics page served at 127.0.0.1:`port`;
// -1 when absent or unreachable.
double Metric(uint16_t port, const std::string& sample);

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_ADMIN_CALLS_H_
