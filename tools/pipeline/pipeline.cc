#include "tools/pipeline/pipeline.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/kvload/loader.h"
#include "tools/pipeline/minhash.h"

namespace ringkv::pipeline {
namespace {

using cql::Kind;
using cql::Type;
using cql::Value;

using Clock = std::chrono::steady_clock;

// Quality rules: a document is filtered by the first rule it fails.
constexpr double kWordsMin = 50;
constexpr double kSymbolRatioMax = 0.10;
constexpr double kPerplexityMax = 400;
constexpr double kLangScoreMin = 0.65;

bool IsClusterError(cql::ErrorKind kind) {
  return kind == cql::ErrorKind::kUnavailable || kind == cql::ErrorKind::kTimeout ||
         kind == cql::ErrorKind::kServer;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Value TextSet(const std::string& element) {
  return Value{Type{Kind::kSet, {Type::Scalar(Kind::kText)}}, cql::ValueList{Value::Text(element)}};
}

// Column `name` of a result set, or -1.
int ColumnIndex(const cql::ResultSet& rs, const std::string& name) {
  for (size_t i = 0; i < rs.columns.size(); ++i) {
    if (rs.columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const Value* Cell(const cql::ResultSet& rs, size_t row, const std::string& name) {
  int i = ColumnIndex(rs, name);
  if (i < 0 || !rs.rows[row][static_cast<size_t>(i)]) return nullptr;
  return &*rs.rows[row][static_cast<size_t>(i)];
}

std::string TextOf(const Value* v) {
  const auto* s = v ? std::get_if<std::string>(&v->data) : nullptr;
  return s ? *s : std::string();
}

double DoubleOf(const Value* v) {
  if (v == nullptr) return 0;
  if (const auto* d = std::get_if<double>(&v->data)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v->data)) return static_cast<double>(*i);
  return 0;
}

// The ring's token ranges (a, b] covering all tokens, from every member's tokens.
std::vector<std::pair<int64_t, int64_t>> TokenRanges(const RingInfo& ring) {
  std::vector<int64_t> tokens;
  for (const auto& m : ring.members) tokens.insert(tokens.end(), m.tokens.begin(), m.tokens.end());
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  std::vector<std::pair<int64_t, int64_t>> ranges;
  if (tokens.empty()) {
    ranges.emplace_back(INT64_MIN, INT64_MAX);
    return ranges;
  }
  ranges.emplace_back(INT64_MIN, tokens.front());
  for (size_t i = 0; i + 1 < tokens.size(); ++i) ranges.emplace_back(tokens[i], tokens[i + 1]);
  if (tokens.back() != INT64_MAX) ranges.emplace_back(tokens.back(), INT64_MAX);
  return ranges;
}

}  // namespace

const std::vector<std::string>& Pipeline::StageNames() {
  static const std::vector<std::string> kNames = {"setup", "dedup",   "quality",
                                                  "shard", "catchup", "export"};
  return kNames;
}

Pipeline::Pipeline(Client& client, PipelineOptions options)
    : client_(client), options_(std::move(options)), ks_(options_.keyspace) {}

void Pipeline::Say(const std::string& line) {
  fmt::print(options_.out, "{}\n", line);
  std::fflush(options_.out);
}

void Pipeline::RunHook(const std::string& when) {
  auto it = options_.hooks.find(when);
  if (it == options_.hooks.end()) return;
  Say(fmt::format("  [{}] $ {}", when, it->second));
  std::fflush(nullptr);
  int rc = std::system(it->second.c_str());
  Say(fmt::format("  [{}] (exit status {})", when, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1));
}

bool Pipeline::RunStage(const std::string& name) {
  RunHook(name);
  if (name == "setup") return Setup();
  if (name == "dedup") return Dedup();
  if (name == "quality") return Quality();
  if (name == "shard") return Shard();
  if (name == "catchup") return Catchup();
  if (name == "export") return Export();
  Say(fmt::format("unknown stage '{}'", name));
  return false;
}

bool Pipeline::Exec(cql::Session& session, const std::string& statement,
                    const std::vector<Value>& binds, cql::ResultSet* rows, std::string* error) {
  auto backoff = options_.backoff_initial;
  for (int attempt = 0;; ++attempt) {
    auto r = session.Execute(statement, binds);
    if (r.ok()) {
      if (rows != nullptr) *rows = std::move(r.value());
      return true;
    }
    if (!IsClusterError(r.error().kind) || attempt >= options_.retries) {
      *error = fmt::format("{} (after {} attempt(s)): {}", r.error().message, attempt + 1,
                           statement.substr(0, 120));
      return false;
    }
    // Idempotent writes (upserts, set adds) and reads: a retry converges to the same state.
    ++retried_;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

bool Pipeline::ForEach(const std::string& stage, size_t n, const Work& work) {
  std::vector<std::pair<size_t, std::string>> hooks;  // (index, when)
  for (const auto& [when, cmd] : options_.hooks) {
    if (when.rfind(stage + ":", 0) != 0) continue;
    int percent = std::atoi(when.c_str() + stage.size() + 1);
    hooks.emplace_back(n * static_cast<size_t>(std::clamp(percent, 0, 100)) / 100, when);
  }
  std::sort(hooks.begin(), hooks.end());
  std::mutex mu;
  size_t next = 0;
  std::atomic<bool> failed{false};
  std::string first_error;
  auto worker = [&] {
    cql::Session session(client_);
    while (!failed.load()) {
      size_t i;
      {
        // Hooks run under the dispatch lock: no new item starts while a node is being killed,
        // items in flight carry on (and find out, and retry).
        std::lock_guard lock(mu);
        while (!hooks.empty() && next >= hooks.front().first) {
          RunHook(hooks.front().second);
          Say(fmt::format("  [{}] the stage carries on: reads and writes at QUORUM need 2 of 3 "
                          "replicas",
                          hooks.front().second));
          hooks.erase(hooks.begin());
        }
        if (next >= n) return;
        i = next++;
      }
      std::string error;
      if (!work(session, i, &error)) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) first_error = error;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < options_.concurrency; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failed) Say(fmt::format("{}: failed: {}", stage, first_error));
  return !failed;
}

bool Pipeline::ScanDocs(const std::string& columns,
                        const std::function<void(const cql::ResultSet&, size_t)>& row) {
  auto ring = client_.Ring(ks_);
  if (!ring.ok()) {
    Say(fmt::format("cannot read the ring: {}", ring.error().ToString()));
    return false;
  }
  auto ranges = TokenRanges(ring.value());
  std::string statement = fmt::format(
      "SELECT {} FROM {}.docs WHERE token(doc_id) > ? AND token(doc_id) <= ?", columns, ks_);
  cql::Session session(client_);
  for (const auto& [a, b] : ranges) {
    cql::ExecuteOptions page;
    page.page_size = 1000;
    auto backoff = options_.backoff_initial;
    for (int attempt = 0;;) {
      auto r = session.Execute(statement, {Value::Bigint(a), Value::Bigint(b)}, page);
      if (!r.ok()) {
        if (!IsClusterError(r.error().kind) || attempt++ >= options_.retries) {
          Say(fmt::format("scan of ({}, {}] failed: {}", a, b, r.error().message));
          return false;
        }
        ++retried_;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      for (size_t i = 0; i < r->rows.size(); ++i) row(r.value(), i);
      if (r->paging_state.empty()) break;
      page.paging_state = r->paging_state;
    }
  }
  return true;
}

bool Pipeline::ReadDocs(std::vector<Doc>* docs) {
  docs->clear();
  bool ok = ScanDocs(
      "doc_id, status, planted_dup_of, minhash_bands, quality, lang_score, shard",
      [&](const cql::ResultSet& rs, size_t i) {
        Doc d;
        d.doc_id = TextOf(Cell(rs, i, "doc_id"));
        d.status = TextOf(Cell(rs, i, "status"));
        d.planted_dup_of = TextOf(Cell(rs, i, "planted_dup_of"));
        if (const Value* bands = Cell(rs, i, "minhash_bands")) {
          for (const auto& b : std::get<cql::ValueList>(bands->data)) d.bands.push_back(TextOf(&b));
        }
        if (const Value* q = Cell(rs, i, "quality")) {
          for (const auto& [k, v] : std::get<cql::ValueMap>(q->data)) d.quality[TextOf(&k)] = DoubleOf(&v);
        }
        d.lang_score = DoubleOf(Cell(rs, i, "lang_score"));
        if (const Value* s = Cell(rs, i, "shard")) d.shard = std::get<int64_t>(s->data);
        docs->push_back(std::move(d));
      });
  // Token order is not id order; the stages want generation order (ids are zero-padded).
  std::sort(docs->begin(), docs->end(),
            [](const Doc& a, const Doc& b) { return a.doc_id < b.doc_id; });
  return ok;
}

void Pipeline::RecordStage(const std::string& stage, uint64_t in, uint64_t out,
                           const std::string& note) {
  cql::Session session(client_);
  std::string error;
  if (!Exec(session,
            fmt::format("INSERT INTO {}.stage_runs (stage, docs_in, docs_out, note, finished) "
                        "VALUES (?, ?, ?, ?, ?)",
                        ks_),
            {Value::Text(stage), Value::Int(static_cast<int64_t>(in)),
             Value::Int(static_cast<int64_t>(out)), Value::Text(note), Value::Timestamp(NowMs())},
            nullptr, &error)) {
    Say(fmt::format("  (could not record the stage run: {})", error));
  }
}

bool Pipeline::Setup() {
  cql::Session session(client_);
  std::string error;
  const std::vector<std::string> statements = {
      fmt::format("CREATE KEYSPACE IF NOT EXISTS {} WITH replication = "
                  "{{'class': 'SimpleStrategy', 'replication_factor': {}}}",
                  ks_, options_.replication_factor),
      fmt::format("CREATE TABLE IF NOT EXISTS {}.docs (doc_id text PRIMARY KEY, url text, "
                  "lang text, lang_score double, quality map<text, double>, "
                  "minhash_bands list<text>, planted_dup_of text, dup_of text, status text, "
                  "reason text, shard int, updated timestamp)",
                  ks_),
      fmt::format("CREATE TABLE IF NOT EXISTS {}.bands (band_key text PRIMARY KEY, "
                  "docs set<text>)",
                  ks_),
      fmt::format("CREATE TABLE IF NOT EXISTS {}.stage_runs (stage text PRIMARY KEY, "
                  "docs_in int, docs_out int, note text, finished timestamp)",
                  ks_),
  };
  for (const auto& s : statements) {
    if (!Exec(session, s, {}, nullptr, &error)) {
      Say(fmt::format("setup: {}", error));
      return false;
    }
  }
  Say(fmt::format("setup: keyspace {} (RF {}), tables docs, bands, stage_runs", ks_,
                  options_.replication_factor));
  return true;
}

bool Pipeline::Load(const std::string& jsonl_path) {
  kvload::LoadOptions load;
  load.keyspace = ks_;
  load.table = "docs";
  load.files = {jsonl_path};
  load.concurrency = options_.concurrency;
  load.errors_path = jsonl_path + ".errors.jsonl";
  load.progress = kvload::ProgressMode::kNone;
  auto report = kvload::RunLoad(client_, load);
  Say(fmt::format("load: {}", report.Summary()));
  if (!report.message.empty()) Say(fmt::format("load: {}", report.message));
  return report.outcome == kvload::LoadReport::Outcome::kOk;
}

bool Pipeline::Dedup() {
  const auto start = Clock::now();
  std::vector<Doc> docs;
  if (!ReadDocs(&docs)) return false;
  result_.docs = docs.size();
  // 1. Index: every doc joins the set of each of its band keys (a set add: idempotent).
  std::string add = fmt::format("UPDATE {}.bands SET docs = docs + ? WHERE band_key = ?", ks_);
  bool ok = ForEach("dedup", docs.size(), [&](cql::Session& s, size_t i, std::string* error) {
    for (const auto& band : docs[i].bands) {
      if (!Exec(s, add, {TextSet(docs[i].doc_id), Value::Text(band)}, nullptr, error)) return false;
    }
    return true;
  });
  if (!ok) return false;
  // 2. Look up: a doc whose band holds an earlier doc (a smaller id) is a near-duplicate of the
  // earliest one it shares a band with.
  std::string lookup = fmt::format("SELECT docs FROM {}.bands WHERE band_key = ?", ks_);
  std::string mark = fmt::format(
      "UPDATE {}.docs SET status = 'duplicate', reason = ?, dup_of = ?, updated = ? "
      "WHERE doc_id = ?",
      ks_);
  std::vector<std::string> dup_of(docs.size());
  ok = ForEach("dedup-lookup", docs.size(), [&](cql::Session& s, size_t i, std::string* error) {
    std::string earliest;
    for (const auto& band : docs[i].bands) {
      cql::ResultSet rs;
      if (!Exec(s, lookup, {Value::Text(band)}, &rs, error)) return false;
      if (rs.rows.empty() || !rs.rows[0][0]) continue;
      for (const auto& member : std::get<cql::ValueList>(rs.rows[0][0]->data)) {
        const std::string& id = std::get<std::string>(member.data);
        if (id < docs[i].doc_id && (earliest.empty() || id < earliest)) earliest = id;
      }
    }
    if (earliest.empty()) return true;
    dup_of[i] = earliest;
    return Exec(s, mark,
                {Value::Text("near-duplicate of " + earliest), Value::Text(earliest),
                 Value::Timestamp(NowMs()), Value::Text(docs[i].doc_id)},
                nullptr, error);
  });
  if (!ok) return false;
  result_.planted = result_.found = result_.found_correct = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!docs[i].planted_dup_of.empty()) ++result_.planted;
    if (!dup_of[i].empty()) {
      ++result_.found;
      if (!docs[i].planted_dup_of.empty()) ++result_.found_correct;
    }
  }
  uint64_t missed = result_.planted - result_.found_correct;
  uint64_t extra = result_.found - result_.found_correct;
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  Say(fmt::format("dedup: {} docs, {} band keys indexed; near-duplicates planted {}, found {} "
                  "({} of the planted, {} missed, {} others) in {:.1f} s",
                  docs.size(), docs.size() * (docs.empty() ? 0 : docs[0].bands.size()),
                  result_.planted, result_.found, result_.found_correct, missed, extra, s));
  RecordStage("dedup", docs.size(), docs.size() - result_.found,
              fmt::format("planted {}, found {}", result_.planted, result_.found));
  return true;
}

bool Pipeline::Quality() {
  const auto start = Clock::now();
  std::vector<Doc> docs;
  if (!ReadDocs(&docs)) return false;
  std::vector<std::string> reasons(docs.size());
  std::string update = fmt::format(
      "UPDATE {}.docs SET status = ?, reason = ?, updated = ? WHERE doc_id = ?", ks_);
  uint64_t retried_before = retried_.load();
  bool ok = ForEach("quality", docs.size(), [&](cql::Session& s, size_t i, std::string* error) {
    const Doc& d = docs[i];
    if (d.status == "duplicate") {
      reasons[i] = "duplicate";
      return true;
    }
    auto q = [&](const char* k) { auto it = d.quality.find(k); return it == d.quality.end() ? 0.0 : it->second; };
    std::string reason;
    if (q("words") < kWordsMin) reason = "too_short";
    else if (q("symbol_ratio") > kSymbolRatioMax) reason = "symbols";
    else if (q("perplexity") > kPerplexityMax) reason = "perplexity";
    else if (d.lang_score < kLangScoreMin) reason = "lang_score";
    reasons[i] = reason.empty() ? "kept" : reason;
    return Exec(s, update,
                {Value::Text(reason.empty() ? "kept" : "filtered"),
                 Value::Text(reason.empty() ? std::string("passed") : reason),
                 Value::Timestamp(NowMs()), Value::Text(d.doc_id)},
                nullptr, error);
  });
  if (!ok) return false;
  result_.filtered.clear();
  result_.kept = 0;
  uint64_t duplicates = 0;
  for (const auto& r : reasons) {
    if (r == "kept") ++result_.kept;
    else if (r == "duplicate") ++duplicates;
    else ++result_.filtered[r];
  }
  std::string detail;
  for (const auto& [reason, count] : result_.filtered) {
    detail += fmt::format("{}{} {}", detail.empty() ? "" : ", ", reason, count);
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  Say(fmt::format("quality: kept {}, filtered {} ({}), {} duplicates left out, in {:.1f} s; {} requests retried", result_.kept,
                  docs.size() - result_.kept - duplicates, detail, duplicates, s,
                  retried_.load() - retried_before));
  RecordStage("quality", docs.size(), result_.kept, detail);
  return true;
}

bool Pipeline::Shard() {
  std::vector<Doc> docs;
  if (!ReadDocs(&docs)) return false;
  std::string update = fmt::format("UPDATE {}.docs SET shard = ?, updated = ? WHERE doc_id = ?", ks_);
  std::atomic<uint64_t> assigned{0};
  uint64_t retried_before = retried_.load();
  bool ok = ForEach("shard", docs.size(), [&](cql::Session& s, size_t i, std::string* error) {
    if (docs[i].status != "kept") return true;
    int64_t shard = static_cast<int64_t>(HashBytes(docs[i].doc_id) %
                                         static_cast<uint64_t>(options_.shards));
    ++assigned;
    return Exec(s, update, {Value::Int(shard), Value::Timestamp(NowMs()), Value::Text(docs[i].doc_id)},
                nullptr, error);
  });
  if (!ok) return false;
  Say(fmt::format("shard: {} kept docs over {} shards; {} requests retried", assigned.load(),
                  options_.shards, retried_.load() - retried_before));
  RecordStage("shard", docs.size(), assigned.load(), fmt::format("{} shards", options_.shards));
  return true;
}

bool Pipeline::Catchup() {
  std::vector<std::string> ids;
  if (!ScanDocs("doc_id", [&](const cql::ResultSet& rs, size_t i) {
        ids.push_back(TextOf(Cell(rs, i, "doc_id")));
      })) {
    return false;
  }
  std::string read = fmt::format("SELECT doc_id, status, shard FROM {}.docs WHERE doc_id = ?", ks_);
  auto pass = [&](std::map<std::string, uint64_t>* repaired, bool* traced) {
    std::mutex mu;
    return ForEach("catchup", ids.size(), [&](cql::Session& s, size_t i, std::string* error) {
      s.set_consistency(Consistency::kAll);
      s.set_tracing(true);
      cql::ResultSet rs;
      if (!Exec(s, read, {Value::Text(ids[i])}, &rs, error)) return false;
      std::lock_guard lock(mu);
      for (const auto& t : rs.traces) {
        *traced = true;
        for (const auto& node : t.read_repaired) ++(*repaired)[node];
      }
      return true;
    });
  };
  bool traced = false;
  result_.repaired.clear();
  if (!pass(&result_.repaired, &traced)) return false;
  std::string detail;
  for (const auto& [node, count] : result_.repaired) {
    detail += fmt::format("{}{} on {} partitions", detail.empty() ? "" : ", ", node, count);
  }
  if (!traced) {
    Say(fmt::format("catchup: {} docs read at ALL (no trace came back, so repairs are not shown)",
                    ids.size()));
    return true;
  }
  Say(fmt::format("catchup: {} docs read at ALL; read repair brought replicas up to date: {}",
                  ids.size(), detail.empty() ? "none needed" : detail));
  std::map<std::string, uint64_t> again;
  if (!pass(&again, &traced)) return false;
  result_.repaired_second_pass = 0;
  for (const auto& [node, count] : again) result_.repaired_second_pass += count;
  Say(fmt::format("catchup: read again at ALL: {} partitions needed repair{}",
                  result_.repaired_second_pass,
                  result_.repaired_second_pass == 0 ? ": every replica has caught up" : ""));
  RecordStage("catchup", ids.size(), ids.size(), detail);
  return true;
}

bool Pipeline::Export() {
  std::ofstream out(options_.export_path, std::ios::trunc);
  if (!out) {
    Say(fmt::format("export: cannot write {}", options_.export_path));
    return false;
  }
  auto ring = client_.Ring(ks_);
  size_t ranges = ring.ok() ? TokenRanges(ring.value()).size() : 0;
  uint64_t written = 0, scanned = 0;
  bool ok = ScanDocs("doc_id, url, lang, lang_score, quality, status, shard",
                     [&](const cql::ResultSet& rs, size_t i) {
                       ++scanned;
                       const Value* shard = Cell(rs, i, "shard");
                       if (TextOf(Cell(rs, i, "status")) != "kept" || shard == nullptr ||
                           std::get<int64_t>(shard->data) != options_.export_shard) {
                         return;
                       }
                       nlohmann::json quality = nlohmann::json::object();
                       if (const Value* q = Cell(rs, i, "quality")) {
                         for (const auto& [k, v] : std::get<cql::ValueMap>(q->data)) {
                           quality[TextOf(&k)] = DoubleOf(&v);
                         }
                       }
                       nlohmann::json j = {{"doc_id", TextOf(Cell(rs, i, "doc_id"))},
                                           {"url", TextOf(Cell(rs, i, "url"))},
                                           {"lang", TextOf(Cell(rs, i, "lang"))},
                                           {"lang_score", DoubleOf(Cell(rs, i, "lang_score"))},
                                           {"quality", quality},
                                           {"shard", options_.export_shard}};
                       out << j.dump() << '\n';
                       ++written;
                     });
  out.close();
  if (!ok) return false;
  result_.exported = written;
  Say(fmt::format("export: shard {}: {} docs to {} ({} docs scanned over {} token ranges)",
                  options_.export_shard, written, options_.export_path, scanned, ranges));
  RecordStage("export", scanned, written, options_.export_path);
  return true;
}

}  // namespace ringkv::pipeline
