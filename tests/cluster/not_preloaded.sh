#!/usr/bin/env bash
# not_preloaded.sh: on a server that does not preload pg_tenancy, CREATE
# EXTENSION fails with a hint instead of installing a forgeable context.
# Runs inside its own pg_virtualenv; prints "ok NAME" / "not ok NAME".
set -uo pipefail
out=$(psql -X -d postgres -c "CREATE EXTENSION pg_tenancy" 2>&1)
if echo "$out" | grep -q "must be loaded via shared_preload_libraries" && echo "$out" | grep -q "HINT"; then
  echo "ok cluster:create_extension_requires_preload"
else
  echo "not ok cluster:create_extension_requires_preload $out"
fi
out=$(psql -X -qAt -d postgres -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_tenancy'" 2>&1)
if [ "$out" = "0" ]; then echo "ok cluster:nothing_installed_without_preload"; else echo "not ok cluster:nothing_installed_without_preload $out"; fi
out=$(psql -X -d postgres -c "SET tenancy.context = 'x'" -c "SHOW tenancy.context" 2>&1)
echo "note: without the library, tenancy.* is an ordinary placeholder: $(echo "$out" | tr '\n' ' ')" >&2
