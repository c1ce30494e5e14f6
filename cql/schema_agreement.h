// Schema agreement after CREATE KEYSPACE, as Cassandra's drivers wait for it after DDL.
//
// The node that creates a keyspace answers at once and pushes the keyspace to the others; a node
// that misses the push learns it from its next ring exchange (a second later). Until a node knows
// the keyspace it refuses requests in it and does not count as its replica, so a QUORUM write
// through it would fail. Agreement: the contact point's ring holds the keyspace, and every member
// the contact point sees up reports the contact point's schema version (a digest of the keyspaces
// a node holds; equal digests, equal keyspaces). Members it sees down are not waited for: they
// serve nothing until they are back, and then learn the keyspace from the ring exchange.
//
// Thread safety: as the Client's synchronous calls; AwaitSchemaAgreement blocks its caller.
#ifndef RINGKV_CQL_SCHEMA_AGREEMENT_H_
#define RINGKV_CQL_SCHEMA_AGREEMENT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::cql {

inline constexpr std::chrono::milliseconds kSchemaAgreementTimeout{10'000};

// The members whose schema must agree: those `ring` (a contact point's answer) sees up, and the
// contact point itself; never one that left or was removed.
std::vector<const RingMemberInfo*> MembersToAsk(const RingInfo& ring);

// One round's verdict from the contact point's ring and the Info answers of MembersToAsk (by
// member name; one missing counts as not answering). One line per reason agreement is not reached
// (empty: agreement): the contact point does not hold `keyspace` or did not answer, a member did
// not answer, or a member holds another schema version than the contact point.
std::vector<std::string> SchemaDisagreement(const RingInfo& ring,
                                            const std::map<std::string, Expected<NodeInfo>>& infos,
                                            std::string_view keyspace);

// Blocks until the members agree on a schema holding `keyspace` (so that a QUORUM request in it
// works through any of them), or `timeout` has passed: then an error (kTimeout) naming those that
// do not agree. Rounds of Ring and Info requests, repeated while they disagree: no sleeping, every
// wait is one of those requests, each bounded by the client's own timeouts. TODO(schema): a node
// could answer CREATE KEYSPACE only once its pushes are acknowledged, leaving one round here.
std::optional<CqlError> AwaitSchemaAgreement(
    Client& client, std::string_view keyspace,
    std::chrono::milliseconds timeout = kSchemaAgreementTimeout);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_SCHEMA_AGREEMENT_H_
