// strict_json.cpp: see strict_json.hpp.
#include "strict_json.hpp"

#include <set>
#include <string>
#include <vector>

namespace pg_tenancy::engine::identity {

StrictJsonError ParseStrictObject(std::string_view text, nlohmann::json &out) {
	using json = nlohmann::json;
	std::vector<std::set<std::string>> seen;
	bool duplicate = false;
	auto callback = [&](int, json::parse_event_t event, json &parsed) {
		switch (event) {
		case json::parse_event_t::object_start:
			seen.emplace_back();
			break;
		case json::parse_event_t::key:
			if (!seen.back().insert(parsed.get<std::string>()).second)
				duplicate = true;
			break;
		case json::parse_event_t::object_end:
			seen.pop_back();
			break;
		default:
			break;
		}
		return true;
	};
	out = json::parse(text.begin(), text.end(), callback, false);
	if (duplicate)
		return StrictJsonError::Duplicate;
	if (out.is_discarded())
		return StrictJsonError::Syntax;
	return out.is_object() ? StrictJsonError::None : StrictJsonError::NotAnObject;
}

} // namespace pg_tenancy::engine::identity
