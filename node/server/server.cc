#include "node/server/server.h"

#include "node/server/aae_wire.h"
#include "node/server/gossip_wire.h"

#include <capnp/message.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <array>
#include <deque>
#include <span>
#include <vector>

#include "node/server/acceptor.h"
#include "node/server/wire_convert.h"
#include "storage/object_codec.h"

namespace ringkv {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
// At most this many queued answers go out in one gathered write.
constexpr size_t kWriteGatherMax = 64;
// A keyspace create or drop answers once every live member gossips the new schema, or this late.
constexpr int64_t kSchemaAgreementMs = 2000;

std::string_view View(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}
std::string_view View(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
capnp::Data::Reader AsData(std::string_view s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

wire::ErrorCode ToWire(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return wire::ErrorCode::INVALID_ARGUMENT;
    case Code::kUnavailable: return wire::ErrorCode::UNAVAILABLE;
    case Code::kTimeout: return wire::ErrorCode::TIMEOUT;
    case Code::kOverloaded: return wire::ErrorCode::OVERLOADED;
    case Code::kCorruption: return wire::ErrorCode::CORRUPTION;
    case Code::kIoError: return wire::ErrorCode::IO_ERROR;
    case Code::kProtocol: return wire::ErrorCode::PROTOCOL;
    case Code::kUnauthorized: return wire::ErrorCode::UNAUTHORIZED;
    case Code::kTooManySiblings: return wire::ErrorCode::TOO_MANY_SIBLINGS;
    case Code::kOk:
    case Code::kNotFound:
    case Code::kInternal: break;
  }
  return wire::ErrorCode::INTERNAL;
}

// Compares secrets in time independent of where they differ.
bool SecretsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

RequestOptions OptionsFrom(wire::Consistency c, uint8_t count, uint32_t timeout_ms,
                           bool trace = false, wire::QuorumMode q = wire::QuorumMode::DEFAULT) {
  RequestOptions o;
  o.trace = trace;
  const auto mode = static_cast<uint16_t>(q);  // an unknown mode from a newer client: the default
  o.quorum = mode <= static_cast<uint16_t>(QuorumMode::kSloppy) ? static_cast<QuorumMode>(mode)
                                                                 : QuorumMode::kDefault;
  const auto raw = static_cast<uint16_t>(c);
  o.consistency = raw <= static_cast<uint16_t>(Consistency::kAny) ? static_cast<Consistency>(raw)
                                                                   : Consistency::kDefault;
  o.explicit_count = count;
  o.timeout_ms = timeout_ms;
  return o;
}

// Times one client request for NodeMetrics, from admission to answer. Copyable into the answer's
// closure; Done runs once, when the answer is decided.
struct Observer {
  NodeMetrics* metrics = nullptr;  // null: not measured
  const Clock* clock = nullptr;
  MetricOp op = MetricOp::kGet;
  Consistency consistency = Consistency::kDefault;
  int64_t start_us = 0;
  void Done(Code code) const {
    if (metrics != nullptr) metrics->Finished(op, consistency, code, clock->MonoUs() - start_us);
  }
};

// About the blob bytes of a getResult, to size its builder: values, context, and each sibling's
// struct and dot.
size_t ReadReplyBytes(const ReadReply& r) {
  size_t bytes = r.context.size();
  for (const auto& s : r.siblings) bytes += s.value.size() + 64;
  return bytes;
}

void FillSibling(wire::Sibling::Builder out, const Sibling& s) {
  out.setValue(AsData(s.value));
  auto dot = out.initDot();
  dot.setActor(s.dot.actor);
  dot.setCounter(s.dot.counter);
  out.setTimestampUs(s.timestamp_us);
  out.setTombstone(s.tombstone);
  out.setExpiresAtUs(s.expires_at_us);
}

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server* server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        timer_(*server->io_),
        decoder_(server->options_.limits),
        connected_us_(server->clock_->MonoUs()) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    remote_ = ec ? "?" : fmt::format("{}:{}", ep.address().to_string(), ep.port());
    socket_.set_option(tcp::no_delay(true), ec);
  }

  void Start() {
    ArmTimer();
    Read();
  }

  // Stops reading; closes once in-flight requests are answered and flushed.
  void CloseWhenIdle() {
    closing_ = true;
    MaybeClose();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    server_->Forget(this);
  }

 private:
  const ServerOptions& options() const { return server_->options_; }

  void Read() {
    if (reading_ || closing_ || closed_) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(buf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->reading_ = false;
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (closed_) return;
    if (ec) {
      // The peer went away (or Close cancelled the read): answers still owed have nowhere to go.
      if (ec != asio::error::operation_aborted && ec != asio::error::eof) {
        RINGKV_LOG(server_->log_, kDebug, "connection {}: read failed: {}", remote_, ec.message());
      }
      Close();
      return;
    }
    decoder_.Feed(buf_.data(), n);
    while (!closing_ && !closed_) {
      std::unique_ptr<proto::DecodedFrame> frame;
      std::string error;
      auto result = decoder_.Next(&frame, &error);
      if (result == proto::FrameDecoder::Result::kNeedMore) break;
      if (result == proto::FrameDecoder::Result::kError) {
        Fail(wire::ErrorCode::PROTOCOL, error);
        return;
      }
      try {
        HandleFrame(*frame);
      } catch (const kj::Exception& e) {
        // DecodedFrame validated every pointer, so this is a bug; the connection cannot go on.
        Fail(wire::ErrorCode::INTERNAL, fmt::format("cannot read frame: {}", e.getDescription().cStr()));
        return;
      }
    }
    ArmTimer();
    if (out_bytes_ <= options().output_bytes_max) Read();  // else Flush resumes reading
  }

  // A handshake must arrive within handshake_timeout_ms of connecting, and a frame that has begun
  // must keep arriving within frame_timeout_ms; an idle connection between frames is fine.
  void ArmTimer() {
    if (closed_ || closing_) return;
    int64_t wait_us;
    const char* what;
    const int64_t now = server_->clock_->MonoUs();
    if (!hello_done_) {
      wait_us = connected_us_ + options().handshake_timeout_ms * 1000 - now;
      what = "no handshake";
    } else if (decoder_.buffered() > 0) {
      wait_us = options().frame_timeout_ms * 1000;
      what = "incomplete frame";
    } else {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(wait_us, 0)));
    timer_.async_wait([self = shared_from_this(), what](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      self->Fail(wire::ErrorCode::PROTOCOL,
                 fmt::format("{} within the timeout; closing the connection", what));
    });
  }

  // A connection-level error: tell the peer why, then close.
  void Fail(wire::ErrorCode code, std::string message) {
    RINGKV_LOG(server_->log_, kInfo, "connection {}: {}", remote_, message);
    proto::FrameBuilder m(message.size());
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(0);
    auto err = frame.initError();
    err.setCode(code);
    err.setMessage(message);
    Send(m);
    CloseWhenIdle();
  }

  void SendError(uint64_t id, const Status& s) {
    proto::FrameBuilder m(s.message().size());
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(id);
    auto err = frame.initError();
    err.setCode(ToWire(s.code()));
    err.setMessage(s.message().empty() ? std::string(CodeName(s.code())) : s.message());
    err.setNeeded(s.needed());
    err.setAlive(s.alive());
    err.setInDoubt(s.in_doubt());
    Send(m);
  }

  // Queues a frame. The write starts on a later turn of the loop, so that every answer decided
  // in this turn (a read's worth of requests, a group of storage completions) goes out in one
  // gathered write instead of one write call each.
  void Send(capnp::MessageBuilder& m) {
    if (closed_) return;
    auto words = proto::EncodeFrame(m);
    out_bytes_ += words.size() * sizeof(capnp::word);
    out_.push_back(kj::mv(words));
    if (writing_ || flush_posted_) return;
    flush_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->Flush();
      self->MaybeClose();
    });
  }

  void Flush() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    // gather_ is kept (with its capacity) across writes and passed as a span, which the write
    // operation copies instead of a vector: no allocation per write.
    gather_.clear();
    const size_t count = std::min(out_.size(), kWriteGatherMax);
    for (size_t i = 0; i < count; ++i) {
      auto bytes = out_[i].asBytes();
      gather_.emplace_back(bytes.begin(), bytes.size());
    }
    asio::async_write(socket_, std::span<const asio::const_buffer>(gather_),
                      [self = shared_from_this(), count](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (self->closed_) return;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        for (size_t i = 0; i < count; ++i) {
                          self->out_bytes_ -= self->out_.front().size() * sizeof(capnp::word);
                          self->out_.pop_front();
                        }
                        self->Flush();
                        if (self->out_bytes_ <= self->options().output_bytes_max / 2) self->Read();
                        self->MaybeClose();
                      });
  }

  void MaybeClose() {
    if (closing_ && in_flight_ == 0 && out_.empty() && !writing_ && !flush_posted_) Close();
  }

  // Every request holds an in-flight slot until its answer is queued.
  bool Admit(uint64_t id) {
    if (in_flight_ >= options().in_flight_max) {
      SendError(id, Status::Overloaded(fmt::format(
                        "too many requests in flight on this connection (max {}); wait for answers",
                        options().in_flight_max)));
      return false;
    }
    ++in_flight_;
    return true;
  }

  // Runs when a request's answer is ready; the connection may be gone by then.
  // `payload_bytes`: about how many bytes of blobs `fill` adds, to size the builder (0: unknown;
  // the builder grows as needed).
  template <typename Fill>
  static void Answer(const std::weak_ptr<Connection>& weak, uint64_t id, Fill fill,
                     size_t payload_bytes = 0) {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    --self->in_flight_;
    proto::FrameBuilder m(payload_bytes);
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(id);
    fill(frame);
    self->Send(m);
    self->MaybeClose();
  }

  static void AnswerError(const std::weak_ptr<Connection>& weak, uint64_t id, const Status& s) {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    --self->in_flight_;
    self->SendError(id, s);
    self->MaybeClose();
  }

  void HandleFrame(proto::DecodedFrame& decoded) {
    auto frame = decoded.root();
    const uint64_t id = frame.getRequestId();
    if (!hello_done_) {
      if (frame.which() != wire::Frame::HELLO) {
        Fail(wire::ErrorCode::PROTOCOL, "the first message must be hello");
        return;
      }
      HandleHello(id, frame.getHello());
      return;
    }
    KvService* service = server_->service_;
    std::weak_ptr<Connection> weak = weak_from_this();
    switch (frame.which()) {
      case wire::Frame::GET: {
        auto req = frame.getGet();
        if (!Admit(id)) return;
        const Observer obs = Observe(MetricOp::kGet, req.getConsistency(), req.getR());
        auto answer = [weak, id, obs](Result<ReadReply> r) {
                       obs.Done(r.status().code());
                       if (!r.ok()) return AnswerError(weak, id, r.status());
                       Answer(weak, id, [&](wire::Frame::Builder f) {
                         auto out = f.initGetResult();
                         out.setFound(r->found);
                         auto list = out.initSiblings(static_cast<unsigned>(r->siblings.size()));
                         for (size_t i = 0; i < r->siblings.size(); ++i) {
                           FillSibling(list[static_cast<unsigned>(i)], r->siblings[i]);
                         }
                         out.setContext(AsData(r->context));
                         out.setAgreed(r->agreed);
                         if (r->trace) FillTrace(out.initTrace(), *r->trace);
                       }, ReadReplyBytes(r.value()));
        };
        if (Coordinator* c = server_->coordinator_) {
          c->Get(View(req.getKeyspace()), View(req.getKey()),
                 OptionsFrom(req.getConsistency(), req.getR(), req.getTimeoutMs(), req.getTrace()),
                 answer);
        } else {
          service->Get(View(req.getKeyspace()), View(req.getKey()), answer);
        }
        return;
      }
      case wire::Frame::PUT: {
        auto req = frame.getPut();
        if (!Admit(id)) return;
        if (Coordinator* c = server_->coordinator_) {
          // Only a peer may hand over a write to be coordinated here whatever the ring says.
          c->Put(View(req.getKeyspace()), View(req.getKey()), View(req.getValue()),
                 View(req.getContext()), req.getTtlS(),
                 OptionsFrom(req.getConsistency(), req.getW(), req.getTimeoutMs(), req.getTrace(),
                             req.getQuorum()),
                 is_peer_ && req.getForwarded(),
                 WriteAnswer(weak, id, false, Observe(MetricOp::kPut, req.getConsistency(), req.getW())));
        } else {
          service->Put(View(req.getKeyspace()), View(req.getKey()), View(req.getValue()),
                       View(req.getContext()), req.getTtlS(),
                       WriteAnswer(weak, id, false, Observe(MetricOp::kPut, req.getConsistency(), req.getW())));
        }
        return;
      }
      case wire::Frame::DEL: {
        auto req = frame.getDel();
        if (!Admit(id)) return;
        if (Coordinator* c = server_->coordinator_) {
          c->Del(View(req.getKeyspace()), View(req.getKey()), View(req.getContext()),
                 OptionsFrom(req.getConsistency(), req.getW(), req.getTimeoutMs(), req.getTrace(),
                             req.getQuorum()),
                 is_peer_ && req.getForwarded(),
                 WriteAnswer(weak, id, true, Observe(MetricOp::kDel, req.getConsistency(), req.getW())));
        } else {
          service->Del(View(req.getKeyspace()), View(req.getKey()), View(req.getContext()),
                       WriteAnswer(weak, id, true, Observe(MetricOp::kDel, req.getConsistency(), req.getW())));
        }
        return;
      }
      case wire::Frame::INFO: {
        if (!Admit(id)) return;
        Answer(weak, id, [&](wire::Frame::Builder f) { FillInfo(f.initInfoResult()); });
        return;
      }
      case wire::Frame::REPLICA_WRITE: {
        if (!RequirePeer(id)) return;
        auto req = frame.getReplicaWrite();
        auto object = DecodeObject(View(req.getObject()));
        if (!object.ok()) {
          SendError(id, object.status());
          return;
        }
        if (!Admit(id)) return;
        if (req.hasHintFor()) {
          return StoreFallbackHint(weak, id, std::string(View(req.getHintFor())),
                                   View(req.getKeyspace()), View(req.getKey()),
                                   std::move(object).value());
        }
        service->ReplicaWrite(View(req.getKeyspace()), View(req.getKey()),
                              std::move(object).value(), [weak, id](Status s) {
                                if (!s.ok()) return AnswerError(weak, id, s);
                                Answer(weak, id, [](wire::Frame::Builder f) {
                                  f.initReplicaWriteResult();
                                });
                              });
        return;
      }
      case wire::Frame::REPLICA_READ: {
        if (!RequirePeer(id)) return;
        auto req = frame.getReplicaRead();
        if (!Admit(id)) return;
        service->ReplicaRead(View(req.getKeyspace()), View(req.getKey()),
                             [weak, id](Result<ReplicaReadReply> r) {
                               if (!r.ok()) return AnswerError(weak, id, r.status());
                               const std::string object =
                                   r->found ? EncodeObject(r->object) : std::string();
                               Answer(weak, id, [&](wire::Frame::Builder f) {
                                 auto out = f.initReplicaReadResult();
                                 out.setFound(r->found);
                                 if (r->found) out.setObject(AsData(object));
                               }, object.size());
                             });
        return;
      }
      case wire::Frame::SCAN: {
        auto req = frame.getScan();
        if (!Admit(id)) return;
        Coordinator* c = server_->coordinator_;
        if (c == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        ScanSpec spec;
        spec.keyspace.assign(View(req.getKeyspace()));
        spec.start_token = req.getStartToken();
        spec.end_token = req.getEndToken();
        spec.key_prefix.assign(View(req.getKeyPrefix()));
        spec.has_after = req.getHasAfter();
        spec.after_token = req.getAfterToken();
        spec.after_key.assign(View(req.getAfterKey()));
        spec.limit = req.getLimit();
        const Observer obs = Observe(MetricOp::kScan, req.getConsistency(), req.getR());
        c->Scan(spec, OptionsFrom(req.getConsistency(), req.getR(), req.getTimeoutMs()),
                [weak, id, obs](Result<ScanReply> r) {
                  obs.Done(r.status().code());
                  if (!r.ok()) return AnswerError(weak, id, r.status());
                  Answer(weak, id, [&](wire::Frame::Builder f) { FillScanResult(f, r.value()); });
                });
        return;
      }
      case wire::Frame::REPLICA_SCAN: {
        if (!RequirePeer(id)) return;
        const ScanSpec spec = ReadReplicaScan(frame.getReplicaScan());
        if (!Admit(id)) return;
        service->ReplicaScan(spec, [weak, id](Result<ReplicaScanReply> r) {
          if (!r.ok()) return AnswerError(weak, id, r.status());
          Answer(weak, id, [&](wire::Frame::Builder f) {
            FillReplicaScanResult(f.initReplicaScanResult(), r.value());
          });
        });
        return;
      }
      case wire::Frame::RING: {
        if (!Admit(id)) return;
        if (server_->membership_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        const RingAnswer ring = server_->membership_->Answer();
        Answer(weak, id, [&](wire::Frame::Builder f) { FillRing(f.initRingResult(), ring); });
        return;
      }
      case wire::Frame::GOSSIP_SYN: {
        if (!RequirePeer(id)) return;
        if (!Admit(id)) return;
        if (server_->membership_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        auto syn = ReadGossipSyn(frame.getGossipSyn());
        if (!syn.ok()) return AnswerError(weak, id, syn.status());
        const gossip::Ack ack = server_->membership_->OnSyn(syn.value());
        Answer(weak, id, [&](wire::Frame::Builder f) { FillGossipAck(f.initGossipAck(), ack); });
        return;
      }
      case wire::Frame::ADMIN: {
        auto req = frame.getAdmin();
        if (!Admit(id)) return;
        if (!server_->admin_) {
          return AnswerError(weak, id, Status::InvalidArgument("this node takes no admin requests"));
        }
        server_->admin_(std::string(View(req.getCommand())), std::string(View(req.getArgument())),
                        [weak, id](Result<std::string> r) {
                          if (!r.ok()) return AnswerError(weak, id, r.status());
                          Answer(weak, id, [&](wire::Frame::Builder f) {
                            f.initAdminResult().setJson(r.value());
                          });
                        });
        return;
      }
      case wire::Frame::GOSSIP_ACK2: {
        if (!RequirePeer(id)) return;
        if (!Admit(id)) return;
        if (server_->membership_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        auto ack2 = ReadGossipAck2(frame.getGossipAck2());
        if (!ack2.ok()) return AnswerError(weak, id, ack2.status());
        server_->membership_->OnAck2(ack2.value());
        Answer(weak, id, [&](wire::Frame::Builder f) { f.initGossipAck2Result(); });
        return;
      }
      case wire::Frame::CREATE_KEYSPACE: {
        auto req = frame.getCreateKeyspace();
        if (!Admit(id)) return;
        if (server_->membership_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        bool created = false;
        // Only a peer passes on another node's creation (with that node's time).
        const bool propagated = is_peer_ && req.getPropagated();
        const KeyspaceDef def{std::string(View(req.getName())), req.getReplicationFactor(),
                              propagated ? req.getCreatedUs() : server_->clock_->NowUs(),
                              req.getSloppy()};
        Status s = server_->membership_->CreateKeyspace(def, req.getIfNotExists(), propagated,
                                                        &created);
        if (!s.ok()) return AnswerError(weak, id, s);
        // Answered once every live member has it (gossip spreads it within milliseconds), so
        // the client's next request may go to any node; at most kSchemaAgreementMs later.
        server_->membership_->WhenSchemaAgrees(kSchemaAgreementMs, [weak, id, created](bool) {
          Answer(weak, id, [&](wire::Frame::Builder f) {
            f.initCreateKeyspaceResult().setCreated(created);
          });
        });
        return;
      }
      case wire::Frame::DROP_KEYSPACE: {
        auto req = frame.getDropKeyspace();
        if (!Admit(id)) return;
        if (server_->membership_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("this node is not a cluster member"));
        }
        const bool propagated = is_peer_ && req.getPropagated();
        bool dropped = false;
        Status s = server_->membership_->DropKeyspace(
            std::string(View(req.getName())), req.getIfExists(),
            propagated ? req.getDroppedUs() : server_->clock_->NowUs(), propagated, &dropped);
        if (!s.ok()) return AnswerError(weak, id, s);
        server_->membership_->WhenSchemaAgrees(kSchemaAgreementMs, [weak, id, dropped](bool) {
          Answer(weak, id, [&](wire::Frame::Builder f) {
            f.initDropKeyspaceResult().setDropped(dropped);
          });
        });
        return;
      }
      case wire::Frame::TRUNCATE_HINTS: {
        auto req = frame.getTruncateHints();
        if (!Admit(id)) return;
        if (server_->hints_ == nullptr) {
          return AnswerError(weak, id, Status::InvalidArgument("hinted handoff is off on this node"));
        }
        const std::string target(View(req.getTarget()));
        if (target.empty()) return AnswerError(weak, id, Status::InvalidArgument("empty target"));
        auto removed = server_->hints_->Truncate(target);
        if (!removed.ok()) return AnswerError(weak, id, removed.status());
        RINGKV_LOG(server_->log_, kInfo, "hints: {} hint(s) for {} truncated on request",
                   removed.value(), target);
        Answer(weak, id, [&](wire::Frame::Builder f) {
          f.initTruncateHintsResult().setRemoved(removed.value());
        });
        return;
      }
      case wire::Frame::AAE: {
        if (!RequirePeer(id)) return;
        if (!Admit(id)) return;
        auto answer = AnswerAae(server_->aae_, server_->options_.node_name, frame.getAae());
        if (!answer.ok()) return AnswerError(weak, id, answer.status());
        Answer(weak, id, [&](wire::Frame::Builder f) {
          FillAaeResult(f.initAaeResult(), answer.value());
        }, PayloadBytes(answer.value()));
        return;
      }
      case wire::Frame::HELLO:
        Fail(wire::ErrorCode::PROTOCOL, "hello sent twice");
        return;
      case wire::Frame::HELLO_OK:
      case wire::Frame::ERROR:
      case wire::Frame::GET_RESULT:
      case wire::Frame::PUT_RESULT:
      case wire::Frame::DEL_RESULT:
      case wire::Frame::INFO_RESULT:
      case wire::Frame::REPLICA_WRITE_RESULT:
      case wire::Frame::REPLICA_READ_RESULT:
      case wire::Frame::RING_RESULT:
      case wire::Frame::CREATE_KEYSPACE_RESULT:
      case wire::Frame::SCAN_RESULT:
      case wire::Frame::REPLICA_SCAN_RESULT:
      case wire::Frame::DROP_KEYSPACE_RESULT:
      case wire::Frame::TRUNCATE_HINTS_RESULT:
      case wire::Frame::GOSSIP_ACK:
      case wire::Frame::GOSSIP_ACK2_RESULT:
      case wire::Frame::ADMIN_RESULT:
      case wire::Frame::AAE_RESULT:
        Fail(wire::ErrorCode::PROTOCOL,
             fmt::format("an answer (kind {}) sent as a request", static_cast<int>(frame.which())));
        return;
      default:
        // A request kind from a newer protocol: refuse this request only, so newer clients can
        // probe for features without losing the connection.
        SendError(id, Status::InvalidArgument(fmt::format(
                          "this node does not support request kind {} (protocol version {})",
                          static_cast<int>(frame.which()), wire::PROTOCOL_VERSION)));
        return;
    }
  }

  // Starts timing a client request (forwarded writes from peers are timed where they began).
  Observer Observe(MetricOp op, wire::Consistency c, uint8_t explicit_count) {
    Observer obs;
    if (server_->metrics_ == nullptr || is_peer_) return obs;
    obs.metrics = server_->metrics_;
    obs.clock = server_->clock_;
    obs.op = op;
    obs.consistency = explicit_count > 0 ? Consistency::kDefault
                                         : OptionsFrom(c, 0, 0).consistency;
    obs.start_us = server_->clock_->MonoUs();
    server_->metrics_->Started();
    return obs;
  }

  static KvService::WriteDone WriteAnswer(std::weak_ptr<Connection> weak, uint64_t id, bool del,
                                          Observer obs) {
    return [weak = std::move(weak), id, del, obs](Result<WriteReply> r) {
      obs.Done(r.status().code());
      if (!r.ok()) return AnswerError(weak, id, r.status());
      Answer(weak, id, [&](wire::Frame::Builder f) {
        if (del) {
          auto out = f.initDelResult();
          out.setFallbackAcks(r->fallback_acks);
          if (r->trace) FillTrace(out.initTrace(), *r->trace);
        } else {
          auto out = f.initPutResult();
          out.setContext(AsData(r->context));
          out.setSiblings(r->siblings);
          out.setFallbackAcks(r->fallback_acks);
          if (r->trace) FillTrace(out.initTrace(), *r->trace);
        }
      }, r->context.size());
    };
  }

  // Sloppy quorum: a coordinator asks this node to stand in for `owner`, a replica it believes
  // down, by storing the write as a hint for it (PeerTransport::FallbackWrite).
  void StoreFallbackHint(std::weak_ptr<Connection> weak, uint64_t id, std::string owner,
                         std::string_view keyspace, std::string_view key, VersionedObject object) {
    if (server_->hints_ == nullptr) {
      return AnswerError(weak, id, Status(Code::kUnavailable, "hinted handoff is off on this node: "
                                                  "it cannot stand in for a replica"));
    }
    if (owner == server_->options_.node_name) {
      return AnswerError(weak, id, Status::InvalidArgument("a node cannot stand in for itself"));
    }
    if (server_->keyspaces_ != nullptr) {
      if (Status s = server_->keyspaces_->Find(keyspace).status(); !s.ok()) {
        return AnswerError(weak, id, s);
      }
    }
    server_->hints_->Store(owner, keyspace, key, object, [weak, id](Status s) {
      if (!s.ok()) return AnswerError(weak, id, s);
      Answer(weak, id, [](wire::Frame::Builder f) { f.initReplicaWriteResult(); });
    });
  }

  bool RequirePeer(uint64_t id) {
    if (is_peer_) return true;
    ++server_->strangers_refused_;
    SendError(id, Status(Code::kUnauthorized, "replica messages are for cluster peers only"));
    return false;
  }

  void HandleHello(uint64_t id, wire::Hello::Reader hello) {
    if (hello.getProtocolVersion() != wire::PROTOCOL_VERSION) {
      Fail(wire::ErrorCode::PROTOCOL,
           fmt::format("protocol version {} is not supported (this node speaks {})",
                       hello.getProtocolVersion(), wire::PROTOCOL_VERSION));
      return;
    }
    auto cluster = View(hello.getClusterName());
    if (!cluster.empty() && cluster != options().cluster_name) {
      ++server_->strangers_refused_;
      Fail(wire::ErrorCode::UNAUTHORIZED,
           fmt::format("this node belongs to cluster '{}', not '{}'", options().cluster_name,
                       cluster));
      return;
    }
    if (hello.getRole() == wire::Role::PEER) {
      if (options().cluster_secret.empty() ||
          !SecretsEqual(View(hello.getSecret()), options().cluster_secret)) {
        ++server_->strangers_refused_;
        Fail(wire::ErrorCode::UNAUTHORIZED, "peer presented a wrong cluster secret");
        return;
      }
      is_peer_ = true;
      // Peers carry whole objects (all siblings of a key), larger than any client request.
      if (options().peer_frame_bytes_max > 0) {
        decoder_.set_frame_bytes_max(options().peer_frame_bytes_max);
      }
      if (server_->on_peer_seen_) server_->on_peer_seen_(std::string(View(hello.getNodeName())));
    }
    hello_done_ = true;
    proto::FrameBuilder m(options().node_name.size() + options().cluster_name.size());
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(id);
    auto ok = frame.initHelloOk();
    ok.setProtocolVersion(wire::PROTOCOL_VERSION);
    ok.setNodeName(options().node_name);
    ok.setClusterName(options().cluster_name);
    ok.setFrameBytesMax(is_peer_ && options().peer_frame_bytes_max > 0
                            ? options().peer_frame_bytes_max
                            : options().limits.frame_bytes_max);
    ok.setInFlightMax(options().in_flight_max);
    Send(m);
  }

  static void FillScanResult(wire::Frame::Builder f, const ScanReply& reply) {
    auto out = f.initScanResult();
    auto entries = out.initEntries(static_cast<unsigned>(reply.entries.size()));
    for (unsigned i = 0; i < reply.entries.size(); ++i) {
      const auto& e = reply.entries[i];
      entries[i].setKey(AsData(e.key));
      entries[i].setToken(e.token);
      auto sibs = entries[i].initSiblings(static_cast<unsigned>(e.siblings.size()));
      for (unsigned j = 0; j < e.siblings.size(); ++j) FillSibling(sibs[j], e.siblings[j]);
      entries[i].setContext(AsData(e.context));
    }
    out.setMore(reply.more);
  }

  static void FillRing(wire::RingResult::Builder out, const RingAnswer& ring) {
    out.setSelf(ring.self);
    out.setUnsettled(!ring.settled);
    auto members = out.initMembers(static_cast<unsigned>(ring.members.size()));
    for (unsigned i = 0; i < ring.members.size(); ++i) {
      const auto& [m, up] = ring.members[i];
      members[i].setUp(up);
      const auto status = gossip::StatusName(m.status);
      members[i].setStatus(capnp::Text::Reader(status.data(), status.size()));
      auto d = members[i].initDescription();
      d.setNodeName(m.name);
      d.setAddress(m.address);
      d.setHostId(m.host_id);
      auto tokens = d.initTokens(static_cast<unsigned>(m.tokens.size()));
      for (unsigned t = 0; t < m.tokens.size(); ++t) tokens.set(t, m.tokens[t]);
    }
    auto keyspaces = out.initKeyspaces(static_cast<unsigned>(ring.keyspaces.size()));
    for (unsigned i = 0; i < ring.keyspaces.size(); ++i) {
      keyspaces[i].setName(ring.keyspaces[i].name);
      keyspaces[i].setReplicationFactor(ring.keyspaces[i].replication_factor);
      keyspaces[i].setCreatedUs(ring.keyspaces[i].created_us);
      keyspaces[i].setSloppy(ring.keyspaces[i].sloppy);
    }
    auto dropped = out.initDropped(static_cast<unsigned>(ring.dropped.size()));
    for (unsigned i = 0; i < ring.dropped.size(); ++i) {
      dropped[i].setName(ring.dropped[i].first);
      dropped[i].setDroppedUs(ring.dropped[i].second);
    }
  }

  void FillInfo(wire::InfoResult::Builder out) {
    const auto stats = server_->storage_->Stats();
    out.setNodeName(options().node_name);
    out.setClusterName(options().cluster_name);
    out.setVersion(RINGKV_VERSION);
    out.setProtocolVersion(wire::PROTOCOL_VERSION);
    out.setListen(fmt::format("{}:{}", options().listen_host, server_->port_));
    out.setDataDir(options().data_dir);
    out.setSyncMode(options().sync_mode);
    out.setUptimeS(static_cast<uint64_t>((server_->clock_->MonoUs() - server_->started_us_) / 1'000'000));
    out.setActor(server_->service_->actor());
    out.setKeysApprox(stats.objects_approx);
    out.setStorageBytesApprox(stats.bytes_approx);
    out.setConnections(static_cast<uint32_t>(server_->connections()));
    out.setRequestsServed(server_->service_->requests_served());
    out.setHostId(options().host_id);
    out.setTokens(options().vnodes);
    if (server_->keyspaces_ != nullptr) out.setSchemaVersion(server_->keyspaces_->SchemaVersion());
    out.setHttpAddress(options().http_address);
    out.setHintedHandoff(server_->hints_ != nullptr);
    if (server_->hints_ != nullptr) {
      const auto pending = server_->hints_->pending();
      auto hints = out.initHints(static_cast<unsigned>(pending.size()));
      unsigned h = 0;
      for (const auto& [target, t] : pending) {
        hints[h].setTarget(target);
        hints[h].setCount(t.count);
        hints[h].setBytes(t.bytes);
        hints[h].setOldestStoredAtUs(t.oldest_stored_at_us);
        ++h;
      }
    }
    const auto rows = server_->service_->table_stats().Rows();
    auto list = out.initKeyspaceStats(static_cast<unsigned>(rows.size()));
    for (unsigned i = 0; i < rows.size(); ++i) {
      const auto& f = rows[i].figures;
      list[i].setKeyspace(rows[i].keyspace);
      list[i].setTable(rows[i].table);
      list[i].setReads(f.reads);
      list[i].setWrites(f.writes);
      list[i].setReadLatencyUsTotal(f.read_latency_us_total);
      list[i].setWriteLatencyUsTotal(f.write_latency_us_total);
      list[i].setKeysApprox(static_cast<uint64_t>(std::max<int64_t>(f.keys, 0)));
      list[i].setBytesApprox(static_cast<uint64_t>(std::max<int64_t>(f.bytes, 0)));
    }
  }

  Server* const server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  proto::FrameDecoder decoder_;
  std::array<uint8_t, kReadChunkBytes> buf_;
  std::deque<kj::Array<capnp::word>> out_;
  std::vector<asio::const_buffer> gather_;  // the active write's buffers (Flush)
  size_t out_bytes_ = 0;
  const int64_t connected_us_;
  std::string remote_;
  uint32_t in_flight_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool flush_posted_ = false;  // a Flush is posted to the loop
  bool hello_done_ = false;
  bool is_peer_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

Server::Server(asio::io_context* io, KvService* service, Storage* storage, const Clock* clock,
               Logger* log, ServerOptions options)
    : io_(io),
      service_(service),
      storage_(storage),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      started_us_(clock->MonoUs()),
      acceptor_(*io) {}

Server::~Server() { CloseAll(); }

Status Server::Start() {
  if (Status s = OpenAcceptor(&acceptor_, options_.listen_host, options_.listen_port); !s.ok()) {
    return s;
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

void Server::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Usually EMFILE: log and keep accepting rather than stop serving.
      RINGKV_LOG(log_, kWarn, "accept failed: {}", ec.message());
    } else if (connections_.size() >= options_.connections_max) {
      RINGKV_LOG(log_, kWarn, "refusing a connection: {} open (max {})", connections_.size(),
                 options_.connections_max);
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto connection = std::make_shared<Connection>(this, std::move(socket));
      connections_.insert(connection);
      connection->Start();
    }
    Accept();
  });
}

void Server::Forget(Connection* connection) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == connection) {
      // The caller holds its own reference (every handler captures one), so this is not the last.
      connections_.erase(it);
      break;
    }
  }
  if (shutting_down_ && connections_.empty() && shutdown_done_) {
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    asio::post(*io_, std::move(done));
  }
}

void Server::Shutdown(std::function<void()> done) {
  shutting_down_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  if (connections_.empty()) {
    asio::post(*io_, std::move(done));
    return;
  }
  shutdown_done_ = std::move(done);
  auto copy = connections_;
  for (const auto& c : copy) c->CloseWhenIdle();
}

void Server::CloseAll() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  auto copy = connections_;
  for (const auto& c : copy) c->Close();
}

}  // namespace ringkv
