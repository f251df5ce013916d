#!/usr/bin/env bash
# identity.sh: `tenancy exec --bearer` with identity-provider tokens: tokens
# minted by PyJWT (RS256, ...) and Node jose (ES256, ...) verified against the
# JWKS files those libraries exported, the rejection cases with their messages
# and exit code 4, subjects linked with `tenancy user link`
# (identity_subject_mapping = linked), the identity settings as flags of
# `tenancy exec` (over the config file and environment), and a broken key file (exit 2).
# Appends "ok NAME" / "not ok NAME" lines to $TENANCY_WORK/results.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
results="$TENANCY_WORK/results"
db=tenancy_identity_cli
issuer=https://login.test.example/
report() {
  if [ "$2" -eq 0 ]; then echo "ok identity:$1" | tee -a "$results"
  else echo "not ok identity:$1 ${3:-}" | tee -a "$results"; fi
}
sql() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
token() { jq -r --arg n "$2" '.[] | select(.name == $n) | .token' "$fixtures/$1.cases.json"; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
psql -X -qAt -d postgres <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'identity_app') THEN CREATE ROLE identity_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'identity_admin') THEN CREATE ROLE identity_admin; END IF;
END $$;
ALTER ROLE identity_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'identity_app';
ALTER ROLE identity_admin LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'identity_admin';
SQL
sql "GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text),
       tenancy.link_identity(uuid, text, text), tenancy.resolve_identity(text, text) TO identity_admin"

export TENANCY_CONNINFO="dbname=$db user=identity_app password=identity_app"
export TENANCY_ADMIN_CONNINFO="dbname=$db user=identity_admin password=identity_admin"
export TENANCY_IDENTITY_ISSUER=$issuer TENANCY_IDENTITY_AUDIENCE=tickets-api
unset TENANCY_CONFIG TENANCY_IDENTITY_SUBJECT_MAPPING
cli="$TENANCY_CLI"
whoami_sql="SELECT tenancy.current_user_id() AS me"

alice=$("$cli" user add --code alice --email alice@identity.example)
fixtures="$TENANCY_WORK/identity-fixtures"
out=$(bash "$root/tests/identity/interop/make_fixtures.sh" "$fixtures" "$alice" "auth0|alice-42" "$issuer" tickets-api 2>&1)
report mint_fixtures_pyjwt_and_jose $? "$out"

# Every algorithm from both libraries, through the CLI.
for lib in pyjwt jose; do
  for alg in RS256 PS256 ES256 EdDSA HS256; do
    out=$(TENANCY_IDENTITY_KEYRING="$fixtures/$lib.jwks.json" TENANCY_BEARER=$(token $lib "$lib:$alg") \
          "$cli" exec -c "$whoami_sql" 2>&1)
    echo "$out" | grep -q "$alice"; report "exec_bearer_${lib}_$alg" $? "$out"
  done
done

# Rejections: exit 4 and the documented reason, never the token.
check_refused() { # NAME LIB CASE EXPECTED_TEXT
  local tok out status
  tok=$(token "$2" "$2:$3")
  out=$(TENANCY_IDENTITY_KEYRING="$fixtures/$2.jwks.json" TENANCY_BEARER=$tok "$cli" exec -c "$whoami_sql" 2>&1)
  status=$?
  [ $status -eq 4 ] && echo "$out" | grep -qF "invalid bearer token: $4" && ! echo "$out" | grep -qF "${tok:0:40}"
  report "$1" $? "$status $out"
}
check_refused refused_expired pyjwt expired "token has expired"
check_refused refused_not_yet_valid jose not_yet_valid "token is not valid yet"
check_refused refused_wrong_issuer pyjwt wrong_issuer "token issuer (iss) is not the configured identity issuer"
check_refused refused_wrong_audience jose wrong_audience "token audience (aud) does not include"
check_refused refused_unknown_kid jose unknown_kid "token key id (kid) is not in the identity key set"
check_refused refused_alg_none pyjwt alg_none "token algorithm is not RS256, PS256, ES256, EdDSA or HS256"
check_refused refused_rsa_key_as_hmac_secret pyjwt rsa_key_as_hmac_secret "token algorithm does not match its key"
check_refused refused_tampered jose tampered_payload "token signature does not verify"
check_refused refused_rsa_1024 pyjwt rsa_1024 "token key id (kid) is not in the identity key set"
check_refused refused_ec_p384 jose ec_p384 "token algorithm is not RS256"
check_refused refused_jku_header pyjwt jku_header "token header has a member other than"
check_refused refused_oversized jose oversized "token is larger than 16384 bytes"

# Provider subjects that are not uuids: linked, not trusted as ids.
linked_token=$(token jose "jose:ES256:linked_subject")
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/jose.jwks.json" TENANCY_BEARER=$linked_token "$cli" exec -c "$whoami_sql" 2>&1)
[ $? -eq 4 ] && echo "$out" | grep -q "not a pg_tenancy user id"; report non_uuid_subject_refused_by_default $? "$out"
export TENANCY_IDENTITY_SUBJECT_MAPPING=linked
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/jose.jwks.json" TENANCY_BEARER=$linked_token "$cli" exec -c "$whoami_sql" 2>&1)
[ $? -eq 4 ] && echo "$out" | grep -q "no pg_tenancy user is linked"; report unlinked_subject_refused $? "$out"
out=$("$cli" user link --user "$alice" --issuer "$issuer" --subject "auth0|alice-42" 2>&1); report user_link $? "$out"
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/jose.jwks.json" TENANCY_BEARER=$linked_token "$cli" exec -c "$whoami_sql" 2>&1)
echo "$out" | grep -q "$alice"; report exec_bearer_linked_subject $? "$out"
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/pyjwt.jwks.json" TENANCY_BEARER=$(token pyjwt "pyjwt:RS256") \
      "$cli" exec -c "$whoami_sql" 2>&1)
[ $? -eq 4 ]; report linked_mode_does_not_trust_uuid_subjects $? "$out"
unset TENANCY_IDENTITY_SUBJECT_MAPPING

# Identity settings from flags (issue 11.14): none from the environment, a
# config file the flags override, each setting's effect, and usage errors that
# start with the flag at fault.
no_identity_env=(env -u TENANCY_IDENTITY_KEYRING -u TENANCY_IDENTITY_ISSUER -u TENANCY_IDENTITY_AUDIENCE
                 -u TENANCY_IDENTITY_USER_CLAIM -u TENANCY_IDENTITY_SUBJECT_MAPPING -u TENANCY_CONFIG)
flag_exec() { "${no_identity_env[@]}" "$cli" exec "$@" -c "$whoami_sql" 2>&1; }
jose_flags=(--identity-keyring "$fixtures/jose.jwks.json" --identity-issuer "$issuer" --identity-audience tickets-api)
pyjwt_flags=(--identity-keyring "$fixtures/pyjwt.jwks.json" --identity-issuer "$issuer" --identity-audience tickets-api)
jose_es256=$(token jose "jose:ES256") pyjwt_rs256=$(token pyjwt "pyjwt:RS256")
out=$(flag_exec --bearer "$jose_es256" "${jose_flags[@]}"); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "$alice"; report flags_identity_settings_without_environment $? "$status $out"
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/jose.jwks.json" TENANCY_IDENTITY_ISSUER=https://wrong.example/ \
      "$cli" exec --bearer "$jose_es256" --identity-issuer "$issuer" \
      -c "$whoami_sql" 2>&1); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "$alice"; report flags_override_environment $? "$status $out"
cat >"$TENANCY_WORK/identity-flags.conf" <<CONF
identity_keyring_file = $fixtures/pyjwt.jwks.json
identity_issuer = https://wrong.example/
identity_audience = some-other-api
CONF
conf=(--config "$TENANCY_WORK/identity-flags.conf")
out=$(flag_exec "${conf[@]}" --bearer "$pyjwt_rs256"); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "issuer (iss) is not the configured"; report flags_config_file_read $? "$status $out"
out=$(flag_exec "${conf[@]}" --bearer "$pyjwt_rs256" --identity-issuer "$issuer"); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "audience (aud) does not include"; report flags_issuer_overrides_file $? "$status $out"
out=$(flag_exec "${conf[@]}" --bearer "$pyjwt_rs256" --identity-issuer "$issuer" --identity-audience tickets-api); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "$alice"; report flags_audience_overrides_file $? "$status $out"
out=$(flag_exec "${conf[@]}" --bearer "$pyjwt_rs256" "${jose_flags[@]}"); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "kid) is not in the identity key set"; report flags_keyring_overrides_file $? "$status $out"
out=$(flag_exec --bearer "$pyjwt_rs256" "${pyjwt_flags[@]}" --identity-user-claim email); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "lacks a required claim"; report flags_user_claim $? "$status $out"
out=$(flag_exec --bearer "$linked_token" "${jose_flags[@]}" --identity-subject-mapping linked); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "$alice"; report flags_subject_mapping_linked $? "$status $out"
# Leeway: an HS256 token (PyJWT's key) that expired 90 s ago is refused with the
# default 30 s and accepted with --clock-skew 120.
late=$(/usr/bin/python3 - "$fixtures/pyjwt.jwks.json" "$alice" "$issuer" <<'PY'
import base64, json, sys, time, jwt
key = next(k for k in json.load(open(sys.argv[1]))["keys"] if k["kty"] == "oct")
secret = base64.urlsafe_b64decode(key["k"] + "=" * (-len(key["k"]) % 4))
now = int(time.time())
print(jwt.encode({"iss": sys.argv[3], "aud": "tickets-api", "sub": sys.argv[2], "iat": now - 600, "exp": now - 90},
                 secret, algorithm="HS256", headers={"kid": key["kid"]}))
PY
)
out=$(flag_exec --bearer "$late" "${pyjwt_flags[@]}"); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "token has expired"; report flags_default_clock_skew_refuses_late_token $? "$status $out"
out=$(flag_exec --bearer "$late" "${pyjwt_flags[@]}" --clock-skew 120); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "$alice"; report flags_clock_skew $? "$status $out"
usage_error() { # NAME FLAG_THE_MESSAGE_STARTS_WITH ARGS...
  local out status
  out=$("${no_identity_env[@]}" "$cli" exec "${@:3}" -c "$whoami_sql" 2>&1); status=$?
  # Here-strings: under pipefail, head closing the pipe early can fail the echo.
  [ $status -eq 2 ] && head -1 <<<"$out" | grep -q -- "^$2" && ! grep -qF "${jose_es256:0:40}" <<<"$out"
  report "$1" $? "$status $out"
}
usage_error flags_bad_clock_skew_named --clock-skew --bearer "$jose_es256" "${jose_flags[@]}" --clock-skew 900
usage_error flags_bad_subject_mapping_named --identity-subject-mapping --bearer "$jose_es256" "${jose_flags[@]}" \
  --identity-subject-mapping maybe
usage_error flags_missing_key_file_named --identity-keyring --bearer "$jose_es256" "${jose_flags[@]}" \
  --identity-keyring "$fixtures/no-such.jwks.json"
usage_error flags_empty_user_claim_named --identity-user-claim --bearer "$jose_es256" "${jose_flags[@]}" --identity-user-claim ""
usage_error flags_no_key_set_named --identity-keyring --bearer "$jose_es256" --identity-issuer "$issuer" \
  --identity-audience tickets-api
usage_error flags_no_issuer_named --identity-issuer --bearer "$jose_es256" --identity-keyring "$fixtures/jose.jwks.json" \
  --identity-audience tickets-api
usage_error flags_no_audience_named --identity-audience --bearer "$jose_es256" --identity-keyring "$fixtures/jose.jwks.json" \
  --identity-issuer "$issuer"
usage_error flags_identity_flag_without_bearer_named --identity-issuer --user "$alice" --identity-issuer "$issuer"
usage_error flags_user_and_bearer_named --user --user "$alice" --bearer "$jose_es256" "${jose_flags[@]}"

# A key file that cannot be used is a configuration error (exit 2), not a silent accept.
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/pyjwt.rsa1024.jwks.json" TENANCY_BEARER=$(token pyjwt "pyjwt:RS256") \
      "$cli" exec -c "$whoami_sql" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q "1024 bits; at least 2048 are required"; report rsa_1024_jwks_refused $? "$status $out"
chmod 644 "$fixtures/pyjwt.jwks.json"
out=$(TENANCY_IDENTITY_KEYRING="$fixtures/pyjwt.jwks.json" TENANCY_BEARER=$(token pyjwt "pyjwt:RS256") \
      "$cli" exec -c "$whoami_sql" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q "group or world access"; report jwks_with_secret_must_be_private $? "$status $out"
dropdb "$db"
