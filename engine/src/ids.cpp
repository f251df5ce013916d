// ids.cpp: see ids.hpp.
#include "pg_tenancy/engine/ids.hpp"

#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::engine {

Uuid ParseUuid(std::string_view text, const char *what) {
	Uuid uuid;
	if (!pg_tenancy::token::ParseUuid(text, uuid))
		throw InvalidInput(std::string(what) + " must be a uuid such as 5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c");
	return uuid;
}

} // namespace pg_tenancy::engine
