// ledger.cpp: see ledger.hpp.
#include "ledger.hpp"

#include <algorithm>

namespace soak {

void Ledger::Begin(std::int64_t txn, const tenancy::Uuid &org, int rows) {
	std::lock_guard<std::mutex> lock(mutex_);
	entries_[txn] = Entry{org, rows, Outcome::Pending};
}

void Ledger::Record(std::int64_t txn, Outcome outcome) {
	std::lock_guard<std::mutex> lock(mutex_);
	Entry &entry = entries_.at(txn);
	entry.outcome = outcome;
	if (outcome == Outcome::Committed)
		committed_by_org_[tenancy::ToString(entry.org)].push_back(txn);
}

std::vector<std::int64_t> Ledger::CommittedOf(const tenancy::Uuid &org) const {
	std::lock_guard<std::mutex> lock(mutex_);
	auto it = committed_by_org_.find(tenancy::ToString(org));
	return it == committed_by_org_.end() ? std::vector<std::int64_t>{} : it->second;
}

bool Ledger::DropOneCommitted() {
	std::lock_guard<std::mutex> lock(mutex_);
	for (auto it = entries_.begin(); it != entries_.end(); ++it)
		if (it->second.outcome == Outcome::Committed) {
			auto &list = committed_by_org_[tenancy::ToString(it->second.org)];
			list.erase(std::remove(list.begin(), list.end(), it->first), list.end());
			entries_.erase(it);
			return true;
		}
	return false;
}

Verdict Ledger::Verify(const std::map<std::int64_t, Stored> &database) const {
	std::lock_guard<std::mutex> lock(mutex_);
	Verdict v;
	for (const auto &[txn, entry] : entries_) {
		auto found = database.find(txn);
		bool present = found != database.end();
		if (present && found->second.org != entry.org)
			v.wrong_org++;
		if (present && found->second.rows != entry.rows)
			v.torn++;
		switch (entry.outcome) {
		case Outcome::Committed:
			v.committed++;
			if (present && found->second.rows == entry.rows && found->second.org == entry.org)
				v.verified++;
			else
				v.missing++;
			break;
		case Outcome::Unknown:
			v.unknown++;
			// Reconciled: the transaction is either wholly there or wholly absent.
			if (!present || (found->second.rows == entry.rows && found->second.org == entry.org)) {
				v.unknown_reconciled++;
				v.unknown_present += present;
			}
			break;
		case Outcome::Aborted:
			v.aborted++;
			v.aborted_present += present;
			break;
		case Outcome::Pending:
			v.pending++;
			break;
		}
	}
	for (const auto &[txn, stored] : database)
		if (!entries_.count(txn))
			v.phantom++;
	return v;
}

} // namespace soak
