// fuzz_flat_json.cpp: the strict flat JSON reader. Differential invariants against
// nlohmann's full parser: what the reader accepts is a JSON object with the same
// members and values, and it serialises and re-reads to the same object. A
// duplicate it reports must really be a repeated (decoded) member name.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "flat_json.hpp"
#include "fuzz_support.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token::detail;
using json = nlohmann::json;

namespace {
// Does some object (at any depth) repeat a member name? Uses nlohmann's callback parser.
bool HasDuplicate(std::string_view text) {
	std::vector<std::set<std::string>> seen;
	bool duplicate = false;
	auto callback = [&](int, json::parse_event_t event, json &parsed) {
		if (event == json::parse_event_t::object_start)
			seen.emplace_back();
		else if (event == json::parse_event_t::key && !seen.back().insert(parsed.get<std::string>()).second)
			duplicate = true;
		else if (event == json::parse_event_t::object_end)
			seen.pop_back();
		return true;
	};
	(void)json::parse(text.begin(), text.end(), callback, false);
	return duplicate;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string_view text(reinterpret_cast<const char *>(data), size);
	FlatObject object;
	FlatJsonError e = ParseFlatObject(text, object);
	if (e == FlatJsonError::Duplicate) {
		Require(HasDuplicate(text), "duplicate reported where no member name repeats");
		return 0;
	}
	if (e != FlatJsonError::None)
		return 0;
	json full = json::parse(text.begin(), text.end(), nullptr, false);
	Require(!full.is_discarded() && full.is_object(), "accepted text is not a JSON object");
	Require(!HasDuplicate(text), "accepted an object with a repeated member name");
	Require(full.size() == object.size(), "member count differs from nlohmann");
	for (const auto &[name, value] : object) {
		auto it = full.find(name);
		Require(it != full.end(), "member missing in nlohmann's parse");
		if (const std::string *s = std::get_if<std::string>(&value))
			Require(it->is_string() && it->get<std::string>() == *s, "string value differs");
		else
			Require(it->is_number_integer() && it->get<std::int64_t>() == std::get<std::int64_t>(value),
			        "integer value differs");
	}
	FlatObject again;
	Require(ParseFlatObject(SerializeFlatObject(object), again) == FlatJsonError::None, "own output rejected");
	Require(again == object, "object does not round-trip");
	return 0;
}
