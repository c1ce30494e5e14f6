#include "tools/kvctl_format.h"

#include <gtest/gtest.h>

#include <random>

namespace ringkv::kvctl {
namespace {

TEST(Base64Test, KnownVectors) {
  // RFC 4648, section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"one", "b25l"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain));
  }
  EXPECT_EQ(Base64Decode("Zg"), std::optional<std::string>("f"));  // padding is optional
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), std::optional<std::string>(bytes)) << n;
  }
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* bad : {"Z", "Zg=", "Z===", "Zm9v!", "Zm 9v", "=Zm9", "Zg==Zg==", "===="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(FormatTest, PrintableUtf8) {
  EXPECT_TRUE(IsPrintableUtf8("hello"));
  EXPECT_TRUE(IsPrintableUtf8("línea\tdos\n"));
  EXPECT_TRUE(IsPrintableUtf8("日本語 🙂"));
  EXPECT_TRUE(IsPrintableUtf8(""));
  EXPECT_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsPrintableUtf8("\x1b[31m"));
  EXPECT_FALSE(IsPrintableUtf8("\xff"));
  EXPECT_FALSE(IsPrintableUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsPrintableUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsPrintableUtf8("\xe6\x97"));      // truncated
}

TEST(FormatTest, CEscapeKeepsOneLine) {
  EXPECT_EQ(CEscape("plain"), "plain");
  EXPECT_EQ(CEscape("a\nb\tc\\d"), "a\\nb\\tc\\\\d");
  EXPECT_EQ(CEscape(std::string("\0\x01\xff", 3)), "\\x00\\x01\\xff");
  EXPECT_EQ(CEscape("naïve"), "naïve");
  EXPECT_EQ(CEscape("\xe6\x97"), "\\xe6\\x97");
}

TEST(FormatTest, Timestamps) {
  EXPECT_EQ(FormatTimestampUs(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestampUs(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestampUs(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace ringkv::kvctl
