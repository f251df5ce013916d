#!/usr/bin/env python3
"""make_seeds.py: writes the seed corpora in tests/fuzz/corpus/<target>/ from the
test vectors of tests/token (transcribed here). Re-run after changing vectors;
the output is committed. Regression inputs found by fuzzing live beside the seeds
as regress-*.bin and are never overwritten."""
import base64, hashlib, hmac, os, pathlib

here = pathlib.Path(__file__).resolve().parent
NOW = 1800000000
SECRET = bytes(range(32))  # fz-hs in fuzz_support.hpp
USER = "11111111-1111-4111-8111-111111111111"
ORG = "22222222-2222-4222-8222-222222222222"
ROLE = "44444444-4444-4444-8444-444444444444"

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def hs256(header, payload):
    si = b64(header.encode()) + "." + b64(payload.encode())
    return si + "." + b64(hmac.new(SECRET, si.encode(), hashlib.sha256).digest())

def write(target, items):
    d = here / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob("seed-*"):
        f.unlink()
    for i, item in enumerate(items):
        (d / f"seed-{i:03d}").write_bytes(item if isinstance(item, bytes) else item.encode())

ctx_header = '{"alg":"%s","kid":"%s","typ":"tenancy-context+jwt"}'
def ctx_payload(extra="", org=True):
    return ('{"sub":"%s",%s"iat":%d,"exp":%d,"jti":"j"%s}'
            % (USER, '"org":"%s",' % ORG if org else "", NOW, NOW + 60, extra))
payloads = [ctx_payload(), ctx_payload(org=False), ctx_payload(',"nbf":%d' % NOW),
            ctx_payload(',"x":1'), ctx_payload(',"nested":{"a":1}'), ctx_payload(',"flag":true'),
            '{"sub":"\xff"}', ctx_payload(',"org":"33333333-3333-4333-8333-333333333333"'),
            ctx_payload(',"s\\u0075b":"%s"' % USER), '{"sub":"not-a-uuid","iat":1,"exp":2,"jti":"j"}',
            '{"sub":"%s","iat":%d,"exp":1.5e9,"jti":"j"}' % (USER, NOW),
            '{"sub":"%s","iat":%d,"exp":-1,"jti":"j"}' % (USER, NOW),
            '{"sub":"%s","iat":%d,"exp":%d,"jti":""}' % (USER, NOW, NOW + 60),
            '{"sub":"%s","iat":10,"exp":10,"jti":"j"}' % USER,
            '{"sub":"%s","iat":%d,"exp":99999999999999999999,"jti":"j"}' % (USER, NOW)]
headers = [ctx_header % ("HS256", "fz-hs"), ctx_header % ("EdDSA", "fz-ed"), ctx_header % ("none", "fz-hs"),
           '{"alg":"HS256","typ":"tenancy-context+jwt"}', '{"alg":"HS256","kid":"fz-hs"}',
           '{"alg":"HS256","kid":"fz-hs","typ":"JWT"}', '{"alg":"HS256","alg":"none","kid":"fz-hs","typ":"x"}',
           '{"alg":"HS256","kid":"fz-hs","typ":"tenancy-context+jwt","jku":"x"}']
structured = []
for h in headers[:2]:
    for p in payloads:
        structured.append(("1" if "HS256" in h else "2") + h + "\n" + p)
for h in headers[2:]:
    structured.append("1" + h + "\n" + payloads[0])
raw_tokens = [hs256(headers[0], payloads[0]), hs256(headers[0], payloads[1]), "a.b.c", "a..c", "a.b.c.d",
              "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 5000]
write("fuzz_context_token", structured + ["0" + t for t in raw_tokens])

id_header = '{"alg":"HS256","kid":"fz-hs","typ":"JWT"}'
def id_payload(extra="", aud='"pg-tenancy"'):
    return '{"iss":"https://idp.example","aud":%s,"sub":"%s","iat":%d,"exp":%d%s}' % (aud, USER, NOW, NOW + 60, extra)
id_payloads = [id_payload(), id_payload(aud='["other","pg-tenancy"]'), id_payload(aud='[]'), id_payload(aud='[1]'),
               id_payload(',"nbf":%d' % (NOW + 100)), id_payload(',"x":{"a":1,"a":2}'),
               id_payload(',"groups":[[[[{"k":[1,2.5,null,true]}]]]]'), id_payload(',"exp":1'),
               id_payload(',"big":18446744073709551616')]
id_headers = [id_header, '{"alg":"EdDSA","kid":"fz-ed"}', '{"alg":"HS256","kid":"fz-hs","typ":"at+jwt"}',
              ctx_header % ("HS256", "fz-hs")]
write("fuzz_identity_token", ["1" + id_headers[0] + "\n" + p for p in id_payloads] +
      ["2" + id_headers[1] + "\n" + id_payloads[0], "1" + id_headers[2] + "\n" + id_payloads[0],
       "1" + id_headers[3] + "\n" + id_payloads[0], "0" + hs256(id_header, id_payloads[0])])

suffixes = ["", "~%s~owner~*" % ROLE, "~%s~member~tickets.read,tickets.*" % ROLE, "~%s~x~" % ROLE,
            "~%s~Bad~a.b" % ROLE, "~not-a-uuid~owner~*", "~%s~owner~a.b,,c.d" % ROLE, "~~~", "~a~b"]
write("fuzz_context_value", ["1" + headers[0] + "\n" + payloads[i] + "\n" + s for s in suffixes for i in (0, 1)] +
      ["0" + hs256(headers[0], payloads[0]) + s for s in suffixes[:3]])

write("fuzz_base64url", ["", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_-_", "Zg==", "+/+/", "Zm9 v",
                         "Zh", "Z", "Zm9v\n", b"Zm\0v"])
write("fuzz_jws_split", raw_tokens + [hs256(h, payloads[0]).split(".", 1)[0] + ".e30.AA" for h in headers])
write("fuzz_flat_json", [h for h in headers] + payloads + ['{}', '[]', '"x"', '{"a":1} x', '{"a":"\\ud83d\\ude00"}',
                         '{"a":"\\ud800"}', '{"a":-9223372036854775808}', '{"a":9223372036854775807}',
                         '{"a":9223372036854775808}', '{"a":1e400}', '{"a":[' * 50 + ']' * 50 + '}',
                         '{"a":1,"b":2,"a":3}', '{"\\u0061":1,"a":2}'])
hs_line = "fz-hs HS256 secret:" + b64(SECRET)
write("fuzz_keyring", [hs_line + "\n", "# comment\n\n" + hs_line + "\r\n",
                       "fz-ed EdDSA private:" + b64(bytes(range(32, 64))) + "\n",
                       "fz-ed EdDSA public:" + b64(bytes(32)) + "\n", hs_line + "\n" + hs_line + "\n",
                       "k HS256 secret:" + b64(bytes(31)), "k RS256 secret:AA", "k HS256 public:" + b64(SECRET),
                       "bad/kid HS256 secret:" + b64(SECRET), "k HS256", "k\tHS256\tsecret:" + b64(SECRET) + " extra"])
write("fuzz_permissions", ["*", "tickets.read", "tickets.*\ntickets.read", "tickets.*\ntickets", "tickets.*\nticketsx.read",
                           "tickets.*\ntickets.*", "a.b.c", "A.b", "a_1.b_2", "x" * 101 + ".a", ".*", "*\n*",
                           "owner", "owner-2", "a" * 64])
