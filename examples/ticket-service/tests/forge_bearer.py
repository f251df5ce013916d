#!/usr/bin/python3
"""forge_bearer.py: what an attacker does to a bearer token (for attacks.sh).

    forge_bearer.py MODE TOKEN [NEW_SUB]
      alter-sub    swap the sub claim, keep the signature
      alg-none     re-encode with "alg":"none" and no signature
      own-key      re-sign the same claims with the attacker's own secret
      strip-sig    drop the signature
      context-typ  re-sign nothing; set typ to the context token's type (signature breaks too)
"""
import base64
import json
import secrets
import sys

import jwt


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main():
    mode, token = sys.argv[1], sys.argv[2]
    header_text, payload_text, signature = token.split(".")
    header, claims = json.loads(unb64(header_text)), json.loads(unb64(payload_text))
    if mode == "alter-sub":
        claims["sub"] = sys.argv[3]
        print(".".join([header_text, b64(json.dumps(claims).encode()), signature]))
    elif mode == "alg-none":
        header["alg"] = "none"
        print(".".join([b64(json.dumps(header).encode()), payload_text, ""]))
    elif mode == "own-key":
        print(jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256", headers={"kid": header["kid"]}))
    elif mode == "strip-sig":
        print(".".join([header_text, payload_text, ""]))
    elif mode == "context-typ":
        header["typ"] = "tenancy-context+jwt"
        print(".".join([b64(json.dumps(header).encode()), payload_text, signature]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
