// routes_roles.cpp: the roles of the organization in X-Organization-Id. The
// extension checks roles.read / roles.manage and that nobody grants
// permissions they do not hold.
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {
namespace {

std::vector<std::string> Permissions(const Json &value) {
	if (!value.is_array() || value.size() > 100)
		Fail(400, "invalid_request", "permissions must be an array of at most 100 strings");
	std::vector<std::string> permissions;
	for (const auto &permission : value) {
		if (!permission.is_string() || permission.get<std::string>().size() > 128)
			Fail(400, "invalid_request", "each permission must be a string such as \"tickets.read\"");
		permissions.push_back(permission.get<std::string>());
	}
	return permissions;
}

} // namespace

void AddRoleRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Get("/roles", WithOrganization(engine, [&engine](auto &, auto &res, auto &who, auto &org) {
		           Json list = Json::array();
		           for (const auto &role : tenancy::Organizations(engine).ListRoles(who, org))
			           list.push_back({{"code", role.code},
			                           {"name", role.name},
			                           {"permissions", role.permissions},
			                           {"system", role.is_system},
			                           {"members", role.members}});
		           SendJson(res, 200, {{"roles", list}});
	           }));

	server.Post("/roles", WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		            Json body = BodyObject(req);
		            if (!body.contains("permissions"))
			            Fail(400, "invalid_request", "permissions is required");
		            tenancy::Organizations(engine).CreateRole(who, org, RequiredString(body, "code", 63),
		                                                      RequiredString(body, "name", 200),
		                                                      Permissions(body["permissions"]));
		            res.status = 201;
	            }));

	server.Patch(R"(/roles/([^/]+))", WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		             Json body = BodyObject(req);
		             std::optional<std::vector<std::string>> permissions;
		             if (body.contains("permissions"))
			             permissions = Permissions(body["permissions"]);
		             tenancy::Organizations(engine).UpdateRole(who, org, req.matches[1].str(),
		                                                       OptionalString(body, "name", 200), permissions);
		             res.status = 204;
	             }));

	server.Delete(R"(/roles/([^/]+))", WithOrganization(engine, [&engine](auto &req, auto &res, auto &who, auto &org) {
		              std::optional<std::string> reassign_to;
		              if (req.has_param("reassign_to"))
			              reassign_to = req.get_param_value("reassign_to");
		              tenancy::Organizations(engine).DeleteRole(who, org, req.matches[1].str(), reassign_to);
		              res.status = 204;
	              }));
}

} // namespace tickets
