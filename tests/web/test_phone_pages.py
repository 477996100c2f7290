"""Binding a phone number through the member's pages: ask for a code, type it, see the number on the
member card; refusals are shown on the page with their code; a real SMS gateway gets a signed request."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from app.core import clock
from app.extensions import db
from app.members import phone as phones
from app.members.models import PhoneCode
from app.members.service import demo_member
from tests.conftest import member_client

GATEWAY_SECRET = "gateway-secret"


@pytest.fixture
def shopper(app, world):
    member = demo_member(world.merchant.id, "小李")
    db.session.commit()
    return member, member_client(app, member)


def page(r) -> str:
    return r.get_data(as_text=True)


def error_code(html: str) -> str | None:
    m = re.search(r'data-testid="phone-error" data-code="([a-z_]+)"', html)
    return m.group(1) if m else None


def demo_code(html: str) -> str:
    return re.search(r'data-testid="demo-code">[^<]*?(\d{6})', html).group(1)


def send(c, number: str = "13800138000") -> str:
    """Ask for a code: the answer redirects to the code step, which is a GET."""
    r = c.post("/m/test-coffee/me/phone/code", data={"phone": number})
    assert r.status_code == 303 and r.headers["Location"] == "/m/test-coffee/me/phone", page(r)
    return page(c.get("/m/test-coffee/me/phone"))


def test_bind_a_phone_number_in_the_demo(shopper):
    member, c = shopper
    me = page(c.get("/m/test-coffee/me"))
    assert re.search(r'data-testid="phone-link"[^>]*>\s*绑定手机号', me)
    assert 'data-step="phone"' in page(c.get("/m/test-coffee/me/phone"))
    html = send(c, "138 0013 8000")
    assert 'data-step="code"' in html and "验证码已发送至 138****8000" in html
    assert 'name="phone" value="13800138000"' in html
    bound = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": demo_code(html)})
    assert bound.status_code == 302 and bound.headers["Location"].endswith("/m/test-coffee/me")
    me = page(c.get("/m/test-coffee/me"))
    assert "手机号已绑定" in me and re.search(r'data-testid="phone-link"[^>]*>\s*138\*\*\*\*8000', me)
    db.session.expire_all()
    assert member.phone == "13800138000"


def test_a_wrong_code_is_counted_even_though_the_page_is_an_error(shopper):
    member, c = shopper
    code = demo_code(send(c))
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        r = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": wrong})
        assert r.status_code == 400 and error_code(page(r)) == "code_wrong"
        assert f"还可以再试 {left} 次" in page(r)
    r = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": wrong})
    assert r.status_code == 429 and error_code(page(r)) == "code_locked"
    r = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": code})
    assert r.status_code == 429 and error_code(page(r)) == "code_locked"  # the sixth try, right or not
    assert 'data-testid="demo-code"' not in page(r)  # it no longer works
    db.session.expire_all()
    assert member.phone is None
    # Reloading offers a new text for the same number instead of a code step that cannot succeed.
    html = page(c.get("/m/test-coffee/me/phone"))
    assert 'data-step="phone"' in html and 'value="13800138000"' in html


def pending(c) -> dict | None:
    with c.session_transaction() as s:
        return s.get("phone_pending")


def test_the_code_step_is_a_get_so_a_reload_sends_nothing(shopper):
    member, c = shopper
    html = send(c)
    code = demo_code(html)
    for _ in range(3):
        again = c.get("/m/test-coffee/me/phone")
        assert again.status_code == 200 and 'data-step="code"' in page(again)
        assert demo_code(page(again)) == code and "验证码已发送至 138****8000" in page(again)
    assert db.session.execute(sa.select(sa.func.count(PhoneCode.id)).where(
        PhoneCode.member_id == member.id)).scalar() == 1  # one text, however often the page is shown
    kept = pending(c)  # one session key: the number awaiting a code and, in the demo, the code
    assert set(kept) == {"member", "phone", "until", "code"}
    assert (kept["member"], kept["phone"], kept["code"]) == (member.id, "13800138000", code)
    assert c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": code}).status_code == 302
    assert pending(c) is None  # bound: forgotten
    html = page(c.get("/m/test-coffee/me/phone"))
    assert 'data-step="phone"' in html and 'data-testid="demo-code"' not in html


def test_a_wrong_code_keeps_the_demo_code_on_the_page(shopper):
    member, c = shopper
    code = demo_code(send(c))
    wrong = "000000" if code != "000000" else "111111"
    r = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": wrong})
    html = page(r)
    assert r.status_code == 400 and error_code(html) == "code_wrong" and 'data-step="code"' in html
    assert demo_code(html) == code  # no need to ask for another text
    assert demo_code(page(c.get("/m/test-coffee/me/phone"))) == code
    assert c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": code}).status_code == 302
    db.session.expire_all()
    assert member.phone == "13800138000"


def test_changing_the_number_goes_back_to_the_phone_step(shopper):
    member, c = shopper
    html = send(c, "13800138000")
    link = re.search(r'href="([^"]+)"\s+data-testid="change-phone"', html).group(1)
    assert link == "/m/test-coffee/me/phone?change=1" and "换个号码" in html
    html = page(c.get(link))
    assert 'data-step="phone"' in html and 'data-testid="phone-form"' in html
    assert 'value="13800138000"' in html  # the number is filled in, to fix a typo
    assert 'data-step="code"' in page(c.get("/m/test-coffee/me/phone"))  # looking sent nothing, lost nothing
    html = send(c, "13900139000")
    assert "验证码已发送至 139****9000" in html and 'name="phone" value="13900139000"' in html
    second = demo_code(html)
    r = c.post("/m/test-coffee/me/phone", data={"phone": "13900139000", "code": second})
    assert r.status_code == 302
    db.session.expire_all()
    assert member.phone == "13900139000"


def test_an_expired_code_offers_the_phone_step_again(shopper, frozen):
    _, c = shopper
    send(c)
    clock.advance(phones.CODE_TTL + timedelta(seconds=1))
    html = page(c.get("/m/test-coffee/me/phone"))
    assert 'data-step="phone"' in html and 'value="13800138000"' in html and 'data-testid="demo-code"' not in html


def test_another_member_on_the_same_phone_does_not_see_the_code(world, shopper):
    _, c = shopper
    send(c)
    other = demo_member(world.merchant.id, "小张")
    db.session.commit()
    with c.session_transaction() as s:
        s["members"] = {str(world.merchant.id): other.id}
    html = page(c.get("/m/test-coffee/me/phone"))
    assert 'data-step="phone"' in html and "13800138000" not in html and 'data-testid="demo-code"' not in html


@pytest.mark.parametrize("number, code, status", [
    ("1234", "bad_phone", 400),
    ("13800138000", "sms_too_soon", 429),  # a second text within the minute
])
def test_refusals_are_shown_on_the_page(shopper, number, code, status):
    _, c = shopper
    c.post("/m/test-coffee/me/phone/code", data={"phone": "13800138000"})
    r = c.post("/m/test-coffee/me/phone/code", data={"phone": number})
    assert r.status_code == status and error_code(page(r)) == code
    assert 'data-step="phone"' in page(r) and f'value="{number}"' in page(r)  # what was typed is kept


def test_a_number_of_another_member_is_refused(world, shopper):
    other = demo_member(world.merchant.id, "小张")
    other.phone = "13900139000"
    db.session.commit()
    r = shopper[1].post("/m/test-coffee/me/phone/code", data={"phone": "13900139000"})
    assert r.status_code == 409 and error_code(page(r)) == "phone_taken"
    assert "该手机号已绑定其他会员" in page(r)


def test_signed_out_shoppers_are_sent_to_sign_in(client, world):
    r = client.get("/m/test-coffee/me/phone")
    assert r.status_code == 302 and "/signin" in r.headers["Location"]


def test_production_without_a_gateway_offers_no_binding(app, shopper, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    html = page(shopper[1].get("/m/test-coffee/me/phone"))
    assert error_code(html) == "sms_unavailable" and 'data-testid="phone-form"' not in html
    r = shopper[1].post("/m/test-coffee/me/phone/code", data={"phone": "13800138000"})
    assert r.status_code == 503 and error_code(page(r)) == "sms_unavailable"


# --- a real SMS gateway on 127.0.0.1 ----------------------------------------------------------------

class Gateway(BaseHTTPRequestHandler):
    received: list = []
    fail = False

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = dict(p.split("=", 1) for p in self.headers.get("X-O2O-Signature", "").split(","))
        expected = hmac.new(GATEWAY_SECRET.encode(), parts.get("t", "").encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(parts.get("v1", ""), expected)
        Gateway.received.append({"ok_signature": ok, "body": json.loads(body)})
        self.send_response(500 if Gateway.fail or not ok else 200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.received, Gateway.fail = [], False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/sms")
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", GATEWAY_SECRET)
    yield Gateway
    server.shutdown()
    server.server_close()


def test_the_gateway_gets_a_signed_text_and_the_page_never_shows_the_code(shopper, gateway):
    member, c = shopper
    html = send(c)
    assert 'data-step="code"' in html and 'data-testid="demo-code"' not in html
    assert 'data-step="code"' in page(c.get("/m/test-coffee/me/phone"))  # a reload sends nothing
    (call,) = gateway.received
    assert call["ok_signature"] and call["body"]["phone"] == "13800138000" and call["body"]["purpose"] == "bind_phone"
    code = call["body"]["code"]
    assert code in call["body"]["text"] and "【测试咖啡】" in call["body"]["text"]
    assert code not in html and "code" not in pending(c)  # a real text's code is never kept
    assert c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": code}).status_code == 302
    db.session.expire_all()
    assert member.phone == "13800138000"


def test_a_failed_text_leaves_no_code_behind(shopper, gateway):
    member, c = shopper
    gateway.fail = True
    r = c.post("/m/test-coffee/me/phone/code", data={"phone": "13800138000"})
    assert r.status_code == 503 and error_code(page(r)) == "sms_unavailable"
    code = gateway.received[0]["body"]["code"]
    r = c.post("/m/test-coffee/me/phone", data={"phone": "13800138000", "code": code})
    assert error_code(page(r)) == "code_expired"  # nothing was stored for the text that did not go out
