#include "jepsen-tests/workload/workload.h"

#include <fmt/format.h>

#include <set>
#include <sstream>
#include <thread>

namespace ringkv::jepsen {
namespace {

std::vector<std::string> SplitElements(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream in(value);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

Worker::Worker(int id, std::string node, Client* client, History* history,
               WorkloadOptions options, uint64_t seed)
    : id_(id),
      node_(std::move(node)),
      client_(client),
      history_(history),
      options_(std::move(options)),
      rng_(seed) {}

void Worker::Step() {
  // Weights: mostly the register and the set, which exercise contexts and siblings.
  if (refused_) {
    refused_ = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int pick = static_cast<int>(rng_() % 10);
  if (pick < 2) {
    Unique();
  } else if (pick < 5) {
    Register();
  } else if (pick < 7) {
    Grow();
  } else if (pick < 9) {
    Session();
  } else {
    Delete();
  }
}

std::string Worker::Next(const char* kind) { return fmt::format("{}{}.{}", kind, id_, n_++); }

nlohmann::json Worker::Invoke(const char* f, const std::string& key, nlohmann::json extra) {
  nlohmann::json e = {{"process", id_}, {"op", history_->NextOp()}, {"f", f}, {"key", key},
                      {"node", node_}};
  nlohmann::json line = e;
  line.update(extra);
  line["type"] = "invoke";
  history_->Write(std::move(line));
  return e;  // the completion names the op; the invoke line holds the arguments
}

WriteOptions Worker::Writing(const std::string& context) const {
  WriteOptions wo;
  wo.keyspace = options_.keyspace;
  wo.w = options_.w;
  wo.context = context;
  wo.timeout = options_.timeout;
  return wo;
}

void Worker::Complete(nlohmann::json event, Outcome outcome, const Error* error) {
  event["type"] = OutcomeName(outcome);
  if (outcome == Outcome::kFail) refused_ = true;
  if (error != nullptr) event["error"] = std::string(ErrorCodeName(error->code()));
  history_->Write(std::move(event));
}

Worker::Read Worker::Get(const std::string& key) {
  nlohmann::json e = Invoke("get", key);
  ReadOptions ro;
  ro.keyspace = options_.keyspace;
  ro.r = options_.r;
  ro.timeout = options_.timeout;
  auto got = client_->Get(key, ro);
  Read read;
  if (!got.ok()) {
    Complete(std::move(e), Classify(got.error()), &got.error());
    return read;
  }
  read.ok = true;
  for (const auto& s : got->siblings) read.values.push_back(s.value);
  read.context = got->context;
  e["values"] = read.values;
  Complete(std::move(e), Outcome::kOk, nullptr);
  return read;
}

bool Worker::Put(const std::string& key, const std::string& value, const std::string& context,
                 const std::vector<std::string>& seen, std::string* context_out) {
  nlohmann::json e = Invoke("put", key, {{"value", value}, {"seen", seen}});
  auto put = client_->Put(key, value, Writing(context));
  if (!put.ok()) {
    Complete(std::move(e), Classify(put.error()), &put.error());
    return false;
  }
  e["siblings"] = put->siblings;
  e["fallback_acks"] = put->fallback_acks;  // sloppy quorum: what R + W > N promises of it
  Complete(std::move(e), Outcome::kOk, nullptr);
  if (context_out != nullptr) *context_out = put->context;
  return true;
}

bool Worker::Del(const std::string& key, const std::string& context,
                 const std::vector<std::string>& seen) {
  nlohmann::json e = Invoke("del", key, {{"seen", seen}});
  auto del = client_->Del(key, Writing(context));
  if (!del.ok()) {
    Complete(std::move(e), Classify(del.error()), &del.error());
    return false;
  }
  e["fallback_acks"] = del->fallback_acks;
  Complete(std::move(e), Outcome::kOk, nullptr);
  return true;
}

void Worker::Unique() {
  Put(fmt::format("u:{}:{}", id_, n_), Next("u"), "", {}, nullptr);
}

void Worker::Register() {
  const std::string key = fmt::format("r:{}", rng_() % options_.register_keys);
  Read read = Get(key);
  if (!read.ok) return;
  Put(key, Next("r"), read.context, read.values, nullptr);
}

void Worker::Grow() {
  const std::string key = fmt::format("s:{}", rng_() % options_.grow_keys);
  Read read = Get(key);
  if (!read.ok) return;
  // The client merges siblings: the union of every sibling's elements, plus one new element.
  std::set<std::string> merged;
  for (const auto& v : read.values) {
    for (auto& element : SplitElements(v)) merged.insert(std::move(element));
  }
  merged.insert(Next("e"));
  std::string value;
  for (const auto& element : merged) value += (value.empty() ? "" : ",") + element;
  Put(key, value, read.context, read.values, nullptr);
}

void Worker::Session() {
  // Only acknowledged puts advance the context; after an in-doubt put the next one carries the
  // older context, and may leave a sibling beside the in-doubt value (a real client would too).
  const std::string key = fmt::format("q:{}", id_);
  const std::string value = fmt::format("q{}.{}", id_, ++session_seq_);
  std::string context;
  if (Put(key, value, session_context_, session_seen_, &context)) {
    session_context_ = context;
    session_seen_ = {value};
  }
  Get(key);
}

void Worker::Delete() {
  const std::string key = fmt::format("d:{}:{}", id_, n_);
  const std::string value = Next("d");
  std::string context;
  if (!Put(key, value, "", {}, &context)) return;
  if (!Del(key, context, {value})) return;
  Get(key);
}

}  // namespace ringkv::jepsen
