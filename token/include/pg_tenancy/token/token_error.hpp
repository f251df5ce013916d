// token_error.hpp: why a signed token (context or identity) was refused.
#pragma once

#include <cstddef>

namespace pg_tenancy::token {

// Larger tokens are refused before any parsing.
constexpr std::size_t kMaxTokenBytes = 4096;

enum class TokenError {
	None,
	Oversized,
	Malformed,
	BadBase64,
	BadJson,
	DuplicateMember,
	UnsupportedAlgorithm,
	UnknownKey,
	AlgorithmMismatch,
	WrongType,
	BadSignature,
	MissingClaim,
	BadClaim,
	Expired,
	NotYetValid,
	LifetimeTooLong,
	Internal,
};

// A short, stable reason for logs and error details. Never contains token text.
const char *TokenErrorReason(TokenError error) noexcept;

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
