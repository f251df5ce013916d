#!/usr/bin/python3
"""mint_bearer.py: plays the identity provider in the tests and the walkthrough.

Signs an identity (bearer) token with PyJWT, a standard JWT library, using an
HS256 key from a keyring file made by `tenancy keygen`:

    mint_bearer.py --keyring FILE --kid KID --sub USER_UUID [--ttl 300] [--iat-offset 0]
"""
import argparse
import base64
import time

import jwt


def hs256_secret(keyring_path, kid):
    with open(keyring_path) as keyring:
        for line in keyring:
            fields = line.split()
            if len(fields) == 3 and fields[0] == kid and fields[1] == "HS256" and fields[2].startswith("secret:"):
                text = fields[2][len("secret:"):]
                return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    raise SystemExit(f"mint_bearer.py: no HS256 key {kid!r} in {keyring_path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keyring", required=True)
    parser.add_argument("--kid", required=True)
    parser.add_argument("--sub", required=True)
    parser.add_argument("--iss", default="https://id.tickets.example")
    parser.add_argument("--aud", default="tickets-api")
    parser.add_argument("--ttl", type=int, default=300)
    parser.add_argument("--iat-offset", type=int, default=0)
    args = parser.parse_args()
    now = int(time.time()) + args.iat_offset
    claims = {"iss": args.iss, "aud": args.aud, "sub": args.sub, "iat": now, "exp": now + args.ttl}
    print(jwt.encode(claims, hs256_secret(args.keyring, args.kid), algorithm="HS256",
                     headers={"kid": args.kid, "typ": "JWT"}))


if __name__ == "__main__":
    main()
