// EditLineReader over libedit's native interface (histedit.h): its readline emulation cannot
// bind Ctrl-C to "abandon this line", which cqlsh users expect.
#include <histedit.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tools/kvsh/completion.h"
#include "tools/kvsh/line_reader.h"

namespace ringkv::kvsh {

struct EditLineReader::State {
  EditLine* el = nullptr;
  History* history = nullptr;
  std::string history_file;
  Completer complete;
  std::string prompt;
  bool interrupted = false;
  std::string pending;
};

namespace {

// libedit calls back without a user pointer we can rely on across versions; one reader at a time.
EditLineReader::State* g_state = nullptr;

char* PromptFn(EditLine*) { return g_state->prompt.data(); }

std::string CommonPrefix(const std::vector<std::string>& v) {
  std::string prefix = v.front();
  for (const auto& s : v) {
    size_t i = 0;
    while (i < prefix.size() && i < s.size() && prefix[i] == s[i]) ++i;
    prefix.resize(i);
  }
  return prefix;
}

unsigned char CompleteFn(EditLine* el, int) {
  const LineInfo* li = el_line(el);
  const std::string before(li->buffer, static_cast<size_t>(li->cursor - li->buffer));
  const std::string text = g_state->pending + before;
  const std::vector<std::string> candidates = g_state->complete(text);
  if (candidates.empty()) return CC_REFRESH_BEEP;
  const std::string partial(PartialWord(before));
  if (candidates.size() == 1) {
    const std::string& c = candidates.front();
    // Candidates may differ from the partial word in case (keywords); replace the whole word.
    el_deletestr(el, static_cast<int>(partial.size()));
    const bool opens = !c.empty() && c.back() == '<';
    el_insertstr(el, (c + (opens ? "" : " ")).c_str());
    return CC_REFRESH;
  }
  const std::string prefix = CommonPrefix(candidates);
  if (prefix.size() > partial.size()) {
    el_deletestr(el, static_cast<int>(partial.size()));
    el_insertstr(el, prefix.c_str());
    return CC_REFRESH;
  }
  // Ambiguous: list them below the line, as readline does, and redraw the prompt.
  size_t width = 0;
  for (const auto& c : candidates) width = std::max(width, c.size());
  const size_t per_line = std::max<size_t>(1, 80 / (width + 2));
  std::string listing = "\n";
  for (size_t i = 0; i < candidates.size(); ++i) {
    listing += candidates[i] + std::string(width + 2 - candidates[i].size(), ' ');
    if ((i + 1) % per_line == 0 || i + 1 == candidates.size()) listing += "\n";
  }
  std::fputs(listing.c_str(), stdout);
  std::fflush(stdout);
  return CC_REDISPLAY;
}

unsigned char CancelFn(EditLine*, int) {
  g_state->interrupted = true;
  return CC_NEWLINE;
}

}  // namespace

EditLineReader::EditLineReader(const char* argv0, std::string history_file, Completer complete)
    : state_(std::make_unique<State>()) {
  g_state = state_.get();
  state_->history_file = std::move(history_file);
  state_->complete = std::move(complete);
  HistEvent ev;
  state_->history = history_init();
  history(state_->history, &ev, H_SETSIZE, kHistoryMax);
  history(state_->history, &ev, H_SETUNIQUE, 1);
  if (!state_->history_file.empty()) {
    history(state_->history, &ev, H_LOAD, state_->history_file.c_str());
  }
  state_->el = el_init(argv0, stdin, stdout, stderr);
  EditLine* el = state_->el;
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_SIGNAL, 1);
  el_set(el, EL_PROMPT, &PromptFn);
  el_set(el, EL_HIST, history, state_->history);
  el_set(el, EL_ADDFN, "kvsh-complete", "complete a word", &CompleteFn);
  el_set(el, EL_BIND, "^I", "kvsh-complete", nullptr);
  // Ctrl-C reaches the editor as a character instead of a signal, and abandons the line.
  el_set(el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(el, EL_ADDFN, "kvsh-cancel", "abandon the line", &CancelFn);
  el_set(el, EL_BIND, "^C", "kvsh-cancel", nullptr);
}

EditLineReader::~EditLineReader() {
  el_end(state_->el);
  history_end(state_->history);
  g_state = nullptr;
}

ReadResult EditLineReader::Read(std::string_view prompt) {
  state_->prompt = std::string(prompt);
  state_->pending = pending_;
  state_->interrupted = false;
  int count = 0;
  const char* line = el_gets(state_->el, &count);
  ReadResult r;
  if (state_->interrupted) {
    std::fputs("\n", stdout);
    r.kind = ReadResult::kInterrupted;
    return r;
  }
  if (line == nullptr || count <= 0) {
    std::fputs("\n", stdout);
    return r;  // kEof
  }
  r.kind = ReadResult::kLine;
  r.line.assign(line, static_cast<size_t>(count));
  while (!r.line.empty() && (r.line.back() == '\n' || r.line.back() == '\r')) r.line.pop_back();
  return r;
}

void EditLineReader::AddHistory(std::string_view entry) {
  // One line per entry: a multi-line statement comes back with Up as one line.
  std::string flat(entry);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  if (flat.empty()) return;
  HistEvent ev;
  history(state_->history, &ev, H_ENTER, flat.c_str());
  if (!state_->history_file.empty()) {
    history(state_->history, &ev, H_SAVE, state_->history_file.c_str());
  }
}

}  // namespace ringkv::kvsh
