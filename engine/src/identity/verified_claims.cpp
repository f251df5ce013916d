// verified_claims.cpp: see verified_claims.hpp.
#include "pg_tenancy/engine/verified_claims.hpp"

#include <limits>
#include <nlohmann/json.hpp>

namespace pg_tenancy::engine {

using json = nlohmann::json;

const json *VerifiedClaims::Find(Path path) const noexcept {
	if (!claims_ || path.size() == 0)
		return nullptr;
	const json *at = claims_.get();
	try {
		for (std::string_view name : path) {
			if (!at->is_object())
				return nullptr;
			auto it = at->find(std::string(name));
			if (it == at->end())
				return nullptr;
			at = &*it;
		}
	} catch (...) { // std::string's allocation
		return nullptr;
	}
	return at;
}

bool VerifiedClaims::Has(Path path) const noexcept {
	return Find(path) != nullptr;
}

std::optional<std::string> VerifiedClaims::String(Path path) const {
	const json *claim = Find(path);
	if (!claim || !claim->is_string())
		return std::nullopt;
	return claim->get<std::string>();
}

std::optional<std::int64_t> VerifiedClaims::Int(Path path) const {
	const json *claim = Find(path);
	if (!claim || !claim->is_number_integer())
		return std::nullopt;
	if (claim->is_number_unsigned() &&
	    claim->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
		return std::nullopt;
	return claim->get<std::int64_t>();
}

std::optional<bool> VerifiedClaims::Bool(Path path) const {
	const json *claim = Find(path);
	if (!claim || !claim->is_boolean())
		return std::nullopt;
	return claim->get<bool>();
}

std::optional<std::vector<std::string>> VerifiedClaims::StringArray(Path path) const {
	const json *claim = Find(path);
	if (!claim || !claim->is_array())
		return std::nullopt;
	std::vector<std::string> values;
	values.reserve(claim->size());
	for (const json &element : *claim) {
		if (!element.is_string())
			return std::nullopt;
		values.push_back(element.get<std::string>());
	}
	return values;
}

const json &VerifiedClaims::Json() const noexcept {
	static const json no_claims = json::object();
	return claims_ ? *claims_ : no_claims;
}

} // namespace pg_tenancy::engine
