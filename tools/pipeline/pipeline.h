// The pipeline demo: the stages of an LLM pre-training data pipeline run against ringkv through
// CQL-lite (cql/session.h), over the per-document records the corpus generator made (corpus.h):
//
//   setup    keyspace `pipeline` (RF 3) and its tables: docs, bands, stage_runs
//   load     the corpus's JSONL through kvload's loader (tools/kvload/loader.h)
//   dedup    near-duplicates by MinHash LSH: each doc's band keys go into `bands` (band_key ->
//            set of doc ids); a doc sharing a band with an earlier doc is a duplicate of the
//            earliest; planted and found duplicates are compared
//   quality  status kept / filtered, with a reason, from each doc's features
//   shard    a training shard for each kept doc
//   catchup  every doc read at ALL with tracing: which replicas read repair brought up to date
//            (after a node was down), then again to show nothing is left to repair
//   export   one shard, by token ranges of the ring (WHERE token(doc_id) > a AND token(doc_id)
//            <= b), into a JSONL file
//
// Requests run on `concurrency` threads, one Session each. A request that fails for the
// cluster's sake (unavailable, timeout) is retried with backoff; every write is idempotent (an
// upsert, or a set add), so a retry, even of a write in doubt, is safe.
//
// Hooks (`hooks`) run a shell command at a point of the run: before a stage ("quality") or when
// a stage has handed out a share of its work ("quality:50" for half-way). The demo uses them to
// kill a node in the middle of a stage and to restart it before catch-up.
//
// Thread safety: a Pipeline is used from one thread; it starts and joins its own workers.
// Lifetime: the Client must outlive the Pipeline. Output goes to `out` (a person reads it).
#ifndef RINGKV_TOOLS_PIPELINE_PIPELINE_H_
#define RINGKV_TOOLS_PIPELINE_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cql/session.h"
#include "ringkv/client.h"
#include "tools/pipeline/corpus.h"

namespace ringkv::pipeline {

struct PipelineOptions {
  std::string keyspace = "pipeline";
  int replication_factor = 3;
  int concurrency = 8;   // 1..64
  int shards = 8;        // 1..10000
  int export_shard = 0;
  std::string export_path = "shard-0.jsonl";
  int retries = 8;       // per request, after a cluster error
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
  std::map<std::string, std::string> hooks;  // "stage" or "stage:percent" -> shell command
  std::FILE* out = stdout;
};

// What the stages found, for the caller (and the tests).
struct PipelineResult {
  uint64_t docs = 0;
  uint64_t planted = 0, found = 0, found_correct = 0;  // near-duplicates
  std::map<std::string, uint64_t> filtered;            // reason -> docs
  uint64_t kept = 0;
  uint64_t exported = 0;
  std::map<std::string, uint64_t> repaired;            // node -> partitions read-repaired
  uint64_t repaired_second_pass = 0;
  uint64_t retried_requests = 0;
};

class Pipeline {
 public:
  Pipeline(Client& client, PipelineOptions options);

  // Each returns false after printing why (the cluster failed after retries, ...).
  bool Setup();
  bool Load(const std::string& jsonl_path);
  bool Dedup();
  bool Quality();
  bool Shard();
  bool Catchup();
  bool Export();

  PipelineResult result() const {
    PipelineResult r = result_;
    r.retried_requests = retried_.load();
    return r;
  }
  // The stage names, in order, for --stages.
  static const std::vector<std::string>& StageNames();
  bool RunStage(const std::string& name);

 private:
  struct Doc {
    std::string doc_id, status, planted_dup_of;
    std::vector<std::string> bands;
    std::map<std::string, double> quality;
    double lang_score = 0;
    int64_t shard = -1;
  };
  using Work = std::function<bool(cql::Session&, size_t, std::string*)>;

  // Executes one statement, retrying cluster errors with backoff. False (and *error) when it
  // still fails.
  bool Exec(cql::Session& session, const std::string& statement,
            const std::vector<cql::Value>& binds, cql::ResultSet* rows, std::string* error);
  // Runs work(session, i) for i in [0, n) on the workers; false if any item failed.
  bool ForEach(const std::string& stage, size_t n, const Work& work);
  // Every doc, by token ranges of the ring; `columns` as a SELECT list.
  bool ScanDocs(const std::string& columns, const std::function<void(const cql::ResultSet&,
                                                                      size_t)>& row);
  bool ReadDocs(std::vector<Doc>* docs);
  void RunHook(const std::string& when);
  void RecordStage(const std::string& stage, uint64_t in, uint64_t out, const std::string& note);
  void Say(const std::string& line);

  Client& client_;
  PipelineOptions options_;
  PipelineResult result_;
  std::string ks_;
  std::atomic<uint64_t> retried_{0};  // requests retried after a cluster error, all workers
};

}  // namespace ringkv::pipeline

#endif  // RINGKV_TOOLS_PIPELINE_PIPELINE_H_
