#include "cql/keys.h"

namespace ringkv::cql {

std::string TableKeyPrefix(std::string_view table) {
  std::string out(table);
  out.push_back('\0');
  return out;
}

std::string StorageKey(const TableSchema& table, const std::vector<Value>& pk_values) {
  std::string out = TableKeyPrefix(table.name);
  for (const Value& v : pk_values) EncodeValue(v, &out);
  return out;
}

bool DecodeStorageKey(const TableSchema& table, std::string_view key, std::vector<Value>* out) {
  const std::string prefix = TableKeyPrefix(table.name);
  if (key.substr(0, prefix.size()) != prefix) return false;
  key.remove_prefix(prefix.size());
  out->clear();
  for (size_t i = 0; i < table.partition_key_count; ++i) {
    Value v;
    if (!DecodeValue(table.columns[i].type, &key, &v)) return false;
    out->push_back(std::move(v));
  }
  return key.empty();
}

std::string RowKey(const TableSchema& table, const std::vector<Value>& ck_values) {
  std::string out;
  for (size_t i = 0; i < ck_values.size(); ++i) {
    const size_t start = out.size();
    EncodeValue(ck_values[i], &out);
    if (table.columns[table.partition_key_count + i].descending) {
      for (size_t j = start; j < out.size(); ++j) out[j] = static_cast<char>(~out[j]);
    }
  }
  return out;
}

bool DecodeRowKey(const TableSchema& table, std::string_view key, std::vector<Value>* out) {
  out->clear();
  for (size_t i = 0; i < table.clustering_count; ++i) {
    const ColumnSchema& col = table.columns[table.partition_key_count + i];
    Value v;
    if (col.descending) {
      // The value's length is only known once decoded: un-complement the rest, decode one value,
      // and advance the original by what it took.
      std::string plain(key);
      for (char& c : plain) c = static_cast<char>(~c);
      std::string_view in = plain;
      if (!DecodeValue(col.type, &in, &v)) return false;
      key.remove_prefix(plain.size() - in.size());
    } else if (!DecodeValue(col.type, &key, &v)) {
      return false;
    }
    out->push_back(std::move(v));
  }
  return key.empty();
}

}  // namespace ringkv::cql
