// session_state.hpp: what the utility hook tells the session checks (see
// session_state.cpp).
#pragma once

namespace pg_tenancy {

// A SQL PREPARE or a LISTEN is about to run in this backend: until a check
// finds none of them left, the checks must look (a check that finds none lets
// the next ones skip). pg_tenancy is preloaded, so its ProcessUtility hook sees
// every statement, unless a library loaded after it calls
// standard_ProcessUtility() without the hooks before it, or C code prepares or
// listens without a statement (the LOCK and SET checks share that limit).
void NotePrepareBySql();
void NoteListen();

} // namespace pg_tenancy
