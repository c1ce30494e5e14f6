// leveldb_bench: the storage ceiling of the comparison. Raw LevelDB (the engine under each kvnode)
// with the same keys and values kvbench uses, in one process, no network and no replication:
//
//   fill       K single puts, unsynced, in a scrambled order (ringkv stores keys in token order,
//              which is just as scattered), then the disk bytes per key of the directory
//   get        random gets of those keys
//   fillsync   single puts with sync=true (one fsync each), bounded in count and time
//   fillbatch  K keys in write batches of 100, unsynced, into a fresh database
//
//   leveldb_bench --dir DIR [--keys K] [--key-bytes 16] [--value-bytes 100] [--gets G]
//                 [--sync-ops S] [--seconds S]
//
// DIR must not exist (it is created, and removed at the end unless --keep). Prints one JSON
// object. Every phase stops at --seconds (default 120) whatever its count.
#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "tools/kvbench/key_chooser.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

uint64_t DirBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

std::unique_ptr<leveldb::DB> Open(const std::string& dir) {
  leveldb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  leveldb::DB* db = nullptr;
  const leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "leveldb_bench: open %s: %s\n", dir.c_str(), s.ToString().c_str());
    std::exit(1);
  }
  return std::unique_ptr<leveldb::DB>(db);
}

void Check(const leveldb::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "leveldb_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// A bijection of [0, k) that scatters consecutive indexes: i * m mod k with m coprime to k.
uint64_t Scatter(uint64_t i, uint64_t k) {
  static uint64_t m = 0, for_k = 0;
  if (for_k != k) {
    for_k = k;
    m = 1'000'003ULL % k;  // small enough that i * m fits 64 bits for k < 2^40
    while (m == 0 || std::gcd(m, k) != 1) ++m;
  }
  return (i * m) % k;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t keys = 1'000'000, gets = 200'000, sync_ops = 2000;
  size_t key_bytes = 16, value_bytes = 100;
  double seconds = 120;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) std::exit(2);
      return argv[++i];
    };
    if (a == "--dir") dir = next();
    else if (a == "--keys") keys = std::strtoull(next(), nullptr, 10);
    else if (a == "--gets") gets = std::strtoull(next(), nullptr, 10);
    else if (a == "--sync-ops") sync_ops = std::strtoull(next(), nullptr, 10);
    else if (a == "--key-bytes") key_bytes = std::strtoull(next(), nullptr, 10);
    else if (a == "--value-bytes") value_bytes = std::strtoull(next(), nullptr, 10);
    else if (a == "--seconds") seconds = std::atof(next());
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr,
                   "usage: leveldb_bench --dir DIR [--keys K] [--key-bytes B] [--value-bytes B] "
                   "[--gets G] [--sync-ops S] [--seconds S] [--keep]\n");
      return 2;
    }
  }
  if (dir.empty() || fs::exists(dir) || keys == 0 ||
      !ringkv::bench::KeyBytesFit(keys, key_bytes)) {
    std::fprintf(stderr, "leveldb_bench: --dir must name a new directory; keys must fit key-bytes\n");
    return 2;
  }
  fs::create_directories(dir);
  std::mt19937_64 rng(1);
  std::string value_buf(4096 + value_bytes, 'x');
  for (char& c : value_buf) c = static_cast<char>('a' + rng() % 26);
  auto value = [&](uint64_t i) {
    return leveldb::Slice(value_buf.data() + (i * 64) % 4096, value_bytes);
  };

  // fill
  auto db = Open(dir + "/fill");
  leveldb::WriteOptions nosync;
  auto start = Clock::now();
  uint64_t filled = 0;
  for (; filled < keys; ++filled) {
    if ((filled & 1023) == 0 && Seconds(start) > seconds) break;
    const std::string k = ringkv::bench::FormatKey(Scatter(filled, keys), key_bytes);
    Check(db->Put(nosync, k, value(filled)));
  }
  const double fill_s = Seconds(start);
  const uint64_t disk_bytes = DirBytes(dir + "/fill");

  // get
  leveldb::ReadOptions ropts;
  std::string got;
  uint64_t found = 0, done_gets = 0;
  start = Clock::now();
  for (; done_gets < gets; ++done_gets) {
    if ((done_gets & 1023) == 0 && Seconds(start) > seconds) break;
    const std::string k = ringkv::bench::FormatKey(Scatter(rng() % filled, keys), key_bytes);
    if (db->Get(ropts, k, &got).ok()) ++found;
  }
  const double get_s = Seconds(start);

  // fillsync
  leveldb::WriteOptions sync;
  sync.sync = true;
  uint64_t synced = 0;
  start = Clock::now();
  for (; synced < sync_ops; ++synced) {
    if (Seconds(start) > seconds) break;
    Check(db->Put(sync, ringkv::bench::FormatKey(Scatter(synced, keys), key_bytes), value(synced)));
  }
  const double sync_s = Seconds(start);
  db.reset();

  // fillbatch
  db = Open(dir + "/batch");
  uint64_t batched = 0;
  start = Clock::now();
  while (batched < keys && Seconds(start) <= seconds) {
    leveldb::WriteBatch batch;
    for (int j = 0; j < 100 && batched < keys; ++j, ++batched) {
      batch.Put(ringkv::bench::FormatKey(Scatter(batched, keys), key_bytes), value(batched));
    }
    Check(db->Write(nosync, &batch));
  }
  const double batch_s = Seconds(start);
  db.reset();
  if (!keep) fs::remove_all(dir);

  std::printf(
      "{\"keys\": %llu, \"key_bytes\": %zu, \"value_bytes\": %zu, \"fill_per_s\": %.1f, "
      "\"disk_bytes_per_key\": %.1f, \"get_per_s\": %.1f, \"gets_found\": %llu, \"gets\": %llu, "
      "\"fillsync_per_s\": %.1f, \"fillsync_ops\": %llu, \"fillbatch_keys_per_s\": %.1f}\n",
      static_cast<unsigned long long>(filled), key_bytes, value_bytes, filled / fill_s,
      static_cast<double>(disk_bytes) / static_cast<double>(filled), done_gets / get_s,
      static_cast<unsigned long long>(found), static_cast<unsigned long long>(done_gets),
      synced / sync_s, static_cast<unsigned long long>(synced), batched / batch_s);
  return 0;
}
