// server.js: a minimal ticket API on node:http showing the request cycle:
// authenticate the bearer token (jose) → tenantMiddleware (X-Organization-Id,
// context token) → handler SQL with no organization filter.
//
//   node server.js   (TENANCY_KEYRING, IDENTITY_KEYRING, PG* and PORT from the environment)
'use strict';

const http = require('node:http');
const jose = require('jose');
const { Pool } = require('pg');
const { loadKeyring, tenantMiddleware, httpStatusOf } = require('./tenancy');

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// Verifies "Authorization: Bearer <jwt>" from the identity provider; sets req.user.
function authenticate({ identityKey, issuer, audience }) {
  return async (req, res, next) => {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization || '');
    try {
      if (!match) throw new Error('no bearer token');
      const { payload } = await jose.jwtVerify(match[1], identityKey, { issuer, audience, algorithms: ['HS256'] });
      req.user = { id: payload.sub };
    } catch {
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, { error: 'unauthenticated', message: 'a valid bearer token is required' });
      return undefined;
    }
    return next(); // outside the try: a later failure is not an authentication failure
  };
}

function createApp({ pool, keyring, identityKey, issuer, audience }) {
  const steps = [authenticate({ identityKey, issuer, audience }), tenantMiddleware({ pool, keyring })];
  const routes = {
    'GET /tickets': async (req, res) => {
      // No WHERE organization_id: the database scopes it.
      const { rows } = await req.tenant((client) => client.query('SELECT id, title FROM tickets_app.tickets ORDER BY id'));
      sendJson(res, 200, { tickets: rows });
    },
  };
  return http.createServer((req, res) => {
    const route = routes[`${req.method} ${new URL(req.url, 'http://x').pathname}`];
    if (!route) return sendJson(res, 404, { error: 'not_found', message: 'no such endpoint' });
    const run = (i) =>
      i < steps.length ? steps[i](req, res, () => run(i + 1)) : route(req, res);
    Promise.resolve(run(0)).catch((error) => {
      const status = httpStatusOf(error);
      // Fixed texts: a server message could quote SQL.
      const body = status === 403 ? { error: 'forbidden', message: 'not a member of this organization, or not allowed' }
        : { error: status === 503 ? 'unavailable' : 'internal', message: 'the request could not be completed' };
      if (!res.headersSent) sendJson(res, status, body);
    });
  });
}

if (require.main === module) {
  const secret = loadKeyring(process.env.IDENTITY_KEYRING).find((k) => k.alg === 'HS256').key;
  const app = createApp({
    pool: new Pool({ max: 8 }),
    keyring: loadKeyring(process.env.TENANCY_KEYRING),
    identityKey: secret,
    issuer: process.env.IDENTITY_ISSUER || 'https://id.tickets.example',
    audience: process.env.IDENTITY_AUDIENCE || 'tickets-api',
  });
  app.listen(Number(process.env.PORT || 3000), '127.0.0.1');
}

module.exports = { createApp, authenticate };
