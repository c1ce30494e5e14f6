#include "cql/native/frame.h"

#include <fmt/format.h>

#include <cassert>

namespace ringkv::cql::native {

void PutBe(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string OpcodeName(uint8_t opcode) {
  static constexpr std::string_view kNames[] = {
      "ERROR",     "STARTUP", "READY",          "AUTHENTICATE",  "0x04",        "OPTIONS",
      "SUPPORTED", "QUERY",   "RESULT",         "PREPARE",       "EXECUTE",     "REGISTER",
      "EVENT",     "BATCH",   "AUTH_CHALLENGE", "AUTH_RESPONSE", "AUTH_SUCCESS"};
  if (opcode < std::size(kNames) && opcode != 0x04) return std::string(kNames[opcode]);
  return fmt::format("0x{:02x}", opcode);
}

std::string WireConsistencyName(uint16_t c) {
  static constexpr std::string_view kNames[] = {
      "ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",   "ALL",
      "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE"};
  if (c < std::size(kNames)) return std::string(kNames[c]);
  return fmt::format("0x{:04x}", c);
}

HeaderCheck DecodeHeader(std::string_view bytes, const FrameLimits& limits, FrameHeader* out) {
  assert(bytes.size() >= kHeaderBytes);
  const auto first = static_cast<uint8_t>(bytes[0]);
  out->response = (first & kResponseBit) != 0;
  out->version = first & ~kResponseBit;
  out->flags = static_cast<uint8_t>(bytes[1]);
  out->stream = static_cast<int16_t>(GetBe(bytes.data() + 2, 2));
  out->opcode = static_cast<uint8_t>(bytes[4]);
  out->length = static_cast<uint32_t>(GetBe(bytes.data() + 5, 4));
  if (out->version != kProtocolVersion) {
    if (out->version <= 2) {
      // v1 and v2 frames have an 8-byte header with a one-byte stream id: read it so, for the
      // refusal to answer on the client's stream.
      out->stream = static_cast<int8_t>(bytes[2]);
      out->opcode = static_cast<uint8_t>(bytes[3]);
    }
    return HeaderCheck::kBadVersion;
  }
  if (out->response) return HeaderCheck::kNotRequest;
  if (out->length > limits.body_bytes_max) return HeaderCheck::kTooLarge;
  return HeaderCheck::kOk;
}

void EncodeHeader(const FrameHeader& h, std::string* out) {
  out->push_back(static_cast<char>(h.version | (h.response ? kResponseBit : 0)));
  out->push_back(static_cast<char>(h.flags));
  PutBe(static_cast<uint16_t>(h.stream), 2, out);
  out->push_back(static_cast<char>(h.opcode));
  PutBe(h.length, 4, out);
}

std::string EncodeResponse(int16_t stream, Opcode opcode, uint8_t flags, std::string_view body) {
  FrameHeader h;
  h.response = true;
  h.flags = flags;
  h.stream = stream;
  h.opcode = static_cast<uint8_t>(opcode);
  h.length = static_cast<uint32_t>(body.size());
  std::string out;
  out.reserve(kHeaderBytes + body.size());
  EncodeHeader(h, &out);
  out.append(body);
  return out;
}

// ---- BodyReader ----

void BodyReader::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  in_ = {};
}

std::string_view BodyReader::Take(size_t n, std::string_view what) {
  if (!ok()) return {};
  if (n > in_.size()) {
    Fail(fmt::format("truncated {}: {} bytes needed, {} left in the frame", what, n, in_.size()));
    return {};
  }
  std::string_view out = in_.substr(0, n);
  in_.remove_prefix(n);
  return out;
}

size_t BodyReader::Count(size_t n, std::string_view what) {
  if (ok() && n > limits_.collection_count_max) {
    Fail(fmt::format("{} has {} entries, more than the limit of {}", what, n,
                     limits_.collection_count_max));
  }
  return ok() ? n : 0;
}

uint8_t BodyReader::Byte() {
  auto b = Take(1, "[byte]");
  return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
}

uint16_t BodyReader::Short() {
  auto b = Take(2, "[short]");
  return b.empty() ? 0 : static_cast<uint16_t>(GetBe(b.data(), 2));
}

int32_t BodyReader::Int() {
  auto b = Take(4, "[int]");
  return b.empty() ? 0 : static_cast<int32_t>(GetBe(b.data(), 4));
}

int64_t BodyReader::Long() {
  auto b = Take(8, "[long]");
  return b.empty() ? 0 : static_cast<int64_t>(GetBe(b.data(), 8));
}

std::string BodyReader::String() { return std::string(Take(Short(), "[string]")); }

std::string BodyReader::LongString() {
  const int32_t n = Int();
  if (n < 0) {
    Fail(fmt::format("[long string] of negative length {}", n));
    return {};
  }
  return std::string(Take(static_cast<size_t>(n), "[long string]"));
}

std::optional<std::string> BodyReader::Bytes() {
  const int32_t n = Int();
  if (!ok() || n < 0) return std::nullopt;
  return std::string(Take(static_cast<size_t>(n), "[bytes]"));
}

std::string BodyReader::ShortBytes() { return std::string(Take(Short(), "[short bytes]")); }

WireValue BodyReader::Value() {
  WireValue v;
  const int32_t n = Int();
  if (n == -1) {
    v.state = WireValue::State::kNull;
  } else if (n == -2) {
    v.state = WireValue::State::kUnset;
  } else if (n < 0) {
    Fail(fmt::format("[value] of invalid length {}", n));
  } else {
    v.bytes = std::string(Take(static_cast<size_t>(n), "[value]"));
  }
  return v;
}

std::vector<std::string> BodyReader::StringList() {
  const size_t n = Count(Short(), "[string list]");
  std::vector<std::string> out;
  for (size_t i = 0; i < n && ok(); ++i) out.push_back(String());
  return out;
}

std::map<std::string, std::string> BodyReader::StringMap() {
  const size_t n = Count(Short(), "[string map]");
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < n && ok(); ++i) {
    std::string k = String();
    out[std::move(k)] = String();
  }
  return out;
}

std::map<std::string, std::vector<std::string>> BodyReader::StringMultimap() {
  const size_t n = Count(Short(), "[string multimap]");
  std::map<std::string, std::vector<std::string>> out;
  for (size_t i = 0; i < n && ok(); ++i) {
    std::string k = String();
    out[std::move(k)] = StringList();
  }
  return out;
}

// ---- BodyWriter ----

void BodyWriter::Short(uint16_t v) { PutBe(v, 2, &out_); }
void BodyWriter::Int(int32_t v) { PutBe(static_cast<uint32_t>(v), 4, &out_); }
void BodyWriter::Long(int64_t v) { PutBe(static_cast<uint64_t>(v), 8, &out_); }

void BodyWriter::String(std::string_view s) {
  assert(s.size() <= 0xffff);
  Short(static_cast<uint16_t>(s.size()));
  out_.append(s);
}

void BodyWriter::LongString(std::string_view s) {
  Int(static_cast<int32_t>(s.size()));
  out_.append(s);
}

void BodyWriter::NullableBytes(const std::optional<std::string>& b) {
  if (!b) {
    Int(-1);
    return;
  }
  Bytes(std::string_view(*b));
}

void BodyWriter::Bytes(std::string_view b) {
  Int(static_cast<int32_t>(b.size()));
  out_.append(b);
}

void BodyWriter::ShortBytes(std::string_view b) {
  assert(b.size() <= 0xffff);
  Short(static_cast<uint16_t>(b.size()));
  out_.append(b);
}

void BodyWriter::StringList(const std::vector<std::string>& list) {
  Short(static_cast<uint16_t>(list.size()));
  for (const auto& s : list) String(s);
}

void BodyWriter::StringMap(const std::map<std::string, std::string>& map) {
  Short(static_cast<uint16_t>(map.size()));
  for (const auto& [k, v] : map) {
    String(k);
    String(v);
  }
}

void BodyWriter::StringMultimap(const std::map<std::string, std::vector<std::string>>& map) {
  Short(static_cast<uint16_t>(map.size()));
  for (const auto& [k, v] : map) {
    String(k);
    StringList(v);
  }
}

}  // namespace ringkv::cql::native
