// The v4 frame and message codec: headers, every notation both ways, the limits on what a peer
// may claim, and values of each CQL-lite type through their protocol bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "cql/native/frame.h"
#include "cql/native/messages.h"
#include "cql/native/types.h"

namespace ringkv::cql::native {
namespace {

std::string Header(uint8_t version, uint8_t opcode, uint32_t length, int16_t stream = 1) {
  FrameHeader h;
  h.version = version;
  h.opcode = opcode;
  h.length = length;
  h.stream = stream;
  std::string out;
  EncodeHeader(h, &out);
  return out;
}

TEST(CodecTest, HeaderRoundTrip) {
  const std::string bytes = Header(4, 0x07, 123, -5);
  ASSERT_EQ(bytes.size(), kHeaderBytes);
  EXPECT_EQ(bytes[0], 0x04);
  FrameHeader h;
  ASSERT_EQ(DecodeHeader(bytes, FrameLimits{}, &h), HeaderCheck::kOk);
  EXPECT_EQ(h.opcode, 0x07);
  EXPECT_EQ(h.length, 123u);
  EXPECT_EQ(h.stream, -5);
  EXPECT_FALSE(h.response);
}

TEST(CodecTest, HeaderChecks) {
  FrameHeader h;
  EXPECT_EQ(DecodeHeader(Header(5, 0x05, 0), FrameLimits{}, &h), HeaderCheck::kBadVersion);
  EXPECT_EQ(h.version, 5);
  EXPECT_EQ(DecodeHeader(Header(3, 0x05, 0), FrameLimits{}, &h), HeaderCheck::kBadVersion);
  std::string response = Header(4, 0x05, 0);
  response[0] = static_cast<char>(0x84);
  EXPECT_EQ(DecodeHeader(response, FrameLimits{}, &h), HeaderCheck::kNotRequest);
  // A header that claims 2 GiB is refused from the header alone.
  EXPECT_EQ(DecodeHeader(Header(4, 0x07, 0x80000000u), FrameLimits{}, &h), HeaderCheck::kTooLarge);
  FrameLimits small;
  small.body_bytes_max = 100;
  EXPECT_EQ(DecodeHeader(Header(4, 0x07, 101), small, &h), HeaderCheck::kTooLarge);
  EXPECT_EQ(DecodeHeader(Header(4, 0x07, 100), small, &h), HeaderCheck::kOk);
}

TEST(CodecTest, NotationsRoundTrip) {
  BodyWriter w;
  w.Byte(7);
  w.Short(65535);
  w.Int(-2);
  w.Long(std::numeric_limits<int64_t>::min());
  w.String("héllo");
  w.LongString(std::string(70000, 'x'));
  w.NullableBytes(std::nullopt);
  w.Bytes(std::string_view("\0\1", 2));
  w.ShortBytes("id");
  w.StringList({"a", "", "c"});
  w.StringMap({{"CQL_VERSION", "3.0.0"}});
  w.StringMultimap({{"COMPRESSION", {}}, {"CQL_VERSION", {"3.4.4"}}});
  BodyReader r(w.body(), FrameLimits{});
  EXPECT_EQ(r.Byte(), 7);
  EXPECT_EQ(r.Short(), 65535);
  EXPECT_EQ(r.Int(), -2);
  EXPECT_EQ(r.Long(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.String(), "héllo");
  EXPECT_EQ(r.LongString().size(), 70000u);
  EXPECT_FALSE(r.Bytes().has_value());
  EXPECT_EQ(r.Bytes(), std::string("\0\1", 2));
  EXPECT_EQ(r.ShortBytes(), "id");
  EXPECT_EQ(r.StringList(), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(r.StringMap().at("CQL_VERSION"), "3.0.0");
  auto mm = r.StringMultimap();
  EXPECT_TRUE(mm.at("COMPRESSION").empty());
  EXPECT_EQ(mm.at("CQL_VERSION"), std::vector<std::string>{"3.4.4"});
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(CodecTest, TruncatedAndOversizedInputFailCleanly) {
  {
    BodyWriter w;
    w.Int(1000);  // a [long string] that claims more than the body holds
    w.Raw("abc");
    BodyReader r(w.body(), FrameLimits{});
    EXPECT_TRUE(r.LongString().empty());
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error().find("truncated"), std::string::npos) << r.error();
    // The reader stays failed, keeps its first error, and reads nothing more.
    const std::string first = r.error();
    EXPECT_EQ(r.Int(), 0);
    EXPECT_EQ(r.error(), first);
  }
  {
    BodyWriter w;
    w.Int(-3);
    BodyReader r(w.body(), FrameLimits{});
    r.Value();
    EXPECT_FALSE(r.ok());
  }
  {
    FrameLimits limits;
    limits.collection_count_max = 2;
    BodyWriter w;
    w.StringList({"a", "b", "c"});
    BodyReader r(w.body(), limits);
    EXPECT_TRUE(r.StringList().empty());
    EXPECT_NE(r.error().find("limit"), std::string::npos) << r.error();
  }
  {
    BodyReader r(std::string_view("\x01", 1), FrameLimits{});
    EXPECT_EQ(r.Short(), 0);
    EXPECT_FALSE(r.ok());
  }
}

TEST(CodecTest, DecodeQueryWithEveryFlag) {
  BodyWriter w;
  w.LongString("SELECT * FROM t WHERE k = ?");
  w.Short(static_cast<uint16_t>(WireConsistency::kQuorum));
  w.Byte(0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20);
  w.Short(3);
  w.Bytes(std::string_view("k1"));
  w.Int(-1);  // null
  w.Int(-2);  // not set
  w.Int(100);
  w.Bytes(std::string_view("state"));
  w.Short(static_cast<uint16_t>(WireConsistency::kSerial));
  w.Long(1234);
  QueryRequest q;
  std::string error;
  ASSERT_TRUE(DecodeQuery(w.body(), FrameLimits{}, &q, &error)) << error;
  EXPECT_EQ(q.query, "SELECT * FROM t WHERE k = ?");
  EXPECT_EQ(q.params.consistency, 4);
  ASSERT_EQ(q.params.values.size(), 3u);
  EXPECT_EQ(q.params.values[0].bytes, "k1");
  EXPECT_EQ(q.params.values[1].state, WireValue::State::kNull);
  EXPECT_EQ(q.params.values[2].state, WireValue::State::kUnset);
  EXPECT_TRUE(q.params.skip_metadata);
  EXPECT_EQ(q.params.page_size, 100);
  EXPECT_EQ(q.params.paging_state, "state");
  EXPECT_EQ(q.params.serial_consistency, 8);
  EXPECT_EQ(q.params.default_timestamp_us, 1234);

  // Every strict prefix of the body is malformed, and so is a trailing byte.
  for (size_t n = 0; n < w.body().size(); ++n) {
    QueryRequest partial;
    EXPECT_FALSE(DecodeQuery(w.body().substr(0, n), FrameLimits{}, &partial, &error)) << n;
  }
  EXPECT_FALSE(DecodeQuery(w.body() + "x", FrameLimits{}, &q, &error));
  EXPECT_NE(error.find("after the message"), std::string::npos) << error;
}

TEST(CodecTest, DecodeBatch) {
  BodyWriter w;
  w.Byte(1);
  w.Short(2);
  w.Byte(0);
  w.LongString("INSERT INTO t (k) VALUES (?)");
  w.Short(1);
  w.Bytes(std::string_view("a"));
  w.Byte(1);
  w.ShortBytes("prepared-id");
  w.Short(0);
  w.Short(static_cast<uint16_t>(WireConsistency::kOne));
  w.Byte(0);
  BatchRequest b;
  std::string error;
  ASSERT_TRUE(DecodeBatch(w.body(), FrameLimits{}, &b, &error)) << error;
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_FALSE(b.entries[0].prepared);
  EXPECT_EQ(b.entries[0].values.size(), 1u);
  EXPECT_TRUE(b.entries[1].prepared);
  EXPECT_EQ(b.entries[1].query_or_id, "prepared-id");

  std::string bad = w.body();
  bad[0] = 7;
  EXPECT_FALSE(DecodeBatch(bad, FrameLimits{}, &b, &error));
  EXPECT_NE(error.find("batch type"), std::string::npos) << error;
}

void ExpectRoundTrip(const Value& v) {
  const std::string bytes = SerializeValue(v);
  Value back;
  std::string error;
  ASSERT_TRUE(DeserializeValue(v.type, bytes, FrameLimits{}, &back, &error))
      << v.ToLiteral() << ": " << error;
  EXPECT_TRUE(back == v) << v.ToLiteral() << " came back as " << back.ToLiteral();
}

TEST(CodecTest, ValuesRoundTrip) {
  ExpectRoundTrip(Value::Text("héllo"));
  ExpectRoundTrip(Value::Blob(std::string("\0\xff", 2)));
  ExpectRoundTrip(Value::Int(-2147483648));
  ExpectRoundTrip(Value::Bigint(std::numeric_limits<int64_t>::max()));
  ExpectRoundTrip(Value::Double(-1.5e300));
  ExpectRoundTrip(Value{Type::Scalar(Kind::kFloat), 0.5});
  ExpectRoundTrip(Value::Boolean(true));
  ExpectRoundTrip(Value::Timestamp(1764547200000));
  ExpectRoundTrip(Value{Type::Scalar(Kind::kUuid), Uuid{std::string(16, '\x42')}});
  const Type list{Kind::kList, {Type::Scalar(Kind::kText)}};
  ExpectRoundTrip(Value{list, ValueList{Value::Text("b"), Value::Text("a"), Value::Text("b")}});
  const Type set{Kind::kSet, {Type::Scalar(Kind::kInt)}};
  ExpectRoundTrip(Value{set, ValueList{Value::Int(1), Value::Int(5)}});
  const Type map{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kDouble)}};
  ExpectRoundTrip(Value{map, ValueMap{{Value::Text("a"), Value::Double(1)}}});

  // The protocol's own byte layout of an int and of a list.
  EXPECT_EQ(SerializeValue(Value::Int(258)), std::string("\0\0\x01\x02", 4));
  EXPECT_EQ(SerializeValue(Value{list, ValueList{Value::Text("x")}}),
            std::string("\0\0\0\x01\0\0\0\x01x", 9));
}

TEST(CodecTest, BadValuesAreRefused) {
  Value out;
  std::string error;
  EXPECT_FALSE(DeserializeValue(Type::Scalar(Kind::kInt), "abc", FrameLimits{}, &out, &error));
  EXPECT_NE(error.find("4 bytes"), std::string::npos) << error;
  const Type list{Kind::kList, {Type::Scalar(Kind::kInt)}};
  // A collection that claims a billion elements in 8 bytes.
  EXPECT_FALSE(
      DeserializeValue(list, std::string("\x40\0\0\0\0\0\0\0", 8), FrameLimits{}, &out, &error));
  // A null element.
  EXPECT_FALSE(DeserializeValue(list, std::string("\0\0\0\x01\xff\xff\xff\xff", 8), FrameLimits{},
                                &out, &error));
  // Set elements arrive in any order and are kept sorted, without duplicates.
  const Type set{Kind::kSet, {Type::Scalar(Kind::kInt)}};
  Value s{set, ValueList{Value::Int(3), Value::Int(1), Value::Int(3)}};
  ASSERT_TRUE(DeserializeValue(set, SerializeValue(s), FrameLimits{}, &out, &error)) << error;
  EXPECT_EQ(std::get<ValueList>(out.data).size(), 2u);
}

TEST(CodecTest, ResponsesDecodeWithTheReader) {
  const std::string frame =
      EncodeResponse(3, Opcode::kError, 0, UnavailableBody("Cannot achieve consistency", 4, 2, 1));
  FrameHeader h;
  std::string head = frame.substr(0, kHeaderBytes);
  head[0] = 0x04;  // as a request, so DecodeHeader accepts it
  ASSERT_EQ(DecodeHeader(head, FrameLimits{}, &h), HeaderCheck::kOk);
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x84);
  EXPECT_EQ(h.stream, 3);
  EXPECT_EQ(h.length, frame.size() - kHeaderBytes);
  BodyReader r(std::string_view(frame).substr(kHeaderBytes), FrameLimits{});
  EXPECT_EQ(r.Int(), 0x1000);
  EXPECT_EQ(r.String(), "Cannot achieve consistency");
  EXPECT_EQ(r.Short(), 4);
  EXPECT_EQ(r.Int(), 2);
  EXPECT_EQ(r.Int(), 1);
  EXPECT_EQ(r.remaining(), 0u);

  RowsMetadata m;
  m.keyspace = "ks";
  m.table = "t";
  m.columns = {{"k", Type::Scalar(Kind::kText)},
               {"m", Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kInt)}}}};
  m.paging_state = "p";
  // The reader views its body: keep the bytes alive.
  const std::string body = ResultRowsBody(m, {{std::string("a"), std::nullopt}});
  BodyReader rows(body, FrameLimits{});
  EXPECT_EQ(rows.Int(), 2);       // Rows
  EXPECT_EQ(rows.Int(), 0x0003);  // global table spec, has more pages
  EXPECT_EQ(rows.Int(), 2);
  EXPECT_EQ(rows.Bytes(), "p");
  EXPECT_EQ(rows.String(), "ks");
  EXPECT_EQ(rows.String(), "t");
  EXPECT_EQ(rows.String(), "k");
  EXPECT_EQ(rows.Short(), 0x000D);
  EXPECT_EQ(rows.String(), "m");
  EXPECT_EQ(rows.Short(), 0x0021);
  EXPECT_EQ(rows.Short(), 0x000D);
  EXPECT_EQ(rows.Short(), 0x0009);
  EXPECT_EQ(rows.Int(), 1);
  EXPECT_EQ(rows.Bytes(), "a");
  EXPECT_FALSE(rows.Bytes().has_value());
  EXPECT_TRUE(rows.ok());
  EXPECT_EQ(rows.remaining(), 0u);
}

}  // namespace
}  // namespace ringkv::cql::native
