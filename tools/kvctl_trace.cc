// --trace output shared by get, put and del.
#include <fmt/format.h>

#include "tools/kvctl.h"
#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

std::string Names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "-" : out;
}

}  // namespace

void PrintTraceText(const TraceInfo& trace) {
  fmt::print("\nTracing (coordinator {}, {} us):\n\n", trace.coordinator, trace.duration_us);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"elapsed_us", "node", "activity"});
  for (const auto& e : trace.events) {
    rows.push_back({fmt::format("{:>10}", e.elapsed_us), e.node.empty() ? trace.coordinator : e.node,
                    e.activity});
  }
  fmt::print("{}", FormatTable(rows));
  fmt::print("\nreplicas asked: {}; answered: {}; read repaired: {}; live siblings: {}\n",
             Names(trace.replicas_asked), Names(trace.replicas_answered),
             Names(trace.read_repaired), trace.siblings);
}

nlohmann::json TraceJson(const TraceInfo& trace) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : trace.events) {
    events.push_back({{"elapsed_us", e.elapsed_us}, {"node", e.node}, {"activity", e.activity}});
  }
  return {{"coordinator", trace.coordinator},
          {"duration_us", trace.duration_us},
          {"siblings", trace.siblings},
          {"replicas_asked", trace.replicas_asked},
          {"replicas_answered", trace.replicas_answered},
          {"read_repaired", trace.read_repaired},
          {"events", events}};
}

}  // namespace ringkv::kvctl
