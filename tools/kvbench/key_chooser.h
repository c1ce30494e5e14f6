// Which key an operation touches: uniform, or zipfian with YCSB's generator (Gray et al., "Quickly
// Generating Billion-Record Synthetic Databases", SIGMOD 1994), and fixed-width key bytes.
//
// Zipfian ranks are scrambled (hashed onto the key range, as YCSB's ScrambledZipfian) so the hot
// keys are spread over the ring instead of all being keys 0, 1, 2... The rank itself is exposed
// for tests of the distribution's shape.
//
// Thread safety: none; each load lane owns its chooser. Construction of a zipfian chooser costs
// O(keys) (the zeta sum): share one ZipfianTable between lanes (immutable, so safe to share).
#ifndef RINGKV_TOOLS_KVBENCH_KEY_CHOOSER_H_
#define RINGKV_TOOLS_KVBENCH_KEY_CHOOSER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>

namespace ringkv::bench {

// The constants of a zipfian distribution over [0, n). Immutable after construction.
struct ZipfianTable {
  ZipfianTable(uint64_t n, double theta);
  uint64_t n;
  double theta, alpha, zetan, eta, half_pow_theta;
};

class KeyChooser {
 public:
  // zipf: null for uniform over [0, keys). REQUIRES: keys > 0; zipf->n == keys when given.
  KeyChooser(uint64_t keys, std::shared_ptr<const ZipfianTable> zipf, uint64_t seed);

  // The index of the next key, in [0, keys).
  uint64_t Next();
  // The next zipfian rank (0 is the hottest) before scrambling. REQUIRES: zipfian.
  uint64_t NextRank();

 private:
  uint64_t keys_;
  std::shared_ptr<const ZipfianTable> zipf_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

// 64-bit FNV-1a of the 8 bytes of `v`: the scramble of zipfian ranks.
uint64_t Fnv1a64(uint64_t v);

// The key bytes of index `i`: "k" then the decimal index zero-padded to exactly `key_bytes`.
// Fixed width keeps every key the same size whatever its index. REQUIRES: key_bytes large enough
// for the largest index (KeyBytesFit).
std::string FormatKey(uint64_t i, size_t key_bytes);
bool KeyBytesFit(uint64_t keys, size_t key_bytes);

}  // namespace ringkv::bench

#endif  // RINGKV_TOOLS_KVBENCH_KEY_CHOOSER_H_
