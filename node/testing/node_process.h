// NodeProcess: a real kvnode child process for end-to-end tests, on 127.0.0.1 with a port below
// 32768 (the ephemeral range collides with outgoing sockets). Start() returns once the node
// answers a handshake, polling with a deadline; no sleeps.
//
// Thread safety: none. The destructor SIGKILLs a node still running; it ends only its own child.
#ifndef RINGKV_NODE_TESTING_NODE_PROCESS_H_
#define RINGKV_NODE_TESTING_NODE_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ringkv::testing {

struct NodeProcessOptions {
  std::string name = "n1";
  std::string data_dir;             // REQUIRED
  std::string sync = "batch";
  uint16_t port = 0;                // 0: pick a free one in [20000, 32000)
  std::vector<std::string> extra_args;
  std::chrono::milliseconds start_timeout{20'000};
};

class NodeProcess {
 public:
  explicit NodeProcess(NodeProcessOptions options);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts the node (again, after a stop, on the same port and data dir) and waits until it
  // completes a handshake.
  [[nodiscard]] Status Start();
  // SIGKILL and reap: a crash.
  void Kill();
  // SIGTERM, then waits for exit; returns the exit status (-1 on timeout, after a SIGKILL).
  int Terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000));

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // What the node wrote to stderr, over all its runs.
  std::string log() const;

  // Path of the kvnode binary under test (RINGKV_KVNODE environment variable, else the build's).
  static std::string KvnodePath();
  // Path of kvctl (RINGKV_KVCTL, else the build's).
  static std::string KvctlPath();

 private:
  Status SpawnOnce();

  NodeProcessOptions options_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

// A fresh path under the temporary directory, unique to this process and call; not created.
std::string TempDir(std::string_view tag);

// Runs a command to completion, feeding `stdin_data`; captures stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_NODE_PROCESS_H_
