"""Real servers for tests and benchmarks (bench/): gunicorn with several sync workers on a free loopback
port, against a database URL the caller made (see tests.support.databases.fresh_database)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


FIRST_PICKUP_TIME = re.compile(r'data-testid="pickup-at">.*?<option value="([^"]+)"', re.S)


def first_pickup_time(checkout_html: str) -> str:
    """The first pickup time a checkout page offers: "asap" (尽快) while the store can still get an order ready
    before closing, else its first slot. Servers here run at the real clock and the demo stores close at 21:30."""
    return FIRST_PICKUP_TIME.search(checkout_html).group(1)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def shop_session():
    """A requests.Session that carries the shop's CSRF pair (app.web.csrf) as a browser does once a page with a
    form has set its cookie: the `csrf` cookie and the same value in X-CSRFToken on every request."""
    import requests

    session = requests.Session()
    token = "live" + "0" * 28
    session.cookies.set("csrf", token)
    session.headers["X-CSRFToken"] = token
    return session


def console_session(base: str, username: str = "owner", password: str = "demo1234"):
    """A requests.Session signed in to the merchant console of the server at `base` (the demo's logins), with
    the session's CSRF token as `.csrf` for the forms it posts."""
    import requests

    session = requests.Session()
    token = CSRF_FIELD.search(session.get(f"{base}/console/login", timeout=30).text).group(1)
    r = session.post(f"{base}/console/login", data={"username": username, "password": password, "csrf_token": token},
                     allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"console sign-in as {username} answered {r.status_code}")
    session.csrf = CSRF_FIELD.search(session.get(f"{base}/console/", timeout=30).text).group(1)
    return session


def add_groupbuy_campaign(conn, merchant_id: int, sku_id: int, store_id: int, *, title: str, price_fen: int,
                          size: int, hours: int = 24, stock: int = 100, limit: int = 1) -> int:
    """A running group-buy campaign (started an hour ago, ends in a day) picked up at one store, inserted on
    `conn` as the console would save it; returns its id."""
    import datetime as dt

    import sqlalchemy as sa

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    campaign_id = conn.execute(sa.text(
        "INSERT INTO groupbuy_campaigns (merchant_id, sku_id, title, group_price_fen, team_size, time_limit_hours,"
        " starts_at, ends_at, stock_left, per_member_limit, rules, status, created_at)"
        " VALUES (:m, :k, :t, :p, :n, :h, :s, :e, :stock, :limit, '', 'active', :s) RETURNING id"),
        {"m": merchant_id, "k": sku_id, "t": title, "p": price_fen, "n": size, "h": hours, "stock": stock,
         "limit": limit, "s": now - dt.timedelta(hours=1), "e": now + dt.timedelta(days=1)}).scalar()
    conn.execute(sa.text("INSERT INTO groupbuy_campaign_stores (campaign_id, store_id) VALUES (:c, :s)"),
                 {"c": campaign_id, "s": store_id})
    return campaign_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(db_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_DATABASE_URL",))}
    env.update({
        "DATABASE_URL": db_url,
        "SECRET_KEY": extra.pop("SECRET_KEY", "live-test-secret"),
        "APP_ENV": extra.pop("APP_ENV", "development"),
        "LOG_LEVEL": extra.pop("LOG_LEVEL", "WARNING"),
        "REDIS_URL": extra.pop("REDIS_URL", ""),
    })
    env.update(extra)
    return env


def flask(env: dict, *args: str, timeout: float = 120) -> str:
    """Runs `flask --app wsgi ...` in a subprocess; returns stdout."""
    out = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def prepare(env: dict) -> dict:
    """Upgrades the database to the latest migration and loads the demo; returns the demo's JSON."""
    flask(env, "db", "upgrade")
    return json.loads(flask(env, "demo", "--json").strip().splitlines()[-1])


@contextlib.contextmanager
def gunicorn_process(env: dict, *, workers: int = 4, threads: int = 1, timeout: float = 30.0,
                     app: str = "wsgi:app", preload: bool = False, backlog: int = 512):
    """Yields (base URL, Popen) of gunicorn serving `app`, once /healthz answers; stops it afterwards.

    `preload`: import the app once before forking, so every worker is up when /healthz first answers
    (what a benchmark wants; importing takes seconds per worker on a busy 2-core box). gunicorn's stderr
    goes to a temporary file (a pipe nobody reads could fill up and block it); its tail is printed at
    the end when not empty.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(env, APP_BASE_URL=env.get("APP_BASE_URL") or base)
    errlog = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), app, "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--threads", str(threads), "--worker-class", "sync" if threads == 1 else "gthread",
         "--log-level", "warning", "--backlog", str(backlog), *(["--preload"] if preload else [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errlog, text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                errlog.seek(0)
                raise RuntimeError(f"gunicorn exited: {errlog.read()}")
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz in time")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errlog.seek(0)
        tail = errlog.read()[-3000:]
        errlog.close()
        if tail.strip():
            print("gunicorn stderr (tail):\n" + tail, file=sys.stderr)


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 4, threads: int = 1, timeout: float = 30.0):
    """Yields the base URL of gunicorn serving wsgi:app."""
    with gunicorn_process(env, workers=workers, threads=threads, timeout=timeout) as (base, _proc):
        yield base
