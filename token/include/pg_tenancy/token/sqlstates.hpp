// sqlstates.hpp: the SQLSTATEs pg_tenancy raises for conditions a client must
// tell apart. Declared once, here: the extension raises them (MAKE_SQLSTATE via
// extension/include/pg_tenancy/sqlstate.hpp), the engine maps them to its typed
// errors, and the SQL sources repeat them as literals with a comment pointing to
// this file. Clients match the SQLSTATE, never the message text (messages may
// change and may be translated).
//
// Each code keeps its standard class (the first two characters, so a client
// that knows only the class still reads it right: 28 invalid authorization,
// 42 access rule violation, 22 data exception, 55 object not in prerequisite
// state) with a subclass in the implementation-defined range (third character
// T, PostgreSQL's own subclasses use 0-9 and P). README.md and docs/engine.md
// list them; tests/regress/sql/13_sqlstates.sql provokes each one.
//
// Pure: no includes, usable from the extension (after postgres.h) and the engine.
#pragma once

namespace pg_tenancy::sqlstate {

// The context token is malformed, badly signed, expired or from an unknown key.
inline constexpr char kInvalidContextToken[] = "28T01";
// The token's user is not registered (a user-only token for an unknown user).
inline constexpr char kUserNotRegistered[] = "28T02";
// The token's user is not a member of the requested organization, or it does
// not exist, or the caller's membership was removed meanwhile: one code for all,
// so the code does not reveal which organizations exist.
inline constexpr char kNotAMember[] = "42T01";
// No tenant context is active in this transaction (none was entered, or the
// transaction that entered it ended).
inline constexpr char kNoTenantContext[] = "42T02";
// The context's role lacks a pg_tenancy permission the function needs.
inline constexpr char kMissingPermission[] = "42T03";
// A context of the wrong kind: an organization was needed and the context is
// user-only, or a user-only context was needed and it names an organization.
inline constexpr char kWrongContextKind[] = "42T04";
// tenancy.context was set other than through tenancy.enter().
inline constexpr char kContextForgery[] = "42T05";
// An UPDATE tried to move a row of a protected table to another organization.
inline constexpr char kRowChangesOrganization[] = "42T06";
// The invitation is unknown, expired, revoked, used or for someone else: one
// code for all.
inline constexpr char kInvitationInvalid[] = "22T01";
// tenancy.assert_session_clean(): the session keeps state past the transaction,
// so a pooled connection must be discarded.
inline constexpr char kSessionCarriesState[] = "55T01";

// Private to tenancy.probe(): raised and caught inside it to roll its work
// back, never seen by a client. Class TQ is implementation-defined (first
// character in I-Z) and used by nothing else; PostgreSQL's own classes include
// P0, so the private codes are kept off P.
inline constexpr char kProbeRollback[] = "TQ000";
inline constexpr char kProbeStepRollback[] = "TQ001";

} // namespace pg_tenancy::sqlstate
