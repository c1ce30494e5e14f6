// ringkv-pipeline: the LLM data pipeline demo over a ringkv cluster. See --help and pipeline.h.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "ringkv/client.h"
#include "tools/pipeline/corpus.h"
#include "tools/pipeline/pipeline.h"

namespace {

using ringkv::pipeline::CorpusOptions;
using ringkv::pipeline::Pipeline;
using ringkv::pipeline::PipelineOptions;

constexpr char kFooter[] = R"(Stages (run, in this order; --stages picks some):
  setup    keyspace (RF 3) and tables docs, bands, stage_runs
  load     generate the corpus (or take --corpus FILE) and load it with kvload's loader
  dedup    MinHash LSH near-dedup through the bands table; planted vs found
  quality  status kept / filtered with a reason, from each doc's features
  shard    a training shard for each kept doc
  catchup  read every doc at ALL with tracing: which replicas read repair updated
  export   one shard, by token ranges of the ring, into a JSONL file

Hooks: --at WHEN=COMMAND runs a shell command before stage WHEN, or when stage WHEN has handed
out PERCENT of its work (WHEN = STAGE:PERCENT), e.g.
  --at 'quality:50=tools/ringkv-cluster kill n2' --at 'catchup=tools/ringkv-cluster restart n2'

Exit codes: 0 ok, 1 a stage failed, 2 usage.)";

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool WriteCorpus(const CorpusOptions& corpus, const std::string& path, uint64_t* planted) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return false;
  *planted = 0;
  for (const auto& doc : ringkv::pipeline::Generate(corpus)) {
    out << ringkv::pipeline::ToJson(doc).dump() << '\n';
    if (!doc.planted_dup_of.empty()) ++*planted;
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("ringkv-pipeline: an LLM data pipeline (near-dedup, quality filter, sharding, "
               "export) over a ringkv cluster",
               "ringkv-pipeline");
  app.footer(kFooter);
  app.require_subcommand(1);
  std::string hosts = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002";
  PipelineOptions options;
  CorpusOptions corpus;
  app.add_option("--host", hosts, "Nodes to start from: HOST:PORT[,...]")->capture_default_str();
  app.add_option("-k,--keyspace", options.keyspace, "Keyspace")->capture_default_str();

  auto* generate = app.add_subcommand("generate", "Write the synthetic corpus as JSONL");
  std::string out_path = "corpus.jsonl";
  for (auto* cmd : {generate}) {
    cmd->add_option("--docs", corpus.docs, "Documents")->capture_default_str();
    cmd->add_option("--seed", corpus.seed, "Generator seed")->capture_default_str();
    cmd->add_option("--dup-rate", corpus.dup_rate, "Share of planted near-duplicates")
        ->capture_default_str();
  }
  generate->add_option("-o,--out", out_path, "Output file")->capture_default_str();

  auto* run = app.add_subcommand("run", "Run the stages against the cluster");
  std::string stages_list = "setup,load,dedup,quality,shard,catchup,export";
  std::string corpus_path;
  std::vector<std::string> at;
  int timeout_ms = 5000;
  run->add_option("--docs", corpus.docs, "Documents to generate for the load stage")
      ->capture_default_str();
  run->add_option("--seed", corpus.seed, "Generator seed")->capture_default_str();
  run->add_option("--dup-rate", corpus.dup_rate, "Share of planted near-duplicates")
      ->capture_default_str();
  run->add_option("--corpus", corpus_path,
                  "JSONL corpus the load stage loads (default: generate one beside --export)");
  run->add_option("--stages", stages_list, "Stages to run, comma-separated")->capture_default_str();
  run->add_option("--shards", options.shards, "Training shards")->capture_default_str();
  run->add_option("--export-shard", options.export_shard, "Shard the export stage writes")
      ->capture_default_str();
  run->add_option("--export", options.export_path, "Export file")->capture_default_str();
  run->add_option("-c,--concurrency", options.concurrency, "Worker threads")->capture_default_str();
  run->add_option("--retries", options.retries, "Retries of a request after a cluster error")
      ->capture_default_str();
  run->add_option("--timeout-ms", timeout_ms, "Deadline of one request")->capture_default_str();
  run->add_option("--at", at, "WHEN=COMMAND: run COMMAND before stage WHEN or at STAGE:PERCENT");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (corpus.docs < 1 || corpus.docs > 1'000'000) {
    fmt::print(stderr, "ringkv-pipeline: error: --docs must be 1..1000000\n");
    return 2;
  }
  if (*generate) {
    uint64_t planted = 0;
    if (!WriteCorpus(corpus, out_path, &planted)) {
      fmt::print(stderr, "ringkv-pipeline: error: cannot write {}\n", out_path);
      return 1;
    }
    fmt::print("generate: {} docs ({} planted near-duplicates, seed {}) -> {}\n", corpus.docs,
               planted, corpus.seed, out_path);
    return 0;
  }

  if (options.concurrency < 1 || options.concurrency > 64 || options.shards < 1 ||
      options.shards > 10000 || options.export_shard < 0 || options.export_shard >= options.shards ||
      options.retries < 0 || options.retries > 20 || timeout_ms < 1) {
    fmt::print(stderr, "ringkv-pipeline: error: --concurrency 1..64, --shards 1..10000, "
                       "--export-shard below --shards, --retries 0..20\n");
    return 2;
  }
  for (const auto& a : at) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "ringkv-pipeline: error: --at wants WHEN=COMMAND, not '{}'\n", a);
      return 2;
    }
    options.hooks[a.substr(0, eq)] = a.substr(eq + 1);
  }
  auto stages = Split(stages_list);
  for (const auto& s : stages) {
    const auto& names = Pipeline::StageNames();
    if (s != "load" && std::find(names.begin(), names.end(), s) == names.end()) {
      fmt::print(stderr, "ringkv-pipeline: error: unknown stage '{}'\n", s);
      return 2;
    }
  }

  ringkv::ClientOptions client_options;
  client_options.contact_points = Split(hosts);
  client_options.request_timeout = std::chrono::milliseconds(timeout_ms);
  client_options.connect_timeout = std::chrono::milliseconds(std::min(timeout_ms, 2000));
  client_options.client_name = "ringkv-pipeline";
  ringkv::Client client(client_options);
  Pipeline pipeline(client, options);

  auto start = std::chrono::steady_clock::now();
  for (const auto& stage : stages) {
    bool ok;
    if (stage == "load") {
      auto it = options.hooks.find("load");
      if (it != options.hooks.end()) std::system(it->second.c_str());
      std::string path = corpus_path;
      if (path.empty()) {
        auto slash = options.export_path.find_last_of('/');
        path = (slash == std::string::npos ? std::string() : options.export_path.substr(0, slash + 1)) +
               "corpus.jsonl";
        uint64_t planted = 0;
        if (!WriteCorpus(corpus, path, &planted)) {
          fmt::print(stderr, "ringkv-pipeline: error: cannot write {}\n", path);
          return 1;
        }
        fmt::print("generate: {} docs ({} planted near-duplicates, seed {}) -> {}\n", corpus.docs,
                   planted, corpus.seed, path);
      }
      ok = pipeline.Load(path);
    } else {
      ok = pipeline.RunStage(stage);
    }
    if (!ok) {
      fmt::print("ringkv-pipeline: stage {} failed\n", stage);
      return 1;
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto result = pipeline.result();
  fmt::print("pipeline: done in {:.1f} s ({} requests retried after cluster errors)\n", s,
             result.retried_requests);
  return 0;
}
