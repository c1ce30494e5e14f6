#include "cql/civil_time.h"

#include <fmt/format.h>

namespace ringkv::cql {
namespace {

constexpr int64_t kMsPerDay = 86400000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

struct Parts {
  int64_t year;
  int month, day, hour, minute, second, millis;
};

Parts Split(int64_t ms) {
  // Floor division so that times before 1970 land on the right day.
  int64_t days = ms / kMsPerDay;
  int64_t rem = ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  Parts p{};
  CivilFromDays(days, &p.year, &p.month, &p.day);
  p.hour = static_cast<int>(rem / 3600000);
  p.minute = static_cast<int>(rem / 60000 % 60);
  p.second = static_cast<int>(rem / 1000 % 60);
  p.millis = static_cast<int>(rem % 1000);
  return p;
}

// Reads exactly `n` digits at *at.
bool Digits(std::string_view s, size_t* at, int n, int* out) {
  if (*at + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*at + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *at += n;
  *out = v;
  return true;
}

}  // namespace

std::string FormatTimestamp(int64_t ms) {
  Parts p = Split(ms);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:03d}000+0000", p.year, p.month,
                     p.day, p.hour, p.minute, p.second, p.millis);
}

std::optional<std::string> FormatTimestampLiteral(int64_t ms) {
  Parts p = Split(ms);
  if (p.year < 0 || p.year > 9999) return std::nullopt;
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:03d}+0000", p.year, p.month,
                     p.day, p.hour, p.minute, p.second, p.millis);
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  size_t at = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, &at, 4, &year)) return std::nullopt;
  if (at >= s.size() || s[at++] != '-' || !Digits(s, &at, 2, &month)) return std::nullopt;
  if (at >= s.size() || s[at++] != '-' || !Digits(s, &at, 2, &day)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (at < s.size() && (s[at] == ' ' || s[at] == 'T')) {
    ++at;
    if (!Digits(s, &at, 2, &hour)) return std::nullopt;
    if (at >= s.size() || s[at++] != ':' || !Digits(s, &at, 2, &minute)) return std::nullopt;
    if (at < s.size() && s[at] == ':') {
      ++at;
      if (!Digits(s, &at, 2, &second)) return std::nullopt;
      if (at < s.size() && s[at] == '.') {
        ++at;
        int n = 0, scale = 100;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9' && n < 9) {
          millis += (s[at] - '0') * scale;
          scale /= 10;
          ++at;
          ++n;
        }
        if (n == 0) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int sign = s[at++] == '-' ? -1 : 1;
    int zh = 0, zm = 0;
    if (!Digits(s, &at, 2, &zh)) return std::nullopt;
    if (at < s.size() && s[at] == ':') ++at;
    if (at < s.size() && !Digits(s, &at, 2, &zm)) return std::nullopt;
    if (zh > 23 || zm > 59) return std::nullopt;
    offset_min = sign * (zh * 60 + zm);
  }
  if (at != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  int64_t ms = days * kMsPerDay + ((hour * 60 + minute) * 60 + second) * int64_t{1000} + millis;
  return ms - offset_min * 60000;
}

}  // namespace ringkv::cql
