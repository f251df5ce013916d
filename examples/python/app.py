"""app.py: a minimal WSGI ticket API showing the request cycle: authenticate
the bearer token (PyJWT) -> TenantMiddleware (X-Organization-Id, context
token) -> handler SQL with no organization filter.
"""
import json
import uuid

import jwt

from tenancy_context import http_status_of, mint_context_token, tenant_transaction


def send_json(start_response, status, body, headers=()):
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               500: "Internal Server Error", 503: "Service Unavailable"}
    data = json.dumps(body).encode()
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(data))), *headers])
    return [data]


class Authenticate:
    """Verifies "Authorization: Bearer <jwt>" from the identity provider; sets environ["tenancy.user"]."""

    def __init__(self, app, key, issuer, audience):
        self.app, self.key, self.issuer, self.audience = app, key, issuer, audience

    def __call__(self, environ, start_response):
        header = environ.get("HTTP_AUTHORIZATION", "")
        try:
            if not header.startswith("Bearer "):
                raise jwt.InvalidTokenError("no bearer token")
            claims = jwt.decode(header[len("Bearer "):], self.key, algorithms=["HS256"], issuer=self.issuer,
                                audience=self.audience, options={"require": ["exp", "sub"]})
            environ["tenancy.user"] = str(uuid.UUID(claims["sub"]))
        except (jwt.InvalidTokenError, ValueError):
            return send_json(start_response, 401, {"error": "unauthenticated",
                                                   "message": "a valid bearer token is required"},
                             [("WWW-Authenticate", "Bearer")])
        return self.app(environ, start_response)


class TenantMiddleware:
    """Reads X-Organization-Id, mints a context token and gives handlers
    environ["tenancy.transaction"](): a transaction in that organization."""

    def __init__(self, app, pool, keyring):
        self.app, self.pool, self.keyring = app, pool, keyring

    def __call__(self, environ, start_response):
        try:
            org = str(uuid.UUID(environ.get("HTTP_X_ORGANIZATION_ID", "")))
        except ValueError:
            return send_json(start_response, 400, {"error": "invalid_organization",
                                                   "message": "send X-Organization-Id: <organization uuid>"})
        token = mint_context_token(self.keyring, environ["tenancy.user"], org)
        environ["tenancy.transaction"] = lambda: tenant_transaction(self.pool, token)
        return self.app(environ, start_response)


def tickets_app(environ, start_response):
    if (environ["REQUEST_METHOD"], environ["PATH_INFO"]) != ("GET", "/tickets"):
        return send_json(start_response, 404, {"error": "not_found", "message": "no such endpoint"})
    try:
        with environ["tenancy.transaction"]() as conn:
            # No WHERE organization_id: the database scopes it.
            rows = conn.execute("SELECT id, title FROM tickets_app.tickets ORDER BY id").fetchall()
    except Exception as error:  # fixed texts: a server message could quote SQL
        status = http_status_of(error)
        message = "not a member of this organization, or not allowed" if status == 403 else "request failed"
        return send_json(start_response, status, {"error": "forbidden" if status == 403 else "internal",
                                                  "message": message})
    return send_json(start_response, 200, {"tickets": [{"id": r[0], "title": r[1]} for r in rows]})


def make_app(pool, keyring, identity_key, issuer, audience):
    return Authenticate(TenantMiddleware(tickets_app, pool, keyring), identity_key, issuer, audience)
