// libFuzzer target for the CQL-lite language: untrusted statement text (from kvsh, kvload files,
// library callers) and untrusted stored bytes (partition values read back from replicas).
//
// Input layout: byte 0 picks the mode.
//   even: the rest is statement text. ParseStatement must return (no crash, no hang) and an error
//         must point inside the text; every statement SplitStatements finds is parsed too; each
//         literal of an INSERT is converted for every scalar type (errors are fine, crashes not).
//   odd:  bits 1..4 of byte 0 pick a Type, the rest is stored bytes. If DecodeValue accepts a
//         prefix, re-encoding the value gives that prefix back (the encoding is canonical), and
//         its ToLiteral parses back to an equal value (unless it holds text that is not UTF-8,
//         which a literal may not).
//
// Seeds: RINGKV_FUZZ_WRITE_SEEDS=<dir> cql_parser_fuzz writes a small corpus to <dir> and exits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cql/parser.h"
#include "cql/session.h"
#include "cql/value.h"

namespace {

using ringkv::cql::ConvertTerm;
using ringkv::cql::InsertStmt;
using ringkv::cql::Kind;
using ringkv::cql::ParseStatement;
using ringkv::cql::Session;
using ringkv::cql::Type;
using ringkv::cql::Value;

[[noreturn]] void Die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "cql_parser_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

const std::vector<Type>& Types() {
  static const std::vector<Type> types = [] {
    std::vector<Type> t;
    for (Kind k : {Kind::kText, Kind::kBlob, Kind::kInt, Kind::kBigint, Kind::kFloat, Kind::kDouble,
                   Kind::kBoolean, Kind::kTimestamp, Kind::kUuid}) {
      t.push_back(Type::Scalar(k));
    }
    t.push_back(Type{Kind::kList, {Type::Scalar(Kind::kText)}});
    t.push_back(Type{Kind::kSet, {Type::Scalar(Kind::kInt)}});
    t.push_back(Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kDouble)}});
    t.push_back(Type{Kind::kSet, {Type::Scalar(Kind::kDouble)}});
    t.push_back(Type{Kind::kList, {Type::Scalar(Kind::kTimestamp)}});
    t.push_back(Type{Kind::kMap, {Type::Scalar(Kind::kUuid), Type::Scalar(Kind::kBlob)}});
    t.push_back(Type{Kind::kList, {Type::Scalar(Kind::kFloat)}});
    return t;
  }();
  return types;
}

void CheckParse(std::string_view text) {
  auto r = ParseStatement(text);
  if (!r.ok()) {
    const auto& e = r.error();
    if (e.line < 0 || (e.line > 0 && e.column < 1)) Die("error position out of range", text);
    return;
  }
  if (const auto* insert = std::get_if<InsertStmt>(&r->statement)) {
    std::vector<Value> binds(static_cast<size_t>(r->bind_count), Value::Int(1));
    for (const auto& term : insert->values) {
      for (const Type& type : Types()) (void)ConvertTerm(term, type, binds, "c");
    }
  }
}

void RunText(std::string_view text) {
  CheckParse(text);
  (void)Session::IsComplete(text);
  for (const auto& [statement, line] : Session::SplitStatements(text)) {
    if (line < 1) Die("split line out of range", text);
    CheckParse(statement);
  }
}

void RunDecode(const Type& type, std::string_view bytes) {
  std::string_view in = bytes;
  Value v;
  if (!ringkv::cql::DecodeValue(type, &in, &v)) return;
  std::string_view consumed = bytes.substr(0, bytes.size() - in.size());
  std::string again;
  ringkv::cql::EncodeValue(v, &again);
  if (again != consumed) Die("decode/encode is not canonical", v.ToLiteral());
  (void)v.ToDisplay();
  std::string stmt = "INSERT INTO t (c) VALUES (" + v.ToLiteral() + ")";
  auto parsed = ParseStatement(stmt);
  if (!parsed.ok()) Die("a literal does not parse", stmt);
  auto back = ConvertTerm(std::get<InsertStmt>(parsed->statement).values[0], type, {});
  // Stored text is not re-validated on the way out, but a literal must be UTF-8.
  if (!back.ok() && back.error().message.find("UTF-8") != std::string::npos) return;
  if (!back.ok() || !back.value().has_value() || !(*back.value() == v)) {
    Die("a literal does not convert back", stmt);
  }
}

void WriteSeeds(const char* dir) {
  static const char* kStatements[] = {
      "SELECT lang, ttl(score) FROM ks.docs WHERE doc_id IN ('a', 'b') AND ts >= 10 LIMIT 5;",
      "INSERT INTO t (a, b, c, d) VALUES ('x', {'k': 1.5}, [1, 2], 0xff) USING TTL 60;",
      "UPDATE t SET l = [0] + l, m['k'] = ?, s = s - {'x'} WHERE pk = 1 AND ck = 2",
      "BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (?); DELETE a FROM t WHERE k = 1; APPLY "
      "BATCH;",
      ("CREATE TABLE IF NOT EXISTS e (a text, b int, c timestamp, m map<text, double>, "
       "PRIMARY KEY ((a, b), c)) WITH conflict_mode = 'lww' AND CLUSTERING ORDER BY (c DESC);"),
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};",
      "SELECT COUNT(*) FROM t WHERE token(pk) > -9223372036854775808 -- c\n/* x */",
      "USE ks; CONSISTENCY ONE\nSELECT * FROM \"T\" WHERE a = $$it's$$;",
  };
  int n = 0;
  auto write = [&](const std::string& bytes) {
    std::string path = std::string(dir) + "/seed-" + std::to_string(n++);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) Die("cannot write seed", path);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  };
  for (const char* s : kStatements) write(std::string(1, '\0') + s);
  std::vector<Value> values = {
      Value::Text(std::string("a\0b", 3)), Value::Int(-7), Value::Double(1.5),
      Value::Timestamp(1795514400123),
      Value{Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kDouble)}},
            ringkv::cql::ValueMap{{Value::Text("k"), Value::Double(2)}}}};
  for (const Value& v : values) {
    for (size_t i = 0; i < Types().size(); ++i) {
      if (Types()[i] == v.type) {
        std::string bytes(1, static_cast<char>(1 | (i << 1)));
        ringkv::cql::EncodeValue(v, &bytes);
        write(bytes);
      }
    }
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
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    RunText(rest);
  } else {
    RunDecode(Types()[(data[0] >> 1) % Types().size()], rest);
  }
  return 0;
}
