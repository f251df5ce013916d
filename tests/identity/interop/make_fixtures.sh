#!/usr/bin/env bash
# make_fixtures.sh OUTDIR [SUBJECT] [EXTERNAL_SUBJECT] [ISSUER] [AUDIENCE]
# Mints the interoperability fixtures: identity tokens and JWKS documents from
# PyJWT (mint_pyjwt.py) and from Node's jose (node/mint_jose.mjs, installed with
# `npm ci` from the pinned package-lock.json into OUTDIR/node). The defaults
# match the engine tests (tests/engine/engine_fixture.hpp).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: make_fixtures.sh OUTDIR [SUBJECT] [EXTERNAL_SUBJECT] [ISSUER] [AUDIENCE]}
subject=${2:-5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c}
external=${3:-auth0|interop-user}
issuer=${4:-https://id.test.example}
audience=${5:-tickets-api}
mkdir -p "$out/node"
/usr/bin/python3 "$here/mint_pyjwt.py" "$out" "$subject" "$external" "$issuer" "$audience"
cp "$here/node/package.json" "$here/node/package-lock.json" "$here/node/mint_jose.mjs" "$out/node/"
if [ ! -d "$out/node/node_modules/jose" ]; then
  (cd "$out/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
node "$out/node/mint_jose.mjs" "$out" "$subject" "$external" "$issuer" "$audience"
echo "fixtures in $out: $(ls "$out" | grep -c cases.json) libraries"
