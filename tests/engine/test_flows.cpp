// Roles, members, ownership and invitations through the engine: every call,
// and the typed errors the checks in the extension turn into.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "engine_fixture.hpp"

using namespace engine_test;

namespace {

const tenancy::MemberInfo *Find(const std::vector<tenancy::MemberInfo> &members, const tenancy::Uuid &user) {
	auto it = std::find_if(members.begin(), members.end(), [&](const auto &m) { return m.user_id == user; });
	return it == members.end() ? nullptr : &*it;
}

tenancy::Identity UserWithEmail(tenancy::Engine &engine, const std::string &name, std::string &email) {
	std::string code = Unique(name);
	email = code + "@test.example";
	return tenancy::Identity{engine.RegisterUser(code, email)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(flows)

BOOST_AUTO_TEST_CASE(roles) {
	tenancy::Engine engine(Config());
	pg_tenancy::engine::Organizations orgs(engine);
	Member acme = NewOwner(engine, "acme");
	orgs.CreateRole(acme.identity, acme.org, "reader", "Reader", {"tickets.read"});
	orgs.CreateRole(acme.identity, acme.org, "writer", "Writer", {"tickets.read", "tickets.write"});
	orgs.UpdateRole(acme.identity, acme.org, "reader", std::string("Readers"), std::nullopt);
	orgs.UpdateRole(acme.identity, acme.org, "writer", std::nullopt, std::vector<std::string>{"tickets.*"});
	auto role_list = orgs.ListRoles(acme.identity, acme.org);
	BOOST_REQUIRE_EQUAL(role_list.size(), 3u);
	BOOST_TEST(role_list[0].code == "owner");
	BOOST_TEST(role_list[0].is_system);
	BOOST_TEST(role_list[1].code == "reader");
	BOOST_TEST(role_list[1].name == "Readers");
	BOOST_TEST(role_list[2].permissions == std::vector<std::string>{"tickets.*"});
	BOOST_CHECK_THROW(orgs.CreateRole(acme.identity, acme.org, "Bad Code", "x", {}), tenancy::DatabaseError);
	BOOST_CHECK_THROW(orgs.CreateRole(acme.identity, acme.org, "x", "x", {"tickets.fly"}), tenancy::DatabaseError);
	BOOST_CHECK_THROW(orgs.UpdateRole(acme.identity, acme.org, "owner", std::string("Boss"), std::nullopt),
	                  tenancy::MissingPermission);
	orgs.DeleteRole(acme.identity, acme.org, "reader");
	BOOST_TEST(orgs.ListRoles(acme.identity, acme.org).size() == 2u);
	try {
		orgs.DeleteRole(acme.identity, acme.org, "nope");
		BOOST_FAIL("deleted a role that does not exist");
	} catch (const tenancy::DatabaseError &e) {
		BOOST_TEST(e.sqlstate() == "42704");
	}
}

BOOST_AUTO_TEST_CASE(members_and_ownership) {
	tenancy::Engine engine(Config());
	pg_tenancy::engine::Organizations orgs(engine);
	Member acme = NewOwner(engine, "acme");
	tenancy::Identity bea = NewUser(engine, "bea");
	orgs.CreateRole(acme.identity, acme.org, "reader", "Reader", {"tickets.read"});
	orgs.CreateRole(acme.identity, acme.org, "manager", "Manager", {"members.read", "members.manage", "tickets.read"});
	AddMember(bea.user_id, acme.org);
	orgs.SetMemberRole(acme.identity, acme.org, bea.user_id, "manager");
	auto members = orgs.ListMembers(acme.identity, acme.org);
	BOOST_REQUIRE_EQUAL(members.size(), 2u);
	BOOST_TEST(Find(members, bea.user_id)->role_code == "manager");
	BOOST_TEST(Find(members, acme.identity.user_id)->is_owner);
	// A manager cannot touch the owner or hand out ownership.
	BOOST_CHECK_THROW(orgs.SetMemberRole(bea, acme.org, acme.identity.user_id, "reader"), tenancy::MissingPermission);
	BOOST_CHECK_THROW(orgs.RemoveMember(bea, acme.org, acme.identity.user_id), tenancy::MissingPermission);
	BOOST_CHECK_THROW(orgs.TransferOwnership(bea, acme.org, bea.user_id, "reader"), tenancy::MissingPermission);
	// The last owner cannot leave; transferring first makes it possible.
	try {
		orgs.LeaveOrganization(acme.identity, acme.org);
		BOOST_FAIL("the last owner left");
	} catch (const tenancy::DatabaseError &e) {
		BOOST_TEST(e.sqlstate() == "23514");
	}
	orgs.TransferOwnership(acme.identity, acme.org, bea.user_id, "reader");
	members = orgs.ListMembers(bea, acme.org);
	BOOST_TEST(Find(members, bea.user_id)->is_owner);
	BOOST_TEST(Find(members, acme.identity.user_id)->role_code == "reader");
	orgs.LeaveOrganization(acme.identity, acme.org);
	// The refusal comes with the first statement (enter() is pipelined with it)
	// unless the engine's own membership check already knows.
	BOOST_CHECK_THROW(engine.Transaction(acme.identity, acme.org).Exec("SELECT 1"), tenancy::NotAMember);
	BOOST_TEST(orgs.MyOrganizations(acme.identity).empty());
	// Removing a member ends their access at once.
	tenancy::Identity cid = NewUser(engine, "cid");
	AddMember(cid.user_id, acme.org);
	orgs.RemoveMember(bea, acme.org, cid.user_id);
	BOOST_CHECK_THROW(engine.Transaction(cid, acme.org), tenancy::NotAMember);
}

BOOST_AUTO_TEST_CASE(invitations) {
	tenancy::Engine engine(Config());
	pg_tenancy::engine::Organizations orgs(engine);
	Member acme = NewOwner(engine, "acme");
	orgs.CreateRole(acme.identity, acme.org, "reader", "Reader", {"tickets.read"});
	std::string dora_email, ed_email;
	tenancy::Identity dora = UserWithEmail(engine, "dora", dora_email);
	tenancy::Identity ed = UserWithEmail(engine, "ed", ed_email);

	std::string token = orgs.Invite(acme.identity, acme.org, dora_email, "reader", std::chrono::hours(1));
	BOOST_TEST(token.rfind("tinv_", 0) == 0u);
	BOOST_TEST(token.size() == 48u);
	auto invitation_list = orgs.ListInvitations(acme.identity, acme.org);
	BOOST_REQUIRE_EQUAL(invitation_list.size(), 1u);
	BOOST_TEST(invitation_list[0].status == "pending");
	BOOST_TEST(invitation_list[0].role_code == "reader");

	BOOST_CHECK_THROW(orgs.AcceptInvitation(ed, token), tenancy::InvitationInvalid); // not yours
	BOOST_TEST(orgs.AcceptInvitation(dora, token) == acme.org);
	BOOST_CHECK_THROW(orgs.AcceptInvitation(dora, token), tenancy::InvitationInvalid);      // reused
	BOOST_CHECK_THROW(orgs.AcceptInvitation(ed, "tinv_guess"), tenancy::InvitationInvalid); // unknown
	auto tx = engine.Transaction(dora, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.has_permission('tickets.read')")[0][0].as<bool>());
	tx.Commit();

	std::string revoked = orgs.Invite(acme.identity, acme.org, ed_email, "reader");
	for (const auto &invitation : orgs.ListInvitations(acme.identity, acme.org))
		if (invitation.status == "pending")
			orgs.RevokeInvitation(acme.identity, acme.org, invitation.id);
	BOOST_CHECK_THROW(orgs.AcceptInvitation(ed, revoked), tenancy::InvitationInvalid); // revoked
	// Dora (reader) may not invite at all; nor give more than she holds.
	BOOST_CHECK_THROW(orgs.Invite(dora, acme.org, ed_email, "reader"), tenancy::MissingPermission);
	BOOST_CHECK_THROW(orgs.Invite(acme.identity, acme.org, "not-an-email", "reader"), tenancy::DatabaseError);
	BOOST_CHECK_THROW(orgs.Invite(acme.identity, acme.org, ed_email, "reader", std::chrono::seconds(1)),
	                  tenancy::DatabaseError);
}

BOOST_AUTO_TEST_SUITE_END()
