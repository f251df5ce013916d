// routes_members.cpp: the members of the organization in X-Organization-Id.
// The extension checks members.read / members.manage and the owner rules.
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {

void AddMemberRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Get("/members", WithOrganization(engine, [&engine](auto &, auto &res, auto &who, auto &org) {
		           Json list = Json::array();
		           for (const auto &member : tenancy::Organizations(engine).ListMembers(who, org))
			           list.push_back({{"user_id", tenancy::ToString(member.user_id)},
			                           {"code", member.code},
			                           {"email", member.email},
			                           {"role", member.role_code},
			                           {"owner", member.is_owner}});
		           SendJson(res, 200, {{"members", list}});
	           }));

	server.Put(R"(/members/([^/]+)/role)",
	           WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		           Json body = BodyObject(req);
		           tenancy::Organizations(engine).SetMemberRole(who, org, PathUuid(req, 1, "member id"),
		                                                        RequiredString(body, "role", 63));
		           res.status = 204;
	           }));

	// Before /members/{id}: "leave" is not an id.
	server.Post("/members/leave", WithOrganization(engine, [&engine](auto &, auto &res, auto &who, auto &org) {
		            tenancy::Organizations(engine).LeaveOrganization(who, org);
		            res.status = 204;
	            }));

	server.Delete(R"(/members/([^/]+))",
	              WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		              tenancy::Organizations(engine).RemoveMember(who, org, PathUuid(req, 1, "member id"));
		              res.status = 204;
	              }));
}

} // namespace tickets
