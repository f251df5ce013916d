// fuzz_permissions.cpp: permission strings and role codes, checked against a
// deliberately naive model of the documented rules (context_record.hpp). Input:
// "<granted>\n<wanted>" (or one string used as both).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "pg_tenancy/context_record.hpp"

using fuzz_support::Require;
using namespace pg_tenancy;

namespace {
bool ModelSegment(const std::string &s) {
	if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (char c : s)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	return true;
}

bool ModelValid(const std::string &p) {
	if (p == "*")
		return true;
	if (p.size() > 100)
		return false;
	std::size_t dot = p.find('.');
	if (dot == std::string::npos || p.find('.', dot + 1) != std::string::npos)
		return false;
	std::string resource = p.substr(0, dot), action = p.substr(dot + 1);
	return ModelSegment(resource) && (action == "*" || ModelSegment(action));
}

bool ModelCovers(const std::string &granted, const std::string &wanted) {
	if (granted == wanted || granted == "*")
		return true;
	if (granted.size() < 2 || granted.compare(granted.size() - 2, 2, ".*") != 0)
		return false;
	std::string prefix = granted.substr(0, granted.size() - 1); // "a."
	return wanted.size() > prefix.size() && wanted.compare(0, prefix.size(), prefix) == 0;
}

bool ModelRoleCode(const std::string &code) {
	if (code.empty() || code.size() > kMaxRoleCodeLength || !(code[0] >= 'a' && code[0] <= 'z'))
		return false;
	for (char c : code)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string input(reinterpret_cast<const char *>(data), size);
	std::size_t nl = input.find('\n');
	std::string granted = input.substr(0, nl);
	std::string wanted = nl == std::string::npos ? granted : input.substr(nl + 1);
	for (const std::string *s : {&granted, &wanted}) {
		Require(IsValidPermission(s->data(), s->size()) == ModelValid(*s), "IsValidPermission disagrees with model");
		Require(IsValidRoleCode(s->data(), s->size()) == ModelRoleCode(*s), "IsValidRoleCode disagrees with model");
	}
	bool covers = PermissionCovers(granted.data(), granted.size(), wanted.data(), wanted.size());
	Require(covers == ModelCovers(granted, wanted), "PermissionCovers disagrees with model");
	Require(PermissionCovers(granted.data(), granted.size(), granted.data(), granted.size()), "not reflexive");
	Require(PermissionCovers("*", 1, wanted.data(), wanted.size()), "\"*\" does not cover everything");
	// A valid permission other than "*" never covers "*".
	if (ModelValid(granted) && granted != "*")
		Require(!PermissionCovers(granted.data(), granted.size(), "*", 1), "a narrower grant covers \"*\"");
	return 0;
}
