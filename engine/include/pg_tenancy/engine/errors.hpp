// errors.hpp: the engine's typed errors. Every message is safe to show a user or
// to log: it never contains a token and never tells whether another tenant's
// organization exists. Server errors are told apart by SQLSTATE (see
// pg_tenancy/token/sqlstates.hpp), never by message text.
#pragma once

#include <stdexcept>
#include <string>

#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

class Error : public std::runtime_error {
  public:
	using std::runtime_error::runtime_error;
	// Can running the whole transaction again succeed? (ContextLost,
	// TransactionConflict; never for a refusal or bad input.)
	virtual bool retryable() const noexcept { return false; }
};

// Input the caller passed is malformed (e.g. an organization id that is not a
// uuid): a client error, to answer with 400.
class InvalidInput : public Error {
  public:
	using Error::Error;
};

// The bearer token is missing, malformed, expired, or not for this service.
class Unauthenticated : public Error {
  public:
	using Error::Error;
};

// An invitation that is unknown, expired, revoked, already used or for someone
// else: deliberately one error for all.
class InvitationInvalid : public Error {
  public:
	using Error::Error;
};

// The database refused the context token (bad signature, expired, unknown key).
class InvalidToken : public Error {
  public:
	using Error::Error;
};

// The token's user is not registered (SQLSTATE 28T02).
class UserNotRegistered : public InvalidToken {
  public:
	using InvalidToken::InvalidToken;
};

// The user is not a member of the requested organization, or it does not exist:
// deliberately the same error.
class NotAMember : public Error {
  public:
	using Error::Error;
};

// The context does not grant what was attempted (row-level security or a
// permission check refused it).
class MissingPermission : public Error {
  public:
	using Error::Error;
};

// The statement needs a context of the other kind: organization data touched
// in a user-only transaction (UserTransaction()), or a user-only function called
// in an organization's context (SQLSTATE 42T04). Retrying cannot help.
class WrongContext : public Error {
  public:
	using Error::Error;
};

// An earlier statement of this transaction failed, so the database aborted it:
// roll it back (the connection is kept if it is clean) and start a new one.
class TransactionAborted : public Error {
  public:
	using Error::Error;
};

// The transaction's tenant context is gone (connection lost, server restarted,
// backend terminated, or the context was cleared); nothing after that point ran.
// Retry the whole transaction.
class ContextLost : public Error {
  public:
	using Error::Error;
	bool retryable() const noexcept override { return true; }
};

// The connection was lost while committing: the transaction may or may not
// have committed. Do not blindly retry writes that are not idempotent.
class CommitOutcomeUnknown : public ContextLost {
  public:
	using ContextLost::ContextLost;
	bool retryable() const noexcept override { return false; }
};

// No database connection could be had, or the server cannot verify tokens.
class DatabaseUnavailable : public Error {
  public:
	using Error::Error;
};

// Any other error from the database, with its SQLSTATE.
class DatabaseError : public Error {
  public:
	DatabaseError(const std::string &message, std::string sqlstate) : Error(message), sqlstate_(std::move(sqlstate)) {}
	const std::string &sqlstate() const noexcept { return sqlstate_; }

  private:
	std::string sqlstate_;
};

// A serialization failure (40001) or deadlock (40P01): the database rolled the
// transaction back; running it again may well succeed.
class TransactionConflict : public DatabaseError {
  public:
	using DatabaseError::DatabaseError;
	bool retryable() const noexcept override { return true; }
};

// Bad configuration (missing keyring, bad key file, bad option value).
class ConfigurationError : public Error {
  public:
	using Error::Error;
};

} // namespace pg_tenancy::engine
