// tenant_transaction.inl: TenantTransaction's templates.
#pragma once

#include <pqxx/internal/statement_parameters.hxx>

namespace pg_tenancy::engine {

namespace detail {

// A statement's bind parameters, converted exactly as libpqxx's exec_params()
// converts them, for the pipelined first statement.
struct StatementParams {
	std::vector<std::string> values;
	std::vector<char> is_null;
	std::vector<int> formats; // 0 text, 1 binary
};

template <typename... Args> StatementParams MakeParams(Args &&...args) {
	pqxx::internal::params converted(std::forward<Args>(args)...);
	StatementParams out;
	std::size_t next_string = 0, next_binary = 0;
	for (std::size_t i = 0; i < converted.nonnulls.size(); i++) {
		bool binary = converted.binaries[i] != 0;
		bool null = converted.nonnulls[i] == 0;
		if (null)
			out.values.emplace_back();
		else if (binary)
			out.values.push_back(converted.bin_strings[next_binary++].str());
		else
			out.values.push_back(converted.strings[next_string++]);
		out.is_null.push_back(null ? 1 : 0);
		out.formats.push_back(binary ? 1 : 0);
	}
	return out;
}

} // namespace detail

template <typename... Args> pqxx::result TenantTransaction::ExecParams(const std::string &sql, Args &&...args) {
	if (state_ == State::Pending)
		return ExecFirst(sql, detail::MakeParams(std::forward<Args>(args)...));
	return Guarded([&] { return work_->exec_params(sql, std::forward<Args>(args)...); });
}

} // namespace pg_tenancy::engine
