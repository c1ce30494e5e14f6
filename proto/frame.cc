#include "proto/frame.h"

#include "proto/frame_check.h"

#include <fmt/format.h>
#include <kj/exception.h>

#include <cstring>

namespace ringkv::proto {
namespace {

uint32_t ReadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

capnp::ReaderOptions OptionsFor(size_t words, const FrameLimits& limits) {
  capnp::ReaderOptions options;
  // Validation reads every pointer once and a handler reads each at most a few times more; a bound
  // proportional to the frame stops amplification through shared pointers.
  options.traversalLimitInWords = 8 * words + 1024;
  options.nestingLimit = limits.nesting_max;
  return options;
}

}  // namespace

DecodedFrame::DecodedFrame(kj::Array<capnp::word> words, const FrameLimits& limits)
    : words_(kj::mv(words)), reader_(words_.asPtr(), OptionsFor(words_.size(), limits)) {}

void FrameDecoder::Feed(const uint8_t* data, size_t n) {
  if (failed_ || n == 0) return;
  // Compact before growing, so a long-lived connection's buffer does not creep.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data, data + n);
}

FrameDecoder::Result FrameDecoder::Next(std::unique_ptr<DecodedFrame>* out, std::string* error) {
  if (failed_) {
    *error = failure_;
    return Result::kError;
  }
  auto fail = [&](std::string why) {
    failed_ = true;
    failure_ = std::move(why);
    *error = failure_;
    buf_.clear();
    pos_ = 0;
    return Result::kError;
  };

  const uint8_t* p = buf_.data() + pos_;
  const size_t avail = buf_.size() - pos_;
  if (avail < 4) return Result::kNeedMore;
  const uint64_t segments = uint64_t{ReadLe32(p)} + 1;
  if (segments > limits_.segments_max) {
    return fail(fmt::format("malformed frame: {} segments (max {})", segments, limits_.segments_max));
  }
  // The table is 4 bytes of count and 4 per segment size, padded to a whole word.
  const size_t table_bytes = ((4 + 4 * segments) + 7) / 8 * 8;
  if (table_bytes > limits_.frame_bytes_max) {
    return fail(fmt::format("frame segment table of {} bytes exceeds the frame limit", table_bytes));
  }
  if (avail < table_bytes) return Result::kNeedMore;
  uint64_t body_words = 0;
  for (uint64_t i = 0; i < segments; ++i) {
    const uint32_t seg_words = ReadLe32(p + 4 + 4 * i);
    if (seg_words == 0 && segments == 1) {
      return fail("malformed frame: empty message");
    }
    body_words += seg_words;
  }
  const uint64_t frame_bytes = table_bytes + body_words * sizeof(capnp::word);
  if (frame_bytes > limits_.frame_bytes_max) {
    return fail(fmt::format("frame of {} bytes exceeds the maximum of {} bytes", frame_bytes,
                            limits_.frame_bytes_max));
  }
  if (avail < frame_bytes) return Result::kNeedMore;

  auto words = kj::heapArray<capnp::word>(frame_bytes / sizeof(capnp::word));
  std::memcpy(words.begin(), p, frame_bytes);
  pos_ += frame_bytes;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }

  // Cap'n Proto reports malformed input by throwing kj::Exception; validate the whole frame here so
  // that no handler ever sees a pointer that fails later.
  try {
    {
      // Validation spends its own reader's budget, not the handler's.
      capnp::FlatArrayMessageReader check(words.asPtr(), OptionsFor(words.size(), limits_));
      CheckFrame(check.getRoot<wire::Frame>());
    }
    auto frame = std::make_unique<DecodedFrame>(kj::mv(words), limits_);
    *out = std::move(frame);
    return Result::kFrame;
  } catch (const kj::Exception& e) {
    return fail(fmt::format("malformed frame: {}", e.getDescription().cStr()));
  }
}

kj::Array<capnp::word> EncodeFrame(capnp::MessageBuilder& message) {
  return capnp::messageToFlatArray(message);
}

std::string EncodeFrameBytes(capnp::MessageBuilder& message) {
  auto words = EncodeFrame(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace ringkv::proto
