// context_record.cpp: parsing the tenancy.context value into a ContextRecord
// (pure C++, no PostgreSQL headers; see context_record.hpp for the format).
#include "pg_tenancy/context_record.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/forward_token.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {
namespace {

bool IsSegment(std::string_view s) noexcept {
	if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (char c : s)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	return true;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
	std::vector<std::string_view> parts;
	std::size_t start = 0;
	while (true) {
		std::size_t pos = text.find(sep, start);
		parts.push_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
		if (pos == std::string_view::npos)
			return parts;
		start = pos + 1;
	}
}

} // namespace

bool IsValidPermission(const char *text, std::size_t len) noexcept {
	std::string_view p(text, len);
	if (p == "*")
		return true;
	if (len > 100)
		return false;
	std::size_t dot = p.find('.');
	if (dot == std::string_view::npos || p.find('.', dot + 1) != std::string_view::npos)
		return false;
	std::string_view action = p.substr(dot + 1);
	return IsSegment(p.substr(0, dot)) && (action == "*" || IsSegment(action));
}

bool IsValidRoleCode(const char *text, std::size_t len) noexcept {
	std::string_view code(text, len);
	if (code.empty() || code.size() > kMaxRoleCodeLength || !(code[0] >= 'a' && code[0] <= 'z'))
		return false;
	for (char c : code)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	return true;
}

bool PermissionCovers(const char *granted_text, std::size_t granted_len, const char *wanted_text,
                      std::size_t wanted_len) noexcept {
	std::string_view granted(granted_text, granted_len), want(wanted_text, wanted_len);
	if (granted == want || granted == "*")
		return true;
	// "tickets.*" covers "tickets.read" but not "tickets" or "ticketsx.read".
	return granted.size() >= 2 && granted.substr(granted.size() - 2) == ".*" && want.size() > granted.size() - 1 &&
	       want.substr(0, granted.size() - 1) == granted.substr(0, granted.size() - 1);
}

bool ContextGrants(const ContextRecord *record, const char *wanted, std::size_t wanted_len) noexcept {
	if (!record)
		return false;
	const char *p = ContextPermissions(record);
	for (std::uint32_t i = 0; i < record->permission_count; i++) {
		std::size_t len = std::strlen(p);
		if (PermissionCovers(p, len, wanted, wanted_len))
			return true;
		p += len + 1;
	}
	return false;
}

ContextParseError BuildContextRecord(const ContextFields &fields, ContextRecord **out) noexcept {
	*out = nullptr;
	try {
		std::vector<std::string_view> permissions;
		if (fields.role) {
			if (!fields.org || !IsValidRoleCode(fields.role_code, std::strlen(fields.role_code)))
				return ContextParseError::BadSuffix;
			if (fields.permissions_len > 0)
				permissions = Split(std::string_view(fields.permissions, fields.permissions_len), ',');
			for (std::string_view perm : permissions)
				if (!IsValidPermission(perm.data(), perm.size()))
					return ContextParseError::BadSuffix;
		}
		std::size_t jti_len = std::strlen(fields.jti);
		std::size_t dtx_len = std::strlen(fields.distributed_transaction);
		if (jti_len >= sizeof(ContextRecord::jti) || dtx_len >= sizeof(ContextRecord::distributed_transaction) ||
		    (fields.source == ContextSource::Forwarded) != (dtx_len > 0))
			return ContextParseError::BadToken;
		std::size_t bytes = sizeof(ContextRecord);
		for (std::string_view perm : permissions)
			bytes += perm.size() + 1;
		auto *record = static_cast<ContextRecord *>(std::calloc(1, bytes));
		if (!record)
			return ContextParseError::OutOfMemory;
		record->total_bytes = static_cast<std::uint32_t>(bytes);
		record->source = fields.source;
		std::memcpy(record->user, fields.user, 16);
		record->has_org = fields.org != nullptr;
		if (record->has_org)
			std::memcpy(record->org, fields.org, 16);
		record->has_role = fields.role != nullptr;
		if (record->has_role) {
			std::memcpy(record->role, fields.role, 16);
			std::memcpy(record->role_code, fields.role_code, std::strlen(fields.role_code));
		}
		record->issued_at = fields.issued_at;
		record->expires_at = fields.expires_at;
		std::memcpy(record->jti, fields.jti, jti_len);
		std::memcpy(record->distributed_transaction, fields.distributed_transaction, dtx_len);
		record->permission_count = static_cast<std::uint32_t>(permissions.size());
		char *dest = reinterpret_cast<char *>(record + 1);
		for (std::string_view perm : permissions) {
			std::memcpy(dest, perm.data(), perm.size());
			dest += perm.size() + 1;
		}
		*out = record;
		return ContextParseError::None;
	} catch (...) {
		return ContextParseError::OutOfMemory;
	}
}

ContextParseError BuildForwardedRecord(const token::ForwardClaims &claims, ContextRecord **out) noexcept {
	*out = nullptr;
	try {
		ContextFields fields{claims.user.bytes.data(),
		                     claims.org.bytes.data(),
		                     claims.issued_at,
		                     claims.expires_at,
		                     claims.jti.c_str(),
		                     claims.role.bytes.data(),
		                     claims.role_code.c_str(),
		                     claims.permissions.data(),
		                     claims.permissions.size(),
		                     ContextSource::Forwarded,
		                     claims.distributed_transaction.c_str()};
		return BuildContextRecord(fields, out);
	} catch (...) {
		return ContextParseError::OutOfMemory;
	}
}

ContextParseError ParseTrustedContextValue(const char *value, ContextRecord **out) noexcept {
	*out = nullptr;
	try {
		token::ForwardVerifyResult forwarded = token::DecodeVerifiedForwardToken(value);
		if (forwarded.ok())
			return BuildForwardedRecord(forwarded.claims, out);
		std::vector<std::string_view> parts = Split(value, kContextValueSeparator);
		if (parts.size() != 1 && parts.size() != 4)
			return ContextParseError::BadSuffix;
		token::VerifyResult decoded = token::DecodeVerifiedContextToken(parts[0]);
		if (!decoded.ok())
			return ContextParseError::BadToken;
		const token::ContextClaims &claims = decoded.claims;
		token::Uuid role{};
		std::string role_code;
		if (parts.size() == 4) {
			if (!token::ParseUuid(parts[1], role) || parts[2].size() > kMaxRoleCodeLength)
				return ContextParseError::BadSuffix;
			role_code.assign(parts[2]);
		}
		// enter() always appends the role for an organization context.
		if (parts.size() == 1 && claims.org)
			return ContextParseError::BadSuffix;
		ContextFields fields{claims.user.bytes.data(),
		                     claims.org ? claims.org->bytes.data() : nullptr,
		                     claims.issued_at,
		                     claims.expires_at,
		                     claims.jti.c_str(),
		                     parts.size() == 4 ? role.bytes.data() : nullptr,
		                     role_code.c_str(),
		                     parts.size() == 4 ? parts[3].data() : "",
		                     parts.size() == 4 ? parts[3].size() : 0,
		                     ContextSource::Enter};
		return BuildContextRecord(fields, out);
	} catch (...) {
		return ContextParseError::OutOfMemory;
	}
}

char *FormatContextValue(const char *token, std::size_t token_len, const ContextFields &fields) noexcept {
	try {
		std::string value(token, token_len);
		if (fields.role) {
			std::uint8_t role[16];
			std::memcpy(role, fields.role, 16);
			char role_text[37];
			token::FormatUuid(role, role_text);
			value.append(1, kContextValueSeparator).append(role_text);
			value.append(1, kContextValueSeparator).append(fields.role_code);
			value.append(1, kContextValueSeparator).append(fields.permissions, fields.permissions_len);
		}
		char *out = static_cast<char *>(std::malloc(value.size() + 1));
		if (out)
			std::memcpy(out, value.c_str(), value.size() + 1);
		return out;
	} catch (...) {
		return nullptr;
	}
}

} // namespace pg_tenancy
