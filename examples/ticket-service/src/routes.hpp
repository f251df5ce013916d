// routes.hpp: the service's endpoints, one file per resource. Every handler's
// SQL runs in the caller's tenant context and carries no organization filter.
#pragma once

#include <string>

#include <httplib.h>

#include "pg_tenancy/engine/engine.hpp"

namespace tickets {

// POST /admin/users (only with an admin key), POST /organizations, GET /me/organizations.
void AddAccountRoutes(httplib::Server &server, tenancy::Engine &engine, const std::string &admin_key);
// GET /members, PUT /members/{user}/role, DELETE /members/{user}, POST /members/leave.
void AddMemberRoutes(httplib::Server &server, tenancy::Engine &engine);
// GET /roles, POST /roles, PATCH /roles/{code}, DELETE /roles/{code}[?reassign_to=].
void AddRoleRoutes(httplib::Server &server, tenancy::Engine &engine);
// POST /invitations, GET /invitations, DELETE /invitations/{id}, POST /invitations/accept.
void AddInvitationRoutes(httplib::Server &server, tenancy::Engine &engine);
// /tickets: create, list (paging, status filter), get, update, assign, close, delete.
void AddTicketRoutes(httplib::Server &server, tenancy::Engine &engine);
// GET /audit-log.
void AddAuditRoutes(httplib::Server &server, tenancy::Engine &engine);

} // namespace tickets
