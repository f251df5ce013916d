#!/usr/bin/python3
"""mint_pyjwt.py OUTDIR SUBJECT EXTERNAL_SUBJECT ISSUER AUDIENCE

Identity tokens signed by an independent library (PyJWT with `cryptography`,
Debian python3-jwt and python3-cryptography) for every algorithm pg_tenancy
accepts, plus the rejection cases, and the JWKS that verifies them. Writes
OUTDIR/pyjwt.jwks.json, OUTDIR/pyjwt.cases.json (name, token, expected
IdentityError name, subject) and OUTDIR/pyjwt.rsa1024.jwks.json (a JWKS that
must be refused)."""
import base64
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

out, subject, external, issuer, audience = sys.argv[1:6]
now = int(time.time())


def full_size_coordinates(key):
    """RFC 7518 6.2.1.2: x and y are the full size of a coordinate. Debian's
    PyJWT drops leading zero bytes (about one key in 128), which pg_tenancy
    rightly refuses, so the fixture pads them as a conforming JWKS would."""
    if key.get("kty") == "EC":
        size = {"P-256": 32, "P-384": 48, "P-521": 66}[key["crv"]]
        for name in ("x", "y"):
            raw = base64.urlsafe_b64decode(key[name] + "=" * (-len(key[name]) % 4))
            key[name] = base64.urlsafe_b64encode(raw.rjust(size, b"\0")).rstrip(b"=").decode()
    return key


def jwk(algorithm_class, public_key, kid, alg):
    key = full_size_coordinates(json.loads(algorithm_class.to_jwk(public_key)))
    key.update({"kid": kid, "alg": alg, "use": "sig"})
    return key


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pss_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
hs_secret = os.urandom(32)
stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
p384 = ec.generate_private_key(ec.SECP384R1())

keys = {
    "RS256": (rsa_key, "py-rs256", jwk(RSAAlgorithm, rsa_key.public_key(), "py-rs256", "RS256")),
    "PS256": (pss_key, "py-ps256", jwk(RSAAlgorithm, pss_key.public_key(), "py-ps256", "PS256")),
    "ES256": (ec_key, "py-es256", jwk(ECAlgorithm, ec_key.public_key(), "py-es256", "ES256")),
    "EdDSA": (ed_key, "py-eddsa", jwk(OKPAlgorithm, ed_key.public_key(), "py-eddsa", "EdDSA")),
    "HS256": (hs_secret, "py-hs256", {**json.loads(HMACAlgorithm.to_jwk(hs_secret)),
                                       "kid": "py-hs256", "alg": "HS256", "use": "sig"}),
}
# Keycloak- and Azure-style neighbours that must be skipped, not used.
p384_jwk = full_size_coordinates(json.loads(ECAlgorithm.to_jwk(p384.public_key())))
p384_jwk["kid"] = "py-p384"
enc_jwk = {**json.loads(RSAAlgorithm.to_jwk(stranger.public_key())), "kid": "py-enc", "use": "enc",
           "alg": "RSA-OAEP"}
jwks = {"keys": [k[2] for k in keys.values()] + [p384_jwk, enc_jwk]}


def claims(**overrides):
    c = {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + 3600}
    c.update(overrides)
    return {k: v for k, v in c.items() if v is not None}


def sign(alg, payload, key=None, kid=None, headers=None):
    private, default_kid = keys[alg][0], keys[alg][1]
    h = {"kid": kid or default_kid}
    h.update(headers or {})
    return jwt.encode(payload, key if key is not None else private, algorithm=alg, headers=h)


cases = []
for alg in keys:
    cases.append({"name": f"pyjwt:{alg}", "token": sign(alg, claims()), "expect": "None", "subject": subject})
    cases.append({"name": f"pyjwt:{alg}:linked_subject", "token": sign(alg, claims(sub=external)),
                  "expect": "None", "subject": external})
cases.append({"name": "pyjwt:RS256:aud_array", "token": sign("RS256", claims(aud=["other", audience])),
              "expect": "None", "subject": subject})
cases.append({"name": "pyjwt:RS256:no_kid_single_key",
              "token": jwt.encode(claims(), rsa_key, algorithm="RS256"), "expect": "None", "subject": subject})

rejections = [
    ("expired", sign("RS256", claims(iat=now - 7200, exp=now - 3600)), "Expired"),
    ("not_yet_valid", sign("ES256", claims(nbf=now + 3600)), "NotYetValid"),
    ("issued_in_future", sign("ES256", claims(iat=now + 3600, exp=now + 7200)), "NotYetValid"),
    ("wrong_issuer", sign("RS256", claims(iss="https://evil.example/")), "WrongIssuer"),
    ("wrong_audience", sign("RS256", claims(aud="someone-else")), "WrongAudience"),
    ("missing_exp", sign("RS256", claims(exp=None)), "MissingClaim"),
    ("unknown_kid", jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "py-stranger"}), "UnknownKey"),
    ("right_kid_wrong_key", jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "py-rs256"}),
     "BadSignature"),
    ("alg_none", jwt.encode(claims(), None, algorithm="none", headers={"kid": "py-rs256"}), "UnsupportedAlgorithm"),
    ("rsa_key_as_hmac_secret", jwt.encode(claims(), json.dumps(keys["RS256"][2]).encode(), algorithm="HS256",
                                          headers={"kid": "py-rs256"}), "AlgorithmMismatch"),
    ("ec_key_as_hmac_secret", jwt.encode(claims(), json.dumps(keys["ES256"][2]).encode(), algorithm="HS256",
                                         headers={"kid": "py-es256"}), "AlgorithmMismatch"),
    ("hmac_kid_with_rs256", jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "py-hs256"}),
     "AlgorithmMismatch"),
    ("rs256_key_with_ps256", jwt.encode(claims(), rsa_key, algorithm="PS256", headers={"kid": "py-rs256"}),
     "AlgorithmMismatch"),
    ("rsa_1024", jwt.encode(claims(), weak, algorithm="RS256", headers={"kid": "py-weak"}), "UnknownKey"),
    ("ec_p384_es384", jwt.encode(claims(), p384, algorithm="ES384", headers={"kid": "py-p384"}),
     "UnsupportedAlgorithm"),
    ("ec_p384_as_es256", jwt.encode(claims(), p384, algorithm="ES256", headers={"kid": "py-p384"}), "UnknownKey"),
    ("enc_key", jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "py-enc"}), "UnknownKey"),
    ("jku_header", sign("RS256", claims(), headers={"jku": "https://evil.example/jwks"}), "ForbiddenHeader"),
    ("oversized", sign("ES256", claims(pad="x" * 20000)), "Oversized"),
]
good = sign("ES256", claims())
head, payload, sig = good.split(".")
forged = jwt.api_jws.base64url_encode(json.dumps(claims(sub=external)).encode()).decode()
rejections.append(("tampered_payload", f"{head}.{forged}.{sig}", "BadSignature"))
rejections.append(("tampered_signature", f"{head}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}",
                   "BadSignature"))
for name, token, expect in rejections:
    cases.append({"name": f"pyjwt:{name}", "token": token, "expect": expect, "subject": ""})

weak_jwks = {"keys": [jwk(RSAAlgorithm, weak.public_key(), "py-weak", "RS256")]}
for name, doc in (("pyjwt.jwks.json", jwks), ("pyjwt.cases.json", cases), ("pyjwt.rsa1024.jwks.json", weak_jwks)):
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=1)
# The HS256 secret is in the JWKS: keep it private (the engine insists).
os.chmod(os.path.join(out, "pyjwt.jwks.json"), 0o600)
