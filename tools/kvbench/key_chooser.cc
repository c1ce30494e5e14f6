#include "tools/kvbench/key_chooser.h"

#include <cassert>
#include <cmath>
#include <utility>

namespace ringkv::bench {
namespace {

double Zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

}  // namespace

ZipfianTable::ZipfianTable(uint64_t n_in, double theta_in) : n(n_in), theta(theta_in) {
  assert(n > 0 && theta > 0 && theta < 1);
  alpha = 1.0 / (1.0 - theta);
  zetan = Zeta(n, theta);
  const double zeta2 = Zeta(2, theta);
  eta = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
  half_pow_theta = 1.0 + std::pow(0.5, theta);
}

KeyChooser::KeyChooser(uint64_t keys, std::shared_ptr<const ZipfianTable> zipf, uint64_t seed)
    : keys_(keys), zipf_(std::move(zipf)), rng_(seed) {
  assert(keys_ > 0);
  assert(!zipf_ || zipf_->n == keys_);
}

uint64_t KeyChooser::NextRank() {
  assert(zipf_);
  const ZipfianTable& z = *zipf_;
  const double u = unit_(rng_);
  const double uz = u * z.zetan;
  if (uz < 1.0) return 0;
  if (uz < z.half_pow_theta) return 1;
  const auto r = static_cast<uint64_t>(static_cast<double>(z.n) *
                                       std::pow(z.eta * u - z.eta + 1.0, z.alpha));
  return r < z.n ? r : z.n - 1;
}

uint64_t KeyChooser::Next() {
  if (!zipf_) return std::uniform_int_distribution<uint64_t>(0, keys_ - 1)(rng_);
  return Fnv1a64(NextRank()) % keys_;
}

uint64_t Fnv1a64(uint64_t v) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool KeyBytesFit(uint64_t keys, size_t key_bytes) {
  const std::string largest = std::to_string(keys == 0 ? 0 : keys - 1);
  return key_bytes >= largest.size() + 1;
}

std::string FormatKey(uint64_t i, size_t key_bytes) {
  std::string digits = std::to_string(i);
  assert(key_bytes >= digits.size() + 1);
  std::string key(key_bytes, '0');
  key[0] = 'k';
  key.replace(key_bytes - digits.size(), digits.size(), digits);
  return key;
}

}  // namespace ringkv::bench
