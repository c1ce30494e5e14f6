// CQL values on the wire (native protocol v4, section 6): a column type as an [option], and a
// value's bytes for each type ringkv's CQL-lite has. The conversion between cql::Value and the
// protocol's bytes lives here and nowhere else.
//
// Thread safety: pure functions.
#ifndef RINGKV_CQL_NATIVE_TYPES_H_
#define RINGKV_CQL_NATIVE_TYPES_H_

#include <string>
#include <string_view>

#include "cql/native/frame.h"
#include "cql/value.h"

namespace ringkv::cql::native {

// Writes `type` as the spec's [option]: its id, then the element types of a collection.
void WriteTypeOption(const Type& type, BodyWriter* out);

// The protocol's bytes of a non-null value.
std::string SerializeValue(const Value& v);

// Reads the bytes of a non-null value of `type`. False with `*error` set on bytes that are not a
// value of that type (wrong width, a collection count over `limits`, truncated elements, a null
// element in a collection).
bool DeserializeValue(const Type& type, std::string_view bytes, const FrameLimits& limits,
                      Value* out, std::string* error);

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_TYPES_H_
