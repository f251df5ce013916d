// flat_json.cpp: strict flat JSON objects on top of nlohmann::json's SAX parser.
#include "flat_json.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token::detail {
namespace {

using json = nlohmann::json;

class FlatObjectHandler : public nlohmann::json_sax<json> {
  public:
	explicit FlatObjectHandler(FlatObject &out) : out_(out) {}

	FlatJsonError error = FlatJsonError::None;

	bool null() override { return Unsupported(); }
	bool boolean(bool) override { return Unsupported(); }
	bool number_integer(number_integer_t value) override { return Store(static_cast<std::int64_t>(value)); }
	bool number_unsigned(number_unsigned_t value) override {
		if (value > static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max()))
			return Unsupported();
		return Store(static_cast<std::int64_t>(value));
	}
	bool number_float(number_float_t, const string_t &) override { return Unsupported(); }
	bool string(string_t &value) override { return Store(value); }
	bool binary(binary_t &) override { return Unsupported(); }
	bool start_object(std::size_t) override {
		if (depth_++ != 0)
			return Unsupported();
		return true;
	}
	bool key(string_t &name) override {
		if (out_.count(name) != 0) {
			error = FlatJsonError::Duplicate;
			return false;
		}
		pending_key_ = name;
		return true;
	}
	bool end_object() override {
		depth_--;
		return true;
	}
	bool start_array(std::size_t) override { return Unsupported(); }
	bool end_array() override { return Unsupported(); }
	bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override {
		if (error == FlatJsonError::None)
			error = FlatJsonError::Syntax;
		return false;
	}

  private:
	bool Unsupported() {
		error = FlatJsonError::Unsupported;
		return false;
	}
	bool Store(FlatValue value) {
		if (depth_ != 1)
			return Unsupported(); // a bare scalar is not an object
		out_.emplace(pending_key_, std::move(value));
		return true;
	}

	FlatObject &out_;
	std::string pending_key_;
	int depth_ = 0;
};

} // namespace

FlatJsonError ParseFlatObject(std::string_view text, FlatObject &out) noexcept {
	try {
		out.clear();
		FlatObjectHandler handler(out);
		bool ok = json::sax_parse(text.begin(), text.end(), &handler);
		if (handler.error != FlatJsonError::None)
			return handler.error;
		return ok ? FlatJsonError::None : FlatJsonError::Syntax;
	} catch (...) {
		return FlatJsonError::Syntax;
	}
}

std::string SerializeFlatObject(const FlatObject &object) {
	json j = json::object();
	for (const auto &[name, value] : object) {
		if (std::holds_alternative<std::string>(value))
			j[name] = std::get<std::string>(value);
		else
			j[name] = std::get<std::int64_t>(value);
	}
	return j.dump();
}

} // namespace pg_tenancy::token::detail
