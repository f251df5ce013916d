#!/usr/bin/python3
"""concurrency.py: many clients in many organizations at once against the
running ticket service. Every client creates, lists and reads its own
organization's tickets and tries other organizations' ticket ids; the run
fails on any row from a foreign organization, any foreign id that is not a
404, and any unexpected status.

    concurrency.py --base URL --admin-key-file FILE --mint "CMD" [--orgs 8] [--clients 16] [--requests 50]
"""
import argparse
import http.client
import json
import random
import shlex
import subprocess
import sys
import threading
import time
import urllib.parse


class Client:
    def __init__(self, base, token=None, org=None):
        url = urllib.parse.urlparse(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = "Bearer " + token
        if org:
            self.headers["X-Organization-Id"] = org

    def call(self, method, path, body=None, extra=None):
        headers = dict(self.headers, **(extra or {}))
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--admin-key-file", required=True)
    parser.add_argument("--mint", required=True, help="command that prints a bearer token; --sub USER is appended")
    parser.add_argument("--orgs", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    admin_key = open(args.admin_key_file).read().strip()
    stamp = f"{int(time.time())}-{random.randrange(1 << 30)}"

    orgs = []  # (tag, token, org id, [ticket ids])
    for i in range(args.orgs):
        status, user = Client(args.base).call("POST", "/admin/users",
                                              {"code": f"load{i}-{stamp}", "email": f"load{i}-{stamp}@tickets.example"},
                                              {"X-Admin-Key": admin_key})
        assert status == 201, (status, user)
        token = subprocess.check_output(shlex.split(args.mint) + ["--sub", user["id"]], text=True).strip()
        status, org = Client(args.base, token).call("POST", "/organizations", {"name": f"Load {i}"})
        assert status == 201, (status, org)
        client = Client(args.base, token, org["id"])
        ids = [client.call("POST", "/tickets", {"title": f"org{i}: seed {n}"})[1]["id"] for n in range(3)]
        orgs.append((f"org{i}:", token, org["id"], ids))

    lock = threading.Lock()
    problems, counts = [], {"requests": 0, "foreign_rows": 0}

    def worker(number):
        tag, token, org, ids = orgs[number % len(orgs)]
        client = Client(args.base, token, org)
        rng = random.Random(number)
        own, local_problems, requests, foreign = list(ids), [], 0, 0
        for n in range(args.requests):
            op = rng.randrange(4)
            if op == 0:
                status, ticket = client.call("POST", "/tickets", {"title": f"{tag} client {number} #{n}"})
                if status == 201:
                    own.append(ticket["id"])
            elif op == 1:
                status, page = client.call("GET", f"/tickets?limit=100&after={rng.choice([0, min(own)])}")
                if status == 200:
                    foreign += sum(1 for t in page["tickets"] if not t["title"].startswith(tag))
            elif op == 2:
                status, ticket = client.call("GET", f"/tickets/{rng.choice(own)}")
                if status == 200 and not ticket["title"].startswith(tag):
                    foreign += 1
            else:
                other = orgs[rng.randrange(len(orgs))]
                if other[2] == org:
                    continue
                status, _ = client.call("GET", f"/tickets/{rng.choice(other[3])}")
                if status != 404:
                    local_problems.append(f"foreign ticket answered {status}")
                requests += 1
                continue
            requests += 1
            if status not in (200, 201):
                local_problems.append(f"op {op} answered {status}")
        with lock:
            problems.extend(local_problems)
            counts["requests"] += requests
            counts["foreign_rows"] += foreign

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(f"concurrency: {args.clients} clients, {args.orgs} organizations, {counts['requests']} requests "
          f"in {elapsed:.1f} s, {counts['foreign_rows']} foreign rows, {len(problems)} problems")
    for problem in problems[:10]:
        print("  " + problem)
    return 0 if counts["foreign_rows"] == 0 and not problems and counts["requests"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
