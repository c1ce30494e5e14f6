#include "tools/pipeline/corpus.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "tools/pipeline/minhash.h"

namespace ringkv::pipeline {
namespace {

constexpr int kVocabulary = 4000;

struct Language {
  const char* code;
  double weight;
  std::vector<const char*> syllables;
};

const std::vector<Language>& Languages() {
  static const std::vector<Language> kLanguages = {
      {"en", 0.55, {"th", "ing", "er", "an", "re", "on", "at", "en", "nd", "st", "es", "or"}},
      {"de", 0.15, {"sch", "ein", "ch", "ge", "und", "ber", "ist", "ung", "en", "au", "ei", "zu"}},
      {"fr", 0.12, {"le", "de", "ou", "ai", "que", "ent", "es", "on", "eu", "tion", "re", "la"}},
      {"es", 0.12, {"de", "la", "que", "os", "ar", "ci", "ón", "el", "es", "ra", "do", "ta"}},
      {"und", 0.06, {"xq", "zz", "kv", "pt", "ql", "wu", "yx", "jj", "vv", "hk", "fz", "qo"}},
  };
  return kLanguages;
}

// Word `rank` of a language: a few syllables chosen by a hash of (language, rank), so the same
// rank is always the same word.
std::string Word(const Language& lang, int rank) {
  uint64_t h = Mix64(HashBytes(lang.code) ^ static_cast<uint64_t>(rank));
  int n = 1 + static_cast<int>(h % 3) + (rank > 500 ? 1 : 0);
  std::string w;
  for (int i = 0; i < n; ++i) {
    h = Mix64(h);
    w += lang.syllables[h % lang.syllables.size()];
  }
  return w + (rank % 7 == 0 ? "" : std::to_string(rank % 10));
}

enum class Flavor { kNormal, kShort, kSymbols, kRareWords };

struct Text {
  std::vector<std::string> words;
  std::vector<int> ranks;  // -1 for symbol tokens
};

Text MakeText(const Language& lang, Flavor flavor, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  int length = flavor == Flavor::kShort ? 8 + static_cast<int>(rng() % 33)
                                        : 80 + static_cast<int>(rng() % 420);
  Text t;
  for (int i = 0; i < length; ++i) {
    if (flavor == Flavor::kSymbols && u(rng) < 0.35) {
      static const char* kJunk[] = {"$$$", "#!@", "&&&", "%%%", "<<>>", "|||", "@@"};
      t.words.push_back(kJunk[rng() % 7]);
      t.ranks.push_back(-1);
      continue;
    }
    // Log-uniform ranks, close to the Zipf shape of real text; "rare words" pages (keyword
    // stuffing, garbled text) draw ranks uniformly, which is what raises their perplexity.
    int rank = flavor == Flavor::kRareWords
                   ? static_cast<int>(rng() % kVocabulary)
                   : static_cast<int>(std::pow(kVocabulary, u(rng))) - 1;
    rank = std::clamp(rank, 0, kVocabulary - 1);
    t.words.push_back(Word(lang, rank));
    t.ranks.push_back(rank);
  }
  return t;
}

std::map<std::string, double> Features(const Text& t) {
  double chars = 0, symbols = 0, log_rank = 0, ranked = 0;
  for (size_t i = 0; i < t.words.size(); ++i) {
    chars += static_cast<double>(t.words[i].size()) + 1;
    if (t.ranks[i] < 0) {
      symbols += static_cast<double>(t.words[i].size());
    } else {
      log_rank += std::log2(t.ranks[i] + 2.0);
      ranked += 1;
    }
  }
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  double letters = 0;
  for (const auto& w : t.words) letters += static_cast<double>(w.size());
  return {
      {"words", static_cast<double>(t.words.size())},
      {"symbol_ratio", round3(symbols / std::max(chars, 1.0))},
      {"perplexity", round3(std::exp2(ranked > 0 ? log_rank / ranked : 0))},
      {"mean_word_len", round3(letters / std::max<double>(1, static_cast<double>(t.words.size())))},
  };
}

}  // namespace

std::vector<DocRecord> Generate(const CorpusOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> u(0, 1);
  static const char* kSites[] = {"news", "wiki", "forum", "blog", "shop", "docs", "recipes", "travel"};
  std::vector<DocRecord> docs;
  std::vector<Text> texts;
  std::vector<size_t> originals;  // long, non-duplicate documents a duplicate may copy
  const int hashes = options.bands * options.rows_per_band;
  for (int i = 0; i < options.docs; ++i) {
    DocRecord doc;
    doc.doc_id = fmt::format("doc-{:06}", i);
    Text text;
    if (!originals.empty() && u(rng) < options.dup_rate) {
      size_t of = originals[rng() % originals.size()];
      const DocRecord& original = docs[of];
      text = texts[of];
      // About 1% of the words change (at least one): a mirror that rewrote a date or a name.
      const auto& lang = *std::find_if(Languages().begin(), Languages().end(),
                                       [&](const Language& l) { return original.lang == l.code; });
      size_t edits = std::max<size_t>(1, text.words.size() / 100);
      for (size_t e = 0; e < edits; ++e) {
        size_t at = rng() % text.words.size();
        int rank = static_cast<int>(rng() % kVocabulary);
        text.words[at] = Word(lang, rank);
        text.ranks[at] = rank;
      }
      doc.lang = original.lang;
      doc.lang_score = std::round(std::clamp(original.lang_score + (u(rng) - 0.5) * 0.02, 0.0, 1.0) * 1000) / 1000;
      doc.url = fmt::format("https://mirror{}.example/{}", rng() % 50, original.url.substr(8));
      doc.planted_dup_of = original.doc_id;
    } else {
      double pick = u(rng), acc = 0;
      const Language* lang = &Languages().back();
      for (const auto& l : Languages()) {
        acc += l.weight;
        if (pick < acc) {
          lang = &l;
          break;
        }
      }
      double f = u(rng);
      Flavor flavor = f < 0.08 ? Flavor::kShort
                      : f < 0.13 ? Flavor::kSymbols
                      : f < 0.18 ? Flavor::kRareWords
                                 : Flavor::kNormal;
      text = MakeText(*lang, flavor, rng);
      doc.lang = lang->code;
      doc.lang_score = std::string(lang->code) == "und" ? 0.3 + 0.3 * u(rng) : 0.75 + 0.25 * u(rng);
      doc.lang_score = std::round(doc.lang_score * 1000) / 1000;
      doc.url = fmt::format("https://{}{}.example/{}/{}", kSites[rng() % 8], rng() % 100,
                            doc.lang, i);
      if (text.words.size() >= 80) originals.push_back(docs.size());
    }
    doc.quality = Features(text);
    doc.minhash_bands =
        BandKeys(MinHash(Shingles(text.words), hashes), options.bands, options.rows_per_band);
    docs.push_back(std::move(doc));
    texts.push_back(std::move(text));
  }
  return docs;
}

nlohmann::json ToJson(const DocRecord& doc) {
  nlohmann::json j = {{"doc_id", doc.doc_id},       {"url", doc.url},
                      {"lang", doc.lang},           {"lang_score", doc.lang_score},
                      {"quality", doc.quality},     {"minhash_bands", doc.minhash_bands},
                      {"status", "new"}};
  if (!doc.planted_dup_of.empty()) j["planted_dup_of"] = doc.planted_dup_of;
  return j;
}

}  // namespace ringkv::pipeline
