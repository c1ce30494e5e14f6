// libFuzzer target for the CQL native protocol decoder: the bytes a driver (or anyone who can
// reach --cql) sends a node.
//
// The input is a connection's byte stream: frames one after another, each header decoded and
// checked against small limits (so that the limits themselves are exercised), each body decoded
// by the message decoder of its opcode. Every bind value of a QUERY, EXECUTE or BATCH is also
// read as each CQL-lite type; a value that decodes must serialize and decode again to an equal
// value. No crash, no hang, no read past a frame, whatever the bytes.
//
// Seeds: RINGKV_FUZZ_WRITE_SEEDS=<dir> cql_native_fuzz writes well-formed conversations to <dir>
// and exits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cql/native/frame.h"
#include "cql/native/messages.h"
#include "cql/native/types.h"

namespace {

using namespace ringkv::cql::native;
using ringkv::cql::Kind;
using ringkv::cql::Type;
using ringkv::cql::Value;

[[noreturn]] void Die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "cql_native_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

FrameLimits Limits() {
  FrameLimits l;
  l.body_bytes_max = 1 << 16;
  l.collection_count_max = 64;
  return l;
}

const std::vector<Type>& Types() {
  static const std::vector<Type> types = {
      Type::Scalar(Kind::kText),
      Type::Scalar(Kind::kBlob),
      Type::Scalar(Kind::kInt),
      Type::Scalar(Kind::kBigint),
      Type::Scalar(Kind::kFloat),
      Type::Scalar(Kind::kDouble),
      Type::Scalar(Kind::kBoolean),
      Type::Scalar(Kind::kTimestamp),
      Type::Scalar(Kind::kUuid),
      Type{Kind::kList, {Type::Scalar(Kind::kText)}},
      Type{Kind::kSet, {Type::Scalar(Kind::kInt)}},
      Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kDouble)}}};
  return types;
}

void CheckValues(const std::vector<WireValue>& values) {
  for (const WireValue& w : values) {
    if (w.state != WireValue::State::kSet) continue;
    for (const Type& t : Types()) {
      Value v, again;
      std::string error;
      if (!DeserializeValue(t, w.bytes, Limits(), &v, &error)) {
        if (error.empty()) Die("refused without a reason", t.ToCql());
        continue;
      }
      if (!DeserializeValue(t, SerializeValue(v), Limits(), &again, &error)) {
        Die("a decoded value does not decode again", error);
      }
      // NaN is the one value not equal to itself.
      if (!(again == v) && v.ToLiteral().find("NaN") == std::string::npos) {
        Die("round trip changed a value", v.ToLiteral());
      }
    }
  }
}

void DecodeBody(uint8_t opcode, std::string_view body) {
  std::string error;
  bool ok = true;
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kStartup: {
      std::map<std::string, std::string> options;
      ok = DecodeStartup(body, Limits(), &options, &error);
      break;
    }
    case Opcode::kQuery: {
      QueryRequest q;
      ok = DecodeQuery(body, Limits(), &q, &error);
      if (ok) CheckValues(q.params.values);
      break;
    }
    case Opcode::kPrepare: {
      std::string query;
      ok = DecodePrepare(body, Limits(), &query, &error);
      break;
    }
    case Opcode::kExecute: {
      ExecuteRequest e;
      ok = DecodeExecute(body, Limits(), &e, &error);
      if (ok) CheckValues(e.params.values);
      break;
    }
    case Opcode::kBatch: {
      BatchRequest b;
      ok = DecodeBatch(body, Limits(), &b, &error);
      if (ok) {
        for (const auto& e : b.entries) CheckValues(e.values);
      }
      break;
    }
    case Opcode::kRegister: {
      std::vector<std::string> events;
      ok = DecodeRegister(body, Limits(), &events, &error);
      break;
    }
    default:
      return;
  }
  if (!ok && error.empty()) Die("a decoder failed without a message", OpcodeName(opcode));
}

void Run(std::string_view stream) {
  // Bounded by the input: each turn consumes at least a header.
  while (stream.size() >= kHeaderBytes) {
    FrameHeader h;
    const HeaderCheck check = DecodeHeader(stream, Limits(), &h);
    stream.remove_prefix(kHeaderBytes);
    if (check != HeaderCheck::kOk) return;  // the server answers and closes
    if (h.length > Limits().body_bytes_max) Die("a frame over the limit passed", "");
    if (h.length > stream.size()) return;  // the server waits for the rest
    DecodeBody(h.opcode, stream.substr(0, h.length));
    stream.remove_prefix(h.length);
  }
}

std::string Frame(Opcode opcode, const std::string& body) {
  FrameHeader h;
  h.opcode = static_cast<uint8_t>(opcode);
  h.length = static_cast<uint32_t>(body.size());
  std::string out;
  EncodeHeader(h, &out);
  return out + body;
}

void WriteSeeds(const char* dir) {
  std::vector<std::string> seeds;
  {
    BodyWriter w;
    w.StringMap({{"CQL_VERSION", "3.0.0"}, {"DRIVER_NAME", "fuzz"}});
    seeds.push_back(Frame(Opcode::kOptions, "") + Frame(Opcode::kStartup, w.body()));
  }
  {
    BodyWriter w;
    w.LongString("INSERT INTO t (k, v, s) VALUES (?, ?, ?)");
    w.Short(4);
    w.Byte(0x01 | 0x04 | 0x08 | 0x20);
    w.Short(3);
    w.Bytes(std::string_view("\0\0\0\x07", 4));
    w.Bytes(SerializeValue(
        Value{Types()[11], ringkv::cql::ValueMap{{Value::Text("a"), Value::Double(1)}}}));
    w.Bytes(SerializeValue(Value{Types()[10], ringkv::cql::ValueList{Value::Int(1)}}));
    w.Int(5000);
    w.Bytes(std::string_view("{\"i\":1}"));
    w.Long(1);
    seeds.push_back(Frame(Opcode::kQuery, w.body()));
  }
  {
    BodyWriter p, e, b, r;
    p.LongString("SELECT * FROM t WHERE k = ?");
    e.ShortBytes("0123456789abcdef");
    e.Short(1);
    e.Byte(0x01);
    e.Short(1);
    e.Bytes(SerializeValue(Value::Text("k")));
    b.Byte(1);
    b.Short(1);
    b.Byte(1);
    b.ShortBytes("0123456789abcdef");
    b.Short(1);
    b.Int(-1);
    b.Short(1);
    b.Byte(0);
    r.StringList({"SCHEMA_CHANGE", "TOPOLOGY_CHANGE"});
    seeds.push_back(Frame(Opcode::kPrepare, p.body()) + Frame(Opcode::kExecute, e.body()) +
                    Frame(Opcode::kBatch, b.body()) + Frame(Opcode::kRegister, r.body()));
  }
  int n = 0;
  for (const std::string& bytes : seeds) {
    const std::string path = std::string(dir) + "/seed-" + std::to_string(n++);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) Die("cannot write seed", path);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("RINGKV_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
