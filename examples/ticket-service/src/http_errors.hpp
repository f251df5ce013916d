// http_errors.hpp: every failure becomes a status code and a JSON body
// {"error": code, "message": text}. Bodies never contain SQL, tokens, or
// whether another organization (or its ticket) exists.
#pragma once

#include <exception>
#include <string>

#include <httplib.h>

namespace tickets {

// A failure a handler reports itself (bad input, missing permission, not found).
struct ApiError {
	int status;
	std::string code;
	std::string message;
};

[[noreturn]] inline void Fail(int status, std::string code, std::string message) {
	throw ApiError{status, std::move(code), std::move(message)};
}

void SendError(httplib::Response &res, int status, const std::string &code, const std::string &message);

// Maps the current exception (ApiError, the engine's typed errors, anything
// else) to a response; unknown failures are logged to stderr and answered 500.
void SendException(const std::exception_ptr &error, httplib::Response &res);

} // namespace tickets
