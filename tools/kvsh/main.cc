// kvsh: the CQL-lite shell. Flag parsing, connection and wiring only; the shell is shell.h.
//
//   kvsh [HOST[:PORT]] [-e STATEMENTS] [-f FILE] [-k KEYSPACE] [--consistency L]
//        [--timeout-ms N] [--no-color]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "cql/session.h"
#include "ringkv/client.h"
#include "tools/kvsh/completion.h"
#include "tools/kvsh/format.h"
#include "tools/kvsh/line_reader.h"
#include "tools/kvsh/session_backend.h"
#include "tools/kvsh/shell.h"

namespace {

constexpr const char* kVersion = "0.1.0";

std::string HistoryPath() {
  if (const char* p = std::getenv("KVSH_HISTORY")) return p;
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.kvsh_history";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringkv;
  CLI::App app{"kvsh: the CQL-lite shell of ringkv"};
  std::string host = "127.0.0.1:7000";
  std::string execute, file, keyspace, consistency;
  int64_t timeout_ms = 10000;
  bool no_color = false;
  app.add_option("host", host, "HOST[:PORT] of a node (port 7000 if left out)");
  app.add_option("-e,--execute", execute, "run these statements and exit");
  app.add_option("-f,--file", file, "run the statements in FILE and exit");
  app.add_option("-k,--keyspace", keyspace, "USE this keyspace first");
  app.add_option("--consistency", consistency, "ONE TWO THREE QUORUM ALL ANY");
  app.add_option("--timeout-ms", timeout_ms, "request timeout")->check(CLI::Range(1, 3'600'000));
  app.add_flag("--no-color", no_color, "plain output (kvsh never colours; accepted for cqlsh users)");
  app.set_version_flag("--version", std::string("kvsh ") + kVersion);
  CLI11_PARSE(app, argc, argv);
  if (!execute.empty() && !file.empty()) {
    std::cerr << "kvsh: -e and -f cannot be combined\n";
    return 1;
  }
  if (host.find(':') == std::string::npos) host += ":7000";

  std::optional<Consistency> level;
  if (!consistency.empty()) {
    level = kvsh::ParseConsistency(consistency);
    if (!level) {
      std::cerr << "kvsh: unknown consistency level '" << consistency << "'\n";
      return 1;
    }
  }

  ClientOptions options;
  options.contact_points = {host};
  options.request_timeout = std::chrono::milliseconds(timeout_ms);
  options.connect_timeout = std::chrono::milliseconds(std::min<int64_t>(timeout_ms, 5000));
  options.client_name = "kvsh";
  Client client(options);
  auto info = client.Info();
  if (!info.ok()) {
    std::cerr << "Connection error: ('Unable to connect to any servers', {'" << host << "': '"
              << info.error().ToString() << "'})\n";
    return 1;
  }

  kvsh::SessionBackend backend(client);
  if (level) backend.set_consistency(*level);
  const bool interactive = execute.empty() && file.empty() && ::isatty(STDIN_FILENO);
  kvsh::ShellOptions shell_options;
  shell_options.interactive = interactive;
  kvsh::Shell shell(backend, shell_options, std::cout, std::cerr);
  if (!keyspace.empty()) {
    auto used = backend.Use(keyspace);
    if (!used.ok()) {
      std::cerr << kvsh::ErrorLine(used.error()) << "\n";
      return 2;
    }
  }

  if (!execute.empty()) return shell.RunScript(execute, "");
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "kvsh: cannot open '" << file << "'\n";
      return 1;
    }
    std::stringstream content;
    content << in.rdbuf();
    return shell.RunScript(content.str(), file);
  }
  if (!interactive) {
    std::stringstream content;
    content << std::cin.rdbuf();
    return shell.RunScript(content.str(), "<stdin>");
  }

  std::cout << "Connected to " << (info->cluster_name.empty() ? "ringkv" : info->cluster_name)
            << " at " << host << ".\n[kvsh " << kVersion << " | ringkv " << info->version
            << " | CQL-lite]\nUse HELP for help.\n";
  kvsh::EditLineReader reader(argv[0], HistoryPath(), [&](std::string_view text) {
    return kvsh::CompletionCandidates(text, backend);
  });
  return shell.RunInteractive(reader);
}
