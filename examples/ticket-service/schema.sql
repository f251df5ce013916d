-- schema.sql: the ticket service's migration. Run as the role that owns the
-- application's tables (never as the application role), with psql variables
-- app_role (the service's login role: no SUPERUSER, no BYPASSRLS, owns nothing)
-- and admin_role (the engine's privileged role):
--
--   psql -v app_role=tickets_app -v admin_role=tickets_admin -f schema.sql
--
-- No query of the service filters by organization: tenancy.protect() makes
-- every read and write of "tickets" tenant-scoped and permission-checked.
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS pg_tenancy;

SELECT tenancy.register_permission('tickets.read', 'See tickets');
SELECT tenancy.register_permission('tickets.write', 'Create, edit and close tickets');
SELECT tenancy.register_permission('tickets.assign', 'Assign tickets to members');
SELECT tenancy.register_permission('tickets.delete', 'Delete tickets');

CREATE SCHEMA tickets_app;

-- Sequential ids on purpose: the seed's attack is "tickets/123 -> tickets/124".
CREATE TABLE tickets_app.tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    title           text NOT NULL CONSTRAINT tickets_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    body            text NOT NULL DEFAULT '' CONSTRAINT tickets_body_length CHECK (length(body) <= 10000),
    status          text NOT NULL DEFAULT 'open'
                    CONSTRAINT tickets_status_known CHECK (status IN ('open', 'in_progress', 'closed')),
    assignee_id     uuid,
    created_by      uuid NOT NULL DEFAULT tenancy.current_user_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- An assignee must be a member of the ticket's own organization; removing
    -- the member unassigns their tickets. The database checks it, not the handler.
    CONSTRAINT tickets_assignee_is_member FOREIGN KEY (organization_id, assignee_id)
        REFERENCES tenancy.memberships (organization_id, user_id) ON DELETE SET NULL (assignee_id)
);

-- Reads need tickets.read, writes tickets.write, inside the tenant policies.
SELECT tenancy.protect('tickets_app.tickets', 'organization_id', 'tickets.read', 'tickets.write');
CREATE INDEX tickets_org_status_idx ON tickets_app.tickets (organization_id, status, id);

-- Deleting needs tickets.delete as well.
CREATE POLICY tickets_delete_needs_permission ON tickets_app.tickets AS RESTRICTIVE FOR DELETE TO PUBLIC
    USING (tenancy.has_permission('tickets.delete'));

-- Changing the assignee needs tickets.assign. Only statements the application
-- sends itself (trigger depth 1) are checked: the foreign key's ON DELETE SET
-- NULL, run when a member is removed, is not an assignment.
CREATE FUNCTION tickets_app.check_assignment() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF pg_catalog.pg_trigger_depth() = 1
       AND NEW.assignee_id IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.assignee_id END)
       AND NOT tenancy.has_permission('tickets.assign') THEN
        RAISE EXCEPTION 'assigning tickets needs the tickets.assign permission' USING ERRCODE = '42501';
    END IF;
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_check_assignment BEFORE INSERT OR UPDATE ON tickets_app.tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_app.check_assignment();

GRANT USAGE ON SCHEMA tickets_app TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON tickets_app.tickets TO :"app_role";
GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text) TO :"admin_role";
