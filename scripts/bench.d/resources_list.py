#!/usr/bin/env python3
"""Resources list under load, against the release build.

Starts `slipway serve --demo` on SQLite in a scratch data dir, fills it to 1,000 resources (with
templates, versions, parents and integrations behind them) through the create_resource server
function, then drives it with wrk (30 s, 16 and 64 connections, after a warm-up):

  * the list as the list page loads it: POST /api/get_resources page=0 (first 10 + total);
  * the whole server-rendered list page: GET /resources;
  * the baseline, measured in the same run: GET /healthz (the cheapest route, same stack).

For each it prints requests/s, p50, p99 and the server's CPU milliseconds per request (from
/proc/<pid>/stat), and each figure's ratio to the baseline.
"""
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BIN = sys.argv[1]
DURATION = os.environ.get("BENCH_SECONDS", "30")
TARGET = 1000
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    return (int(fields[11]) + int(fields[12])) * 1000.0 / TICKS


def main():
    data = tempfile.mkdtemp(prefix="slipway-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SLIPWAY_DATA_DIR=data, RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen([BIN, "serve", "--demo", "--addr", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        try:
            opener.open(urllib.request.Request(f"{base}/auth/demo/ada", data=b"", method="POST"))
        except urllib.error.HTTPError as e:
            if e.code != 303:
                raise
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

        def call(endpoint, form):
            body = urllib.parse.urlencode(form).encode()
            request = urllib.request.Request(f"{base}/api/{endpoint}", data=body, method="POST",
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                return opener.open(request).read()
            except urllib.error.HTTPError as e:
                sys.exit(f"{endpoint} {form.get('input[slug]', '')}: HTTP {e.code}: {e.read().decode()}")

        import json
        total = json.loads(call("get_resources", {"page": "0"}))["total"]
        # Versions: the demo seeds 3 per concrete template in this order (ids 1..15).
        templates = [("vpc", 3), ("eks-cluster", 6), ("rds-database", 9), ("alb", 12), ("s3-bucket", 15)]
        started = time.time()
        n = 0
        while total < TARGET:
            key, version = templates[n % len(templates)]
            form = {
                "input[slug]": f"bench-{n:04d}", "input[name]": f"Bench {key} {n}",
                "input[template]": key, "input[version_id]": str(version),
                "input[integrations][aws-production]": "on",
            }
            if key == "vpc":
                form["input[values][name]"] = f"bench-{n}"
            elif key == "s3-bucket":
                form["input[values][bucket_name]"] = f"acme-bench-{n}"
            else:
                form["input[parents][prod-vpc]"] = "on"
                if key == "eks-cluster":
                    form.update({"input[values][cluster_name]": f"c{n}", "input[values][vpc_id]": "vpc-1"})
                elif key == "rds-database":
                    form.update({"input[values][identifier]": f"db{n}",
                                 "input[values][master_password]": "a-long-enough-password"})
                elif key == "alb":
                    form["input[values][name]"] = f"lb{n}"
            call("create_resource", form)
            total += 1
            n += 1
        print(f"seeded {n} resources through create_resource in {time.time() - started:.1f} s "
              f"({total} in all)")

        script = os.path.join(data, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = "page=0"\n'
                    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')

        def wrk(path, connections, seconds, lua=None):
            args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                    "-H", f"Cookie: {cookie}"]
            if lua:
                args += ["-s", lua]
            before = cpu_ms(server.pid)
            out = subprocess.run(args + [base + path], capture_output=True, text=True, check=True).stdout
            spent = cpu_ms(server.pid) - before
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if errors:
                sys.exit(f"{path}: {errors.group(1)} responses were errors:\n{out}")
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

            def pct(p):
                value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
                return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
            return rps, pct(50), pct(99), spent / max(requests, 1)

        cases = [("server fn get_resources (page 1 + total)", "/api/get_resources", script),
                 ("SSR page /resources", "/resources", None),
                 ("baseline GET /healthz", "/healthz", None)]
        for _, path, lua in cases:
            wrk(path, 16, 5, lua)  # warm-up
        print(f"\n{'':44} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'rps vs base':>12}")
        for connections in (16, 64):
            results = [(label, wrk(path, connections, DURATION, lua)) for label, path, lua in cases]
            base_rps = results[-1][1][0]
            for label, (rps, p50, p99, cpu) in results:
                print(f"{label:44} {connections:>5} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {cpu:>11.3f} {rps / base_rps:>11.2f}x")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
