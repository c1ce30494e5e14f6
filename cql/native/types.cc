#include "cql/native/types.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace ringkv::cql::native {

namespace {

// Type ids of section 4.2.5.2.
uint16_t TypeId(Kind k) {
  switch (k) {
    case Kind::kText:
      return 0x000D;  // varchar
    case Kind::kBlob:
      return 0x0003;
    case Kind::kInt:
      return 0x0009;
    case Kind::kBigint:
      return 0x0002;
    case Kind::kFloat:
      return 0x0008;
    case Kind::kDouble:
      return 0x0007;
    case Kind::kBoolean:
      return 0x0004;
    case Kind::kTimestamp:
      return 0x000B;
    case Kind::kUuid:
      return 0x000C;
    case Kind::kList:
      return 0x0020;
    case Kind::kMap:
      return 0x0021;
    case Kind::kSet:
      return 0x0022;
  }
  return 0x0003;
}

void PutElement(const std::string& bytes, std::string* out) {
  PutBe(static_cast<uint32_t>(bytes.size()), 4, out);
  out->append(bytes);
}

// Reads one [int]-length-prefixed element of a collection.
bool TakeElement(std::string_view* in, std::string_view* out, std::string* error) {
  if (in->size() < 4) {
    *error = "truncated collection element";
    return false;
  }
  const auto n = static_cast<int32_t>(GetBe(in->data(), 4));
  in->remove_prefix(4);
  if (n < 0) {
    *error = "null element in a collection";
    return false;
  }
  if (static_cast<size_t>(n) > in->size()) {
    *error = fmt::format("collection element of {} bytes, {} left", n, in->size());
    return false;
  }
  *out = in->substr(0, static_cast<size_t>(n));
  in->remove_prefix(static_cast<size_t>(n));
  return true;
}

bool Fixed(std::string_view bytes, size_t width, const Type& type, std::string* error) {
  if (bytes.size() == width) return true;
  *error = fmt::format("a {} value takes {} bytes, not {}", type.ToCql(), width, bytes.size());
  return false;
}

bool DeserializeScalar(const Type& type, std::string_view b, Value* out, std::string* error) {
  out->type = type;
  switch (type.kind) {
    case Kind::kText:
    case Kind::kBlob:
      out->data = std::string(b);
      return true;
    case Kind::kInt:
      if (!Fixed(b, 4, type, error)) return false;
      out->data = int64_t{static_cast<int32_t>(GetBe(b.data(), 4))};
      return true;
    case Kind::kBigint:
    case Kind::kTimestamp:
      if (!Fixed(b, 8, type, error)) return false;
      out->data = static_cast<int64_t>(GetBe(b.data(), 8));
      return true;
    case Kind::kFloat:
      if (!Fixed(b, 4, type, error)) return false;
      out->data = double{std::bit_cast<float>(static_cast<uint32_t>(GetBe(b.data(), 4)))};
      return true;
    case Kind::kDouble:
      if (!Fixed(b, 8, type, error)) return false;
      out->data = std::bit_cast<double>(GetBe(b.data(), 8));
      return true;
    case Kind::kBoolean:
      if (!Fixed(b, 1, type, error)) return false;
      out->data = b[0] != 0;
      return true;
    case Kind::kUuid:
      if (!Fixed(b, 16, type, error)) return false;
      out->data = Uuid{std::string(b)};
      return true;
    case Kind::kList:
    case Kind::kSet:
    case Kind::kMap:
      break;
  }
  *error = "not a scalar type";
  return false;
}

}  // namespace

void WriteTypeOption(const Type& type, BodyWriter* out) {
  out->Short(TypeId(type.kind));
  for (const Type& p : type.params) WriteTypeOption(p, out);
}

std::string SerializeValue(const Value& v) {
  std::string out;
  switch (v.type.kind) {
    case Kind::kText:
    case Kind::kBlob:
      return std::get<std::string>(v.data);
    case Kind::kInt:
      PutBe(static_cast<uint32_t>(std::get<int64_t>(v.data)), 4, &out);
      return out;
    case Kind::kBigint:
    case Kind::kTimestamp:
      PutBe(static_cast<uint64_t>(std::get<int64_t>(v.data)), 8, &out);
      return out;
    case Kind::kFloat:
      PutBe(std::bit_cast<uint32_t>(static_cast<float>(std::get<double>(v.data))), 4, &out);
      return out;
    case Kind::kDouble:
      PutBe(std::bit_cast<uint64_t>(std::get<double>(v.data)), 8, &out);
      return out;
    case Kind::kBoolean:
      out.push_back(std::get<bool>(v.data) ? 1 : 0);
      return out;
    case Kind::kUuid:
      return std::get<Uuid>(v.data).bytes;
    case Kind::kList:
    case Kind::kSet: {
      const auto& list = std::get<ValueList>(v.data);
      PutBe(static_cast<uint32_t>(list.size()), 4, &out);
      for (const Value& e : list) PutElement(SerializeValue(e), &out);
      return out;
    }
    case Kind::kMap: {
      const auto& map = std::get<ValueMap>(v.data);
      PutBe(static_cast<uint32_t>(map.size()), 4, &out);
      for (const auto& [k, e] : map) {
        PutElement(SerializeValue(k), &out);
        PutElement(SerializeValue(e), &out);
      }
      return out;
    }
  }
  return out;
}

bool DeserializeValue(const Type& type, std::string_view bytes, const FrameLimits& limits,
                      Value* out, std::string* error) {
  if (!type.is_collection()) return DeserializeScalar(type, bytes, out, error);
  if (bytes.size() < 4) {
    *error = "truncated collection count";
    return false;
  }
  const auto n = static_cast<int32_t>(GetBe(bytes.data(), 4));
  bytes.remove_prefix(4);
  // Each element takes at least 4 bytes: a count the bytes cannot hold is refused before any
  // allocation.
  if (n < 0 || static_cast<size_t>(n) > limits.collection_count_max ||
      static_cast<size_t>(n) > bytes.size() / 4) {
    *error = fmt::format("collection of {} elements in {} bytes (limit {})", n, bytes.size(),
                         limits.collection_count_max);
    return false;
  }
  out->type = type;
  if (type.kind == Kind::kMap) {
    ValueMap map;
    for (int32_t i = 0; i < n; ++i) {
      std::string_view kb, vb;
      Value k, e;
      if (!TakeElement(&bytes, &kb, error) || !TakeElement(&bytes, &vb, error) ||
          !DeserializeScalar(type.params[0], kb, &k, error) ||
          !DeserializeScalar(type.params[1], vb, &e, error)) {
        return false;
      }
      map.emplace_back(std::move(k), std::move(e));
    }
    // CQL-lite keeps maps sorted by key with unique keys (cql/value.h).
    std::stable_sort(map.begin(), map.end(),
                     [](const auto& a, const auto& b) { return Compare(a.first, b.first) < 0; });
    map.erase(std::unique(map.begin(), map.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              map.end());
    out->data = std::move(map);
  } else {
    ValueList list;
    for (int32_t i = 0; i < n; ++i) {
      std::string_view eb;
      Value e;
      if (!TakeElement(&bytes, &eb, error) || !DeserializeScalar(type.params[0], eb, &e, error)) {
        return false;
      }
      list.push_back(std::move(e));
    }
    if (type.kind == Kind::kSet) {
      std::sort(list.begin(), list.end(),
                [](const Value& a, const Value& b) { return Compare(a, b) < 0; });
      list.erase(std::unique(list.begin(), list.end()), list.end());
    }
    out->data = std::move(list);
  }
  if (!bytes.empty()) {
    *error = fmt::format("{} bytes left after the collection", bytes.size());
    return false;
  }
  return true;
}

}  // namespace ringkv::cql::native
