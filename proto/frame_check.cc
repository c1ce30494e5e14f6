#include "proto/frame_check.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>

namespace ringkv::proto {
namespace {

// Each typed check below follows every pointer field of its struct. When a field is added to the
// schema, the count changes and this stops compiling until the check follows the new field too.
template <typename T, int kPointers>
constexpr void ExpectPointers() {
  static_assert(T::_capnpPrivate::pointerCount == kPointers,
                "a pointer field was added or removed: update its typed check in frame_check.cc");
}

// Following a Text or Data pointer checks its kind, bounds and (for Text) the NUL.
void Touch(capnp::Text::Reader) {}
void Touch(capnp::Data::Reader) {}

void CheckTrace(wire::Trace::Reader t) {
  ExpectPointers<wire::Trace, 5>();
  ExpectPointers<wire::TraceEvent, 2>();
  Touch(t.getCoordinator());
  for (auto e : t.getEvents()) {
    Touch(e.getNode());
    Touch(e.getActivity());
  }
  for (auto s : t.getReplicasAsked()) Touch(s);
  for (auto s : t.getReplicasAnswered()) Touch(s);
  for (auto s : t.getReadRepaired()) Touch(s);
}

void CheckSibling(wire::Sibling::Reader s) {
  ExpectPointers<wire::Sibling, 2>();
  Touch(s.getValue());
  (void)s.getDot();  // a struct of scalars: following the pointer is the whole check
}

void DeepRead(const capnp::DynamicValue::Reader& value) {
  switch (value.getType()) {
    case capnp::DynamicValue::STRUCT: {
      auto s = value.as<capnp::DynamicStruct>();
      for (auto field : s.getSchema().getNonUnionFields()) {
        if (s.has(field)) DeepRead(s.get(field));
      }
      KJ_IF_MAYBE(active, s.which()) {
        if (s.has(*active)) DeepRead(s.get(*active));
      }
      break;
    }
    case capnp::DynamicValue::LIST:
      for (auto element : value.as<capnp::DynamicList>()) DeepRead(element);
      break;
    case capnp::DynamicValue::TEXT:
      (void)value.as<capnp::Text>();
      break;
    case capnp::DynamicValue::DATA:
      (void)value.as<capnp::Data>();
      break;
    default:
      break;  // scalars and enums live in the data section and cannot be malformed
  }
}

}  // namespace

bool CheckFrameTyped(wire::Frame::Reader f) {
  using wire::Frame;
  switch (f.which()) {
    case Frame::GET: {
      ExpectPointers<wire::GetRequest, 2>();
      auto m = f.getGet();
      Touch(m.getKeyspace());
      Touch(m.getKey());
      return true;
    }
    case Frame::GET_RESULT: {
      ExpectPointers<wire::GetResult, 3>();
      auto m = f.getGetResult();
      for (auto s : m.getSiblings()) CheckSibling(s);
      Touch(m.getContext());
      if (m.hasTrace()) CheckTrace(m.getTrace());
      return true;
    }
    case Frame::PUT: {
      ExpectPointers<wire::PutRequest, 4>();
      auto m = f.getPut();
      Touch(m.getKeyspace());
      Touch(m.getKey());
      Touch(m.getValue());
      Touch(m.getContext());
      return true;
    }
    case Frame::PUT_RESULT: {
      ExpectPointers<wire::PutResult, 2>();
      auto m = f.getPutResult();
      Touch(m.getContext());
      if (m.hasTrace()) CheckTrace(m.getTrace());
      return true;
    }
    case Frame::DEL: {
      ExpectPointers<wire::DelRequest, 3>();
      auto m = f.getDel();
      Touch(m.getKeyspace());
      Touch(m.getKey());
      Touch(m.getContext());
      return true;
    }
    case Frame::DEL_RESULT: {
      ExpectPointers<wire::DelResult, 1>();
      auto m = f.getDelResult();
      if (m.hasTrace()) CheckTrace(m.getTrace());
      return true;
    }
    case Frame::REPLICA_WRITE: {
      ExpectPointers<wire::ReplicaWrite, 4>();
      auto m = f.getReplicaWrite();
      Touch(m.getKeyspace());
      Touch(m.getKey());
      Touch(m.getObject());
      Touch(m.getHintFor());
      return true;
    }
    case Frame::REPLICA_WRITE_RESULT:
      ExpectPointers<wire::ReplicaWriteResult, 0>();
      (void)f.getReplicaWriteResult();
      return true;
    case Frame::REPLICA_READ: {
      ExpectPointers<wire::ReplicaRead, 2>();
      auto m = f.getReplicaRead();
      Touch(m.getKeyspace());
      Touch(m.getKey());
      return true;
    }
    case Frame::REPLICA_READ_RESULT: {
      ExpectPointers<wire::ReplicaReadResult, 1>();
      Touch(f.getReplicaReadResult().getObject());
      return true;
    }
    case Frame::ERROR: {
      ExpectPointers<wire::Error, 1>();
      Touch(f.getError().getMessage());
      return true;
    }
    default:
      return false;
  }
}

void CheckFrameDeep(wire::Frame::Reader frame) { DeepRead(capnp::toDynamic(frame)); }

}  // namespace ringkv::proto
