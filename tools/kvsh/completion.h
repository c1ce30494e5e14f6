// Tab completion: the words that may follow what has been typed so far in a statement. Knows
// the statement keywords, kvsh's own commands and their arguments, and asks the Backend for
// keyspace, table and column names (after FROM / INTO / UPDATE / TABLE / COPY: tables; after USE
// / KEYSPACE: keyspaces; once a table is named: its columns).
//
// Thread safety: as the Backend it is given.
#ifndef RINGKV_TOOLS_KVSH_COMPLETION_H_
#define RINGKV_TOOLS_KVSH_COMPLETION_H_

#include <string>
#include <string_view>
#include <vector>

#include "tools/kvsh/backend.h"

namespace ringkv::kvsh {

// Candidates for the word being typed at the end of `text` (everything typed so far in the
// statement, previous lines of a multi-line statement included). Each candidate is a whole
// word that starts with the partial word (case-insensitively for keywords, which are offered
// in the partial word's case), sorted, without duplicates.
std::vector<std::string> CompletionCandidates(std::string_view text, Backend& backend);

// The partial word at the end of `text` (what a candidate replaces).
std::string_view PartialWord(std::string_view text);

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_COMPLETION_H_
