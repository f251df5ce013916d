// forwarding.hpp: the tenant context on a Citus cluster (see forwarding.cpp).
// PG-facing: include after postgres.h.
#pragma once

#include "pg_tenancy/context_record.hpp"

namespace pg_tenancy {

// On a coordinator with tenancy.forward_context_to_workers: signs the context
// just entered (`entered`, an organization context) as a forwarding context
// bound to this distributed transaction and sends it to the workers through
// Citus's SET LOCAL propagation. Does nothing when forwarding is off or for a
// user-only context. Raises an error when forwarding is on but impossible.
void ForwardEnteredContext(const ContextRecord *entered);

// On a worker that just accepted a forwarding context: replaces every
// "tenancy.context ..." assignment in this backend's pg_stat_activity query
// text with "tenancy.context = '(hidden)'".
void HideForwardedContextFromActivity();

// tenancy.leave(): clears the context here and, when forwarding, on the workers.
void LeaveContext();

} // namespace pg_tenancy
