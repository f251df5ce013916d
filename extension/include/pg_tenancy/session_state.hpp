// session_state.hpp: what the utility hook tells the session checks (see
// session_state.cpp).
#pragma once

namespace pg_tenancy {

// A SQL PREPARE or a LISTEN is about to run in this backend: until a check
// finds none of them left, the checks must look (the hook sees every one, since
// pg_tenancy is preloaded; a check that finds none lets the next ones skip).
void NotePrepareBySql();
void NoteListen();

} // namespace pg_tenancy
