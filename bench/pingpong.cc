// pingpong: the network ceiling of the comparison. A client sends a fixed-size message over TCP on
// 127.0.0.1, a server echoes it, and the client waits for the echo before the next one: one round
// trip per message, the floor under any request/response protocol on this machine. The server and
// the client run as two threads pinned to different cores (when there are two), as a kvnode and a
// client would be.
//
//   pingpong [--port P] [--bytes B] [--count N] [--seconds S] [--same-core]
//
// Prints one JSON object: {"bytes", "round_trips", "round_trips_per_s", "latency_us": {"p50",
// "p99", "p999", "max", "mean"}}. Bounded by --count (default 200000) and --seconds (default 10).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tools/kvbench/histogram.h"

namespace {

using Clock = std::chrono::steady_clock;

void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
}

bool ReadFull(int fd, char* buf, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, buf, n);
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const char* buf, size_t n) {
  while (n > 0) {
    const ssize_t r = ::write(fd, buf, n);
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

int main(int argc, char** argv) {
  int port = 21999;
  size_t bytes = 64;
  long count = 200'000;
  double seconds = 10;
  bool same_core = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pingpong: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") port = std::atoi(next());
    else if (a == "--bytes") bytes = static_cast<size_t>(std::atol(next()));
    else if (a == "--count") count = std::atol(next());
    else if (a == "--seconds") seconds = std::atof(next());
    else if (a == "--same-core") same_core = true;
    else {
      std::fprintf(stderr, "usage: pingpong [--port P<32768] [--bytes B] [--count N] [--seconds S] [--same-core]\n");
      return 2;
    }
  }
  if (port <= 0 || port >= 32768 || bytes == 0 || bytes > (1 << 20) || count <= 0) {
    std::fprintf(stderr, "pingpong: port must be in 1..32767, bytes in 1..1MiB, count > 0\n");
    return 2;
  }
  const bool two_cores = std::thread::hardware_concurrency() >= 2 && !same_core;

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) Die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("bind");
  if (::listen(listener, 1) != 0) Die("listen");

  std::thread server([&] {
    Pin(0);
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) Die("accept");
    NoDelay(fd);
    std::vector<char> buf(bytes);
    while (ReadFull(fd, buf.data(), bytes) && WriteFull(fd, buf.data(), bytes)) {
    }
    ::close(fd);
  });

  Pin(two_cores ? 1 : 0);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("connect");
  NoDelay(fd);
  std::vector<char> buf(bytes, 'x');
  ringkv::bench::LatencyHistogram h;
  // A short warm-up so the first connection's slow start does not count.
  for (int i = 0; i < 1000; ++i) {
    if (!WriteFull(fd, buf.data(), bytes) || !ReadFull(fd, buf.data(), bytes)) Die("warm-up");
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  long done = 0;
  for (; done < count; ++done) {
    const auto t = Clock::now();
    if (t >= end) break;
    if (!WriteFull(fd, buf.data(), bytes) || !ReadFull(fd, buf.data(), bytes)) Die("round trip");
    h.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count()));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  server.join();
  ::close(listener);
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf(
      "{\"bytes\": %zu, \"cores\": %d, \"round_trips\": %ld, \"round_trips_per_s\": %.1f, "
      "\"latency_us\": {\"p50\": %.2f, \"p99\": %.2f, \"p999\": %.2f, \"max\": %.2f, "
      "\"mean\": %.2f}}\n",
      bytes, two_cores ? 2 : 1, done, done / elapsed, us(h.Percentile(50)), us(h.Percentile(99)),
      us(h.Percentile(99.9)), us(h.max()), h.Mean() / 1000.0);
  return 0;
}
