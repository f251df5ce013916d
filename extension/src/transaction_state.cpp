// transaction_state.cpp: see transaction_state.hpp. Reset by the transaction
// callback registered in _PG_init.
#include "pg_tenancy/transaction_state.hpp"

namespace pg_tenancy {
namespace {
bool entered_in_this_transaction = false;
}

bool EnteredInThisTransaction() noexcept {
	return entered_in_this_transaction;
}
void MarkContextEntered() noexcept {
	entered_in_this_transaction = true;
}
void ForgetEnteredContext() noexcept {
	entered_in_this_transaction = false;
}

} // namespace pg_tenancy
