// The CQL binary protocol v4, frame level: the 9-byte header, and readers / writers of the body's
// notations ([int] [short] [string] [long string] [bytes] [value] [string map] ...), as the spec
// (Apache Cassandra's doc/native_protocol_v4.spec, sections 2 and 3) defines them.
//
// Every length in a frame comes from an untrusted peer: the reader checks each against what is
// left of the body and against FrameLimits, and fails with a message instead of reading past the
// end or allocating what the peer claims. A failed read makes the reader fail for good (the first
// error is kept), so a decoder can read a whole message and check ok() once.
//
// Thread safety: plain values; a reader or writer belongs to one thread.
#ifndef RINGKV_CQL_NATIVE_FRAME_H_
#define RINGKV_CQL_NATIVE_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringkv::cql::native {

inline constexpr uint8_t kProtocolVersion = 4;
inline constexpr uint8_t kResponseBit = 0x80;
inline constexpr size_t kHeaderBytes = 9;

enum class Opcode : uint8_t {
  kError = 0x00,
  kStartup = 0x01,
  kReady = 0x02,
  kAuthenticate = 0x03,
  kOptions = 0x05,
  kSupported = 0x06,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kRegister = 0x0B,
  kEvent = 0x0C,
  kBatch = 0x0D,
  kAuthChallenge = 0x0E,
  kAuthResponse = 0x0F,
  kAuthSuccess = 0x10,
};
std::string OpcodeName(uint8_t opcode);  // "QUERY", or "0x2a" for an unknown one

// Header flags (section 2.2).
inline constexpr uint8_t kFlagCompression = 0x01;
inline constexpr uint8_t kFlagTracing = 0x02;
inline constexpr uint8_t kFlagCustomPayload = 0x04;
inline constexpr uint8_t kFlagWarning = 0x08;

// Error codes (section 9).
enum class ErrorCode : int32_t {
  kServer = 0x0000,
  kProtocol = 0x000A,
  kBadCredentials = 0x0100,
  kUnavailable = 0x1000,
  kOverloaded = 0x1001,
  kWriteTimeout = 0x1100,
  kReadTimeout = 0x1200,
  kSyntax = 0x2000,
  kUnauthorized = 0x2100,
  kInvalid = 0x2200,
  kConfig = 0x2300,
  kAlreadyExists = 0x2400,
  kUnprepared = 0x2500,
};

// [consistency] values (section 3).
enum class WireConsistency : uint16_t {
  kAny = 0x0000,
  kOne = 0x0001,
  kTwo = 0x0002,
  kThree = 0x0003,
  kQuorum = 0x0004,
  kAll = 0x0005,
  kLocalQuorum = 0x0006,
  kEachQuorum = 0x0007,
  kSerial = 0x0008,
  kLocalSerial = 0x0009,
  kLocalOne = 0x000A,
};
std::string WireConsistencyName(uint16_t c);  // "LOCAL_QUORUM"; "0x0042" if unknown

// What one peer may make us hold. A frame over body_bytes_max is refused from its header alone,
// before any of its body is buffered.
struct FrameLimits {
  uint32_t body_bytes_max = 32u << 20;    // a 16 MiB value plus the query and its envelope
  uint32_t collection_count_max = 65535;  // entries of a string list / map, bind values, rows
};

struct FrameHeader {
  uint8_t version = kProtocolVersion;  // without the response bit
  bool response = false;
  uint8_t flags = 0;
  int16_t stream = 0;
  uint8_t opcode = 0;
  uint32_t length = 0;  // body bytes
};

enum class HeaderCheck : uint8_t {
  kOk,
  kBadVersion,  // a version other than 4 (a newer one: the driver should downgrade); for v1
                // and v2, `stream` and `opcode` are read from their 8-byte layout
  kNotRequest,  // the response bit is set on a frame sent to the server
  kTooLarge,    // length over FrameLimits::body_bytes_max
};

// Parses the first kHeaderBytes of `bytes` (REQUIRES: at least that many) and checks it.
HeaderCheck DecodeHeader(std::string_view bytes, const FrameLimits& limits, FrameHeader* out);
void EncodeHeader(const FrameHeader& h, std::string* out);

// A [value]: bytes, null (n == -1) or "not set" (n == -2, v4).
struct WireValue {
  enum class State : uint8_t { kSet, kNull, kUnset };
  State state = State::kSet;
  std::string bytes;
};

class BodyReader {
 public:
  BodyReader(std::string_view body, const FrameLimits& limits) : in_(body), limits_(limits) {}

  uint8_t Byte();
  uint16_t Short();
  int32_t Int();
  int64_t Long();
  std::string String();                // [string]
  std::string LongString();            // [long string]
  std::optional<std::string> Bytes();  // [bytes]; nullopt: null
  std::string ShortBytes();            // [short bytes]
  WireValue Value();                   // [value]
  std::vector<std::string> StringList();
  std::map<std::string, std::string> StringMap();
  std::map<std::string, std::vector<std::string>> StringMultimap();
  uint16_t Consistency() { return Short(); }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return in_.size(); }
  // Marks the read failed (a decoder's own check, e.g. an unknown enum value).
  void Fail(std::string message);

 private:
  std::string_view Take(size_t n, std::string_view what);
  size_t Count(size_t n, std::string_view what);  // n checked against the collection limit

  std::string_view in_;
  const FrameLimits limits_;
  std::string error_;
};

class BodyWriter {
 public:
  void Byte(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Short(uint16_t v);
  void Int(int32_t v);
  void Long(int64_t v);
  void String(std::string_view s);  // REQUIRES: s.size() <= 65535
  void LongString(std::string_view s);
  void NullableBytes(const std::optional<std::string>& b);  // nullopt: null
  void Bytes(std::string_view b);
  void ShortBytes(std::string_view b);  // REQUIRES: b.size() <= 65535
  void StringList(const std::vector<std::string>& list);
  void StringMap(const std::map<std::string, std::string>& map);
  void StringMultimap(const std::map<std::string, std::vector<std::string>>& map);
  void Raw(std::string_view bytes) { out_.append(bytes); }

  const std::string& body() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// A whole response frame: header (version 4 | response bit) and body.
std::string EncodeResponse(int16_t stream, Opcode opcode, uint8_t flags, std::string_view body);

// Big-endian helpers shared with the value codec.
void PutBe(uint64_t v, int bytes, std::string* out);
uint64_t GetBe(const char* p, int bytes);

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_FRAME_H_
