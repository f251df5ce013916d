#!/usr/bin/env bash
# prepare_db.sh DB: a fresh database with pg_tenancy and the ticket service's
# schema, the login roles tickets_app (the application) and tickets_admin (the
# engine's privileged role). Run as a superuser (PG* set), e.g. inside the
# suite's cluster; the Node.js and Python examples use it too.
set -euo pipefail
db=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickets_app') THEN CREATE ROLE tickets_app LOGIN PASSWORD 'tickets_app'; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickets_admin') THEN CREATE ROLE tickets_admin LOGIN PASSWORD 'tickets_admin'; END IF;
END $$;
SQL
psql -X -q -d "$db" -v app_role=tickets_app -v admin_role=tickets_admin -f "$here/../schema.sql" >/dev/null
