// Little helpers for compact binary encodings (LEB128 varints, fixed-width integers). Decoders take
// a cursor over untrusted bytes and fail cleanly on truncation or overflow.
#ifndef RINGKV_COMMON_CODING_H_
#define RINGKV_COMMON_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ringkv {

inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

inline void PutFixed64BE(std::string* dst, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

// A read cursor over untrusted bytes. Every Get* returns false, and leaves the cursor failed, when
// the input is too short or malformed.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool GetVarint64(uint64_t* v) {
    if (failed_) return false;
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return Fail();
      const uint8_t byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 63 && byte > 1) return Fail();  // would overflow 64 bits
      result |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        // A zero final byte after the first is padding: refuse it, so every value has exactly one
        // encoding and equal objects have equal bytes.
        if (byte == 0 && shift > 0) return Fail();
        *v = result;
        return true;
      }
    }
    return Fail();
  }

  bool GetFixed64BE(uint64_t* v) {
    if (failed_ || in_.size() < 8) return Fail();
    uint64_t result = 0;
    for (int i = 0; i < 8; ++i) result = result << 8 | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(8);
    *v = result;
    return true;
  }

  bool GetByte(uint8_t* b) {
    if (failed_ || in_.empty()) return Fail();
    *b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }

  bool GetLengthPrefixed(std::string_view* s, uint64_t max_bytes) {
    uint64_t n = 0;
    if (!GetVarint64(&n) || n > max_bytes || n > in_.size()) return Fail();
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

  bool empty() const { return in_.empty(); }
  bool failed() const { return failed_; }
  std::string_view rest() const { return in_; }

 private:
  bool Fail() {
    failed_ = true;
    return false;
  }

  std::string_view in_;
  bool failed_ = false;
};

}  // namespace ringkv

#endif  // RINGKV_COMMON_CODING_H_
