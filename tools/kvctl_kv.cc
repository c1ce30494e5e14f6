// kvctl get / put / del: raw key-value access.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/limits.h"
#include "tools/kvctl.h"
#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

constexpr char kGetHelp[] = R"(Reads KEY.
text: one live value is written as its raw bytes, exactly (a newline is added only when stdout
  is a terminal). Several siblings (concurrent writes) are listed as
    (N siblings)
    [i] <value, C-escaped> (version ACTOR:COUNTER, ts TIME[, expires TIME])
    context: <base64>
  Use --format json for the context of a single value.
json: {"key", "found", "siblings": [{"value_b64", "value" (when printable UTF-8),
  "timestamp_us", "expires_at_us" (when set), "version": {"actor" (hex), "counter"}}], "context"}
A missing key exits 3.)";

constexpr char kPutHelp[] = R"(Writes VALUE (or the bytes of --value-file) under KEY.
Pass the context of a previous get (--context) to supersede what it saw; without one the write
is blind and stands beside any concurrent values as a sibling.
--sloppy / --strict: the quorum mode of this write (default: the keyspace's; kvctl keyspace
create --help). Under sloppy quorum, nodes past the key's replicas may stand in for replicas
that are down; --trace shows which.
text: prints "OK context=<base64> siblings=<N>", and " fallbacks=<F>" when F of the
  acknowledgements counted came from stand-ins; N > 1 means concurrent values stand beside
  this one and the context covers them too: read them before writing with it.
json: {"ok": true, "context": "<base64>", "siblings": N, "fallback_acks": F})";

constexpr char kDelHelp[] = R"(Deletes KEY (writes a tombstone). With --context, deletes what that
context saw; without, everything the node has seen of the key. --sloppy / --strict as put's.
text: prints "OK" (and " fallbacks=<F>" as put); json: {"ok": true, "fallback_acks": F})";

// Reads all of `path` ("-": stdin) in binary, but no more than the value limit allows: a value
// past it fails anyway, and reading a huge file first would only waste memory.
Expected<std::string> ReadValueFile(const std::string& path) {
  FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  std::string out;
  char buffer[64 * 1024];
  bool failed = false;
  for (;;) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), file);
    out.append(buffer, n);
    if (out.size() > kValueBytesMaxDefault) break;
    if (n < sizeof(buffer)) {
      failed = std::ferror(file) != 0;
      break;
    }
  }
  const int saved_errno = errno;
  if (file != stdin) std::fclose(file);
  if (failed) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("cannot read {}: {}", path, std::strerror(saved_errno)));
  }
  if (out.size() > kValueBytesMaxDefault) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("the value in {} exceeds the maximum of {} bytes",
                             path == "-" ? "stdin" : path, kValueBytesMaxDefault));
  }
  return out;
}

// --context's base64 as bytes; a malformed one is a usage error.
bool DecodeContext(const Globals& globals, const std::string& b64, std::string* out, int* exit_code) {
  auto decoded = Base64Decode(b64);
  if (!decoded) {
    *exit_code = ReportUsage(globals, "--context is not base64 (pass the context a get printed)");
    return false;
  }
  *out = std::move(*decoded);
  return true;
}

nlohmann::json SiblingJson(const Sibling& s) {
  nlohmann::json j = {{"value_b64", Base64Encode(s.value)}};
  if (IsPrintableUtf8(s.value)) j["value"] = s.value;
  j["timestamp_us"] = s.timestamp_us;
  if (s.expires_at_us != 0) j["expires_at_us"] = s.expires_at_us;
  // The actor as hex text: 64-bit ids do not survive JavaScript's JSON numbers; node logs use
  // the same form.
  j["version"] = {{"actor", fmt::format("{:016x}", s.actor)}, {"counter", s.counter}};
  return j;
}

void PrintGetText(const GetResult& result) {
  if (result.siblings.size() == 1) {
    const std::string& value = result.siblings[0].value;
    std::fwrite(value.data(), 1, value.size(), stdout);
    // A terminal's prompt should not run on from the value; a pipe gets the bytes unchanged.
    if (::isatty(STDOUT_FILENO)) std::fputc('\n', stdout);
    return;
  }
  fmt::print("({} siblings)\n", result.siblings.size());
  for (size_t i = 0; i < result.siblings.size(); ++i) {
    const Sibling& s = result.siblings[i];
    std::string line = fmt::format("[{}] {} (version {:016x}:{}, ts {}", i, CEscape(s.value), s.actor,
                                   s.counter, FormatTimestampUs(s.timestamp_us));
    if (s.expires_at_us != 0) line += ", expires " + FormatTimestampUs(s.expires_at_us);
    fmt::print("{})\n", line);
  }
  fmt::print("context: {}\n", Base64Encode(result.context));
}

struct GetFlags {
  std::string key;
  KvFlags kv;
  int r = 0;
};

int RunGet(const Globals& globals, const GetFlags& flags) {
  ReadOptions options;
  options.keyspace = flags.kv.keyspace;
  options.consistency = ParseConsistency(flags.kv.consistency);
  options.r = static_cast<uint8_t>(flags.r);
  options.trace = flags.kv.trace;
  auto client = MakeClient(globals);
  auto result = client->Get(flags.key, options);
  if (!result.ok()) return ReportError(globals, result.error());
  if (globals.json()) {
    nlohmann::json siblings = nlohmann::json::array();
    for (const Sibling& s : result->siblings) siblings.push_back(SiblingJson(s));
    nlohmann::json out = {{"key", flags.key},
                          {"found", result->found},
                          {"siblings", siblings},
                          {"context", Base64Encode(result->context)}};
    if (result->trace) out["trace"] = TraceJson(*result->trace);
    PrintJson(out);
  } else {
    if (result->found) {
      PrintGetText(result.value());
    } else {
      fmt::print(stderr, "kvctl: not found: {}\n", CEscape(flags.key));
    }
    if (result->trace) {
      std::fflush(stdout);
      if (result->found && !::isatty(STDOUT_FILENO)) fmt::print("\n");
      PrintTraceText(*result->trace);
    }
  }
  return result->found ? kExitOk : kExitNotFound;
}

struct WriteFlags {
  std::string key;
  std::string value;
  std::string value_file;
  std::string context_b64;
  uint32_t ttl_s = 0;
  KvFlags kv;
  int w = 0;
  bool sloppy = false, strict = false;
};

// Fills `options` from the flags shared by put and del; false (with *exit_code) on a usage error.
bool WriteOptionsFrom(const Globals& globals, const WriteFlags& flags, WriteOptions* options,
                      int* exit_code) {
  options->keyspace = flags.kv.keyspace;
  options->consistency = ParseConsistency(flags.kv.consistency);
  options->w = static_cast<uint8_t>(flags.w);
  options->ttl_s = flags.ttl_s;
  options->trace = flags.kv.trace;
  options->quorum = flags.sloppy   ? Quorum::kSloppy
                    : flags.strict ? Quorum::kStrict
                                   : Quorum::kDefault;
  return DecodeContext(globals, flags.context_b64, &options->context, exit_code);
}

std::string FallbacksText(uint32_t fallback_acks) {
  return fallback_acks > 0 ? fmt::format(" fallbacks={}", fallback_acks) : std::string();
}

void AddQuorumFlags(CLI::App* command, WriteFlags* flags) {
  CLI::Option* sloppy = command->add_flag(
      "--sloppy", flags->sloppy, "Sloppy quorum: nodes past the replicas may stand in for those down");
  CLI::Option* strict =
      command->add_flag("--strict", flags->strict, "Strict quorum: only the key's replicas count");
  sloppy->excludes(strict);
}

int RunPut(const Globals& globals, const WriteFlags& flags, const CLI::Option* value_option,
           const CLI::Option* file_option) {
  const bool has_value = value_option->count() > 0;
  const bool has_file = file_option->count() > 0;
  if (has_value == has_file) {
    return ReportUsage(globals, "put takes exactly one of VALUE and --value-file");
  }
  WriteOptions options;
  int exit_code = kExitOk;
  if (!WriteOptionsFrom(globals, flags, &options, &exit_code)) return exit_code;
  std::string value = flags.value;
  if (has_file) {
    auto read = ReadValueFile(flags.value_file);
    if (!read.ok()) return ReportError(globals, read.error());
    value = std::move(read.value());
  }
  auto client = MakeClient(globals);
  auto result = client->Put(flags.key, value, options);
  if (!result.ok()) return ReportError(globals, result.error());
  const std::string context = Base64Encode(result->context);
  if (globals.json()) {
    nlohmann::json out = {{"ok", true},
                          {"context", context},
                          {"siblings", result->siblings},
                          {"fallback_acks", result->fallback_acks}};
    if (result->trace) out["trace"] = TraceJson(*result->trace);
    PrintJson(out);
  } else {
    fmt::print("OK context={} siblings={}{}\n", context, result->siblings,
               FallbacksText(result->fallback_acks));
    if (result->trace) PrintTraceText(*result->trace);
  }
  return kExitOk;
}

int RunDel(const Globals& globals, const WriteFlags& flags) {
  WriteOptions options;
  int exit_code = kExitOk;
  if (!WriteOptionsFrom(globals, flags, &options, &exit_code)) return exit_code;
  auto client = MakeClient(globals);
  auto result = client->Del(flags.key, options);
  if (!result.ok()) return ReportError(globals, result.error());
  if (globals.json()) {
    nlohmann::json out = {{"ok", true}, {"fallback_acks", result->fallback_acks}};
    if (result->trace) out["trace"] = TraceJson(*result->trace);
    PrintJson(out);
  } else {
    fmt::print("OK{}\n", FallbacksText(result->fallback_acks));
    if (result->trace) PrintTraceText(*result->trace);
  }
  return kExitOk;
}

void AddKeyArg(CLI::App* command, std::string* key) {
  command->add_option("KEY", *key, "The key (bytes as given)")->required();
}

}  // namespace

Command AddGetCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<GetFlags>();
  CLI::App* get = parent.add_subcommand("get", "Read a key");
  get->footer(kGetHelp);
  AddKeyArg(get, &flags->key);
  AddKvFlags(get, &flags->kv);
  get->add_option("--r", flags->r, "Explicit read quorum R (overrides --cl)")
      ->check(CLI::Range(1, 255));
  return {get, [&globals, flags] { return RunGet(globals, *flags); }};
}

Command AddPutCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<WriteFlags>();
  CLI::App* put = parent.add_subcommand("put", "Write a value");
  put->footer(kPutHelp);
  AddKeyArg(put, &flags->key);
  CLI::Option* value = put->add_option("VALUE", flags->value, "The value (bytes as given)");
  CLI::Option* file =
      put->add_option("--value-file", flags->value_file, "Read the value from FILE ('-': stdin)");
  value->excludes(file);
  put->add_option("--context", flags->context_b64, "Context (base64) from a previous get");
  put->add_option("--ttl", flags->ttl_s, "Expire the value after SECONDS (0: never)")
      ->check(CLI::Range(uint32_t{0}, static_cast<uint32_t>(kTtlSecondsMax)));
  AddKvFlags(put, &flags->kv);
  put->add_option("--w", flags->w, "Explicit write quorum W (overrides --cl)")
      ->check(CLI::Range(1, 255));
  AddQuorumFlags(put, flags.get());
  return {put, [&globals, flags, value, file] { return RunPut(globals, *flags, value, file); }};
}

Command AddDelCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<WriteFlags>();
  CLI::App* del = parent.add_subcommand("del", "Delete a key");
  del->footer(kDelHelp);
  AddKeyArg(del, &flags->key);
  del->add_option("--context", flags->context_b64, "Context (base64) from a previous get");
  AddKvFlags(del, &flags->kv);
  del->add_option("--w", flags->w, "Explicit write quorum W (overrides --cl)")
      ->check(CLI::Range(1, 255));
  AddQuorumFlags(del, flags.get());
  return {del, [&globals, flags] { return RunDel(globals, *flags); }};
}

}  // namespace ringkv::kvctl
