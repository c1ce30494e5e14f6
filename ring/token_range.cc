#include "ring/token_range.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace ringkv {

double TokenRange::Fraction() const {
  // Modular difference: the arc's width in tokens, 0 standing for the full 2^64.
  const uint64_t width = static_cast<uint64_t>(end) - static_cast<uint64_t>(start);
  return width == 0 ? 1.0 : std::ldexp(static_cast<double>(width), -64);
}

std::vector<TokenRange> TokenRange::Unwrap() const {
  if (!Wraps()) return {*this};
  std::vector<TokenRange> pieces;
  if (end != kTokenMin) pieces.push_back({kTokenMin, end});
  if (start != kTokenMax) pieces.push_back({start, kTokenMax});
  return pieces;
}

std::string TokenRange::ToString() const { return fmt::format("({}, {}]", start, end); }

}  // namespace ringkv
