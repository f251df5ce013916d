// tenancy.js: pg_tenancy from Node.js with two standard libraries: `jose` signs
// the context token, `pg` runs the transaction.
//
//   const keyring = loadKeyring('/etc/myapp/tenancy.keyring'); // made by `tenancy keygen`
//   const token = await mintContextToken(keyring, { userId, orgId });
//   const rows = await withTenant(pool, token, (client) => client.query('SELECT * FROM tickets_app.tickets'));
//
// The token is a compact JWS: header {alg, kid, typ: "tenancy-context+jwt"},
// claims sub (user uuid), org (organization uuid; absent for a user-only
// context), iat, exp, jti. The database verifies it with its own keyring and
// re-checks the membership in tenancy.enter(), so a token for an organization
// the user does not belong to is refused there.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const jose = require('jose');

const CONTEXT_TYPE = 'tenancy-context+jwt';
// PKCS#8 prefix of an Ed25519 private key; the keyring stores the raw 32-byte seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Reads a keyring file (`<kid> HS256 secret:<b64url>` or `<kid> EdDSA private:<b64url>`
// lines) and returns its signing keys as [{kid, alg, key}], first line first.
function loadKeyring(path) {
  const keys = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const [kid, alg, material] = line.trim().split(/\s+/);
    if (!kid || kid.startsWith('#') || !material) continue;
    const [kind, text] = material.split(':');
    const bytes = Buffer.from(text, 'base64url');
    if (alg === 'HS256' && kind === 'secret') keys.push({ kid, alg, key: new Uint8Array(bytes) });
    else if (alg === 'EdDSA' && kind === 'private')
      keys.push({
        kid, alg,
        key: crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, bytes]), format: 'der', type: 'pkcs8' }),
      });
  }
  if (keys.length === 0) throw new Error(`no signing key in ${path}`);
  return keys;
}

// A context token for userId in orgId (omit orgId for a user-only context,
// e.g. to create an organization). Keep ttl short: 60 seconds is plenty.
async function mintContextToken(keyring, { userId, orgId, kid, ttl = 60 }) {
  if (!UUID.test(userId) || (orgId !== undefined && !UUID.test(orgId))) throw new TypeError('ids must be uuids');
  const signing = kid ? keyring.find((k) => k.kid === kid) : keyring[0];
  if (!signing) throw new Error(`no key ${kid} in the keyring`);
  const now = Math.floor(Date.now() / 1000);
  const claims = orgId === undefined ? {} : { org: orgId };
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: CONTEXT_TYPE })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(crypto.randomBytes(16).toString('base64url'))
    .sign(signing.key);
}

// Runs fn(client) in one transaction inside the context of `token`, on a
// client from `pool`. The token is a bind parameter (never inlined, so it stays
// out of pg_stat_activity and the server log). The context ends with the
// transaction; a client that saw any error is destroyed, not reused.
async function withTenant(pool, token, fn) {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT tenancy.enter($1)', [token]);
    const result = await fn(client);
    // One simple-protocol round trip: still in context, commit, and prove the
    // session carries nothing into the next tenant's transaction.
    await client.query(
      'SELECT tenancy.require_context(); UNLISTEN *; COMMIT; DISCARD SEQUENCES; SELECT tenancy.assert_session_clean()');
    return result;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken); // true: close the connection instead of pooling it
  }
}

// What a failed transaction means for an HTTP answer (SQLSTATEs from docs/engine.md).
function httpStatusOf(error) {
  // By SQLSTATE alone, never the message (the codes: token/include/pg_tenancy/token/sqlstates.hpp).
  if (error.code === '42T01') return 403; // not a member, also: no such organization
  if (['42501', '42T03', '42T06'].includes(error.code)) return 403; // not allowed
  if (error.code === '42T04' || error.code === '22T01') return 400; // wrong kind of context, invalid invitation
  if (error.code === '28T01') return 500; // the server refused our token: a key mismatch, not the client's fault
  if (error.code && (error.code.startsWith('08') || error.code.startsWith('57P'))) return 503;
  return 500;
}

// Middleware for node:http (or Express/Connect: same signature). Expects an
// earlier step to set req.user = {id}; reads X-Organization-Id, mints a token
// and gives handlers req.tenant(fn), a transaction in that organization.
function tenantMiddleware({ pool, keyring, kid }) {
  return async (req, res, next) => {
    const orgId = req.headers['x-organization-id'];
    if (typeof orgId !== 'string' || !UUID.test(orgId)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_organization', message: 'send X-Organization-Id: <organization uuid>' }));
      return;
    }
    const token = await mintContextToken(keyring, { userId: req.user.id, orgId, kid });
    req.tenant = (fn) => withTenant(pool, token, fn);
    return next();
  };
}

module.exports = { loadKeyring, mintContextToken, withTenant, tenantMiddleware, httpStatusOf, CONTEXT_TYPE };
