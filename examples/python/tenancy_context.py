"""tenancy_context.py: pg_tenancy from Python with standard libraries: PyJWT
signs the context token, psycopg 3 (with psycopg_pool) runs the transaction.

    keyring = load_keyring("/etc/myapp/tenancy.keyring")      # made by `tenancy keygen`
    token = mint_context_token(keyring, user_id, org_id)
    with tenant_transaction(pool, token) as conn:
        rows = conn.execute("SELECT * FROM tickets_app.tickets").fetchall()

The token is a compact JWS: header {alg, kid, typ: "tenancy-context+jwt"},
claims sub (user uuid), org (organization uuid; absent for a user-only
context), iat, exp, jti. The database verifies it with its own keyring and
re-checks the membership in tenancy.enter(), so a token for an organization
the user does not belong to is refused there.
"""
import base64
import contextlib
import secrets
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CONTEXT_TYPE = "tenancy-context+jwt"
# Ends the transaction in one round trip: still in context, commit, and prove
# the session carries nothing into the next tenant's transaction.
COMMIT = "SELECT tenancy.require_context(); UNLISTEN *; COMMIT; DISCARD SEQUENCES; SELECT tenancy.assert_session_clean()"


def load_keyring(path):
    """The signing keys of a keyring file, [(kid, alg, key)], first line first."""
    keys = []
    with open(path) as keyring:
        for line in keyring:
            fields = line.split()
            if len(fields) != 3 or fields[0].startswith("#") or ":" not in fields[2]:
                continue
            kid, alg, (kind, text) = fields[0], fields[1], fields[2].split(":", 1)
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if alg == "HS256" and kind == "secret":
                keys.append((kid, alg, raw))
            elif alg == "EdDSA" and kind == "private":
                keys.append((kid, alg, Ed25519PrivateKey.from_private_bytes(raw)))
    if not keys:
        raise ValueError(f"no signing key in {path}")
    return keys


def mint_context_token(keyring, user_id, org_id=None, kid=None, ttl=60):
    """A context token for user_id in org_id (None: a user-only context)."""
    user_id = str(uuid.UUID(str(user_id)))
    kid, alg, key = next(k for k in keyring if kid is None or k[0] == kid)
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + ttl, "jti": secrets.token_urlsafe(16)}
    if org_id is not None:
        claims["org"] = str(uuid.UUID(str(org_id)))
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": CONTEXT_TYPE})


@contextlib.contextmanager
def tenant_transaction(pool, token):
    """One transaction in the context of `token` on a pooled connection (the
    pool must hand out autocommit connections: the transaction is explicit).
    The token is a bind parameter, never inlined. A connection that saw any
    error is closed, so the pool replaces it instead of reusing it."""
    with pool.connection() as conn:
        try:
            conn.execute("BEGIN")
            conn.execute("SELECT tenancy.enter(%s)", [token])
            yield conn
            conn.execute(COMMIT)
        except BaseException:
            conn.close()
            raise


def http_status_of(error):
    """What a failed transaction means for an HTTP answer (SQLSTATEs from docs/engine.md)."""
    state = getattr(error, "sqlstate", None) or ""
    # By SQLSTATE alone, never the message (token/include/pg_tenancy/token/sqlstates.hpp).
    if state == "42T01":
        return 403  # not a member (also: no such organization)
    if state in ("42501", "42T03", "42T06"):
        return 403  # not allowed
    if state in ("42T04", "22T01"):
        return 400  # wrong kind of context, invalid invitation
    if state.startswith("08") or state.startswith("57P"):
        return 503
    return 500  # includes 28T01: the server refused our own token, a key mismatch
