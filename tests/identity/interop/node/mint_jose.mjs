// mint_jose.mjs OUTDIR SUBJECT EXTERNAL_SUBJECT ISSUER AUDIENCE
//
// Identity tokens signed by the `jose` library (an independent JOSE
// implementation on Node's WebCrypto) for every algorithm pg_tenancy accepts,
// plus rejection cases, and the JWKS that verifies them: OUTDIR/jose.jwks.json
// and OUTDIR/jose.cases.json (name, token, expected IdentityError name, subject).
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, base64url } from 'jose';

const [out, subject, external, issuer, audience] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);

const keys = {};
for (const [alg, options] of [['RS256', { modulusLength: 2048 }], ['PS256', { modulusLength: 2048 }],
                              ['ES256', {}], ['EdDSA', { crv: 'Ed25519' }]]) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
  const kid = `jose-${alg.toLowerCase()}`;
  keys[alg] = { privateKey, kid, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}
const secret = new Uint8Array(randomBytes(32));
keys.HS256 = { privateKey: secret, kid: 'jose-hs256',
               jwk: { kty: 'oct', k: base64url.encode(secret), kid: 'jose-hs256', alg: 'HS256', use: 'sig' } };
const stranger = await generateKeyPair('ES256');
const p384 = await generateKeyPair('ES384', { extractable: true });
const p384Jwk = { ...(await exportJWK(p384.publicKey)), kid: 'jose-p384' };
const jwks = { keys: [...Object.values(keys).map((k) => k.jwk), p384Jwk] };

async function sign(alg, claims = {}, { key, kid, header = {}, times = {} } = {}) {
  const k = keys[alg] ?? {};
  const jwt = new SignJWT({ sub: subject, ...claims })
    .setProtectedHeader({ alg, kid: kid ?? k.kid, typ: 'JWT', ...header })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? audience)
    .setIssuedAt(times.iat ?? now);
  if (times.exp !== null)
    jwt.setExpirationTime(times.exp ?? now + 3600);
  if (times.nbf)
    jwt.setNotBefore(times.nbf);
  return jwt.sign(key ?? k.privateKey);
}

const cases = [];
for (const alg of Object.keys(keys)) {
  cases.push({ name: `jose:${alg}`, token: await sign(alg), expect: 'None', subject });
  cases.push({ name: `jose:${alg}:linked_subject`, token: await sign(alg, { sub: external }), expect: 'None',
               subject: external });
}
cases.push({ name: 'jose:ES256:at+jwt', token: await sign('ES256', {}, { header: { typ: 'at+jwt' } }),
             expect: 'None', subject });
const rsaJwkBytes = new TextEncoder().encode(JSON.stringify(keys.RS256.jwk));
const rejections = [
  ['expired', await sign('ES256', {}, { times: { iat: now - 7200, exp: now - 3600 } }), 'Expired'],
  ['not_yet_valid', await sign('RS256', {}, { times: { nbf: now + 3600 } }), 'NotYetValid'],
  ['wrong_issuer', await sign('ES256', { iss: 'https://evil.example/' }), 'WrongIssuer'],
  ['wrong_audience', await sign('ES256', { aud: ['a', 'b'] }), 'WrongAudience'],
  ['missing_exp', await sign('ES256', {}, { times: { exp: null } }), 'MissingClaim'],
  ['unknown_kid', await sign('ES256', {}, { key: stranger.privateKey, kid: 'jose-stranger' }), 'UnknownKey'],
  ['right_kid_wrong_key', await sign('ES256', {}, { key: stranger.privateKey }), 'BadSignature'],
  ['rsa_key_as_hmac_secret', await sign('HS256', {}, { key: rsaJwkBytes, kid: 'jose-rs256' }), 'AlgorithmMismatch'],
  ['ed_kid_with_es256', await sign('ES256', {}, { kid: 'jose-eddsa' }), 'AlgorithmMismatch'],
  ['ec_p384', await sign('ES384', {}, { key: p384.privateKey, kid: 'jose-p384' }), 'UnsupportedAlgorithm'],
  ['oversized', await sign('EdDSA', { pad: 'x'.repeat(20000) }), 'Oversized'],
];
const good = (await sign('EdDSA')).split('.');
const forged = base64url.encode(JSON.stringify({ iss: issuer, aud: audience, sub: external, exp: now + 3600 }));
rejections.push(['tampered_payload', `${good[0]}.${forged}.${good[2]}`, 'BadSignature']);
for (const [name, token, expect] of rejections)
  cases.push({ name: `jose:${name}`, token, expect, subject: '' });

writeFileSync(join(out, 'jose.jwks.json'), JSON.stringify(jwks, null, 1), { mode: 0o600 });
chmodSync(join(out, 'jose.jwks.json'), 0o600); // it holds the HS256 secret
writeFileSync(join(out, 'jose.cases.json'), JSON.stringify(cases, null, 1));
