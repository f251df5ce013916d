// errors.hpp: the engine's typed errors. Every message is safe to show a user or
// to log: it never contains a token and never tells whether another tenant's
// organization exists.
#pragma once

#include <stdexcept>
#include <string>

namespace tenancy {

class Error : public std::runtime_error {
  public:
	using std::runtime_error::runtime_error;
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

// The transaction's tenant context is gone (connection lost, server restarted,
// backend terminated, or the context was cleared); nothing after that point ran.
// Retry the whole transaction.
class ContextLost : public Error {
  public:
	using Error::Error;
};

// The connection was lost while committing: the transaction may or may not
// have committed. Do not blindly retry writes that are not idempotent.
class CommitOutcomeUnknown : public ContextLost {
  public:
	using ContextLost::ContextLost;
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

// Bad configuration (missing keyring, bad key file, bad option value).
class ConfigurationError : public Error {
  public:
	using Error::Error;
};

} // namespace tenancy
