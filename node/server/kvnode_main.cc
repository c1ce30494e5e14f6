// kvnode: one ringkv node. main() builds the pieces and wires them together: the clock, the
// storage engine, the node identity, the KvService and the Asio transport, all on one event loop
// thread (DESIGN.md §2), plus the storage engine's writer thread.
#include <CLI/CLI.hpp>
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>
#include <boost/asio.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/clock.h"
#include "common/limits.h"
#include "node/hinted_handoff.h"
#include "node/aae_trees.h"
#include "node/anti_entropy.h"
#include "node/tombstone_gc.h"
#include "node/server/aae_wire.h"
#include "node/server/asio_timers.h"
#include "node/server/kvnode_flags.h"
#include "node/server/cql_listener.h"
#include "node/cluster_view.h"
#include "node/coordinator.h"
#include "node/identity.h"
#include "node/keyspace_store.h"
#include "node/server/http_server.h"
#include "node/kv_service.h"
#include "node/server/metrics_export.h"
#include "node/log.h"
#include "node/bootstrap.h"
#include "node/cluster_state_store.h"
#include "node/decommission.h"
#include "node/replica_restore.h"
#include "node/server/node_admin.h"
#include "node/membership.h"
#include "node/server/membership_client.h"
#include "node/server/peer_client.h"
#include "node/server/server.h"
#include "ring/tokens.h"
#include "storage/leveldb_hint_store.h"
#include "storage/leveldb_storage.h"

namespace {

int Fatal(const std::string& message) {
  fmt::print(stderr, "kvnode: error: {}\n", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringkv;
  KvnodeFlags f;
  CLI::App app{"kvnode: a ringkv node"};
  AddKvnodeFlags(&app, &f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  LogLevel level;
  if (!ParseLogLevel(f.log_level, &level)) return Fatal("--log-level must be debug|info|warn|error");
  SyncMode sync_mode;
  if (!ParseSyncMode(f.sync, &sync_mode)) return Fatal("--sync must be always|batch|periodic");
  ServerOptions server_options;
  if (!SplitHostPort(f.listen, &server_options.listen_host, &server_options.listen_port)) {
    return Fatal(fmt::format("--listen '{}' is not HOST:PORT", f.listen));
  }
  if (f.broadcast_address.empty()) {
    f.broadcast_address = f.listen;
  } else {
    std::string host;
    uint16_t port = 0;
    if (!SplitHostPort(f.broadcast_address, &host, &port) || port == 0) {
      return Fatal(fmt::format("--broadcast-address '{}' is not HOST:PORT", f.broadcast_address));
    }
  }
  SystemClock clock(f.clock_offset_ms);
  Logger log(f.name, level, &clock);
  std::string secret;
  if (!f.cluster_secret_file.empty()) {
    std::ifstream in(f.cluster_secret_file, std::ios::binary);
    if (!in) return Fatal(fmt::format("cannot read --cluster-secret-file {}", f.cluster_secret_file));
    secret.assign(std::istreambuf_iterator<char>(in), {});
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) return Fatal("the cluster secret file is empty");
  } else {
    // Scripts that start nodes with only --seeds must still form a cluster; the secret then only
    // keeps apart clusters of different names.
    secret = "ringkv-default-secret:" + f.cluster_name;
    if (!f.seeds.empty()) {
      RINGKV_LOG(&log, kWarn,
                 "no --cluster-secret-file: peers authenticate with the default secret of "
                 "cluster '{}'; set one before exposing this node to anyone",
                 f.cluster_name);
    }
  }

  std::error_code fs_error;
  std::filesystem::create_directories(f.data, fs_error);
  if (fs_error) return Fatal(fmt::format("cannot create --data {}: {}", f.data, fs_error.message()));
  // One node per data directory: a second kvnode on it would share the identity and the ring
  // position. The lock goes with the process, however it ends.
  const std::string lock_path = (std::filesystem::path(f.data) / "kvnode.lock").string();
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Fatal(fmt::format("another kvnode is running on data directory {} (cannot lock {})",
                             f.data, lock_path));
  }

  boost::asio::io_context io(1);
  LevelDbOptions db_options;
  db_options.path = (std::filesystem::path(f.data) / "db").string();
  db_options.sync_mode = sync_mode;
  db_options.sync_period_ms = f.sync_period_ms;
  auto storage = LevelDbStorage::Open(
      db_options, [&io](std::function<void()> task) { boost::asio::post(io, std::move(task)); });
  if (!storage.ok()) return Fatal(storage.status().ToString());

  std::random_device entropy;
  const uint64_t fresh_host_id = (uint64_t{entropy()} << 32) | entropy();
  auto identity = OpenIdentity(storage->get(), fresh_host_id, sync_mode);
  if (!identity.ok()) return Fatal(identity.status().ToString());
  // node/identity.h: when an unclean stop can have lost a dot the node had exposed.
  if (identity->new_actor) {
    RINGKV_LOG(&log, kWarn,
               "the last run did not shut down cleanly; it ran with sync={}, which acknowledges "
               "writes before their fsync, so it may have lost some; writing as a new actor "
               "{:016x}",
               SyncModeName(identity->last_sync_mode), identity->actor);
  } else if (identity->recovered_unclean) {
    RINGKV_LOG(&log, kInfo,
               "the last run did not shut down cleanly; it ran with sync={}, which exposes a write "
               "only after its fsync, so nothing it exposed was lost: keeping actor {:016x}",
               SyncModeName(identity->last_sync_mode), identity->actor);
  }

  // A founding member is named in its own --seeds (node/cluster_state_store.h, ClusterStart).
  const std::vector<std::string> seed_list = SplitList(f.seeds);
  const bool founding =
      seed_list.empty() ||
      std::find(seed_list.begin(), seed_list.end(), f.broadcast_address) != seed_list.end() ||
      std::find(seed_list.begin(), seed_list.end(), f.listen) != seed_list.end();
  auto cluster_start = OpenClusterStart(storage->get(), f.name, founding, identity->host_id,
                                        f.vnodes, clock.NowUs(), f.data);
  if (!cluster_start.ok()) return Fatal(cluster_start.status().ToString());
  const bool joining = cluster_start->joining;
  KeyspaceCatalog keyspaces;
  if (Status s = LoadKeyspaces(storage->get(), &keyspaces); !s.ok()) return Fatal(s.ToString());

  KvServiceOptions service_options;
  service_options.value_bytes_max = f.value_bytes_max;
  service_options.object_bytes_max = std::max(f.object_bytes_max, f.value_bytes_max + 1024);
  KvService service(storage->get(), &clock, identity->actor, service_options, &keyspaces);
  {
    std::vector<std::string> names;
    for (const auto& [name, def] : keyspaces.all()) names.push_back(name);
    if (Status s = service.mutable_table_stats()->Load(storage->get(), names); !s.ok()) {
      return Fatal(fmt::format("cannot count the stored keys: {}", s.ToString()));
    }
  }

  // The cluster: this node's view of the ring, its connections to peers, the coordinator that
  // runs client requests across replicas, and membership from the seeds.
  MemberInfo self{f.name, f.broadcast_address, identity->host_id, cluster_start->tokens,
                  joining ? gossip::MemberStatus::kJoining : gossip::MemberStatus::kNormal};
  ClusterView view(self);
  AsioTimers timers(&io);
  PeerClientOptions peer_options;
  peer_options.self_name = f.name;
  peer_options.cluster_name = f.cluster_name;
  peer_options.cluster_secret = secret;
  peer_options.bind_host = server_options.listen_host;
  auto peers = std::make_unique<PeerClient>(&io, &clock, &log, peer_options);
  peers->SetPeerStateCallback([&view, &log](const std::string& node, bool up) {
    if (view.IsUp(node) != up) {
      RINGKV_LOG(&log, kInfo, "peer {} is {}", node, up ? "up" : "down");
      view.SetUp(node, up);
    }
  });
  CoordinatorOptions coordinator_options;
  coordinator_options.default_timeout_ms = f.request_timeout_ms;
  coordinator_options.blocking_read_repair = f.blocking_read_repair;
  coordinator_options.read_repair = f.read_repair;
  auto coordinator = std::make_unique<Coordinator>(&service, peers.get(), &view, &timers, &clock,
                                                   &keyspaces, coordinator_options);
  // Hints live in their own database beside the data (DATA/hints), written off the loop.
  std::unique_ptr<LevelDbHintStore> hint_store;
  std::unique_ptr<HintedHandoff> handoff;
  if (f.hinted_handoff) {
    auto opened = LevelDbHintStore::Open(
        (std::filesystem::path(f.data) / "hints").string(),
        [&io](std::function<void()> task) { boost::asio::post(io, std::move(task)); });
    if (!opened.ok()) return Fatal(opened.status().ToString());
    hint_store = std::move(opened).value();
    if (hint_store->corrupt_skipped() > 0) {
      RINGKV_LOG(&log, kWarn, "hints: {} corrupt hint record(s) skipped and removed",
                 hint_store->corrupt_skipped());
    }
    HintedHandoffOptions hint_options;
    hint_options.max_hint_window_s = f.max_hint_window_s;
    hint_options.gc_grace_s = f.gc_grace_s;
    hint_options.max_hints_bytes_per_target = f.max_hints_bytes_per_target;
    hint_options.max_hints_bytes = f.max_hints_bytes;
    hint_options.throughput_kb_per_s = f.hint_throughput_kb_per_s;
    hint_options.total_throughput_kb_per_s = f.hint_total_throughput_kb_per_s;
    hint_options.delivery_timeout_ms = f.request_timeout_ms;
    hint_options.keyspace_exists = [&keyspaces](std::string_view ks) {
      return keyspaces.Find(ks).ok();
    };
    hint_options.replication_factor = [&keyspaces](std::string_view ks) {
      auto def = keyspaces.Find(ks);
      return def.ok() ? def->replication_factor : 0u;
    };
    hint_options.apply_locally = [&service](std::string_view ks, std::string_view key,
                                            const VersionedObject& object,
                                            std::function<void(Status)> done) {
      service.ReplicaWrite(ks, key, object, std::move(done));
    };
    handoff = std::make_unique<HintedHandoff>(hint_store.get(), peers.get(), &view, &timers, &clock,
                                              &log, hint_options);
    coordinator->SetHintedHandoff(handoff.get());
    uint64_t pending = 0;
    for (const auto& [target, t] : hint_store->Stats()) pending += t.count;
    if (pending > 0) RINGKV_LOG(&log, kInfo, "hints: {} pending from the last run", pending);
  }
  MembershipClientOptions membership_client_options{f.name, f.cluster_name, secret,
                                                    server_options.listen_host};
  MembershipClient membership_client(&io, membership_client_options);
  MembershipOptions membership_options;
  membership_options.seeds = seed_list;
  membership_options.generation = cluster_start->generation;
  membership_options.rng_seed = identity->host_id ^ static_cast<uint64_t>(cluster_start->generation);
  bool removed = false;
  Membership::Callbacks membership_callbacks;
  membership_callbacks.on_member = [&peers](const MemberInfo& m) {
    peers->SetPeerAddress(m.name, m.address);
  };
  membership_callbacks.on_keyspace = [&storage, &log](const KeyspaceDef& ks) {
    if (Status s = SaveKeyspace(storage->get(), ks); !s.ok()) {
      RINGKV_LOG(&log, kError, "cannot persist keyspace {}: {}", ks.name, s.ToString());
    }
  };
  membership_callbacks.on_save = [&storage, &log](const std::vector<gossip::Endpoint>& all) {
    if (Status s = SaveEndpoints(storage->get(), all); !s.ok()) {
      RINGKV_LOG(&log, kWarn, "cannot persist the cluster state: {}", s.ToString());
    }
  };
  membership_callbacks.load_bytes = [&storage] { return storage->get()->Stats().bytes_approx; };
  membership_callbacks.on_removed = [&io, &removed] {
    removed = true;
    io.stop();
  };
  StreamOptions stream_options;
  stream_options.bytes_per_s = f.stream_throughput_mb_per_s * 1e6;
  ReplicaRestore restore(&view, &service, peers.get(), &timers, &clock, &keyspaces,
                         storage->get(), &log, stream_options);
  // Anti-entropy (node/aae_trees.h, node/anti_entropy.h): the trees follow every stored object
  // from here on; they are (re)built once the ring is known, and again when it changes. With
  // --anti-entropy false they stay empty and unused: no observer, no build, no rounds.
  AaeTrees trees(&view, &keyspaces, storage->get(), &service, &timers, &log);
  if (f.anti_entropy) service.set_observer(&trees);
  AaeClient aae_client(&membership_client);
  AntiEntropyOptions anti_entropy_options;
  anti_entropy_options.interval_ms = f.anti_entropy_interval_s * 1000;
  anti_entropy_options.gc_grace_s = f.gc_grace_s;
  anti_entropy_options.round_bytes_per_s = f.anti_entropy_kb_per_s * 1024;
  AntiEntropy anti_entropy(&view, &trees, &service, peers.get(), &aae_client, &timers, &clock,
                           &keyspaces, &log, anti_entropy_options);
  std::function<void()> refresh_trees = [&] {
    if (view.settled()) trees.Refresh();  // cheap when neither ring nor keyspaces changed
    timers.After(1'000'000, refresh_trees);
  };
  membership_callbacks.on_member_removed = [&restore](const std::string& name, const Ring& before) {
    restore.OnRemoved(name, before);
  };
  Membership membership(&view, &keyspaces, &membership_client, &timers, &clock, &log,
                        membership_options, std::move(membership_callbacks));
  membership.Restore(cluster_start->saved);
  restore.Resume();
  std::unique_ptr<Bootstrap> bootstrap;
  if (joining) {
    BootstrapOptions bootstrap_options;
    bootstrap_options.tokens = f.vnodes;
    bootstrap_options.seed = identity->host_id;
    bootstrap_options.stream = stream_options;
    bootstrap = std::make_unique<Bootstrap>(&view, &membership, &service, peers.get(), &timers,
                                            &clock, &keyspaces, storage->get(), &log,
                                            bootstrap_options, cluster_start->tokens);
  }
  // A dropped keyspace's data is deleted in the background; a drop whose deletion a crash cut
  // short is finished at the next start.
  auto purge = [&service, &log](const std::string& name) {
    service.PurgeKeyspace(name, [&log, name](Status s, uint64_t removed) {
      if (s.ok()) {
        if (removed > 0) RINGKV_LOG(&log, kInfo, "keyspace {}: {} objects deleted", name, removed);
      } else {
        RINGKV_LOG(&log, kError, "deleting keyspace {}'s data failed: {}", name, s.ToString());
      }
    });
  };
  membership.SetDropCallback([&storage, &log, purge](const std::string& name, int64_t at) {
    if (Status s = SaveDrop(storage->get(), name, at); !s.ok()) {
      RINGKV_LOG(&log, kError, "cannot persist the drop of keyspace {}: {}", name, s.ToString());
    }
    purge(name);
  });
  for (const auto& [name, at] : keyspaces.dropped()) {
    if (!keyspaces.Find(name).ok()) purge(name);
  }

  server_options.node_name = f.name;
  server_options.cluster_name = f.cluster_name;
  server_options.cluster_secret = secret;
  server_options.data_dir = f.data;
  server_options.sync_mode = std::string(SyncModeName(sync_mode));
  server_options.host_id = identity->host_id;
  server_options.vnodes = static_cast<uint32_t>(cluster_start->tokens.size());
  server_options.in_flight_max = f.in_flight_max;
  server_options.connections_max = f.connections_max;
  server_options.handshake_timeout_ms = f.handshake_timeout_ms;
  server_options.frame_timeout_ms = f.frame_timeout_ms;
  // A frame carries a value, a key and the envelope.
  server_options.limits.frame_bytes_max = f.value_bytes_max + kKeyBytesMax + (64u << 10);
  // A peer's replica write or read answer carries a key's whole object.
  server_options.peer_frame_bytes_max =
      std::max(server_options.limits.frame_bytes_max,
               service_options.object_bytes_max + kKeyBytesMax + (1u << 20));
  // Set once the signal handler exists: decommission ends the process as SIGTERM does.
  std::function<void(const char*)> stop_node;
  DecommissionOptions decommission_options;
  decommission_options.stream = stream_options;
  if (handoff != nullptr) {
    decommission_options.hand_off_hints = [&handoff](std::function<void()> then) {
      handoff->HandOff([then = std::move(then)](uint64_t, uint64_t) { then(); });
    };
  }
  Decommission decommission(&view, &membership, &service, peers.get(), &timers, &clock,
                            &keyspaces, &log, decommission_options,
                            [&stop_node] { stop_node("decommissioned: this node left the cluster"); });
  // Before erasing objects whose clocks other replicas may keep (node/identity.h).
  auto renew_actor = [&] {
    if (Status s = RenewActor(storage->get(), &identity.value()); !s.ok()) return s;
    service.set_actor(identity->actor);
    RINGKV_LOG(&log, kInfo, "this node's writes take a new actor, {:016x}", identity->actor);
    return Status::Ok();
  };
  Cleanup cleanup(&view, &service, &keyspaces, &timers, &clock, &log, renew_actor);
  TombstoneGcOptions gc_options;
  gc_options.grace_s = f.gc_grace_s;
  gc_options.interval_ms = f.gc_interval_s * 1000;
  gc_options.in_flight_ms = f.request_timeout_ms;
  TombstoneCollector tombstone_gc(&view, &service, storage->get(), peers.get(), &keyspaces,
                                  &timers, &clock, &log, renew_actor, gc_options);
  NodeAdmin admin{&membership, &view,    bootstrap.get(), &decommission,
                  &restore,    &cleanup, &service,        f.anti_entropy ? &anti_entropy : nullptr};
  // /metrics: the same loop builds the page, so it reads every component without locks.
  NodeMetrics request_metrics;
  const int64_t started_us = clock.MonoUs();
  Server* server_ptr = nullptr;
  HttpServer http(&io, &log, [&] {
    MetricsSources sources;
    sources.node_name = f.name;
    sources.version = RINGKV_VERSION;
    sources.requests = &request_metrics;
    sources.server = server_ptr;
    sources.coordinator = coordinator.get();
    sources.service = &service;
    sources.storage = storage->get();
    sources.view = &view;
    sources.membership = &membership;
    if (bootstrap) sources.streams.push_back(&bootstrap->progress());
    sources.streams.push_back(&decommission.progress());
    sources.streams.push_back(&restore.progress());
    sources.anti_entropy = f.anti_entropy ? &anti_entropy : nullptr;
    sources.membership_client = &membership_client;
    sources.trees = &trees;
    sources.tombstone_gc = &tombstone_gc;
    sources.hints = handoff.get();
    sources.clock = &clock;
    sources.started_us = started_us;
    return RenderMetrics(sources);
  });
  if (!f.http.empty()) {
    if (Status s = http.Start(f.http); !s.ok()) return Fatal(s.ToString());
    server_options.http_address = http.address();
  }
  Server server(&io, &service, storage->get(), &clock, &log, server_options);
  server_ptr = &server;
  server.SetMetrics(&request_metrics);
  server.AttachCluster(coordinator.get(), &membership, &keyspaces);
  server.AttachHints(handoff.get());
  if (f.anti_entropy) {  // else refused: "anti-entropy is off on NAME"
    server.SetAaeHandler([&trees](const std::string& keyspace, const TokenRange& range,
                                  const AaeRequest& request) {
      return trees.Answer(keyspace, range, request);
    });
  }
  server.SetAdminHandler([&admin](const std::string& command, const std::string& argument,
                                  std::function<void(Result<std::string>)> done) {
    admin.Handle(command, argument, std::move(done));
  });
  server.SetPeerSeenCallback([&view, &log](const std::string& node) {
    if (view.members().count(node) > 0 && !view.IsUp(node)) {
      RINGKV_LOG(&log, kInfo, "peer {} is up (it connected to this node)", node);
      view.SetUp(node, true);
    }
  });
  if (Status s = server.Start(); !s.ok()) return Fatal(s.ToString());
  // The CQL port runs on its own threads, as a client of this node (node/server/cql_listener.h).
  std::unique_ptr<CqlListener> cql;
  if (!f.cql.empty()) {
    CqlListenerOptions cql_options;
    if (!SplitHostPort(f.cql, &cql_options.host, &cql_options.port)) {
      return Fatal(fmt::format("--cql '{}' is not HOST:PORT", f.cql));
    }
    cql_options.node_address = fmt::format("{}:{}", server_options.listen_host, server.port());
    cql_options.cluster_name = f.cluster_name;
    cql_options.tombstone_grace_s = f.gc_grace_s;
    cql_options.startup_timeout_ms = f.handshake_timeout_ms;
    cql_options.frame_timeout_ms = f.frame_timeout_ms;
    cql_options.limits.body_bytes_max =
        static_cast<uint32_t>(std::min<size_t>(f.value_bytes_max + (16u << 20), 256u << 20));
    if (!f.cql_credentials_file.empty()) {
      std::ifstream in(f.cql_credentials_file, std::ios::binary);
      if (!in) {
        return Fatal(fmt::format("cannot read --cql-credentials-file {}", f.cql_credentials_file));
      }
      const std::string text(std::istreambuf_iterator<char>(in), {});
      std::string error;
      cql_options.credentials.emplace();
      if (!cql::native::ParseCredentials(text, &*cql_options.credentials, &error)) {
        return Fatal(fmt::format("--cql-credentials-file {}: {}", f.cql_credentials_file, error));
      }
    }
    cql = std::make_unique<CqlListener>(&log, cql_options);
    if (Status s = cql->Start(); !s.ok()) return Fatal(s.ToString());
    RINGKV_LOG(&log, kInfo, "serving CQL (native protocol v4) on {}:{}", cql_options.host,
               cql->port());
  }
  membership.Start();
  if (bootstrap) bootstrap->Start();
  if (handoff) handoff->Start();
  if (f.anti_entropy) {
    refresh_trees();
    anti_entropy.Start();
  }
  tombstone_gc.Start();

  RINGKV_LOG(&log, kInfo, "listening on {}:{} (cluster '{}', data {}, sync={}, actor {:016x})",
             server_options.listen_host, server.port(), f.cluster_name, f.data,
             SyncModeName(sync_mode), identity->actor);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer shutdown_deadline(io);
  bool stopping = false;
  stop_node = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    RINGKV_LOG(&log, kInfo, "{}: finishing requests in flight, then stopping", why);
    http.Stop();
    // No new CQL requests; those running are this node's clients and finish while it serves.
    if (cql) cql->Close();
    server.Shutdown([&io] { io.stop(); });
    shutdown_deadline.expires_after(std::chrono::milliseconds(f.shutdown_timeout_ms));
    shutdown_deadline.async_wait([&](const boost::system::error_code& tec) {
      if (tec) return;
      RINGKV_LOG(&log, kWarn, "connections still open after {} ms; closing them",
                 f.shutdown_timeout_ms);
      server.CloseAll();
      io.stop();
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    stop_node(fmt::format("signal {}", signo).c_str());
  });
  // SIGPIPE would kill the node when a client vanishes mid-write; Asio reports EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  io.run();

  // The loop never runs again: handlers still queued (membership exchanges, timers, write
  // completions for clients already disconnected) are destroyed unrun with the io_context. The
  // peer client answers its pending calls (into the coordinator) as it goes, so it goes first.
  // Every queued write is durable before the identity is marked clean.
  server.CloseAll();
  // After CloseAll: statements still waiting on this node see their connection drop and end.
  if (cql) cql->Stop();
  peers.reset();
  coordinator.reset();
  handoff.reset();
  hint_store.reset();  // waits for its queued writes
  storage.value()->Drain();
  if (Status s = CloseIdentity(storage->get(), identity.value()); !s.ok()) {
    RINGKV_LOG(&log, kError, "could not record the clean shutdown: {}", s.ToString());
    return 1;
  }
  if (removed) {
    RINGKV_LOG(&log, kError, "stopped: the cluster removed this node");
    return 1;
  }
  RINGKV_LOG(&log, kInfo, "stopped cleanly");
  return 0;
}
