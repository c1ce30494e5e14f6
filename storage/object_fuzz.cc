// libFuzzer target for DecodeObject: untrusted bytes (a peer's ReplicaWrite, a disk that lied).
// Whatever decodes must be a well-formed object that survives EncodeObject -> DecodeObject intact.
// Anything else aborts, which libFuzzer reports as a finding. (Byte-identical re-encoding of the
// input is not required here: overlong varints are accepted today, see object_codec_test.cc.)
//
// Seeds: RINGKV_FUZZ_WRITE_SEEDS=<dir> object_fuzz writes encodings of a few objects to <dir> and
// exits (scripts/fuzz.sh does this), so the seeds always match the current encoding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "common/limits.h"
#include "storage/object_codec.h"

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "object_fuzz: %s\n", what);
  std::abort();
}

void WriteSeed(const char* dir, const std::string& name, const ringkv::VersionedObject& object) {
  const std::string bytes = ringkv::EncodeObject(object);
  const std::string path = std::string(dir) + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    Die("cannot write a seed");
  }
}

void Write(ringkv::VersionedObject* o, const ringkv::VersionVector& context, uint64_t actor,
           std::string value, bool tombstone, int64_t expires_at_us) {
  ringkv::Sibling s;
  s.value = std::move(value);
  s.timestamp_us = 1'700'000'000'000'000;
  s.tombstone = tombstone;
  s.expires_at_us = expires_at_us;
  if (!o->ApplyWrite(context, actor, std::move(s), 0).ok()) Die("seed write failed");
}

void WriteSeeds(const char* dir) {
  ringkv::VersionedObject empty;
  WriteSeed(dir, "empty", empty);
  ringkv::VersionedObject one;
  Write(&one, {}, 1, "value", false, 0);
  WriteSeed(dir, "one", one);
  ringkv::VersionedObject siblings = one;
  Write(&siblings, {}, 0x9e3779b97f4a7c15ULL, "concurrent", false, 1'700'000'000'000'000);
  Write(&siblings, {}, 300, "", true, 0);
  WriteSeed(dir, "siblings", siblings);
  ringkv::VersionedObject resolved = siblings;
  Write(&resolved, siblings.clock(), 2, std::string(200, 'x'), false, 0);
  WriteSeed(dir, "resolved", resolved);
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
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = ringkv::DecodeObject(input);
  if (!decoded.ok()) {
    if (decoded.status().code() != ringkv::Code::kCorruption) Die("refused, but not as Corruption");
    return 0;
  }
  const ringkv::VersionedObject& object = decoded.value();
  if (object.siblings().size() > ringkv::kSiblingsMax) Die("more than kSiblingsMax siblings");
  if (object.clock().size() > ringkv::kClockEntriesMax) Die("clock past kClockEntriesMax");
  for (size_t i = 0; i < object.siblings().size(); ++i) {
    const auto& s = object.siblings()[i];
    if (s.dot.counter == 0 || !object.clock().Covers(s.dot)) Die("sibling dot not covered");
    if (i > 0 && !(object.siblings()[i - 1].dot < s.dot)) Die("siblings not sorted by dot");
  }
  const std::string encoded = ringkv::EncodeObject(object);
  auto again = ringkv::DecodeObject(encoded);
  if (!again.ok()) Die("re-encoded object does not decode");
  if (!(again.value() == object)) Die("round trip changed the object");
  if (ringkv::EncodeObject(again.value()) != encoded) Die("encoding is not deterministic");
  // Merge with itself is the identity; with the empty object too.
  if (!(ringkv::VersionedObject::Merge(object, object) == object)) Die("Merge(a, a) != a");
  if (!(ringkv::VersionedObject::Merge(object, ringkv::VersionedObject()) == object)) {
    Die("Merge(a, empty) != a");
  }
  return 0;
}
