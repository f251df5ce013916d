// transaction_state.hpp: "has this transaction already entered a context?"
// One context per transaction keeps cursors and prepared plans from straddling
// two organizations.
#pragma once

namespace pg_tenancy {

bool EnteredInThisTransaction() noexcept;
void MarkContextEntered() noexcept;
void ForgetEnteredContext() noexcept;

} // namespace pg_tenancy
