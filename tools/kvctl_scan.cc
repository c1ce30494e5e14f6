// kvctl scan: the live keys of a token range, page by page.
#include <fmt/format.h>

#include <limits>

#include "tools/kvctl.h"
#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

constexpr char kScanHelp[] = R"help(Lists the live keys of --keyspace whose token lies in
(--start-token, --end-token] (both default to the same value: the whole ring; a range with start
> end wraps past the largest token), optionally only keys starting with --prefix, in (token, key)
order, at --cl (default QUORUM). Pages of --page-size keys are fetched until --limit keys have
been printed (0: all).
text: one line per key: KEY (C-escaped)  TOKEN  SIBLINGS, then "(N keys)"; "(more)" when --limit
  stopped it early.
json: {"keyspace", "entries": [{"key", "key_b64", "token" (decimal string), "siblings",
  "values": [...]}], "more"})help";

struct ScanFlags {
  KvFlags kv;
  std::string prefix;
  int64_t start_token = std::numeric_limits<int64_t>::min();
  int64_t end_token = std::numeric_limits<int64_t>::min();
  uint64_t limit = 0;
  uint32_t page_size = 1000;
  bool values = false;
};

int RunScan(const Globals& globals, const ScanFlags& flags) {
  ScanOptions options;
  options.keyspace = flags.kv.keyspace;
  options.consistency = ParseConsistency(flags.kv.consistency);
  options.start_token = flags.start_token;
  options.end_token = flags.end_token;
  options.key_prefix = flags.prefix;
  auto client = MakeClient(globals);
  nlohmann::json entries = nlohmann::json::array();
  uint64_t printed = 0;
  bool more = true;
  while (more && (flags.limit == 0 || printed < flags.limit)) {
    options.limit = flags.page_size;
    if (flags.limit != 0) {
      options.limit = static_cast<uint32_t>(std::min<uint64_t>(flags.page_size, flags.limit - printed));
    }
    auto page = client->Scan(options);
    if (!page.ok()) return ReportError(globals, page.error());
    for (const ScanEntry& e : page->entries) {
      ++printed;
      if (globals.json()) {
        nlohmann::json j = {{"key_b64", Base64Encode(e.key)},
                            {"token", std::to_string(e.token)},
                            {"siblings", e.siblings.size()}};
        if (IsPrintableUtf8(e.key)) j["key"] = e.key;
        if (flags.values) {
          nlohmann::json values = nlohmann::json::array();
          for (const auto& s : e.siblings) {
            values.push_back(IsPrintableUtf8(s.value) ? s.value : Base64Encode(s.value));
          }
          j["values"] = values;
        }
        entries.push_back(std::move(j));
      } else {
        std::string line = fmt::format("{}  {}  {}", CEscape(e.key), e.token, e.siblings.size());
        if (flags.values) {
          for (const auto& s : e.siblings) line += "  " + CEscape(s.value);
        }
        fmt::print("{}\n", line);
      }
    }
    more = page->more && !page->entries.empty();
    if (more) {
      options.has_after = true;
      options.after_token = page->entries.back().token;
      options.after_key = page->entries.back().key;
    }
  }
  if (globals.json()) {
    PrintJson({{"keyspace", flags.kv.keyspace.empty() ? "default" : flags.kv.keyspace},
               {"entries", entries},
               {"more", more}});
  } else {
    fmt::print("({} keys){}\n", printed, more ? " (more)" : "");
  }
  return kExitOk;
}

}  // namespace

Command AddScanCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<ScanFlags>();
  CLI::App* scan = parent.add_subcommand("scan", "List the live keys of a token range");
  scan->footer(kScanHelp);
  scan->add_option("--keyspace", flags->kv.keyspace, "Keyspace (default: \"default\")");
  scan->add_option("--cl", flags->kv.consistency, "Consistency level: one|two|three|quorum|all")
      ->check(CLI::IsMember({"one", "two", "three", "quorum", "all"}, CLI::ignore_case));
  scan->add_option("--prefix", flags->prefix, "Only keys starting with these bytes");
  scan->add_option("--start-token", flags->start_token, "Exclusive start of the range");
  scan->add_option("--end-token", flags->end_token, "Inclusive end of the range");
  scan->add_option("--limit", flags->limit, "Stop after this many keys (0: all)");
  scan->add_option("--page-size", flags->page_size, "Keys per request")
      ->check(CLI::Range(1u, 1000u));
  scan->add_flag("--values", flags->values, "Print the values too");
  return {scan, [&globals, flags] { return RunScan(globals, *flags); }};
}

}  // namespace ringkv::kvctl
