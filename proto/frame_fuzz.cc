// libFuzzer target for FrameDecoder: an untrusted byte stream, fed in chunks whose sizes come from
// the input, through a decoder with the default limits and one with tight limits. Every frame
// handed out is read field by field, as a handler would; frame.h promises that never throws, so a
// kj::Exception escaping here is a finding (libFuzzer reports the uncaught exception as a crash).
//
// Input layout: byte 0 = n (mod 16) chunk-size bytes follow; each gives a chunk size (0: all the
// rest); they are used cyclically; the remaining bytes are the stream.
//
// Seeds: RINGKV_FUZZ_WRITE_SEEDS=<dir> frame_fuzz writes a small corpus of valid streams to <dir>
// and exits (scripts/fuzz.sh does this), so the seeds always match the current schema.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "proto/frame.h"
#include "proto/frame_check.h"
#include "proto/frame_testing.h"

namespace {

using ringkv::proto::DecodedFrame;
using ringkv::proto::FrameDecoder;
using ringkv::proto::FrameLimits;
using ringkv::wire::Frame;
using ringkv::proto::testing::ReadEveryField;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "frame_fuzz: %s\n", what);
  std::abort();
}


void Run(const uint8_t* stream, size_t size, const std::vector<size_t>& chunks,
         const FrameLimits& limits) {
  FrameDecoder decoder(limits);
  size_t pos = 0;
  size_t chunk_index = 0;
  volatile size_t sink = 0;
  bool failed = false;
  while (pos < size && !failed) {
    size_t n = chunks.empty() ? 0 : chunks[chunk_index++ % chunks.size()];
    if (n == 0 || n > size - pos) n = size - pos;
    decoder.Feed(stream + pos, n);
    pos += n;
    for (;;) {
      std::unique_ptr<DecodedFrame> frame;
      std::string error;
      const auto result = decoder.Next(&frame, &error);
      if (result == FrameDecoder::Result::kNeedMore) break;
      if (result == FrameDecoder::Result::kError) {
        if (error.empty()) Die("kError without a reason");
        std::unique_ptr<DecodedFrame> again;
        std::string again_error;
        if (decoder.Next(&again, &again_error) != FrameDecoder::Result::kError) {
          Die("decoder recovered after kError");
        }
        failed = true;
        break;
      }
      if (!frame) Die("kFrame without a frame");
      if (frame->bytes() > limits.frame_bytes_max) Die("frame larger than frame_bytes_max");
      // A getter that throws on an accepted frame is a finding: the decoder promises it cannot.
      // The decoder checks hot frame kinds with typed readers only; the schema-driven walk must
      // find nothing more in any frame they accepted. It reads through a reader of its own, with
      // the same traversal budget the decoder's check had, so the two reads do not share one.
      try {
        capnp::ReaderOptions options;
        options.traversalLimitInWords = 8 * frame->words().size() + 1024;
        options.nestingLimit = limits.nesting_max;
        capnp::FlatArrayMessageReader deep(frame->words(), options);
        ringkv::proto::CheckFrameDeep(deep.getRoot<Frame>());
      } catch (const kj::Exception& e) {
        std::fprintf(stderr, "deep check: %s\n", e.getDescription().cStr());
        Die("the typed check accepted a frame the deep check rejects");
      }
      sink = sink + ReadEveryField(frame->root());
    }
  }
}

kj::ArrayPtr<const kj::byte> Bytes(const std::string& s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

std::string Encode(void (*fill)(Frame::Builder)) {
  capnp::MallocMessageBuilder message;
  auto f = message.initRoot<Frame>();
  f.setRequestId(7);
  fill(f);
  return ringkv::proto::EncodeFrameBytes(message);
}

void WriteSeed(const char* dir, const std::string& name, const std::string& stream, uint8_t chunk) {
  // One control byte: one chunk size, so the seed exercises split feeding too.
  std::string bytes;
  bytes.push_back(chunk ? 1 : 0);
  if (chunk) bytes.push_back(static_cast<char>(chunk));
  bytes += stream;
  const std::string path = std::string(dir) + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    Die("cannot write a seed");
  }
}

void WriteSeeds(const char* dir) {
  const std::string hello = Encode([](Frame::Builder f) {
    auto m = f.initHello();
    m.setProtocolVersion(1);
    m.setRole(ringkv::wire::Role::PEER);
    m.setClusterName("c");
    m.setNodeName("n1");
    m.setSecret(Bytes("secret"));
  });
  const std::string put = Encode([](Frame::Builder f) {
    auto m = f.initPut();
    m.setKeyspace("ks");
    m.setKey(Bytes("key"));
    m.setValue(Bytes("value"));
    m.setContext(Bytes(std::string("\x01\x01\x05\x02", 4)));
    m.setTtlS(60);
    m.setConsistency(ringkv::wire::Consistency::QUORUM);
  });
  const std::string get_result = Encode([](Frame::Builder f) {
    auto m = f.initGetResult();
    m.setFound(true);
    auto sibs = m.initSiblings(2);
    for (uint32_t i = 0; i < 2; ++i) {
      sibs[i].setValue(Bytes("v"));
      sibs[i].initDot().setActor(i + 1);
      sibs[i].getDot().setCounter(3);
      sibs[i].setTimestampUs(1000);
    }
    m.setContext(Bytes("ctx"));
  });
  const std::string error = Encode([](Frame::Builder f) {
    auto m = f.initError();
    m.setCode(ringkv::wire::ErrorCode::UNAVAILABLE);
    m.setMessage("needed 2, alive 1");
    m.setNeeded(2);
    m.setAlive(1);
  });
  const std::string info = Encode([](Frame::Builder f) {
    auto m = f.initInfoResult();
    m.setNodeName("n");
    m.setListen("127.0.0.1:7000");
    m.setUptimeS(5);
  });
  const std::string replica = Encode([](Frame::Builder f) {
    auto m = f.initReplicaWrite();
    m.setKeyspace("ks");
    m.setKey(Bytes("k"));
    m.setObject(Bytes(std::string("\x01\x00\x00", 3)));
  });
  WriteSeed(dir, "hello", hello, 0);
  WriteSeed(dir, "put", put, 0);
  WriteSeed(dir, "get_result", get_result, 0);
  WriteSeed(dir, "error", error, 0);
  WriteSeed(dir, "info_result", info, 0);
  WriteSeed(dir, "replica_write", replica, 0);
  WriteSeed(dir, "stream_split", hello + put + get_result + replica, 7);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (const char* dir = std::getenv("RINGKV_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t control = std::min<size_t>(data[0] % 16, size - 1);
  std::vector<size_t> chunks;
  for (size_t i = 0; i < control; ++i) chunks.push_back(data[1 + i]);
  const uint8_t* stream = data + 1 + control;
  const size_t stream_size = size - 1 - control;

  Run(stream, stream_size, chunks, FrameLimits{});
  FrameLimits tight;
  tight.frame_bytes_max = 4096;
  tight.segments_max = 8;
  tight.nesting_max =
      8;  // above the schema's depth: a smaller limit trips legitimate reads (frame_test)
  Run(stream, stream_size, chunks, tight);
  return 0;
}
