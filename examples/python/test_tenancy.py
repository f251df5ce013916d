"""The Python example against the real extension (run by run-tests.sh inside
the suite's cluster: PG* name a superuser, TEST_DB a database with the ticket
service's schema, TENANCY_KEYRING the application's keyring)."""
import json
import logging
import os
import secrets
import threading
import unittest
import urllib.error
import urllib.request
import uuid
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt
import psycopg
from psycopg_pool import ConnectionPool

from app import make_app
from tenancy_context import CONTEXT_TYPE, load_keyring, mint_context_token, tenant_transaction

DB = os.environ["TEST_DB"]
KEYRING = load_keyring(os.environ["TENANCY_KEYRING"])
STAMP = secrets.token_hex(4)
# Refused transactions close their connection on purpose; the pool says so at WARNING.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


def titles(pool, user, org, kid=None):
    with tenant_transaction(pool, mint_context_token(KEYRING, user, org, kid=kid)) as conn:
        return [r[0] for r in conn.execute("SELECT title FROM tickets_app.tickets ORDER BY id")]


class TenancyFromPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One connection: every transaction reuses the same backend.
        cls.pool = ConnectionPool(f"dbname={DB} user=tickets_app password=tickets_app", min_size=1, max_size=1,
                                  kwargs={"autocommit": True}, open=True)
        with psycopg.connect(f"dbname={DB}", autocommit=True) as admin:
            cls.alice, cls.bob = (admin.execute("SELECT tenancy.register_user(%s, %s)",
                                                [f"{n}-{STAMP}", f"{n}-{STAMP}@python.example"]).fetchone()[0]
                                  for n in ("alice", "bob"))
        cls.acme = cls.create_organization(cls.alice, "Acme")
        cls.globex = cls.create_organization(cls.bob, "Globex")
        for user, org, title in [(cls.alice, cls.acme, "acme 1"), (cls.alice, cls.acme, "acme 2"),
                                 (cls.bob, cls.globex, "globex 1")]:
            with tenant_transaction(cls.pool, mint_context_token(KEYRING, user, org)) as conn:
                conn.execute("INSERT INTO tickets_app.tickets (title) VALUES (%s)", [title])

    @classmethod
    def create_organization(cls, user, name):
        with tenant_transaction(cls.pool, mint_context_token(KEYRING, user)) as conn:  # user-only context
            return conn.execute("SELECT tenancy.create_organization(%s)", [name]).fetchone()[0]

    @classmethod
    def tearDownClass(cls):
        cls.pool.close()

    def test_member_sees_only_their_organization(self):
        self.assertEqual(titles(self.pool, self.alice, self.acme), ["acme 1", "acme 2"])
        self.assertEqual(titles(self.pool, self.bob, self.globex), ["globex 1"])

    def test_both_key_types_from_pyjwt_work(self):
        self.assertEqual(titles(self.pool, self.alice, self.acme, kid="test-hs"), ["acme 1", "acme 2"])
        self.assertEqual(titles(self.pool, self.alice, self.acme, kid="test-ed"), ["acme 1", "acme 2"])
        self.assertEqual(jwt.get_unverified_header(mint_context_token(KEYRING, self.alice, self.acme))["typ"],
                         CONTEXT_TYPE)

    def test_non_member_token_refused(self):
        for org in (self.globex, uuid.uuid4()):  # someone else's, and one that does not exist
            with self.assertRaises(psycopg.Error) as refused:
                titles(self.pool, self.alice, org)
            self.assertEqual(refused.exception.sqlstate, "42T01")

    def test_forged_token_refused(self):
        claims = {"sub": str(self.bob), "org": str(self.globex), "iat": 0, "exp": 2**31, "jti": "x"}
        forged = jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256",
                            headers={"kid": "test-hs", "typ": CONTEXT_TYPE})
        with self.assertRaises(psycopg.Error) as refused:
            with tenant_transaction(self.pool, forged) as conn:
                conn.execute("SELECT 1")
        self.assertEqual(refused.exception.sqlstate, "28T01")

    def test_context_gone_on_next_pooled_transaction(self):
        with tenant_transaction(self.pool, mint_context_token(KEYRING, self.alice, self.acme)) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with self.pool.connection() as conn:
            self.assertEqual(conn.execute("SELECT pg_backend_pid()").fetchone()[0], pid, "same pooled connection")
            with self.assertRaises(psycopg.Error) as refused:
                conn.execute("SELECT count(*) FROM tickets_app.tickets")
            self.assertEqual(refused.exception.sqlstate, "42T02")

    def test_middleware_over_http(self):
        identity = secrets.token_bytes(32)
        app = make_app(self.pool, KEYRING, identity, "https://id.example", "api")

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        server = make_server("127.0.0.1", int(os.environ.get("PYTHON_TEST_PORT", "18083")), app, handler_class=Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/tickets"

        def get(headers):
            try:
                with urllib.request.urlopen(urllib.request.Request(base, headers=headers)) as response:
                    return response.status, json.load(response)
            except urllib.error.HTTPError as error:
                return error.code, json.load(error)

        bearer = "Bearer " + jwt.encode({"sub": str(self.alice), "iss": "https://id.example", "aud": "api",
                                         "exp": 2**31}, identity, algorithm="HS256")
        try:
            self.assertEqual(get({})[0], 401)
            self.assertEqual(get({"Authorization": bearer})[0], 400)
            status, body = get({"Authorization": bearer, "X-Organization-Id": str(self.acme)})
            self.assertEqual((status, [t["title"] for t in body["tickets"]]), (200, ["acme 1", "acme 2"]))
            status, body = get({"Authorization": bearer, "X-Organization-Id": str(self.globex)})
            self.assertEqual(status, 403)
            self.assertNotRegex(json.dumps(body), "tenancy|SELECT|42501|42T0")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    unittest.main()
