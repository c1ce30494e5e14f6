#include "ring/token_range.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ring/ring_testing.h"

namespace ringkv {
namespace {

using testing::BaseSeed;
using testing::SeedTrace;

TEST(TokenRangeTest, NonWrappingIsStartExclusiveEndInclusive) {
  const TokenRange r{-10, 10};
  EXPECT_FALSE(r.Wraps());
  EXPECT_FALSE(r.Contains(-10));
  EXPECT_TRUE(r.Contains(-9));
  EXPECT_TRUE(r.Contains(10));
  EXPECT_FALSE(r.Contains(11));
  EXPECT_EQ(r.Unwrap(), std::vector<TokenRange>{r});
  EXPECT_EQ(r.ToString(), "(-10, 10]");
}

TEST(TokenRangeTest, WrappingPassesTheEndOfTheTokenSpace) {
  const TokenRange r{200, -100};
  EXPECT_TRUE(r.Wraps());
  EXPECT_FALSE(r.IsFullRing());
  EXPECT_TRUE(r.Contains(kTokenMax));
  EXPECT_TRUE(r.Contains(kTokenMin + 1));
  EXPECT_TRUE(r.Contains(201));
  EXPECT_TRUE(r.Contains(-100));
  EXPECT_FALSE(r.Contains(200));
  EXPECT_FALSE(r.Contains(-99));
  EXPECT_FALSE(r.Contains(0));
  EXPECT_EQ(r.Unwrap(), (std::vector<TokenRange>{{kTokenMin, -100}, {200, kTokenMax}}));
}

TEST(TokenRangeTest, UnwrapLeavesOutPiecesWithoutKeyTokens) {
  // Starting at the maximum: only the piece after the origin holds keys.
  EXPECT_EQ((TokenRange{kTokenMax, 5}.Unwrap()), (std::vector<TokenRange>{{kTokenMin, 5}}));
  // Ending at the origin (Cassandra's "to the end of the ring"): only the piece before it.
  EXPECT_EQ((TokenRange{5, kTokenMin}.Unwrap()), (std::vector<TokenRange>{{5, kTokenMax}}));
  EXPECT_TRUE((TokenRange{5, kTokenMin}.Contains(kTokenMax)));
  EXPECT_FALSE((TokenRange{5, kTokenMin}.Contains(0)));
}

TEST(TokenRangeTest, EqualEndsAreTheFullRing) {
  const TokenRange r{42, 42};
  EXPECT_TRUE(r.IsFullRing());
  for (Token t : {kTokenMin + 1, Token{0}, Token{41}, Token{42}, Token{43}, kTokenMax}) {
    EXPECT_TRUE(r.Contains(t)) << t;
  }
  EXPECT_DOUBLE_EQ(r.Fraction(), 1.0);
  EXPECT_EQ(r.Unwrap(), (std::vector<TokenRange>{{kTokenMin, 42}, {42, kTokenMax}}));
}

TEST(TokenRangeTest, FractionIsTheModularWidth) {
  EXPECT_DOUBLE_EQ((TokenRange{0, Token{1} << 62}.Fraction()), 0.25);
  EXPECT_DOUBLE_EQ((TokenRange{Token{1} << 62, 0}.Fraction()), 0.75);  // wraps
  // 2^64 - 1 tokens: the whole ring to double precision.
  EXPECT_DOUBLE_EQ((TokenRange{kTokenMin, kTokenMax}.Fraction()), 1.0);
  // Across the end of the token space: the two tokens min and min + 1.
  EXPECT_EQ((TokenRange{kTokenMax, kTokenMin + 1}.Fraction()), std::ldexp(1.0, -63));
}

// Unwrap() keeps exactly the key tokens Contains() admits, for random arcs and random tokens.
TEST(TokenRangeTest, UnwrapAgreesWithContains) {
  const uint64_t seed = BaseSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  auto random_token = [&rng]() -> Token {
    switch (rng() % 6) {
      case 0:
        return kTokenMin;
      case 1:
        return kTokenMax;
      case 2:
        return static_cast<Token>(rng() % 7) - 3;
      default:
        return static_cast<Token>(rng());
    }
  };
  for (int i = 0; i < 2000; ++i) {
    const TokenRange r{random_token(), random_token()};
    const std::vector<TokenRange> pieces = r.Unwrap();
    for (const TokenRange& p : pieces) ASSERT_FALSE(p.Wraps()) << r.ToString();
    for (int j = 0; j < 20; ++j) {
      Token t = random_token();
      if (t == kTokenMin) t = kTokenMin + 1;  // never a key token
      int hits = 0;
      for (const TokenRange& p : pieces) hits += p.Contains(t) ? 1 : 0;
      ASSERT_EQ(hits, r.Contains(t) ? 1 : 0) << r.ToString() << " token " << t;
    }
  }
}

}  // namespace
}  // namespace ringkv
