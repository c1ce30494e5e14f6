// Calendar arithmetic for CQL timestamps (milliseconds since 1970-01-01 00:00:00 UTC), proleptic
// Gregorian, without the C library's time zone state (so it is pure and thread safe).
#ifndef RINGKV_CQL_CIVIL_TIME_H_
#define RINGKV_CQL_CIVIL_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringkv::cql {

// "2026-11-24 10:00:00.123000+0000", as cqlsh prints a timestamp. Any int64 value.
std::string FormatTimestamp(int64_t ms);

// "2026-11-24 10:00:00.123+0000", a literal ParseTimestamp reads back exactly. Years 0..9999 only:
// std::nullopt otherwise (write the integer instead).
std::optional<std::string> FormatTimestampLiteral(int64_t ms);

// Reads 'yyyy-mm-dd', optionally followed by ' ' or 'T' and hh:mm[:ss[.f...]] (fraction: up to 9
// digits, truncated to milliseconds), optionally followed by 'Z' or a zone +hh, +hhmm, +hh:mm
// (or '-'). No zone means UTC. Fields are range checked (month 1-12, day within the month, ...).
std::optional<int64_t> ParseTimestamp(std::string_view text);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_CIVIL_TIME_H_
