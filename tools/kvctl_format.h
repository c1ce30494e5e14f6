// Byte-level formatting for kvctl's output and input: base64 for contexts and binary values,
// C-style escapes for values shown inline, UTF-8 checks, timestamps.
//
// Thread safety: free functions on values.
#ifndef RINGKV_TOOLS_KVCTL_FORMAT_H_
#define RINGKV_TOOLS_KVCTL_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::kvctl {

// Standard alphabet (RFC 4648 section 4), padded.
std::string Base64Encode(std::string_view bytes);
// Accepts the standard alphabet with or without padding; nullopt if `text` is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

// True if `bytes` is valid UTF-8 holding no control characters other than tab, CR and LF.
bool IsPrintableUtf8(std::string_view bytes);

// `bytes` on one line: printable ASCII and printable UTF-8 as they are; \\, \n, \r, \t; every other
// byte as \xNN. The result never holds a newline or a control character.
std::string CEscape(std::string_view bytes);

// "2026-11-24T16:27:47.123456Z" (UTC, microseconds).
std::string FormatTimestampUs(int64_t us);

// `rows` as aligned columns: each cell padded to its column's widest (in bytes), two spaces
// between columns, no trailing spaces, a newline after each row. The first row is the header.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// A fraction in [0, 1] as a percentage with one decimal: 0.3333 -> "33.3%".
std::string FormatPercent(double fraction);

}  // namespace ringkv::kvctl

#endif  // RINGKV_TOOLS_KVCTL_FORMAT_H_
