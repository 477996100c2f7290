"""The counter in a tablet-sized Chromium: sign in, type or scan a code, see the verdict, redeem, undo."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.vouchers import codes
from tests.browser.conftest import CHROMIUM_ARGS, TABLET, sign_in
from tests.support.live import first_pickup_time, shop_session

pytestmark = pytest.mark.browser


def test_sign_in_with_a_wrong_password_shows_the_error(tablet, base):
    tablet.goto(base + "/counter/login")
    tablet.get_by_test_id("login-username").fill("cashier1")
    tablet.get_by_test_id("login-password").fill("wrong-password")
    tablet.get_by_test_id("login-submit").click()
    expect(tablet.get_by_test_id("login-error")).to_be_visible()
    expect(tablet.get_by_test_id("login-username")).to_have_value("cashier1")


def test_typed_code_redeems_once_then_names_when_where_and_who(tablet, base, issue, shot):
    voucher = issue("拿铁兑换券", handover="中杯拿铁 1 杯")
    sign_in(tablet, base)
    expect(tablet.get_by_test_id("store-name")).to_have_text("人民广场店")
    expect(tablet.get_by_test_id("staff-name")).to_have_text("张三")

    code_input = tablet.get_by_test_id("code-input")
    code_input.press_sequentially(voucher["code"].replace("-", "").lower())
    expect(code_input).to_have_value(voucher["code"])  # upper-cased and grouped while typing
    expect(tablet.get_by_test_id("code-hint")).to_have_attribute("data-state", "ok")
    tablet.get_by_test_id("lookup").click()

    result = tablet.get_by_test_id("result")
    expect(result).to_have_attribute("data-state", "ok")
    expect(result).to_be_visible()
    expect(tablet.get_by_test_id("result-title")).to_have_text("拿铁兑换券")
    expect(result).to_contain_text("中杯拿铁 1 杯")
    expect(result).to_contain_text("不记名")
    expect(result).to_contain_text("1 / 1")
    shot(tablet, "counter-green")

    tablet.get_by_test_id("confirm").click()
    success = tablet.get_by_test_id("success")
    expect(success).to_be_visible()
    expect(success).to_contain_text("核销成功")
    expect(tablet.get_by_test_id("success-handover")).to_have_text("中杯拿铁 1 杯")
    expect(tablet.get_by_test_id("success-uses")).to_contain_text("0 / 1")
    expect(tablet.get_by_test_id("undo")).to_be_visible()
    expect(result).to_be_hidden()
    row = tablet.locator(f'[data-testid="today-row"][data-voucher-id="{voucher["id"]}"]')
    expect(row).to_have_attribute("data-state", "done")
    expect(row).to_contain_text("张三")
    shot(tablet, "counter-success")

    tablet.get_by_test_id("next").click()
    code_input.fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    expect(result).to_have_attribute("data-state", "refused")
    expect(result).to_have_attribute("data-code", "already_redeemed")
    message = tablet.get_by_test_id("result-message")
    expect(message).to_contain_text("人民广场店")
    expect(message).to_contain_text("张三")
    expect(message).to_contain_text("此券已于")
    expect(tablet.get_by_test_id("result-code")).to_have_text(voucher["code"])
    expect(tablet.get_by_test_id("confirm")).to_be_hidden()
    shot(tablet, "counter-red")


def test_a_typo_is_flagged_at_once_and_the_server_calls_it_forged(tablet, base, issue):
    voucher = issue("可颂兑换券")
    sign_in(tablet, base)
    asked = []
    tablet.on("request", lambda r: asked.append(r.url) if "/counter/verify" in r.url else None)

    good = voucher["code"].replace("-", "")
    wrong_last = next(c for c in codes.ALPHABET if c != good[-1])
    code_input = tablet.get_by_test_id("code-input")
    hint = tablet.get_by_test_id("code-hint")
    code_input.press_sequentially(good[:-1] + wrong_last)
    expect(hint).to_have_attribute("data-state", "bad-check")
    expect(hint).to_have_text("校验位错误，请检查输入")
    assert asked == []  # flagged by the page itself

    tablet.get_by_test_id("lookup").click()
    result = tablet.get_by_test_id("result")
    expect(result).to_have_attribute("data-code", "forged")
    expect(result).to_have_attribute("data-state", "refused")
    assert len(asked) == 1

    # Characters left out of the alphabet (0/O/1/I/L) are flagged while typing.
    code_input.fill("")
    code_input.press_sequentially("ab0")
    expect(hint).to_have_attribute("data-state", "bad-char")
    expect(code_input).to_have_value("AB0")


def test_a_redeem_whose_answer_was_lost_is_retried_with_the_same_key(tablet, base, issue):
    """The first redeem reaches the server but its answer never comes back (network drop); the cashier
    taps again: the page sends the same idempotency key and the server replays the first answer."""
    voucher = issue("贝果兑换券", handover="原味贝果 1 个")
    sign_in(tablet, base)
    sent = []

    def drop_first_answer(route):
        sent.append(route.request.post_data_json["idempotency_key"])
        if len(sent) == 1:
            route.fetch()          # the server redeems...
            route.abort("failed")  # ...and the answer is lost
        else:
            route.continue_()

    tablet.route("**/counter/redeem", drop_first_answer)
    tablet.get_by_test_id("code-input").fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    expect(tablet.get_by_test_id("result")).to_have_attribute("data-state", "ok")
    confirm = tablet.get_by_test_id("confirm")
    confirm.click()
    expect(confirm).to_contain_text("网络异常")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(tablet.get_by_test_id("success")).to_have_attribute("data-state", "done")
    assert len(sent) == 2 and sent[0] == sent[1] and len(sent[0]) >= 16
    expect(tablet.locator(f'[data-testid="today-row"][data-voucher-id="{voucher["id"]}"]')).to_have_count(1)


def _y4m(path, content: str, frames: int = 30) -> None:
    """A 640x480 Y4M clip of `content`'s QR centred on white, for Chromium's fake camera."""
    import qrcode
    from PIL import Image

    qr = qrcode.QRCode(border=4, box_size=1)
    qr.add_data(content)
    qr.make(fit=True)
    img = qr.make_image(fill_color="black", back_color="white").convert("L")
    side = (300 // img.size[0]) * img.size[0]  # inside qr-scanner's scan region (the middle 2/3)
    img = img.resize((side, side), Image.NEAREST)
    canvas = Image.new("RGB", (640, 480), "white")
    canvas.paste(img.convert("RGB"), ((640 - side) // 2, (480 - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    chroma = [plane.resize((320, 240), Image.BILINEAR).tobytes() for plane in (cb, cr)]
    frame = b"FRAME\n" + y.tobytes() + chroma[0] + chroma[1]
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            f.write(frame)


def test_camera_scan_redeems_and_undo_shows_in_todays_list(launch, base, issue, tmp_path, shot):
    voucher = issue("卡布奇诺兑换券", handover="中杯卡布奇诺 1 杯")
    clip = tmp_path / "qr.y4m"
    _y4m(clip, voucher["qr_content"])
    camera_browser = launch("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip.resolve()}",
                            "--use-fake-ui-for-media-stream")
    context = camera_browser.new_context(**TABLET, permissions=["camera"])
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        sign_in(page, base)
        page.get_by_test_id("camera").click()
        result = page.get_by_test_id("result")
        expect(result).to_have_attribute("data-state", "ok", timeout=10_000)
        expect(page.get_by_test_id("result-title")).to_have_text("卡布奇诺兑换券")
        expect(page.get_by_test_id("video-box")).to_be_hidden()  # the camera stops on a result

        page.get_by_test_id("confirm").click()
        expect(page.get_by_test_id("success")).to_have_attribute("data-state", "done")
        row = page.locator(f'[data-testid="today-row"][data-voucher-id="{voucher["id"]}"]')
        expect(row).to_have_attribute("data-state", "done")

        page.get_by_test_id("undo").click()
        page.get_by_test_id("undo-confirm").click()
        expect(page.get_by_test_id("undo-error")).to_have_text("请填写撤销原因。")  # a reason is required
        page.get_by_test_id("undo-reason").fill("顾客改主意了")
        page.get_by_test_id("undo-confirm").click()
        expect(page.get_by_test_id("success")).to_have_attribute("data-state", "undone")
        expect(page.get_by_test_id("success-uses")).to_contain_text("1 / 1")
        expect(page.get_by_test_id("undo")).to_be_hidden()
        expect(row).to_have_attribute("data-state", "undone")
        expect(row).to_contain_text("顾客改主意了")
        shot(page, "counter-undone")

        # Undone, so the same QR scans green again; after this redeem a second scan names when, where, who.
        page.get_by_test_id("next").click()
        page.get_by_test_id("camera").click()
        expect(result).to_have_attribute("data-state", "ok", timeout=10_000)
        page.get_by_test_id("confirm").click()
        expect(page.get_by_test_id("success")).to_have_attribute("data-state", "done")
        page.get_by_test_id("next").click()
        page.get_by_test_id("camera").click()
        expect(result).to_have_attribute("data-state", "refused", timeout=10_000)
        expect(result).to_have_attribute("data-code", "already_redeemed")
        expect(page.get_by_test_id("result-message")).to_contain_text("人民广场店")
        expect(page.get_by_test_id("result-message")).to_contain_text("张三")
    finally:
        context.close()


def _pay_at_store_order(base: str, demo: dict) -> tuple[str, int]:
    """A shopper orders a latte for pickup at the cashier's store, to pay there; returns (code, total fen)."""
    import re

    import requests

    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    s = shop_session()
    assert s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": "到店付", "next": f"/m/{slug}/"},
                  timeout=30).status_code == 200
    product = s.get(f"{base}/m/{slug}/p/1?store={store_id}", timeout=30).text
    sku_id = re.search(r'name="sku_id" value="(\d+)"[^>]*data-stock="[1-9]', product).group(1)
    assert s.post(f"{base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 1},
                  timeout=30).status_code == 200
    checkout = s.get(f"{base}/m/{slug}/checkout", timeout=30).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', checkout).group(1)
    placed = s.post(f"{base}/m/{slug}/checkout", data={"nonce": nonce, "fulfilment": "pickup",
                                                     "pickup_at": first_pickup_time(checkout),
                                                     "pay": "store"}, timeout=30)
    assert placed.status_code == 200 and "/orders/" in placed.url, placed.text[:300]
    code = re.search(r'data-testid="voucher-code"[^>]*>\s*([^<\s]+)', placed.text).group(1)
    total = re.search(r'data-testid="order-total"[^>]*>\s*¥([\d.]+)', placed.text)
    return code, round(float(total.group(1)) * 100) if total else 0


def test_a_pay_at_store_order_shows_what_to_collect_before_handing_over(tablet, base, demo, shot):
    code, total = _pay_at_store_order(base, demo)
    sign_in(tablet, base)
    tablet.get_by_test_id("code-input").fill(code)
    tablet.get_by_test_id("lookup").click()
    result = tablet.get_by_test_id("result")
    expect(result).to_have_attribute("data-state", "ok")
    due = tablet.get_by_test_id("amount-due")
    expect(due).to_contain_text("应收 ¥")
    expect(result).to_contain_text("到店付")  # the customer by name, not by member number
    amount = due.inner_text().split("¥", 1)[1].strip()
    if total:
        assert amount == f"{total / 100:.2f}"
    expect(tablet.get_by_test_id("order-box")).to_have_attribute("data-due", str(round(float(amount) * 100)))
    expect(tablet.get_by_test_id("confirm")).to_have_text(f"收款 ¥{amount} 并核销")
    shot(tablet, "counter-collect")
    tablet.get_by_test_id("confirm").click()
    expect(tablet.get_by_test_id("success-money")).to_have_text(f"已收款 ¥{amount}")
    tablet.get_by_test_id("undo").click()
    tablet.get_by_test_id("undo-reason").fill("顾客改主意了")
    tablet.get_by_test_id("undo-confirm").click()
    expect(tablet.get_by_test_id("success")).to_have_attribute("data-state", "undone")
    expect(tablet.get_by_test_id("success-money")).to_have_text(f"请退还 ¥{amount}")

    # Redeemed again, a second look-up is refused naming the customer as before, not by a member number.
    tablet.get_by_test_id("next").click()
    tablet.get_by_test_id("code-input").fill(code)
    tablet.get_by_test_id("lookup").click()
    holder = result.locator("[data-slot=holder]")
    expect(holder).to_have_text("到店付")
    tablet.get_by_test_id("confirm").click()
    tablet.get_by_test_id("next").click()
    tablet.get_by_test_id("code-input").fill(code)
    tablet.get_by_test_id("lookup").click()
    expect(result).to_have_attribute("data-code", "already_redeemed")
    expect(holder).to_have_text("到店付")


def test_a_voucher_without_an_order_shows_no_order_box(tablet, base, issue):
    voucher = issue("可颂兑换券", handover="可颂 1 个")
    sign_in(tablet, base)
    tablet.get_by_test_id("code-input").fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    expect(tablet.get_by_test_id("result")).to_have_attribute("data-state", "ok")
    expect(tablet.get_by_test_id("order-box")).to_be_hidden()
    expect(tablet.get_by_test_id("confirm")).to_have_text("确认核销")


def test_a_locked_counter_says_it_is_paused_and_until_when_not_that_the_voucher_is_bad(tablet, base, issue, shot):
    """Issue #9 point 9: after too many wrong tries the counter says it is paused, until when (with a
    countdown), in a warning style; 可核销/不可核销 is kept for vouchers actually looked up."""
    tablet.clock.install()  # real time flows; the test jumps ahead to the end of the pause
    sign_in(tablet, base, "cashier3")  # a store of its own: this device's misses do not lock other tests
    result = tablet.get_by_test_id("result")
    # Codes that exist nowhere use up the device's allowance (GUESS_LIMITS 10/minute; counted in memory per
    # gunicorn worker here, so it may take up to 19 misses before one worker says no).
    error = None
    for _ in range(25):
        with tablet.expect_response(lambda r: "/counter/verify" in r.url) as answered:
            tablet.get_by_test_id("code-input").fill(codes.pretty(codes.generate()))
            tablet.get_by_test_id("lookup").click()
        if answered.value.status == 429:
            error = answered.value.json()["error"]
            break
        expect(result).to_have_attribute("data-code", "not_found")
        expect(tablet.get_by_test_id("result-verdict")).to_have_text("不可核销")  # looked up and not found
    assert error is not None and error["code"] == "too_many_tries" and error["scope"] == "device", error
    expect(result).to_have_attribute("data-state", "paused")
    expect(result).to_have_attribute("data-code", "too_many_tries")
    verdict = tablet.get_by_test_id("result-verdict")
    expect(verdict).to_have_text("已暂停查询")
    expect(tablet.get_by_test_id("result-message")).to_have_text(
        f"本机输错次数过多，已暂停查询，请于 {error['retry_at_local']} 后再试")
    countdown = tablet.get_by_test_id("result-countdown")
    expect(countdown).to_have_text(re.compile(r"^还需等待 \d+ 秒$"))
    expect(tablet.get_by_test_id("result-title")).to_be_hidden()  # nothing about the voucher: it was not looked up
    expect(tablet.get_by_test_id("confirm")).to_be_hidden()
    assert "ct-panel_refused" not in (result.get_attribute("class") or "")
    red = tablet.evaluate("() => getComputedStyle(document.querySelector('[data-testid=result-verdict]')).color")
    assert red != "rgb(212, 48, 47)", red  # not the red verdict
    shot(tablet, "counter-paused")

    tablet.clock.fast_forward("01:05")
    expect(result).to_have_attribute("data-state", "resumed")
    expect(verdict).to_have_text("可以重新查询")
    expect(countdown).to_be_hidden()


def test_a_look_up_that_never_reached_the_server_is_not_called_a_bad_voucher(tablet, base, issue):
    voucher = issue("可颂兑换券")
    sign_in(tablet, base)
    tablet.route("**/counter/verify", lambda route: route.abort("internetdisconnected"))
    tablet.get_by_test_id("code-input").fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    result = tablet.get_by_test_id("result")
    expect(result).to_have_attribute("data-state", "unchecked")
    expect(tablet.get_by_test_id("result-verdict")).to_have_text("未能查询")
    expect(tablet.get_by_test_id("result-message")).to_have_text("网络异常，请检查网络后重试。")
    tablet.unroute("**/counter/verify")
    tablet.get_by_test_id("lookup").click()
    expect(result).to_have_attribute("data-state", "ok")
    expect(tablet.get_by_test_id("result-verdict")).to_have_text("可核销")
