// FrameDecoder: whole frames out of an untrusted byte stream, checked against the limits before a
// body is buffered, and validated before a handler sees them.
#include "proto/frame.h"
#include "proto/frame_check.h"
#include "proto/frame_testing.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/exception.h>
#include <kj/string.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace ringkv::proto {
namespace {

using wire::Frame;
using testing::ReadEveryField;

// ---------------------------------------------------------------------------------------------
// Helpers.

constexpr Frame::Which kAllKinds[] = {
    Frame::HELLO,
    Frame::HELLO_OK,
    Frame::ERROR,
    Frame::GET,
    Frame::GET_RESULT,
    Frame::PUT,
    Frame::PUT_RESULT,
    Frame::DEL,
    Frame::DEL_RESULT,
    Frame::INFO,
    Frame::INFO_RESULT,
    Frame::REPLICA_WRITE,
    Frame::REPLICA_WRITE_RESULT,
    Frame::REPLICA_READ,
    Frame::REPLICA_READ_RESULT,
    Frame::RING,
    Frame::RING_RESULT,
    Frame::CREATE_KEYSPACE,
    Frame::CREATE_KEYSPACE_RESULT, Frame::SCAN, Frame::SCAN_RESULT, Frame::REPLICA_SCAN,
    Frame::REPLICA_SCAN_RESULT, Frame::DROP_KEYSPACE, Frame::DROP_KEYSPACE_RESULT,
    Frame::TRUNCATE_HINTS, Frame::TRUNCATE_HINTS_RESULT, Frame::GOSSIP_SYN, Frame::GOSSIP_ACK,
    Frame::GOSSIP_ACK2, Frame::GOSSIP_ACK2_RESULT, Frame::ADMIN, Frame::ADMIN_RESULT,
    Frame::AAE, Frame::AAE_RESULT,
};

kj::ArrayPtr<const kj::byte> Bytes(const std::string& s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

// Fills every field of one message kind with a value that is not its default, so a round trip
// that lost or swapped a field shows.
void Fill(Frame::Builder f, Frame::Which kind, uint64_t id) {
  f.setRequestId(id);
  switch (kind) {
    case Frame::HELLO: {
      auto m = f.initHello();
      m.setProtocolVersion(wire::PROTOCOL_VERSION);
      m.setRole(wire::Role::PEER);
      m.setClusterName("cluster-a");
      m.setNodeName("node-1");
      m.setSecret(Bytes(std::string("s\0cret", 6)));
      break;
    }
    case Frame::HELLO_OK: {
      auto m = f.initHelloOk();
      m.setProtocolVersion(7);
      m.setNodeName("node-2");
      m.setClusterName("cluster-b");
      m.setFrameBytesMax(uint64_t{1} << 40);
      m.setInFlightMax(4096);
      break;
    }
    case Frame::ERROR: {
      auto m = f.initError();
      m.setCode(wire::ErrorCode::UNAVAILABLE);
      m.setMessage("2 of 3 replicas needed, 1 alive");
      m.setNeeded(2);
      m.setAlive(1);
      m.setInDoubt(true);
      break;
    }
    case Frame::GET: {
      auto m = f.initGet();
      m.setKeyspace("ks");
      m.setKey(Bytes(std::string("k\xff\0y", 4)));
      m.setConsistency(wire::Consistency::QUORUM);
      m.setR(2);
      m.setTimeoutMs(1500);
      break;
    }
    case Frame::GET_RESULT: {
      auto m = f.initGetResult();
      m.setFound(true);
      auto sibs = m.initSiblings(3);
      for (uint32_t i = 0; i < 3; ++i) {
        sibs[i].setValue(Bytes("value-" + std::to_string(i)));
        sibs[i].initDot().setActor(0xfedcba9876543210ULL + i);
        sibs[i].getDot().setCounter(100 + i);
        sibs[i].setTimestampUs(-5 - static_cast<int64_t>(i));
        sibs[i].setTombstone(i == 1);
        sibs[i].setExpiresAtUs(i == 2 ? 123456789 : 0);
      }
      m.setContext(Bytes(std::string("\x01\x01\x05\x07", 4)));
      auto trace = m.initTrace();
      trace.setCoordinator("n1");
      auto ev = trace.initEvents(2);
      ev[0].setElapsedUs(3);
      ev[0].setActivity("asked n2");
      ev[1].setElapsedUs(90);
      ev[1].setNode("n2");
      ev[1].setActivity("n2 answered: 3 siblings");
      trace.initReplicasAsked(2).set(0, "n1");
      trace.getReplicasAsked().set(1, "n2");
      trace.initReplicasAnswered(1).set(0, "n2");
      trace.initReadRepaired(1).set(0, "n1");
      trace.setSiblings(3);
      trace.setDurationUs(120);
      break;
    }
    case Frame::PUT: {
      auto m = f.initPut();
      m.setKeyspace("ks");
      m.setKey(Bytes("key"));
      m.setValue(Bytes(std::string(1000, 'v')));
      m.setContext(Bytes("ctx"));
      m.setTtlS(3600);
      m.setConsistency(wire::Consistency::ALL);
      m.setW(3);
      m.setTimeoutMs(250);
      break;
    }
    case Frame::PUT_RESULT: {
      auto m = f.initPutResult();
      m.setContext(Bytes("ctx2"));
      m.setSiblings(2);
      break;
    }
    case Frame::DEL: {
      auto m = f.initDel();
      m.setKeyspace("ks");
      m.setKey(Bytes("gone"));
      m.setContext(Bytes("ctx3"));
      m.setConsistency(wire::Consistency::ONE);
      m.setW(1);
      m.setTimeoutMs(9);
      break;
    }
    case Frame::DEL_RESULT:
      f.initDelResult();
      break;
    case Frame::INFO:
      f.initInfo();
      break;
    case Frame::INFO_RESULT: {
      auto m = f.initInfoResult();
      m.setNodeName("n");
      m.setClusterName("c");
      m.setVersion("0.1.0");
      m.setProtocolVersion(1);
      m.setListen("127.0.0.1:7000");
      m.setDataDir("/tmp/x");
      m.setSyncMode("group");
      m.setUptimeS(12);
      m.setActor(42);
      m.setKeysApprox(1000);
      m.setStorageBytesApprox(1 << 20);
      m.setConnections(3);
      m.setRequestsServed(99);
      break;
    }
    case Frame::REPLICA_WRITE: {
      auto m = f.initReplicaWrite();
      m.setKeyspace("ks");
      m.setKey(Bytes("rk"));
      m.setObject(Bytes(std::string("\x01\x00\x00", 3)));
      break;
    }
    case Frame::REPLICA_WRITE_RESULT:
      f.initReplicaWriteResult();
      break;
    case Frame::REPLICA_READ: {
      auto m = f.initReplicaRead();
      m.setKeyspace("ks");
      m.setKey(Bytes("rk"));
      break;
    }
    case Frame::REPLICA_READ_RESULT: {
      auto m = f.initReplicaReadResult();
      m.setFound(true);
      m.setObject(Bytes("obj"));
      break;
    }
    case Frame::RING:
      f.initRing();
      break;
    case Frame::RING_RESULT: {
      auto m = f.initRingResult();
      m.setSelf("n1");
      auto member = m.initMembers(1)[0];
      member.setUp(true);
      auto d = member.initDescription();
      d.setNodeName("n1");
      d.setAddress("127.0.0.1:7000");
      d.setHostId(0xabcdef);
      auto tokens = d.initTokens(2);
      tokens.set(0, -5);
      tokens.set(1, 77);
      auto ks = m.initKeyspaces(1)[0];
      ks.setName("pipeline");
      ks.setReplicationFactor(3);
      break;
    }
    case Frame::CREATE_KEYSPACE: {
      auto m = f.initCreateKeyspace();
      m.setName("pipeline");
      m.setReplicationFactor(3);
      m.setIfNotExists(true);
      m.setPropagated(true);
      break;
    }
    case Frame::CREATE_KEYSPACE_RESULT:
      f.initCreateKeyspaceResult().setCreated(true);
      break;
    case Frame::SCAN: {
      auto m = f.initScan();
      m.setKeyspace("ks");
      m.setStartToken(-100);
      m.setEndToken(100);
      m.setKeyPrefix(Bytes(std::string("docs\0", 5)));
      m.setHasAfter(true);
      m.setAfterToken(-7);
      m.setAfterKey(Bytes("after"));
      m.setLimit(500);
      m.setConsistency(wire::Consistency::TWO);
      m.setR(2);
      m.setTimeoutMs(77);
      break;
    }
    case Frame::SCAN_RESULT: {
      auto m = f.initScanResult();
      auto e = m.initEntries(1)[0];
      e.setKey(Bytes("k1"));
      e.setToken(-3);
      auto sib = e.initSiblings(1)[0];
      sib.setValue(Bytes("v"));
      sib.initDot().setActor(9);
      e.setContext(Bytes("c"));
      m.setMore(true);
      break;
    }
    case Frame::REPLICA_SCAN: {
      auto m = f.initReplicaScan();
      m.setKeyspace("ks");
      m.setStartToken(5);
      m.setEndToken(5);
      m.setKeyPrefix(Bytes("p"));
      m.setHasAfter(true);
      m.setAfterToken(6);
      m.setAfterKey(Bytes("a"));
      m.setLimit(10);
      break;
    }
    case Frame::REPLICA_SCAN_RESULT: {
      auto m = f.initReplicaScanResult();
      auto e = m.initEntries(2);
      e[0].setKey(Bytes("k"));
      e[0].setToken(1);
      e[0].setObject(Bytes("o"));
      e[1].setKey(Bytes("l"));
      e[1].setToken(2);
      m.setMore(true);
      break;
    }
    case Frame::DROP_KEYSPACE: {
      auto m = f.initDropKeyspace();
      m.setName("old");
      m.setIfExists(true);
      m.setPropagated(true);
      break;
    }
    case Frame::DROP_KEYSPACE_RESULT:
      f.initDropKeyspaceResult().setDropped(true);
      break;
    case Frame::TRUNCATE_HINTS:
      f.initTruncateHints().setTarget("n3");
      break;
    case Frame::TRUNCATE_HINTS_RESULT:
      f.initTruncateHintsResult().setRemoved(42);
      break;
    case Frame::GOSSIP_SYN: {
      auto m = f.initGossipSyn();
      m.setFrom("n1");
      auto d = m.initDigests(1)[0];
      d.setName("n2");
      d.setGeneration(7);
      d.setVersion(3);
      d.setHeartbeat(99);
      break;
    }
    case Frame::GOSSIP_ACK: {
      auto m = f.initGossipAck();
      auto e = m.initStates(1)[0];
      e.setName("n3");
      e.setGeneration(8);
      e.setStatus("JOINING");
      e.initTokens(2).set(1, 5);
      m.initRequests(1)[0].setName("n4");
      break;
    }
    case Frame::GOSSIP_ACK2: {
      auto m = f.initGossipAck2();
      m.setFrom("n1");
      m.initHeartbeats(1)[0].setHeartbeat(12);
      break;
    }
    case Frame::GOSSIP_ACK2_RESULT:
      f.initGossipAck2Result();
      break;
    case Frame::ADMIN: {
      auto m = f.initAdmin();
      m.setCommand("removenode");
      m.setArgument("n3");
      break;
    }
    case Frame::ADMIN_RESULT:
      f.initAdminResult().setJson("{}");
      break;
    case Frame::AAE: {
      auto m = f.initAae();
      m.setKeyspace("ks");
      m.setStartToken(-5);
      m.setEndToken(9);
      m.setKind(wire::AaeKind::KEYS);
      m.setBranches(16);
      m.setLeavesPerBranch(8);
      m.initIds(2).set(1, 7);
      break;
    }
    case Frame::AAE_RESULT: {
      auto m = f.initAaeResult();
      m.setKind(wire::AaeKind::LEAVES);
      m.setRoot(11);
      m.initHashes(2).set(0, 3);
      auto k = m.initKeys(1)[0];
      k.setKey(Bytes("k1"));
      k.setVersionHash(12);
      break;
    }
  }
}

std::string FrameBytes(Frame::Which kind, uint64_t id = 1) {
  capnp::MallocMessageBuilder message;
  Fill(message.initRoot<Frame>(), kind, id);
  return EncodeFrameBytes(message);
}

// The text form walks every field through the schema: equal text, equal messages.
std::string Text(Frame::Reader f) { return kj::str(f).cStr(); }

std::string ExpectedText(Frame::Which kind, uint64_t id) {
  capnp::MallocMessageBuilder message;
  Fill(message.initRoot<Frame>(), kind, id);
  return Text(message.getRoot<Frame>().asReader());
}


// "" when reading every field works, else what Cap'n Proto threw.
std::string ReadFailure(Frame::Reader f) {
  try {
    (void)ReadEveryField(f);
    return "";
  } catch (const kj::Exception& e) {
    return e.getDescription().cStr();
  }
}

struct Outcome {
  FrameDecoder::Result result;
  std::unique_ptr<DecodedFrame> frame;
  std::string error;
};

Outcome Next(FrameDecoder& d) {
  Outcome o;
  o.result = d.Next(&o.frame, &o.error);
  return o;
}

void Feed(FrameDecoder& d, const std::string& bytes) {
  d.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Outcome DecodeOne(const std::string& bytes, FrameLimits limits = {}) {
  FrameDecoder d(limits);
  Feed(d, bytes);
  return Next(d);
}

void PutLe32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

void PutLe64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

// A segment table for the given segment sizes (in words), padded to a word.
std::string SegmentTable(const std::vector<uint32_t>& sizes) {
  std::string s;
  PutLe32(&s, static_cast<uint32_t>(sizes.size() - 1));
  for (uint32_t w : sizes) PutLe32(&s, w);
  if (s.size() % 8) s.append(8 - s.size() % 8, '\0');
  return s;
}

uint64_t Word(const std::string& frame, size_t word_index) {
  uint64_t v;
  std::memcpy(&v, frame.data() + 8 * word_index, 8);
  return v;  // little-endian host (x86-64), as Cap'n Proto's wire format
}

void SetWord(std::string* frame, size_t word_index, uint64_t v) {
  std::memcpy(frame->data() + 8 * word_index, &v, 8);
}

const char* Name(FrameDecoder::Result r);

}  // namespace

// GoogleTest prints values through PrintTo found by argument-dependent lookup.
inline void PrintTo(FrameDecoder::Result r, std::ostream* os) { *os << Name(r); }

namespace {

const char* Name(FrameDecoder::Result r) {
  switch (r) {
    case FrameDecoder::Result::kFrame:
      return "kFrame";
    case FrameDecoder::Result::kNeedMore:
      return "kNeedMore";
    case FrameDecoder::Result::kError:
      return "kError";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Round trips and stream handling.

TEST(FrameTest, EveryMessageKindRoundTrips) {
  uint64_t id = 1000;
  for (Frame::Which kind : kAllKinds) {
    const std::string bytes = FrameBytes(kind, id);
    auto o = DecodeOne(bytes);
    ASSERT_EQ(o.result, FrameDecoder::Result::kFrame) << kind << ": " << o.error;
    auto root = o.frame->root();
    EXPECT_EQ(root.which(), kind);
    EXPECT_EQ(root.getRequestId(), id);
    EXPECT_EQ(Text(root), ExpectedText(kind, id));
    EXPECT_EQ(ReadFailure(root), "");
    EXPECT_EQ(o.frame->bytes(), bytes.size());
    ++id;
  }
  // The text comparison sees field values: a different id or kind gives different text.
  EXPECT_NE(ExpectedText(Frame::PUT, 1), ExpectedText(Frame::PUT, 2));
}

TEST(FrameTest, SpotCheckFieldsSurviveTheRoundTrip) {
  auto o = DecodeOne(FrameBytes(Frame::GET_RESULT, 5));
  ASSERT_EQ(o.result, FrameDecoder::Result::kFrame);
  auto r = o.frame->root().getGetResult();
  ASSERT_EQ(r.getSiblings().size(), 3u);
  EXPECT_EQ(r.getSiblings()[2].getDot().getActor(), 0xfedcba9876543212ULL);
  EXPECT_EQ(r.getSiblings()[2].getExpiresAtUs(), 123456789);
  EXPECT_TRUE(r.getSiblings()[1].getTombstone());
  EXPECT_EQ(r.getSiblings()[0].getTimestampUs(), -5);
  auto g = DecodeOne(FrameBytes(Frame::GET, 6));
  ASSERT_EQ(g.result, FrameDecoder::Result::kFrame);
  auto key = g.frame->root().getGet().getKey();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(key.begin()), key.size()),
            std::string("k\xff\0y", 4));
}

TEST(FrameTest, SeveralFramesInOneBuffer) {
  std::string stream;
  uint64_t id = 1;
  for (Frame::Which kind : kAllKinds) stream += FrameBytes(kind, id++);
  FrameDecoder d;
  Feed(d, stream);
  id = 1;
  for (Frame::Which kind : kAllKinds) {
    auto o = Next(d);
    ASSERT_EQ(o.result, FrameDecoder::Result::kFrame) << o.error;
    EXPECT_EQ(o.frame->root().which(), kind);
    EXPECT_EQ(Text(o.frame->root()), ExpectedText(kind, id++));
  }
  EXPECT_EQ(Next(d).result, FrameDecoder::Result::kNeedMore);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameTest, FramesOutliveTheDecoderAndLaterFeeds) {
  FrameDecoder d;
  Feed(d, FrameBytes(Frame::PUT, 1));
  auto first = Next(d);
  ASSERT_EQ(first.result, FrameDecoder::Result::kFrame);
  for (int i = 0; i < 50; ++i) Feed(d, FrameBytes(Frame::INFO_RESULT, 2));  // buffer reallocates
  EXPECT_EQ(Text(first.frame->root()), ExpectedText(Frame::PUT, 1));
}

TEST(FrameTest, OneByteAtATime) {
  const std::string bytes = FrameBytes(Frame::PUT, 77) + FrameBytes(Frame::GET_RESULT, 78);
  FrameDecoder d;
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < bytes.size(); ++i) {
    d.Feed(reinterpret_cast<const uint8_t*>(bytes.data()) + i, 1);
    for (;;) {
      auto o = Next(d);
      ASSERT_NE(o.result, FrameDecoder::Result::kError) << o.error;
      if (o.result == FrameDecoder::Result::kNeedMore) break;
      ids.push_back(o.frame->root().getRequestId());
      EXPECT_EQ(Text(o.frame->root()),
                ExpectedText(ids.size() == 1 ? Frame::PUT : Frame::GET_RESULT, ids.back()));
    }
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{77, 78}));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameTest, SplitAtEveryOffset) {
  const std::string a = FrameBytes(Frame::HELLO, 1);
  const std::string b = FrameBytes(Frame::REPLICA_WRITE, 2);
  const std::string stream = a + b;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    Feed(d, stream.substr(0, cut));
    std::vector<uint64_t> ids;
    auto drain = [&] {
      for (;;) {
        auto o = Next(d);
        if (o.result != FrameDecoder::Result::kFrame) return o.result;
        ids.push_back(o.frame->root().getRequestId());
      }
    };
    ASSERT_EQ(drain(), FrameDecoder::Result::kNeedMore) << "cut " << cut;
    EXPECT_EQ(ids.size(), cut >= stream.size() ? 2u : cut >= a.size() ? 1u : 0u) << "cut " << cut;
    Feed(d, stream.substr(cut));
    ASSERT_EQ(drain(), FrameDecoder::Result::kNeedMore) << "cut " << cut;
    EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2})) << "cut " << cut;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(FrameTest, MultiSegmentFramesRoundTrip) {
  // One-word fixed segments force a segment per object and far pointers between them.
  capnp::MallocMessageBuilder message(1, capnp::AllocationStrategy::FIXED_SIZE);
  Fill(message.initRoot<Frame>(), Frame::GET_RESULT, 9);
  ASSERT_GT(message.getSegmentsForOutput().size(), 3u);
  const std::string bytes = EncodeFrameBytes(message);
  auto o = DecodeOne(bytes);
  ASSERT_EQ(o.result, FrameDecoder::Result::kFrame) << o.error;
  EXPECT_EQ(Text(o.frame->root()), ExpectedText(Frame::GET_RESULT, 9));

  // The segment limit counts them: one fewer than the frame has is refused.
  FrameLimits limits;
  limits.segments_max = static_cast<uint32_t>(message.getSegmentsForOutput().size());
  EXPECT_EQ(DecodeOne(bytes, limits).result, FrameDecoder::Result::kFrame);
  limits.segments_max -= 1;
  EXPECT_EQ(DecodeOne(bytes, limits).result, FrameDecoder::Result::kError);
}

// ---------------------------------------------------------------------------------------------
// Limits, checked from the header alone.

TEST(FrameTest, OversizedFrameRejectedFromTheHeaderAlone) {
  // One segment of 2^27 words = 1 GiB. Only the 8-byte table arrives.
  const std::string header = SegmentTable({uint32_t{1} << 27});
  ASSERT_EQ(header.size(), 8u);
  FrameDecoder d;
  Feed(d, header);
  auto o = Next(d);
  EXPECT_EQ(o.result, FrameDecoder::Result::kError);
  EXPECT_NE(o.error.find("exceeds"), std::string::npos) << o.error;
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameTest, SegmentSizesSummingPastTheLimitAreRejected) {
  // Each segment is small; together they are 512 x 4 GiB. The sum must not wrap.
  std::vector<uint32_t> sizes(512, 0xffffffffu);
  FrameDecoder d;
  Feed(d, SegmentTable(sizes));
  EXPECT_EQ(Next(d).result, FrameDecoder::Result::kError);
}

TEST(FrameTest, FrameExactlyAtTheByteLimitIsAccepted) {
  const std::string bytes = FrameBytes(Frame::PUT, 3);
  FrameLimits limits;
  limits.frame_bytes_max = bytes.size();
  EXPECT_EQ(DecodeOne(bytes, limits).result, FrameDecoder::Result::kFrame);
  limits.frame_bytes_max = bytes.size() - 1;
  FrameDecoder d(limits);
  Feed(d, bytes.substr(0, 8));  // the table says too big already
  EXPECT_EQ(Next(d).result, FrameDecoder::Result::kError);
}

TEST(FrameTest, TooManySegmentsRejectedFromTheCountAlone) {
  std::string count;
  PutLe32(&count, 600 - 1);  // 600 segments
  FrameDecoder d;
  Feed(d, count);
  auto o = Next(d);
  EXPECT_EQ(o.result, FrameDecoder::Result::kError);
  EXPECT_NE(o.error.find("segments"), std::string::npos) << o.error;
  // The largest count: the +1 must not wrap to zero segments.
  std::string max;
  PutLe32(&max, 0xffffffffu);
  EXPECT_EQ(DecodeOne(max).result, FrameDecoder::Result::kError);
}

TEST(FrameTest, SegmentCountAtTheLimitIsNotRejectedForItsCount) {
  // 512 segments: the first holds an empty root struct, the rest are empty.
  std::vector<uint32_t> sizes(512, 0);
  sizes[0] = 1;
  std::string bytes = SegmentTable(sizes);
  PutLe64(&bytes, 0);  // root pointer: null, a Frame of all defaults
  auto o = DecodeOne(bytes);
  ASSERT_EQ(o.result, FrameDecoder::Result::kFrame) << o.error;
  EXPECT_EQ(o.frame->root().getRequestId(), 0u);
}

TEST(FrameTest, ZeroSizeSingleSegmentIsRejected) {
  auto o = DecodeOne(SegmentTable({0}));
  EXPECT_EQ(o.result, FrameDecoder::Result::kError);
  EXPECT_NE(o.error.find("empty"), std::string::npos) << o.error;
}

TEST(FrameTest, ShortHeaderWaits) {
  const std::string bytes = FrameBytes(Frame::INFO, 1);
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(DecodeOne(bytes.substr(0, n)).result, FrameDecoder::Result::kNeedMore) << n;
  }
  // A table of three segments is 16 bytes: 12 are not enough to size the frame.
  std::string t = SegmentTable({1, 1, 1});
  ASSERT_EQ(t.size(), 16u);
  EXPECT_EQ(DecodeOne(t.substr(0, 12)).result, FrameDecoder::Result::kNeedMore);
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies.

TEST(FrameTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(31337);
  int frames = 0, errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 4 == 0) {
      // Random bytes, with a plausible one-segment table a third of the time.
      bytes.resize(8 + rng() % 120);
      for (auto& c : bytes) c = static_cast<char>(rng());
      if (i % 3 == 0)
        bytes.replace(0, 8, SegmentTable({static_cast<uint32_t>((bytes.size() - 8) / 8)}));
    } else {
      // A valid frame with one to four random bytes changed, so the body parser is reached.
      bytes = FrameBytes(kAllKinds[rng() % std::size(kAllKinds)], rng());
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    FrameDecoder d;
    Feed(d, bytes);
    for (;;) {
      auto o = Next(d);
      if (o.result == FrameDecoder::Result::kFrame) {
        ++frames;
        (void)o.frame->root().which();
        continue;
      }
      if (o.result == FrameDecoder::Result::kError) {
        ++errors;
        EXPECT_FALSE(o.error.empty());
      }
      break;
    }
  }
  EXPECT_GT(frames, 1000);
  EXPECT_GT(errors, 1000);
}

// Word indexes (from the frame's first byte) of the list pointers in a GET_RESULT frame: the
// struct layout puts the pointer section right after the data section.
std::vector<size_t> ListPointerWords(const std::string& bytes) {
  auto words = kj::heapArray<capnp::word>(bytes.size() / 8);
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  const auto* base = reinterpret_cast<const kj::byte*>(words.begin());
  std::vector<size_t> out;
  auto pointer_word = [&](capnp::AnyStruct::Reader s, size_t i) {
    return static_cast<size_t>(s.getDataSection().end() - base) / 8 + i;
  };
  auto result = reader.getRoot<Frame>().getGetResult();
  capnp::AnyStruct::Reader any(result);
  out.push_back(pointer_word(any, 0));  // siblings
  out.push_back(pointer_word(any, 1));  // context
  for (auto sibling : result.getSiblings()) {
    out.push_back(pointer_word(capnp::AnyStruct::Reader(sibling), 0));  // value
  }
  return out;
}

TEST(FrameTest, MalformedPointersAreErrorsNotCrashes) {
  const std::string valid = FrameBytes(Frame::GET_RESULT, 1);
  const size_t body = 1;  // one segment: the table is one word, the root pointer is word 1
  struct Case {
    const char* what;
    size_t word;
    uint64_t value;
  };
  const std::vector<Case> cases = {
      // Struct pointer, offset 2^29 - 1 words: far outside the segment.
      {"root offset out of bounds", body, (uint64_t{0x1fffffff} << 2) | (uint64_t{2} << 32)},
      // Struct pointer, in bounds offset but 65535 data words.
      {"root struct larger than segment", body, uint64_t{0xffff} << 32},
      // Far pointer (tag 2) into segment 9 of a one-segment message.
      {"far pointer to a missing segment", body, 2 | (uint64_t{9} << 32)},
      // Other pointer (tag 3): a capability where a struct belongs.
      {"capability as root", body, 3},
      // List pointer (tag 1) as the root.
      {"list as root", body, 1 | (uint64_t{2} << 32) | (uint64_t{1} << 35)},
  };
  for (const auto& c : cases) {
    std::string bytes = valid;
    SetWord(&bytes, c.word, c.value);
    auto o = DecodeOne(bytes);
    EXPECT_EQ(o.result, FrameDecoder::Result::kError) << c.what;
    EXPECT_NE(o.error.find("malformed"), std::string::npos) << c.what << ": " << o.error;
  }

  // List pointers inside the message claiming 2^29 - 1 elements (words, for the composite
  // siblings list): bounds checks must refuse each.
  int corrupted = 0;
  for (size_t w : ListPointerWords(valid)) {
    const uint64_t word = Word(valid, w);
    ASSERT_EQ(word & 3, 1u) << "word " << w << " is not a list pointer";
    std::string bytes = valid;
    SetWord(&bytes, w, (word & 0x7ffffffffULL) | (uint64_t{0x1fffffff} << 35));
    ++corrupted;
    EXPECT_EQ(DecodeOne(bytes).result, FrameDecoder::Result::kError) << "word " << w;
  }
  EXPECT_GT(corrupted, 3);
}

TEST(FrameTest, EveryWordCorruptedNeverCrashes) {
  // Every word of a valid frame, replaced by values that stress pointer decoding.
  const std::string valid = FrameBytes(Frame::GET_RESULT, 1) + FrameBytes(Frame::PUT, 2);
  const uint64_t patterns[] = {~uint64_t{0},
                               0x8000000000000000ULL,
                               0x00000000fffffffcULL,
                               0xfffffffe00000002ULL,
                               0x0000ffff00000000ULL,
                               1,
                               2,
                               3};
  std::mt19937_64 rng(5);
  int errors = 0;
  for (size_t w = 0; w < valid.size() / 8; ++w) {
    for (int p = 0; p < 12; ++p) {
      std::string bytes = valid;
      SetWord(&bytes, w, p < 8 ? patterns[p] : rng());
      FrameDecoder d;
      Feed(d, bytes);
      for (int k = 0; k < 3; ++k) {
        auto o = Next(d);
        if (o.result == FrameDecoder::Result::kError) ++errors;
        if (o.result != FrameDecoder::Result::kFrame) break;
      }
    }
  }
  EXPECT_GT(errors, 100);
}

// frame.h: "it validates every pointer of a decoded frame before handing it out, so the code that
// reads a frame never meets a malformed one." Validation today is root.totalSize(), which checks
// bounds but not types: a pointer the schema declares as Text may point at a struct, or at bytes
// without a NUL terminator, and the frame is handed out; the handler's getter then throws.
TEST(FrameTest, AcceptedFramesNeverThrowWhenRead) {
  struct Case {
    const char* what;
    void (*corrupt)(capnp::AnyStruct::Builder hello);
  };
  const Case cases[] = {
      {"Text field pointing at a struct",
       [](capnp::AnyStruct::Builder h) { h.getPointerSection()[0].initAsAnyStruct(1, 0); }},
      {"Text without its NUL terminator",
       [](capnp::AnyStruct::Builder h) {
         auto data = h.getPointerSection()[0].initAs<capnp::Data>(3);
         for (auto& b : data) b = 'x';
       }},
      {"Data field pointing at a list of words",
       [](capnp::AnyStruct::Builder h) {
         h.getPointerSection()[2].initAsAnyList(capnp::ElementSize::EIGHT_BYTES, 2);
       }},
  };
  for (const auto& c : cases) {
    capnp::MallocMessageBuilder message;
    auto f = message.initRoot<Frame>();
    Fill(f, Frame::HELLO, 1);
    c.corrupt(capnp::AnyStruct::Builder(f.getHello()));
    auto o = DecodeOne(EncodeFrameBytes(message));
    if (o.result == FrameDecoder::Result::kError) continue;  // refused: fine
    ASSERT_EQ(o.result, FrameDecoder::Result::kFrame);
    EXPECT_EQ(ReadFailure(o.frame->root()), "")
        << c.what << ": FrameDecoder handed out a frame whose getter throws";
  }
}

// The decoder checks the frames that carry the traffic with typed readers (frame_check.h) and the
// rest with the schema-driven walk. Over corrupted words of every kind, the typed check never
// accepts a frame the schema-driven walk rejects.
TEST(FrameTest, TypedCheckNeverAcceptsWhatTheDeepCheckRejects) {
  std::mt19937_64 rng(11);
  int typed_accepted = 0, typed_rejected = 0;
  for (Frame::Which kind : kAllKinds) {
    const std::string valid = FrameBytes(kind, 1);
    for (size_t w = 1; w < valid.size() / 8; ++w) {  // word 0 is the segment table
      for (int p = 0; p < 8; ++p) {
        std::string bytes = valid;
        SetWord(&bytes, w, p < 4 ? uint64_t{1} << (16 * p) : rng());
        auto words = kj::heapArray<capnp::word>(bytes.size() / 8);
        std::memcpy(words.begin(), bytes.data(), bytes.size());
        bool covered = false;
        try {
          capnp::FlatArrayMessageReader typed(words.asPtr());
          covered = CheckFrameTyped(typed.getRoot<Frame>());
        } catch (const kj::Exception&) {
          ++typed_rejected;
          continue;
        }
        if (!covered) continue;
        ++typed_accepted;
        try {
          capnp::FlatArrayMessageReader deep(words.asPtr());
          CheckFrameDeep(deep.getRoot<Frame>());
        } catch (const kj::Exception& e) {
          ADD_FAILURE() << "kind " << static_cast<int>(kind) << ", word " << w
                        << ": typed check accepted, deep check threw " << e.getDescription().cStr();
        }
      }
    }
  }
  EXPECT_GT(typed_accepted, 100);
  EXPECT_GT(typed_rejected, 10);
}

// A chain of structs, each the first pointer of the one before: `depth` levels below the root.
std::string NestedFrame(int depth) {
  capnp::MallocMessageBuilder message;
  auto any = message.getRoot<capnp::AnyPointer>().initAsAnyStruct(2, 1);
  for (int i = 0; i < depth; ++i) any = any.getPointerSection()[0].initAsAnyStruct(0, 1);
  return EncodeFrameBytes(message);
}

TEST(FrameTest, NestingLimit) {
  // A chain 100 structs deep: refused (too deep, and not what the schema says either).
  EXPECT_EQ(DecodeOne(NestedFrame(100)).result, FrameDecoder::Result::kError);
  EXPECT_EQ(DecodeOne(NestedFrame(40)).result, FrameDecoder::Result::kError);
  // A legitimate GetResult (Frame -> GetResult -> siblings -> Sibling -> Dot) fits the default,
  // and a configured limit below its depth refuses it, saying why.
  const std::string bytes = FrameBytes(Frame::GET_RESULT, 1);
  EXPECT_EQ(DecodeOne(bytes).result, FrameDecoder::Result::kFrame);
  FrameLimits limits;
  limits.nesting_max = 2;
  auto shallow = DecodeOne(bytes, limits);
  EXPECT_EQ(shallow.result, FrameDecoder::Result::kError);
  EXPECT_NE(shallow.error.find("nested"), std::string::npos) << shallow.error;
  limits.nesting_max = 8;
  EXPECT_EQ(DecodeOne(bytes, limits).result, FrameDecoder::Result::kFrame);
}

// The nesting limit is one limit: a frame the decoder accepts under it can be read under it.
// Validation (totalSize) and the getters must count depth the same way.
TEST(FrameTest, NestingLimitAcceptsOnlyWhatCanBeRead) {
  for (Frame::Which kind : kAllKinds) {
    const std::string bytes = FrameBytes(kind, 1);
    for (int nesting = 1; nesting <= 8; ++nesting) {
      FrameLimits limits;
      limits.nesting_max = nesting;
      auto o = DecodeOne(bytes, limits);
      if (o.result != FrameDecoder::Result::kFrame) continue;
      EXPECT_EQ(ReadFailure(o.frame->root()), "")
          << "kind " << kind << " accepted with nesting_max " << nesting;
    }
  }
}

TEST(FrameTest, LegitimateFrameCanBeReadSeveralTimes) {
  // The traversal limit is 8x the frame: validation plus a handler reading fields a few times
  // must stay under it.
  capnp::MallocMessageBuilder message;
  auto f = message.initRoot<Frame>();
  f.setRequestId(1);
  auto sibs = f.initGetResult().initSiblings(100);
  for (uint32_t i = 0; i < 100; ++i) sibs[i].setValue(Bytes(std::string(4096, 'x')));
  auto o = DecodeOne(EncodeFrameBytes(message));
  ASSERT_EQ(o.result, FrameDecoder::Result::kFrame) << o.error;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(ReadFailure(o.frame->root()), "") << "read " << i;
}

// Many pointers to one blob: a small frame whose fields, read once each, add up to far more words
// than the frame holds. The decoder must refuse it, or a handler reading each field once must not
// hit the traversal limit (both are fine; a handler that throws is not).
TEST(FrameTest, SharedPointerAmplificationIsRefusedOrReadable) {
  constexpr uint32_t kSiblings = 64;
  constexpr size_t kBlobBytes = 64 * 1024;
  capnp::MallocMessageBuilder message(16 * 1024);  // one segment: offsets below are in-segment
  auto f = message.initRoot<Frame>();
  f.setRequestId(1);
  auto result = f.initGetResult();
  auto sibs = result.initSiblings(kSiblings);
  for (uint32_t i = 0; i < kSiblings; ++i) sibs[i].setValue(Bytes("v"));
  result.setContext(Bytes(std::string(kBlobBytes, 'b')));
  ASSERT_EQ(message.getSegmentsForOutput().size(), 1u);
  std::string bytes = EncodeFrameBytes(message);

  // Point every sibling's value at the context blob.
  auto words = kj::heapArray<capnp::word>(bytes.size() / 8);
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  const auto* base = reinterpret_cast<const kj::byte*>(words.begin());
  auto r = reader.getRoot<Frame>().getGetResult();
  const size_t blob_word = static_cast<size_t>(r.getContext().begin() - base) / 8;
  for (auto sibling : r.getSiblings()) {
    const size_t ptr =
        static_cast<size_t>(capnp::AnyStruct::Reader(sibling).getDataSection().end() - base) / 8;
    const int64_t offset = static_cast<int64_t>(blob_word) - static_cast<int64_t>(ptr) - 1;
    const uint64_t list_ptr = 1 | (static_cast<uint64_t>(offset & 0x3fffffff) << 2) |
                              (uint64_t{2} << 32) | (uint64_t{kBlobBytes} << 35);
    SetWord(&bytes, ptr, list_ptr);
  }
  {
    // The rewiring worked: without limits, every sibling reads the whole blob.
    auto patched = kj::heapArray<capnp::word>(bytes.size() / 8);
    std::memcpy(patched.begin(), bytes.data(), bytes.size());
    capnp::ReaderOptions unlimited;
    unlimited.traversalLimitInWords = uint64_t{1} << 40;
    capnp::FlatArrayMessageReader check(patched, unlimited);
    for (auto sibling : check.getRoot<Frame>().getGetResult().getSiblings()) {
      ASSERT_EQ(sibling.getValue().size(), kBlobBytes);
    }
  }
  auto o = DecodeOne(bytes);
  if (o.result == FrameDecoder::Result::kError) return;
  ASSERT_EQ(o.result, FrameDecoder::Result::kFrame);
  EXPECT_EQ(ReadFailure(o.frame->root()), "")
      << "a " << bytes.size() << "-byte frame was accepted and then hit the traversal limit on "
      << "its first read";
}

// A list of zero-sized structs costs one word of traversal budget per element (Cap'n Proto's guard
// against amplification) though it occupies no words. Validation reading such a list spends that
// budget once; the handler's read must still fit, or the handler throws on a frame the decoder
// accepted. Found by frame_fuzz.
TEST(FrameTest, ZeroSizedElementListsLeaveTheHandlerItsBudget) {
  const std::string valid = FrameBytes(Frame::GET_RESULT, 1);
  const size_t list = ListPointerWords(valid)[0];  // GetResult.siblings, an inline-composite list
  const uint64_t list_ptr = Word(valid, list);
  const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(list_ptr) & ~3u) >> 2;
  const size_t tag = static_cast<size_t>(static_cast<int64_t>(list) + 1 + offset);
  int accepted = 0;
  for (uint64_t elements : {10u, 100u, 400u, 700u, 1000u, 1100u, 1200u, 5000u, 1u << 20}) {
    std::string bytes = valid;
    // The list now holds `elements` structs of no data and no pointers: zero words after the tag.
    SetWord(&bytes, list, (list_ptr & 0x7ffffffffULL));  // word count 0
    SetWord(&bytes, tag, elements << 2);                 // count; 0 data, 0 ptrs
    auto o = DecodeOne(bytes);
    if (o.result != FrameDecoder::Result::kFrame) continue;
    ++accepted;
    EXPECT_EQ(ReadFailure(o.frame->root()), "")
        << elements << " zero-sized siblings in a " << bytes.size() << "-byte frame: accepted, "
        << "then the handler's read ran out of traversal budget";
    try {
      EXPECT_EQ(o.frame->root().getGetResult().getSiblings().size(), elements);
    } catch (const kj::Exception&) {
      // Reported above.
    }
  }
  EXPECT_GE(accepted, 2) << "the crafted frames must be valid for small counts";
}

TEST(FrameTest, AfterAnErrorTheDecoderStaysFailed) {
  FrameDecoder d;
  Feed(d, SegmentTable({0}));
  auto first = Next(d);
  ASSERT_EQ(first.result, FrameDecoder::Result::kError);
  EXPECT_EQ(d.buffered(), 0u);
  // Valid frames after the error are not decoded: the stream cannot be resynchronised.
  Feed(d, FrameBytes(Frame::INFO, 1));
  EXPECT_EQ(d.buffered(), 0u) << "a failed decoder still buffers input";
  for (int i = 0; i < 3; ++i) {
    auto again = Next(d);
    EXPECT_EQ(again.result, FrameDecoder::Result::kError) << Name(again.result);
    EXPECT_EQ(again.error, first.error);
    EXPECT_EQ(again.frame, nullptr);
  }
}

TEST(FrameTest, ErrorAfterGoodFramesKeepsTheGoodOnes) {
  FrameDecoder d;
  Feed(d, FrameBytes(Frame::PUT, 1) + SegmentTable({uint32_t{1} << 27}));
  auto good = Next(d);
  ASSERT_EQ(good.result, FrameDecoder::Result::kFrame);
  EXPECT_EQ(Next(d).result, FrameDecoder::Result::kError);
  EXPECT_EQ(Text(good.frame->root()), ExpectedText(Frame::PUT, 1));
}

}  // namespace
}  // namespace ringkv::proto
