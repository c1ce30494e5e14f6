#include "node/testing/node_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "node/testing/raw_connection.h"

extern char** environ;

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kPollInterval{20};

bool WaitPid(pid_t pid, milliseconds timeout, int* status) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a deadline, not waiting blind
  }
}

uint16_t PickPort() {
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ std::random_device{}());
  return static_cast<uint16_t>(20000 + rng() % 12000);
}

}  // namespace

std::string NodeProcess::KvnodePath() {
  if (const char* env = std::getenv("RINGKV_KVNODE")) return env;
  return RINGKV_KVNODE_PATH;
}

std::string NodeProcess::KvctlPath() {
  if (const char* env = std::getenv("RINGKV_KVCTL")) return env;
  return RINGKV_KVCTL_PATH;
}

std::string TempDir(std::string_view tag) {
  return (std::filesystem::temp_directory_path() /
          fmt::format("ringkv-{}-{}-{}", tag, ::getpid(), std::random_device{}()))
      .string();
}

NodeProcess::NodeProcess(NodeProcessOptions options) : options_(std::move(options)) {
  port_ = options_.port;
  log_path_ = options_.data_dir + ".log";
}

NodeProcess::~NodeProcess() {
  if (running()) Kill();
}

std::string NodeProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status NodeProcess::Start() {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_path_).parent_path(), ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", log_path_, ec.message()));
  const bool pick = port_ == 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (pick) port_ = PickPort();
    Status s = SpawnOnce();
    if (s.ok()) return s;
    // A port someone else holds: try another, if the port was ours to choose.
    if (!pick || s.message().find("cannot listen") == std::string::npos) return s;
  }
  return Status::IoError("no free port found for the node");
}

Status NodeProcess::SpawnOnce() {
  std::vector<std::string> args = {KvnodePath(),      "--name", options_.name,
                                   "--listen",        "127.0.0.1:" + std::to_string(port_),
                                   "--data",          options_.data_dir,
                                   "--sync",          options_.sync};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const size_t log_start = log().size();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::IoError(fmt::format("spawn {}: {}", argv[0], std::strerror(rc)));
  pid_ = pid;

  const auto deadline = steady_clock::now() + options_.start_timeout;
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IoError(fmt::format("kvnode exited during start-up: {}", log().substr(log_start)));
    }
    // The node answering must be this one: when the port was taken, the process exits (caught
    // above on a later turn) while the port's holder, another test's node, would answer.
    auto conn = RawConnection::Connect(port_);
    if (conn.ok()) {
      auto hello = conn.value()->Hello("", std::nullopt);
      if (hello.ok() && hello.value()->root().isHelloOk() &&
          std::string_view(hello.value()->root().getHelloOk().getNodeName().cStr()) ==
              options_.name) {
        return Status::Ok();
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  Kill();
  return Status::Timeout(fmt::format("kvnode did not answer within {} ms: {}",
                                     options_.start_timeout.count(), log().substr(log_start)),
                         false);
}

void NodeProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  WaitPid(pid_, milliseconds(20'000), &status);
  pid_ = -1;
}

int NodeProcess::Terminate(milliseconds timeout) {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitPid(pid_, timeout, &status)) {
    Kill();
    return -1;
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

CommandResult RunCommand(const std::vector<std::string>& args, const std::string& stdin_data,
                         milliseconds timeout) {
  CommandResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
    posix_spawn_file_actions_addclose(&actions, fd);
  }
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = fmt::format("spawn {}: {}", args[0], std::strerror(rc));
    return result;
  }
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  bool out_open = true, err_open = true;
  const auto deadline = steady_clock::now() + timeout;
  char buf[65536];
  while ((out_open || err_open) && steady_clock::now() < deadline) {
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (::poll(fds, n, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].fd == in_fd && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
        const ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
      } else if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
        const bool is_out = fds[i].fd == out_pipe[0];
        if (r <= 0) {
          (is_out ? out_open : err_open) = false;
        } else {
          (is_out ? result.out : result.err).append(buf, static_cast<size_t>(r));
        }
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  if (!WaitPid(pid, std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(
                                                  deadline - steady_clock::now())),
               &status)) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, milliseconds(5000), &status);
    result.exit_code = -1;
    result.err += "\n[killed: timed out]";
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace ringkv::testing
