// ledger.hpp: what the soak's engine threads were told about each write
// transaction, kept in memory and checked against the database at the end.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pg_tenancy/engine/ids.hpp"

namespace soak {

enum class Outcome {
	Pending,   // begun, no answer yet (must not remain at the end)
	Committed, // Commit() returned: the rows must be there
	Unknown,   // CommitOutcomeUnknown: all rows or none, reconciled at the end
	Aborted,   // rolled back or failed before COMMIT: no row may be there
};

struct Entry {
	tenancy::Uuid org;
	int rows = 0;
	Outcome outcome = Outcome::Pending;
};

// What the database holds for one transaction id: its organization and row count.
struct Stored {
	tenancy::Uuid org;
	int rows = 0;
};

struct Verdict {
	std::int64_t committed = 0, verified = 0;
	std::int64_t unknown = 0, unknown_reconciled = 0, unknown_present = 0;
	std::int64_t aborted = 0;
	std::int64_t missing = 0;         // reported committed, not (all) there
	std::int64_t aborted_present = 0; // reported not committed, but there
	std::int64_t torn = 0;            // some rows of a transaction but not all
	std::int64_t wrong_org = 0;       // rows stored under another organization
	std::int64_t phantom = 0;         // in the database, never written by us
	std::int64_t pending = 0;         // no outcome recorded
	bool Ok() const {
		return missing == 0 && aborted_present == 0 && torn == 0 && wrong_org == 0 && phantom == 0 && pending == 0 &&
		       unknown_reconciled == unknown;
	}
};

class Ledger {
  public:
	void Begin(std::int64_t txn, const tenancy::Uuid &org, int rows);
	void Record(std::int64_t txn, Outcome outcome);
	// Committed transaction ids of `org` so far (for read-your-commits checks).
	std::vector<std::int64_t> CommittedOf(const tenancy::Uuid &org) const;
	// Forgets one committed entry: proves the verification can fail.
	bool DropOneCommitted();
	Verdict Verify(const std::map<std::int64_t, Stored> &database) const;

  private:
	mutable std::mutex mutex_;
	std::map<std::int64_t, Entry> entries_;
	std::map<std::string, std::vector<std::int64_t>> committed_by_org_;
};

} // namespace soak
