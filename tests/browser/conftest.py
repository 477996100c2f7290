"""Real-browser tests: Debian's Chromium driven by Playwright against gunicorn on a fresh database.

Without a Chromium these tests are skipped, unless REQUIRE_BROWSER=1 (CI), which makes that a failure.
Set BROWSER_SHOTS=/some/dir to keep screenshots of the main screens.
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "zh-CN",
          "timezone_id": "Asia/Shanghai"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "user_agent": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Mobile/15E148")}
PASSWORD = "demo1234"


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _missing(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        _missing("no Chromium found: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright is not installed: pip install playwright")
    return path


@pytest.fixture(scope="session")
def pw(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(pw, chromium_path):
    b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def launch(pw, chromium_path):
    """Starts an extra Chromium with more arguments (e.g. a fake camera); closed at the end."""
    started = []

    def _launch(*extra: str):
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS + list(extra))
        started.append(b)
        return b

    yield _launch
    for b in started:
        b.close()


@pytest.fixture(scope="session")
def live(chromium_path):
    """gunicorn (2 workers) on a fresh database with the demo loaded: (base URL, demo JSON).

    One server for the whole browser run: every test issues its own vouchers, so they do not interfere."""
    with fresh_database("browser") as url:
        env = app_env(url)
        demo = prepare(env)
        with gunicorn(env, workers=2) as base:
            yield base, demo, url


@pytest.fixture
def base(live) -> str:
    return live[0]


@pytest.fixture
def db_engine(live):
    """An engine on the live server's database, for setting up rows no page creates yet."""
    import sqlalchemy as sa

    engine = sa.create_engine(live[2].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture
def demo(live) -> dict:
    return live[1]


@pytest.fixture
def issue(live):
    """Issues a voucher through the merchant API; returns its JSON (code, token, qr_content, holder_url, ...)."""
    base_url, demo_json = live[0], live[1]

    def _issue(title: str, **fields) -> dict:
        body = json.dumps({"title": title, "uses": 1, **fields}).encode()
        req = urllib.request.Request(base_url + "/api/v1/vouchers", data=body, method="POST", headers={
            "Authorization": f"Bearer {demo_json['merchant']['api_key']}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201
            return json.loads(r.read())

    return _issue


@pytest.fixture
def tablet(browser):
    context = browser.new_context(**TABLET)
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot():
    """shot(page_or_locator, name): saves a PNG under $BROWSER_SHOTS when set."""
    folder = os.environ.get("BROWSER_SHOTS")

    def _shot(target, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            kwargs = {"full_page": True} if hasattr(target, "goto") else {}
            target.screenshot(path=str(Path(folder) / f"{name}.png"), **kwargs)

    return _shot


# The merchant console is desktop-first: its pages are tested at 1366×768, in Shanghai time.
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def desktop_context(browser, timeout_ms: int = 8000):
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(timeout_ms)
    return context


@pytest.fixture
def desktop(browser):
    """A desktop browser page (a new context, closed after the test)."""
    context = desktop_context(browser)
    yield context.new_page()
    context.close()


def console_sign_in(page, base: str, username: str = "owner", password: str = PASSWORD) -> None:
    page.goto(base + "/console/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/console/")


def sign_in(page, base: str, username: str = "cashier1", password: str = PASSWORD) -> None:
    page.goto(base + "/counter/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/counter/")
