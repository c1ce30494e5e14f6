#include "cql/native/auth.h"

#include <fmt/format.h>

namespace ringkv::cql::native {

bool ParseCredentials(std::string_view text, Credentials* out, std::string* error) {
  out->clear();
  int line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = fmt::format("line {}: expected user:password", line_number);
      return false;
    }
    (*out)[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  if (out->empty()) {
    *error = "no user:password line";
    return false;
  }
  return true;
}

bool CheckPlainToken(std::string_view token, const Credentials& credentials, std::string* user) {
  // authzid \0 authcid \0 password; drivers leave authzid empty.
  const size_t first = token.find('\0');
  if (first == std::string_view::npos) return false;
  const size_t second = token.find('\0', first + 1);
  if (second == std::string_view::npos) return false;
  *user = std::string(token.substr(first + 1, second - first - 1));
  const std::string_view password = token.substr(second + 1);
  auto it = credentials.find(*user);
  // An unknown user is compared against itself, so that it takes as long as a known one.
  const std::string& expected = it == credentials.end() ? std::string(password) : it->second;
  unsigned char diff = expected.size() == password.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size() && i < password.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ password[i]);
  }
  return it != credentials.end() && diff == 0;
}

}  // namespace ringkv::cql::native
