// errors.hpp: exception types of the token library. Messages never contain key
// material or token text, so callers may log or show them as they are.
#pragma once

#include <stdexcept>
#include <string>

namespace pg_tenancy::token {

class TokenLibraryError : public std::runtime_error {
  public:
	using std::runtime_error::runtime_error;
};

class CryptoError : public TokenLibraryError {
  public:
	using TokenLibraryError::TokenLibraryError;
};

class KeyringError : public TokenLibraryError {
  public:
	using TokenLibraryError::TokenLibraryError;
};

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
