// tenancy.test.js: the Node.js example against the real extension (run by
// run-tests.sh inside the suite's cluster: PG* name a superuser, TEST_DB a
// database with examples/ticket-service/schema.sql, TENANCY_KEYRING the app's keyring).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const jose = require('jose');
const { Pool } = require('pg');
const { loadKeyring, mintContextToken, withTenant, CONTEXT_TYPE } = require('../tenancy');
const { createApp } = require('../server');

const database = process.env.TEST_DB;
const admin = new Pool({ database, max: 1 });
// One connection: every transaction below reuses the same backend.
const app = new Pool({ database, user: 'tickets_app', password: 'tickets_app', max: 1 });
const keyring = loadKeyring(process.env.TENANCY_KEYRING);
const stamp = crypto.randomBytes(4).toString('hex');
let alice, bob, acme, globex;

async function register(name) {
  const { rows } = await admin.query('SELECT tenancy.register_user($1, $2) AS id', [`${name}-${stamp}`, `${name}-${stamp}@node.example`]);
  return rows[0].id;
}

async function createOrganization(userId, name) {
  const token = await mintContextToken(keyring, { userId }); // user-only context
  return withTenant(app, token, async (c) => (await c.query('SELECT tenancy.create_organization($1) AS id', [name])).rows[0].id);
}

async function titles(userId, orgId, kid) {
  const token = await mintContextToken(keyring, { userId, orgId, kid });
  return withTenant(app, token, async (c) => (await c.query('SELECT title FROM tickets_app.tickets ORDER BY id')).rows.map((r) => r.title));
}

test.before(async () => {
  alice = await register('alice');
  bob = await register('bob');
  acme = await createOrganization(alice, 'Acme');
  globex = await createOrganization(bob, 'Globex');
  for (const [user, org, title] of [[alice, acme, 'acme 1'], [alice, acme, 'acme 2'], [bob, globex, 'globex 1']]) {
    const token = await mintContextToken(keyring, { userId: user, orgId: org });
    await withTenant(app, token, (c) => c.query('INSERT INTO tickets_app.tickets (title) VALUES ($1)', [title]));
  }
});

test.after(async () => {
  await app.end();
  await admin.end();
});

test('member_sees_only_their_organization', async () => {
  assert.deepEqual(await titles(alice, acme), ['acme 1', 'acme 2']);
  assert.deepEqual(await titles(bob, globex), ['globex 1']);
});

test('both_key_types_from_jose_work', async () => {
  assert.deepEqual(await titles(alice, acme, 'test-hs'), ['acme 1', 'acme 2']);
  assert.deepEqual(await titles(alice, acme, 'test-ed'), ['acme 1', 'acme 2']);
  const header = jose.decodeProtectedHeader(await mintContextToken(keyring, { userId: alice, orgId: acme }));
  assert.equal(header.typ, CONTEXT_TYPE);
});

test('non_member_token_refused', async () => {
  await assert.rejects(titles(alice, globex), (e) => e.code === '42T01');
  // An organization that does not exist gets the same refusal.
  await assert.rejects(titles(alice, crypto.randomUUID()), (e) => e.code === '42T01');
});

test('forged_token_refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const forged = await new jose.SignJWT({ org: globex })
    .setProtectedHeader({ alg: 'HS256', kid: 'test-hs', typ: CONTEXT_TYPE })
    .setSubject(bob).setIssuedAt(now).setExpirationTime(now + 60).setJti('x')
    .sign(crypto.randomBytes(32));
  await assert.rejects(withTenant(app, forged, (c) => c.query('SELECT 1')), (e) => e.code === '28T01');
});

test('context_gone_on_next_pooled_transaction', async () => {
  const token = await mintContextToken(keyring, { userId: alice, orgId: acme });
  const pid = await withTenant(app, token, async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const client = await app.connect();
  try {
    assert.equal((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid, 'same pooled connection');
    await assert.rejects(client.query('SELECT tenancy.current_org()'), (e) => e.code === '42T02');
    await assert.rejects(client.query('SELECT count(*) FROM tickets_app.tickets'), (e) => e.code === '42T02');
  } finally {
    client.release();
  }
});

test('middleware_over_http', async () => {
  const identity = crypto.randomBytes(32);
  const server = createApp({ pool: app, keyring, identityKey: identity, issuer: 'https://id.example', audience: 'api' });
  await new Promise((resolve) => server.listen(Number(process.env.NODE_TEST_PORT || 18082), '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const bearer = (sub) => new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub)
    .setIssuer('https://id.example').setAudience('api').setIssuedAt().setExpirationTime('5m').sign(identity);
  const get = async (headers) => {
    const response = await fetch(`${base}/tickets`, { headers });
    return { status: response.status, body: await response.json() };
  };
  try {
    const alices = `Bearer ${await bearer(alice)}`;
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ authorization: alices })).status, 400);
    assert.equal((await get({ authorization: alices, 'x-organization-id': 'acme' })).status, 400);
    const mine = await get({ authorization: alices, 'x-organization-id': acme });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.tickets.map((t) => t.title), ['acme 1', 'acme 2']);
    const spoofed = await get({ authorization: alices, 'x-organization-id': globex });
    assert.equal(spoofed.status, 403);
    assert.doesNotMatch(JSON.stringify(spoofed.body), /tenancy|SELECT|42501|42T0/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
