// Plain-text password authentication for the native protocol, as Cassandra's
// PasswordAuthenticator: after STARTUP the server answers AUTHENTICATE, the driver sends one
// AUTH_RESPONSE whose token is SASL PLAIN ("\0user\0password"), and the server answers
// AUTH_SUCCESS or a Bad credentials error.
//
// Credentials come from a file (kvnode --cql-credentials-file), one "user:password" a line;
// blank lines and lines starting with '#' are skipped. The passwords are in the clear: keep the
// file readable by the node's user only.
//
// Thread safety: pure functions; a Credentials map is read-only once loaded.
#ifndef RINGKV_CQL_NATIVE_AUTH_H_
#define RINGKV_CQL_NATIVE_AUTH_H_

#include <map>
#include <string>
#include <string_view>

namespace ringkv::cql::native {

inline constexpr char kPasswordAuthenticator[] = "org.apache.cassandra.auth.PasswordAuthenticator";

using Credentials = std::map<std::string, std::string>;  // user -> password

// False with `error` naming the line for a line without ':' or with an empty user, or no user.
bool ParseCredentials(std::string_view text, Credentials* out, std::string* error);

// Whether a SASL PLAIN token names a user of `credentials` with the right password (compared in
// time independent of where it differs). `user` is set from the token either way.
bool CheckPlainToken(std::string_view token, const Credentials& credentials, std::string* user);

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_AUTH_H_
