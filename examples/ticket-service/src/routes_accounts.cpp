// routes_accounts.cpp: signing users up (an admin route), creating
// organizations, and the organization switcher.
#include <openssl/crypto.h>

#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {
namespace {

bool AdminKeyMatches(const httplib::Request &req, const std::string &admin_key) {
	std::string given = req.get_header_value("X-Admin-Key");
	return given.size() == admin_key.size() && CRYPTO_memcmp(given.data(), admin_key.data(), given.size()) == 0;
}

} // namespace

void AddAccountRoutes(httplib::Server &server, tenancy::Engine &engine, const std::string &admin_key) {
	// Users sign in with an identity provider, whose tokens carry the user id as
	// `sub`; this route is how the provider (or an operator) creates that id.
	server.Post("/admin/users", [&engine, admin_key](const httplib::Request &req, httplib::Response &res) {
		try {
			if (admin_key.empty() || !AdminKeyMatches(req, admin_key))
				Fail(401, "unauthenticated", "a valid X-Admin-Key is required");
			Json body = BodyObject(req);
			tenancy::Uuid id =
			    engine.RegisterUser(RequiredString(body, "code", 128), RequiredString(body, "email", 320));
			SendJson(res, 201, {{"id", tenancy::ToString(id)}});
		} catch (...) {
			SendException(std::current_exception(), res);
		}
	});

	server.Post("/organizations", WithUser(engine, [&engine](auto &req, auto &res, auto &who) {
		            Json body = BodyObject(req);
		            tenancy::Uuid id =
		                tenancy::Organizations(engine).CreateOrganization(who, RequiredString(body, "name", 200));
		            SendJson(res, 201, {{"id", tenancy::ToString(id)}});
	            }));

	server.Get("/me/organizations", WithUser(engine, [&engine](auto &, auto &res, auto &who) {
		           Json list = Json::array();
		           for (const auto &org : tenancy::Organizations(engine).MyOrganizations(who))
			           list.push_back({{"id", tenancy::ToString(org.id)},
			                           {"name", org.name},
			                           {"role", org.role_code},
			                           {"role_name", org.role_name}});
		           SendJson(res, 200, {{"organizations", list}});
	           }));
}

} // namespace tickets
