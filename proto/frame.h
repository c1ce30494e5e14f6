// Frames on a ringkv connection: Cap'n Proto's standard stream framing (a segment table, then the
// segments), one wire::Frame message per frame.
//
// FrameDecoder turns an untrusted byte stream into whole frames. It checks the segment table against
// the limits before it buffers a frame, so a peer cannot make it allocate more than frame_bytes_max,
// and it validates every pointer of a decoded frame before handing it out, so the code that reads a
// frame never meets a malformed one.
//
// Thread safety: none; one decoder belongs to one connection.
#ifndef RINGKV_PROTO_FRAME_H_
#define RINGKV_PROTO_FRAME_H_

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/ringkv.capnp.h"

namespace ringkv::proto {

struct FrameLimits {
  // Largest frame accepted, segment table included. The default fits a 16 MiB value, a 64 KiB key
  // and the envelope.
  size_t frame_bytes_max = 20u << 20;
  uint32_t segments_max = 512;
  // Cap'n Proto nesting limit for a frame's pointers.
  int nesting_max = 32;
};

// One decoded, validated frame. Owns its words; the reader points into them. Validation read the
// frame through a reader of its own, so this one starts with its whole traversal budget.
class DecodedFrame {
 public:
  DecodedFrame(kj::Array<capnp::word> words, const FrameLimits& limits);
  DecodedFrame(const DecodedFrame&) = delete;
  DecodedFrame& operator=(const DecodedFrame&) = delete;

  wire::Frame::Reader root() { return reader_.getRoot<wire::Frame>(); }
  size_t bytes() const { return words_.size() * sizeof(capnp::word); }
  // The frame's words, for a second reader with a budget of its own (tests, fuzzing).
  kj::ArrayPtr<const capnp::word> words() const { return words_.asPtr(); }

 private:
  kj::Array<capnp::word> words_;
  capnp::FlatArrayMessageReader reader_;  // reads words_; declared after it
};

class FrameDecoder {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  explicit FrameDecoder(FrameLimits limits = {}) : limits_(limits) {}

  // Appends bytes read from the connection.
  void Feed(const uint8_t* data, size_t n);

  // Takes the next whole frame. kFrame: *out holds it. kNeedMore: wait for more bytes. kError:
  // *error says what was wrong; the stream cannot be resynchronised and the connection must close.
  [[nodiscard]] Result Next(std::unique_ptr<DecodedFrame>* out, std::string* error);

  // Bytes buffered but not yet returned as a frame.
  size_t buffered() const { return buf_.size() - pos_; }

  // Raises or lowers the frame size limit for frames not yet begun (a connection that has
  // authenticated as a peer may send whole objects, larger than any client request).
  void set_frame_bytes_max(size_t bytes) { limits_.frame_bytes_max = bytes; }

 private:
  FrameLimits limits_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string failure_;
};

// Words for a frame builder's first segment: room for the envelope (the Frame struct, one request
// or answer struct, a trace pointer or two) plus `payload_bytes` of blobs (keys, values, objects,
// contexts). Cap'n Proto's default first segment is 1024 words, calloc'ed and so zeroed for every
// message: for a ~200-byte message that zeroing was a fifth of a node's instructions. A frame that
// outgrows the estimate only gets a further segment, so the estimate needs to be good, not exact.
constexpr unsigned FrameFirstSegmentWords(size_t payload_bytes) {
  constexpr size_t kEnvelopeWords = 48;
  constexpr size_t kWordsMax = size_t{1} << 26;  // 512 MiB: past any frame limit
  const size_t words = kEnvelopeWords + (payload_bytes + 7) / 8;
  return static_cast<unsigned>(words < kWordsMax ? words : kWordsMax);
}

// The builder every outgoing frame is made in: a first segment sized by FrameFirstSegmentWords,
// growing as Cap'n Proto's default does if the estimate was short.
class FrameBuilder : public capnp::MallocMessageBuilder {
 public:
  explicit FrameBuilder(size_t payload_bytes = 0)
      : capnp::MallocMessageBuilder(FrameFirstSegmentWords(payload_bytes),
                                    capnp::AllocationStrategy::GROW_HEURISTICALLY) {}
};

// Serialises a message as one frame.
kj::Array<capnp::word> EncodeFrame(capnp::MessageBuilder& message);

// Convenience for tests and tools: the frame's bytes as a string.
std::string EncodeFrameBytes(capnp::MessageBuilder& message);

}  // namespace ringkv::proto

#endif  // RINGKV_PROTO_FRAME_H_
