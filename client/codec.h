// Translation between the client's public types and wire frames (proto/ringkv.capnp), and the
// checks made before a request touches the network.
//
// Thread safety: free functions; a builder or reader belongs to the caller.
#ifndef RINGKV_CLIENT_CODEC_H_
#define RINGKV_CLIENT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/ringkv.capnp.h"
#include "ringkv/client.h"
#include "ringkv/error.h"

namespace ringkv::client_internal {

// Local validation, mirroring the node's limits (common/limits.h) so that a request the node would
// reject never costs a round trip. Every failure is kInvalidArgument.
Expected<void> ValidateRead(std::string_view key, const ReadOptions& options);
// `value` is null for a delete.
Expected<void> ValidateWrite(std::string_view key, const std::string_view* value,
                             const WriteOptions& options);
// The node checks the characters a name may hold; this checks what the client can say for sure.
Expected<void> ValidateCreateKeyspace(std::string_view name, uint32_t replication_factor);

// Requests. The request id and the node-side timeout are set per attempt by SetAttempt.
void BuildHello(wire::Frame::Builder frame, uint64_t request_id, std::string_view cluster_name,
                std::string_view node_name);
void BuildGet(wire::Frame::Builder frame, std::string_view key, const ReadOptions& options);
void BuildPut(wire::Frame::Builder frame, std::string_view key, std::string_view value,
              const WriteOptions& options);
void BuildDel(wire::Frame::Builder frame, std::string_view key, const WriteOptions& options);
void BuildInfo(wire::Frame::Builder frame);
void BuildScan(wire::Frame::Builder frame, const ScanOptions& options);
void BuildDropKeyspace(wire::Frame::Builder frame, std::string_view name, bool if_exists);
Expected<void> ValidateScan(const ScanOptions& options);
void BuildRing(wire::Frame::Builder frame);
// Clients always send propagated = false: the node passes the request on to the others itself.
void BuildCreateKeyspace(wire::Frame::Builder frame, std::string_view name,
                         uint32_t replication_factor, bool if_not_exists, bool sloppy);
// REQUIRES: frame holds a client request (get, put, del, scan, info, ring, create/dropKeyspace).
void SetAttempt(wire::Frame::Builder frame, uint64_t request_id, uint32_t timeout_ms);

// Answers. An `error` frame becomes its Error; a frame of the wrong kind is kProtocol.
Error ErrorFromWire(wire::Error::Reader error);
Expected<GetResult> ParseGetAnswer(wire::Frame::Reader frame);
Expected<PutResult> ParsePutAnswer(wire::Frame::Reader frame);
Expected<DelResult> ParseDelAnswer(wire::Frame::Reader frame);
Expected<ScanPage> ParseScanAnswer(wire::Frame::Reader frame);
Expected<bool> ParseDropKeyspaceAnswer(wire::Frame::Reader frame);
void BuildTruncateHints(wire::Frame::Builder frame, std::string_view target);
void BuildAdmin(wire::Frame::Builder frame, std::string_view command, std::string_view argument);
Expected<std::string> ParseAdminAnswer(wire::Frame::Reader frame);
Expected<uint64_t> ParseTruncateHintsAnswer(wire::Frame::Reader frame);
Expected<NodeInfo> ParseInfoAnswer(wire::Frame::Reader frame);
Expected<bool> ParseCreateKeyspaceAnswer(wire::Frame::Reader frame);

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_CODEC_H_
