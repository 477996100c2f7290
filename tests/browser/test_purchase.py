"""Flow 2 in a phone-sized Chromium against gunicorn with the demo: browse, choose a store, add to the cart,
check out for pickup, pay in the sandbox, show the pickup voucher, redeem it through the counter API (the
order page follows by itself), review; the refund path; and the weight of the product pages.

Set BROWSER_SHOTS=/some/dir to keep full-page screenshots of checkout, the order page and the member page.
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLUG = "demo-coffee"
CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
FIRST_LOAD_BUDGET = 60 * 1024
NEXT_PAGE_BUDGET = 15 * 1024
POLL_SECONDS = 5  # how often a waiting order page asks for its status (app.web.shop.orders.POLL_SECONDS)
REFUND_CONFIRM = "确定提交退款吗？提交后不能撤销。"
# Pretends the phone locked its screen (or switched apps) and came back: what the page sees then.
VISIBILITY_JS = """hidden => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def full_shot(page, name: str) -> None:
    folder = os.environ.get("BROWSER_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def counter(base: str, key: str, action: str, code: str) -> tuple[int, dict]:
    """POST /api/v1/counter/<action> with a store's counter key, as a POS would."""
    req = urllib.request.Request(f"{base}/api/v1/counter/{action}", data=json.dumps({"code": code}).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {key}",
                                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def open_product(page, base: str, name: str) -> None:
    """From the home page, open the product card whose name is exactly `name` (拿铁, not 抹茶拿铁)."""
    page.goto(base + "/")
    page.wait_for_url(re.compile(rf"/m/{SLUG}/"))
    card = page.locator(".product").filter(has=page.locator("p.name", has_text=re.compile(rf"^\s*{name}(\s|$)")))
    card.first.click()
    page.wait_for_url(re.compile(rf"/m/{SLUG}/p/\d+"))


def choose_store(page, store: dict) -> None:
    page.select_option("#pd-store", value=str(store["id"]))
    page.wait_for_url(re.compile(rf"[?&]store={store['id']}\b"))


def sign_in_when_asked(page) -> str:
    """The checkout asks a guest to sign in (demo mode: a nickname), then comes back."""
    page.wait_for_url(re.compile(rf"/m/{SLUG}/signin"))
    nickname = f"顾客{uuid.uuid4().hex[:6]}"
    page.get_by_test_id("demo-nickname").fill(nickname)
    page.get_by_test_id("demo-submit").click()
    page.wait_for_url(re.compile(rf"/m/{SLUG}/checkout"))
    return nickname


def place_and_pay(page, base: str) -> int:
    """On the checkout page: pick the first half-hour slot, pay online in the sandbox; returns the order id."""
    expect(page.get_by_test_id("pay-online-label")).to_have_text("模拟支付（沙箱）")
    slot = page.locator("[data-testid=pickup-at] option").nth(1)
    if slot.count():
        page.select_option("[data-testid=pickup-at]", value=slot.get_attribute("value"))
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/pay/sandbox/"))
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    return int(re.search(r"/orders/(\d+)$", page.url).group(1))


def expect_voucher_shown(page) -> str:
    expect(page.get_by_test_id("order-status")).to_have_text("待取货")
    qr = page.get_by_test_id("voucher-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("(() => { const i = document.querySelector('[data-testid=voucher-qr]');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    code = page.get_by_test_id("voucher-code").inner_text().strip()
    assert CODE.match(code), code
    return code


def test_buy_for_pickup_pay_in_the_sandbox_and_redeem_at_the_counter(phone, base, demo):
    store = demo["stores"][1]  # not the default first store: the shopper chooses it
    open_product(phone, base, "拿铁")
    choose_store(phone, store)
    phone.locator("label.pd-sku", has_text="中杯").click()
    phone.get_by_test_id("add").click()

    phone.wait_for_url(re.compile(rf"/m/{SLUG}/cart"))
    expect(phone.get_by_test_id("cart-line")).to_have_count(1)
    expect(phone.get_by_test_id("cart-store")).to_contain_text(store["name"])
    phone.get_by_test_id("qty-plus").click()
    expect(phone.get_by_test_id("qty")).to_have_text("2")
    expect(phone.get_by_test_id("cart-total")).to_have_text("¥56.00")  # list price: not signed in yet
    phone.get_by_test_id("go-checkout").click()

    sign_in_when_asked(phone)
    expect(phone.get_by_test_id("checkout-store")).to_contain_text(store["name"])
    expect(phone.get_by_test_id("checkout-total")).to_have_text("¥50.00")  # member price once signed in
    full_shot(phone, "checkout")
    order_id = place_and_pay(phone, base)

    code = expect_voucher_shown(phone)
    expect(phone.get_by_test_id("order-store")).to_contain_text(store["name"])
    expect(phone.get_by_test_id("timeline")).to_contain_text("已支付")
    expect(phone.get_by_test_id("refund-button")).to_be_visible()
    full_shot(phone, "order")

    status, body = counter(base, store["counter_key"], "redeem", code)
    assert status == 200, body
    assert body["voucher"]["status"] == "redeemed"

    # No reload by the customer: the page asks for its status and shows the pickup by itself.
    expect(phone.get_by_test_id("order-status")).to_have_text("已取货", timeout=(POLL_SECONDS + 5) * 1000)
    expect(phone.get_by_test_id("refund-button")).to_have_count(0)
    expect(phone.get_by_test_id("voucher-qr")).to_have_count(0)
    expect(phone.locator("[data-poll-url]")).to_have_count(0)  # nothing more to wait for: it stops asking

    phone.goto(f"{base}/m/{SLUG}/me")
    expect(phone.locator(f"[data-testid=order-row][data-order-id='{order_id}']")).to_contain_text("已取货")
    expect(phone.get_by_test_id("to-review")).to_contain_text("拿铁")
    expect(phone.get_by_test_id("points")).to_have_text("50")
    full_shot(phone, "me")

    phone.get_by_test_id("review-link").first.click()
    phone.wait_for_url(re.compile(rf"/orders/{order_id}/review/\d+$"))
    reviews = []
    phone.on("request", lambda req: reviews.append(req) if req.method == "POST" and "/review/" in req.url else None)
    # A double tap lets one submission through (the second is held back while the first is on its way).
    let_through = phone.evaluate("""() => {
        const form = document.querySelector('[data-testid=review-form]');
        let through = 0;
        form.addEventListener('submit', (e) => { if (!e.defaultPrevented) through++; e.preventDefault(); });
        form.requestSubmit(); form.requestSubmit();
        return through; }""")
    assert let_through == 1
    phone.reload()
    long_review = "奶香很足，温度刚好，" * 50  # 500 characters
    phone.locator("[data-testid=review-form] textarea[name=body]").fill(long_review)
    phone.get_by_test_id("review-submit").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/me$"))
    assert len(reviews) == 1
    expect(phone.locator(".sp-flash")).to_have_text("感谢评价！")
    expect(phone.locator(".sp-flash")).to_be_visible()
    full_shot(phone, "me-reviewed")

    # On the product page the long review folds after three lines, with 展开 / 收起.
    open_product(phone, base, "拿铁")
    review = phone.locator(".pd-review", has_text="奶香很足")
    body, more = review.get_by_test_id("review-body"), review.get_by_test_id("review-more")
    line = float(body.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    folded = body.bounding_box()["height"]
    assert folded <= 3 * line + 2, (folded, line)
    expect(more).to_have_text("展开")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(more).to_have_text("收起")
    expect(more).to_have_attribute("aria-expanded", "true")
    assert body.bounding_box()["height"] > folded + 2 * line  # the rest of it
    full_shot(phone, "product-review-open")
    more.click()
    expect(more).to_have_text("展开")
    assert body.bounding_box()["height"] == folded


def test_refund_voids_the_voucher_and_a_redeemed_order_cannot_be_refunded(phone, base, demo):
    store = demo["stores"][2]
    open_product(phone, base, "黄油可颂")
    choose_store(phone, store)
    phone.get_by_test_id("buy-now").click()
    sign_in_when_asked(phone)
    first = place_and_pay(phone, base)
    code = expect_voucher_shown(phone)

    phone.get_by_test_id("refund-button").click()
    phone.locator("[data-testid=refund-form] label", has_text="不想要了").click()
    native = []
    phone.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    # Asks first, in a WeUI dialog rather than the browser's confirm(): "取消" leaves everything as it was.
    phone.get_by_test_id("refund-submit").click()
    dialog = phone.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "alertdialog")
    expect(phone.get_by_test_id("confirm-text")).to_have_text(REFUND_CONFIRM)
    expect(phone.get_by_test_id("confirm-no")).to_be_focused()  # the safe answer is the one Enter picks
    full_shot(phone, "refund-confirm")
    phone.get_by_test_id("confirm-no").click()
    expect(dialog).to_be_hidden()
    expect(phone.get_by_test_id("refund-submit")).to_be_focused()  # back where the shopper was
    phone.get_by_test_id("refund-submit").click()
    expect(dialog).to_be_visible()
    phone.keyboard.press("Escape")  # Escape says no too
    expect(dialog).to_be_hidden()
    expect(phone.get_by_test_id("order-status")).to_have_text("待取货")
    expect(phone.get_by_test_id("refunds")).to_have_count(0)
    phone.get_by_test_id("refund-submit").click()
    with phone.expect_navigation(url=re.compile(rf"/orders/{first}$")):
        phone.get_by_test_id("confirm-yes").click()
    assert native == []
    # Jobs run inline in this server, so the sandbox refund is through by now: the page and the record agree.
    expect(phone.get_by_test_id("order-status")).to_have_text("已退款")
    expect(phone.get_by_test_id("refund-status")).to_have_attribute("data-status", "succeeded")
    expect(phone.get_by_test_id("refund-status")).to_contain_text("退款成功")
    expect(phone.get_by_test_id("refund-note")).to_have_count(0)
    expect(phone.get_by_test_id("voucher-qr")).to_have_count(0)
    status, body = counter(base, store["counter_key"], "verify", code)
    assert status == 409 and body["error"]["code"] == "void", body

    # A second order, redeemed at the counter first: no refund button, and a forced POST is refused.
    # 立即购买 checks out that item alone: a latte waiting in the cart stays there, before and after.
    open_product(phone, base, "拿铁")
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/cart"))
    expect(phone.get_by_test_id("cart-line")).to_have_count(1)
    open_product(phone, base, "黄油可颂")
    phone.get_by_test_id("buy-now").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/checkout\?buy="))
    expect(phone.get_by_test_id("checkout-lines")).to_contain_text("黄油可颂")
    expect(phone.get_by_test_id("checkout-lines")).not_to_contain_text("拿铁")
    second = place_and_pay(phone, base)
    phone.goto(f"{base}/m/{SLUG}/cart")
    expect(phone.get_by_test_id("cart-line")).to_have_count(1)
    expect(phone.get_by_test_id("cart-line")).to_contain_text("拿铁")
    phone.goto(f"{base}/orders/{second}")
    code = expect_voucher_shown(phone)
    # The phone is put away (hidden page): it stops asking, so the redeem is not seen until it is back in view,
    # and then at once rather than at the next period.
    asks = []
    phone.on("request", lambda req: asks.append(req.url) if req.url.endswith(f"/orders/{second}/status") else None)
    phone.evaluate(VISIBILITY_JS, True)
    asks.clear()
    status, body = counter(base, store["counter_key"], "redeem", code)
    assert status == 200, body
    phone.wait_for_timeout((POLL_SECONDS + 1.5) * 1000)
    assert asks == []
    expect(phone.get_by_test_id("order-status")).to_have_text("待取货")
    phone.evaluate(VISIBILITY_JS, False)
    expect(phone.get_by_test_id("order-status")).to_have_text("已取货", timeout=(POLL_SECONDS - 1) * 1000)
    assert len(asks) >= 1
    expect(phone.get_by_test_id("refund-button")).to_have_count(0)
    csrf = next(c["value"] for c in phone.context.cookies() if c["name"] == "csrf")  # as the stale form holds it
    answer = phone.request.post(f"{base}/orders/{second}/refund", form={"reason": "不想要了", "csrf_token": csrf},
                                headers={"Origin": base})
    assert answer.status == 409 and "already_picked_up" in answer.text()


WEIGHT_JS = """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
    .map(e => ({url: e.name, bytes: e.transferSize, kind: e.initiatorType || e.entryType}))"""


def _weigh(page) -> tuple[int, list[dict]]:
    page.wait_for_load_state("networkidle")
    entries = page.evaluate(WEIGHT_JS)
    counted = [e for e in entries if "/static/img/products/" not in e["url"]]
    return sum(e["bytes"] for e in counted), counted


def test_product_pages_are_light(phone, base):
    """First load of a product page (fresh context, as from a shelf QR) and the next product page in the same
    context, summing transferSize of the document and every resource except product photos."""
    html = urllib.request.urlopen(f"{base}/m/{SLUG}/", timeout=10).read().decode()
    urls = list(dict.fromkeys(re.findall(rf'href="(/m/{SLUG}/p/\d+)[^"]*"', html)))
    assert len(urls) >= 2

    phone.goto(base + urls[0])
    first, first_entries = _weigh(phone)
    phone.goto(base + urls[1])
    second, second_entries = _weigh(phone)
    for label, total, entries in (("first load", first, first_entries), ("next page", second, second_entries)):
        print(f"\n{label}: {total} bytes ({total / 1024:.1f} KB)")
        for e in entries:
            print(f"  {e['bytes']:>7}  {e['kind']:<10} {e['url'].replace(base, '')}")
    # Both budgets rely on compression (Flask-Compress) and on static files being cached between pages.
    assert first <= FIRST_LOAD_BUDGET, f"first load of a product page is {first} bytes"
    assert second <= NEXT_PAGE_BUDGET, f"the next product page is {second} bytes"
