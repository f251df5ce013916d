// routes_invitations.cpp: inviting people with a role, and accepting. Tokens
// are shown once (to the inviter) and are never logged; accepting checks the
// email, single use, expiry and the inviter's current rights in the database.
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {

void AddInvitationRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Post(
	    "/invitations", WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		    Json body = BodyObject(req);
		    std::int64_t hours = 24 * 7;
		    if (body.contains("ttl_hours")) {
			    const Json &ttl = body["ttl_hours"];
			    if (!ttl.is_number_integer() || ttl.get<std::int64_t>() < 1 || ttl.get<std::int64_t>() > 24 * 30)
				    Fail(400, "invalid_request", "ttl_hours must be a whole number from 1 to 720");
			    hours = ttl.get<std::int64_t>();
		    }
		    std::string token =
		        tenancy::Organizations(engine).Invite(who, org, RequiredString(body, "email", 320),
		                                              RequiredString(body, "role", 63), std::chrono::hours(hours));
		    SendJson(res, 201, {{"token", token}});
	    }));

	server.Get("/invitations", WithOrganization(engine, [&engine](auto &, auto &res, auto &who, auto &org) {
		           Json list = Json::array();
		           for (const auto &invitation : tenancy::Organizations(engine).ListInvitations(who, org))
			           list.push_back({{"id", tenancy::ToString(invitation.id)},
			                           {"email", invitation.email},
			                           {"role", invitation.role_code},
			                           {"status", invitation.status},
			                           {"expires_at", invitation.expires_at}});
		           SendJson(res, 200, {{"invitations", list}});
	           }));

	// Accepting needs no X-Organization-Id: the invitation names the organization.
	server.Post("/invitations/accept", WithUser(engine, [&engine](auto &req, auto &res, auto &who) {
		            Json body = BodyObject(req);
		            tenancy::Uuid org =
		                tenancy::Organizations(engine).AcceptInvitation(who, RequiredString(body, "token", 512));
		            SendJson(res, 200, {{"organization_id", tenancy::ToString(org)}});
	            }));

	server.Delete(R"(/invitations/([^/]+))",
	              WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		              tenancy::Organizations(engine).RevokeInvitation(who, org, PathUuid(req, 1, "invitation id"));
		              res.status = 204;
	              }));
}

} // namespace tickets
