"""Closed-loop load: C concurrent connections, a fixed number of requests, each request with its own code
(a voucher code in the JSON body, or a piece of the path: `@CODE@` is replaced in both).

Two clients with the same interface:
* wrk (C, `apt-get install -y wrk`) driven by bench/wrk.lua: costs little CPU, preferred on a 2-core box;
* Python threads + http.client: always available, but the GIL-bound client takes up to a core away
  from the server, so its absolute numbers are lower (ratios between scenarios stay comparable).

gunicorn's sync workers close the connection after every response, so both clients reconnect per
request; that is the deployed shape behind a reverse proxy too. Since gunicorn 27 a sync worker also
lingers after its response until the client closes (`util.close_graceful`, up to 2 s): a client that
leaves a finished connection open holds a worker for 2 s. So wrk runs ONE thread: with two, the thread
that reached its quota first stopped with its connections still open, and the workers that answered
them sat out 2 s each while the other thread was still being measured (p99 of 2-8 s on /bench/json).
One wrk thread easily drives 32 connections at these rates.
"""
from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    body: str | None = None                      # JSON with @CODE@, or None for no body
    headers: dict = field(default_factory=dict)
    codes: list[str] | None = None               # replace @CODE@ in path and body; at least `codes_needed()`
    cycle: bool = False                          # ... unless the codes may repeat (used in turn)


def codes_needed(requests: int, connections: int) -> int:
    return requests + 2 * connections + 8


def _check_codes(sc: Scenario, requests: int, connections: int) -> None:
    uses = "@CODE@" in sc.path or (sc.body is not None and "@CODE@" in sc.body) or \
        any("@CODE@" in v for v in sc.headers.values())
    if uses and not sc.codes:
        raise ValueError(f"{sc.name}: @CODE@ without codes")
    if uses and not sc.cycle and len(sc.codes) < codes_needed(requests, connections):
        raise ValueError(f"{sc.name}: needs {codes_needed(requests, connections)} codes")


def has_wrk() -> bool:
    return shutil.which("wrk") is not None


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def run_wrk(sc: Scenario, base: str, requests: int, connections: int, threads: int = 1,
            max_seconds: int = 240) -> dict:
    threads = max(1, min(threads, connections))
    quota = -(-requests // threads)
    _check_codes(sc, requests, connections)
    with tempfile.TemporaryDirectory(prefix="o2o-wrk-") as tmp:
        if sc.codes is not None:
            per = max(1, len(sc.codes) // threads)
            for t in range(threads):
                mine = sc.codes[t * per:(t + 1) * per] or sc.codes
                Path(tmp, f"codes-{t + 1}.txt").write_text("\n".join(mine) + "\n")
        if sc.headers:
            Path(tmp, "headers.txt").write_text("".join(f"{k}: {v}\n" for k, v in sc.headers.items()))
        # wrk needs a URL to connect to; the script writes every request's path itself.
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max_seconds}s", "--timeout", "30s",
               "-s", str(HERE / "wrk.lua"), base + "/", "--",
               tmp, str(quota), sc.method, sc.path, sc.body if sc.body is not None else "-"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + max_seconds + 5
        while proc.poll() is None and time.monotonic() < deadline:
            if len(list(Path(tmp).glob("done-*"))) >= threads:
                break
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk waits out -d otherwise; SIGINT makes it report now
        stdout, stderr = proc.communicate(timeout=60)
        out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        raw = json.loads(line[len("BENCHJSON "):])
        statuses: dict[str, int] = {}
        for part in raw["statuses"]:
            for item in filter(None, part.split(",")):
                k, v = item.split(":")
                statuses[k] = statuses.get(k, 0) + int(v)
        samples = []
        for f in sorted(Path(tmp).glob("errors-*.txt")):
            samples += f.read_text(errors="replace").splitlines()
    # Our own clock (first request .. last counted response) when every thread finished its quota;
    # wrk's duration (which includes waiting for SIGINT) otherwise, e.g. when -d ran out first.
    complete = raw["counted"] >= quota * threads and raw["measured_s"] > 0
    seconds = raw["measured_s"] if complete else raw["duration_us"] / 1e6
    errors = {k: v for k, v in raw["errors"].items() if k != "status" and v}
    return {
        "client": "wrk", "requests": raw["counted"] if complete else raw["requests"], "seconds": round(seconds, 3),
        "rps": (raw["counted"] if complete else raw["requests"]) / seconds if seconds else 0.0,
        "complete": complete,
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "statuses": statuses,
        "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else float("nan"),
        "non200": sum(v for k, v in statuses.items() if k != "200") + sum(errors.values()),
        "socket_errors": errors, "samples": samples[:5],
    }


def run_python(sc: Scenario, base: str, requests: int, connections: int, max_seconds: int = 240) -> dict:
    _check_codes(sc, requests, connections)
    u = urlsplit(base)
    per = -(-requests // connections)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    statuses: list[dict[str, int]] = [{} for _ in range(connections)]
    samples: list[str] = []
    errors: list[int] = [0] * connections
    nbytes: list[int] = [0] * connections
    start = threading.Barrier(connections + 1)
    deadline = [0.0]

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        headers = dict(sc.headers)
        if sc.body is not None:
            headers["Content-Type"] = "application/json"
        if sc.codes and sc.cycle:
            my_codes = [sc.codes[(n * per + i) % len(sc.codes)] for i in range(per)]
        else:
            my_codes = sc.codes[n * per:(n + 1) * per] if sc.codes else None
        lat, st = latencies[n], statuses[n]
        start.wait()
        for i in range(per):
            if time.monotonic() > deadline[0]:
                break
            code = my_codes[i] if my_codes else ""
            body = sc.body.replace("@CODE@", code) if sc.body is not None else None
            sent = {k: v.replace("@CODE@", code) for k, v in headers.items()} if code else headers
            t0 = time.perf_counter()
            try:
                conn.request(sc.method, sc.path.replace("@CODE@", code), body=body, headers=sent)
                resp = conn.getresponse()
                data = resp.read()
            except OSError:
                errors[n] += 1
                conn.close()
                continue
            lat.append(time.perf_counter() - t0)
            nbytes[n] += len(data)
            key = str(resp.status)
            st[key] = st.get(key, 0) + 1
            if resp.status != 200 and len(samples) < 5:
                samples.append(f"{resp.status} {data[:300].decode(errors='replace')}")
            if resp.will_close:
                conn.close()
        conn.close()

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for t in pool:
        t.start()
    deadline[0] = time.monotonic() + max_seconds
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - t0
    all_lat = sorted(x for lat in latencies for x in lat)
    merged: dict[str, int] = {}
    for st in statuses:
        for k, v in st.items():
            merged[k] = merged.get(k, 0) + v
    done = len(all_lat)
    return {
        "client": "python", "requests": done, "seconds": round(seconds, 3), "rps": done / seconds if seconds else 0.0,
        "p50_ms": _percentile(all_lat, 50) * 1000, "p90_ms": _percentile(all_lat, 90) * 1000,
        "p99_ms": _percentile(all_lat, 99) * 1000, "max_ms": (all_lat[-1] * 1000) if all_lat else float("nan"),
        "statuses": merged, "non200": sum(v for k, v in merged.items() if k != "200") + sum(errors),
        "bytes_per_response": sum(nbytes) / done if done else float("nan"),  # bodies only
        "socket_errors": {"socket": sum(errors)} if sum(errors) else {}, "samples": samples,
    }


def run(sc: Scenario, base: str, requests: int, connections: int, client: str) -> dict:
    if client == "wrk":
        return run_wrk(sc, base, requests, connections)
    return run_python(sc, base, requests, connections)
