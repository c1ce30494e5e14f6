// Where a CQL row lives: the ringkv key of its partition and the row key inside the partition.
//
//   storage key = <table> "\0" EncodeValue(pk1) EncodeValue(pk2) ...   (in the table's keyspace)
//   row key     = EncodeValue(ck1) EncodeValue(ck2) ...; a DESC column's bytes are complemented,
//                 so that bytewise order of row keys is the table's clustering order.
//
// EncodeValue is self-delimiting and order-preserving for scalars (key columns are scalars), so a
// complemented encoding still orders in reverse (no encoding is a prefix of another).
//
// Thread safety: pure functions.
#ifndef RINGKV_CQL_KEYS_H_
#define RINGKV_CQL_KEYS_H_

#include <string>
#include <string_view>
#include <vector>

#include "cql/schema.h"
#include "cql/value.h"

namespace ringkv::cql {

// "<table>\0": every partition key of the table starts with it (the scan prefix).
std::string TableKeyPrefix(std::string_view table);
// REQUIRES: values has one entry per partition key column, of its type.
std::string StorageKey(const TableSchema& table, const std::vector<Value>& pk_values);
// The partition key values of a storage key of `table`; false if it is not one.
bool DecodeStorageKey(const TableSchema& table, std::string_view key, std::vector<Value>* out);

// REQUIRES: values is a prefix of the clustering columns (possibly all, possibly none).
std::string RowKey(const TableSchema& table, const std::vector<Value>& ck_values);
bool DecodeRowKey(const TableSchema& table, std::string_view key, std::vector<Value>* out);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_KEYS_H_
