// A blocking HTTP/1.1 GET to 127.0.0.1, for tests of a node's /metrics endpoint.
#ifndef RINGKV_NODE_TESTING_HTTP_GET_H_
#define RINGKV_NODE_TESTING_HTTP_GET_H_

#include <cstdint>
#include <string>

namespace ringkv::testing {

// The whole response (status line, headers, body) of GET `path` on 127.0.0.1:`port`; empty when
// the connection fails. Bounded: a 5 s receive timeout, and the server closes after one answer.
std::string HttpGet(uint16_t port, const std::string& path);
// The body of that response; empty when there is none.
std::string HttpGetBody(uint16_t port, const std::string& path);

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_HTTP_GET_H_
