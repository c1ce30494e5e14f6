// Read-back checks shared by the real-process tests that use the client library (header-only, so
// ringkv_testing itself needs no client).
#ifndef RINGKV_NODE_TESTING_READ_CHECKS_H_
#define RINGKV_NODE_TESTING_READ_CHECKS_H_

#include <functional>
#include <string>
#include <vector>

#include "ringkv/client.h"

namespace ringkv::testing {

// How many of `keys` a read at `consistency` through `reader` does not find (or, when `value_of`
// is given, finds with another first sibling's value).
inline size_t Missing(Client* reader, const std::vector<std::string>& keys,
                      Consistency consistency,
                      const std::function<std::string(const std::string&)>& value_of = {}) {
  size_t missing = 0;
  for (const auto& key : keys) {
    ReadOptions r;
    r.consistency = consistency;
    auto got = reader->Get(key, r);
    if (!got.ok() || !got->found || (value_of && got->siblings.at(0).value != value_of(key))) {
      ++missing;
    }
  }
  return missing;
}

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_READ_CHECKS_H_
