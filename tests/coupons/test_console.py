"""The campaign console: create with rules checked in words, the lock once claimed, pause / resume / end,
issue to a phone number, the list's figures, the audit log, and a store manager's view."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa

from app.core.database import commit
from app.coupons.models import Campaign, CampaignStatus, Coupon
from app.extensions import db
from app.members.models import Member
from app.merchants.models import AuditEvent
from app.orders import service as orders
from app.payments.models import PayMethod
from tests.coupons.helpers import make_campaign
from tests.coupons.test_claim import claim
from tests.support.factories import make_member, make_product
from tests.web.console_support import CSRF, console_client, post

FORM = {"name": "满30减5", "type": "threshold", "value_yuan": "5", "threshold_yuan": "30", "quota": "100",
        "per_member": "1", "validity": "days", "days_after_claim": "7", "online": "1", "counter": "1",
        "with_member_price": "1"}


def test_create_refuses_bad_rules_in_words_then_creates(app, world, frozen):
    owner = console_client(app, world.owner)
    r = post(owner, "/console/campaigns/new", **{**FORM, "threshold_yuan": "5"})
    assert r.status_code == 400 and "门槛必须高于优惠金额" in r.text and 'data-field="threshold_fen"' in r.text
    r = post(owner, "/console/campaigns/new", **{**FORM, "type": "percent", "percent_off": "20", "value_yuan": ""})
    assert r.status_code == 400 and "最高优惠金额" in r.text
    r = post(owner, "/console/campaigns/new", **{**FORM, "type": "exchange"})
    assert r.status_code == 400 and "兑换的商品规格" in r.text
    r = owner.post("/console/campaigns/new", data={**FORM, "csrf_token": CSRF, "store_ids": [str(world.store.id)]})
    assert r.status_code == 302
    c = db.session.execute(sa.select(Campaign).where(Campaign.merchant_id == world.merchant.id)).scalar_one()
    assert (c.type.value, c.value_fen, c.threshold_fen, c.quota, c.store_ids) == ("threshold", 500, 3000, 100, [world.store.id])
    assert c.status is CampaignStatus.ACTIVE
    assert db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.object_id == c.id)).scalar() == "campaign.create"
    page = owner.get(f"/console/campaigns/{c.id}")
    assert page.status_code == 200 and "满30减5" in page.text


def test_once_claimed_the_type_and_value_are_locked_and_the_editor_says_so(app, world, frozen):
    c = make_campaign(world.merchant, name="立减5元", quota=10)
    claim(c, make_member(world.merchant).id)
    commit()
    owner = console_client(app, world.owner)
    form = owner.get(f"/console/campaigns/{c.id}/edit")
    assert 'data-testid="lock-notice"' in form.text and "已领取 1 张" in form.text
    edit = {**FORM, "type": "cash_off", "value_yuan": "5.00", "threshold_yuan": "", "quota": "10"}
    r = post(owner, f"/console/campaigns/{c.id}/edit", **{**edit, "value_yuan": "8"})
    assert r.status_code == 400 and "已有人领取" in r.text
    r = post(owner, f"/console/campaigns/{c.id}/edit", **{**edit, "quota": "0"})
    assert r.status_code == 400 and "不能少于此数" in r.text
    r = post(owner, f"/console/campaigns/{c.id}/edit", **{**edit, "quota": "50", "name": "立减5元（加量）"})
    assert r.status_code == 302
    db.session.refresh(c)
    assert (c.quota, c.name, c.value_fen) == (50, "立减5元（加量）", 500)


def test_pause_resume_end_and_a_wrong_step_is_a_409(app, world, frozen):
    c = make_campaign(world.merchant)
    commit()
    operator = console_client(app, world.owner)
    assert post(operator, f"/console/campaigns/{c.id}/pause").status_code == 302
    db.session.refresh(c)
    assert c.status is CampaignStatus.PAUSED
    assert post(operator, f"/console/campaigns/{c.id}/pause").status_code == 409
    assert post(operator, f"/console/campaigns/{c.id}/resume").status_code == 302
    assert post(operator, f"/console/campaigns/{c.id}/end").status_code == 302
    r = post(operator, f"/console/campaigns/{c.id}/resume")
    assert r.status_code == 409 and 'data-testid="form-error"' in r.text
    db.session.refresh(c)
    assert c.status is CampaignStatus.ENDED


def test_issue_to_a_phone_makes_the_member_and_respects_the_limit(app, world, frozen):
    c = make_campaign(world.merchant, per_member=1)
    commit()
    owner = console_client(app, world.owner)
    assert post(owner, f"/console/campaigns/{c.id}/issue", phone="138 0013 8000").status_code == 302
    member = db.session.execute(sa.select(Member).where(Member.phone == "13800138000")).scalar_one()
    assert member.merchant_id == world.merchant.id
    assert db.session.execute(sa.select(Coupon.member_id).where(Coupon.campaign_id == c.id)).scalar() == member.id
    r = post(owner, f"/console/campaigns/{c.id}/issue", phone="13800138000")
    assert r.status_code == 409 and "每人限领 1 张" in r.text
    assert post(owner, f"/console/campaigns/{c.id}/issue", phone="12345").status_code == 400
    page = owner.get(f"/console/campaigns/{c.id}?q=138001")
    assert page.text.count('data-testid="coupon-row"') == 1


def test_the_list_counts_claims_uses_and_discount(app, world, frozen):
    bread = make_product(world.merchant, "可颂", (("原味", 1000, None),), stock={world.store: 10})
    c = make_campaign(world.merchant, name="立减3元", value_fen=300)
    a, b = make_member(world.merchant, "甲"), make_member(world.merchant, "乙")
    used = claim(c, a.id)
    claim(c, b.id)
    commit()
    orders.place_order(world.merchant, world.store, a, [orders.LineRequest(bread.skus[0].id, 2)],
                       pay_method=PayMethod.STORE, coupon_id=used.id)
    commit()
    page = console_client(app, world.owner).get("/console/campaigns")
    row = page.text.split(f'data-campaign-id="{c.id}"')[1].split("</tr>")[0]
    cells = [cell.split(">", 1)[1].split("</td>")[0].strip() for cell in row.split("<td")[1:]]
    assert cells[4:10] == ["2", "1", "0", "50.0%", "¥3.00", "¥17.00"]
    csv = console_client(app, world.owner).get("/console/campaigns.csv")
    assert csv.text.startswith("\ufeffid,name") and f"{c.id},立减3元,cash_off,active,立减3元,,2,1,0,0.5000,300,1700" in csv.text


def test_a_store_manager_sees_campaigns_of_their_store_only(app, world, frozen):
    mine = make_campaign(world.merchant, name="国贸店专享", store_ids=[world.store.id])
    other = make_campaign(world.merchant, name="三里屯专享", store_ids=[world.store_b.id])
    commit()
    manager = console_client(app, world.manager)
    page = manager.get("/console/campaigns")
    assert "国贸店专享" in page.text and "三里屯专享" not in page.text
    assert manager.get(f"/console/campaigns/{other.id}").status_code == 404
    assert 'data-testid="issue-form"' not in manager.get(f"/console/campaigns/{mine.id}").text


def test_csv_issue_previews_each_row_then_issues(app, world, frozen):
    c = make_campaign(world.merchant, quota=3, per_member=1)
    known = make_member(world.merchant, "老顾客")
    known.phone = "13800000001"
    claim(c, known.id)
    commit()
    owner = console_client(app, world.owner)
    csv_text = "手机号\n13800000001\n138 0000 0002\n12345\n13800000002\n13800000003\n13800000004\n"
    r = owner.post(f"/console/campaigns/{c.id}/issue-csv", content_type="multipart/form-data",
                   data={"csrf_token": CSRF, "file": (io.BytesIO(csv_text.encode("utf-8-sig")), "phones.csv")})
    assert r.status_code == 200
    verdicts = [v for v in re.findall(r'data-verdict="(\w+)"', r.text)]
    assert verdicts == ["member_limit", "new_member", "bad_phone", "duplicate", "new_member", "over_quota"]
    phones = re.findall(r'name="phone" value="(\d+)"', r.text)
    assert phones == ["13800000002", "13800000003"]
    r = owner.post(f"/console/campaigns/{c.id}/issue-csv/confirm", data={"csrf_token": CSRF, "phone": phones})
    assert r.status_code == 302 and "issued=2" in r.location
    db.session.refresh(c)
    assert c.claimed == 3
    assert owner.post(f"/console/campaigns/{c.id}/issue-csv", data={"csrf_token": CSRF}).status_code == 400


def test_revoke_an_issued_coupon_with_a_reason(app, client, world, frozen):
    from tests.vouchers.helpers import verify
    from app.vouchers import codes

    c = make_campaign(world.merchant)
    coupon = claim(c, make_member(world.merchant).id)
    commit()
    owner = console_client(app, world.owner)
    assert post(owner, f"/console/campaigns/{c.id}/coupons/{coupon.id}/revoke", reason="").status_code == 400
    assert post(owner, f"/console/campaigns/{c.id}/coupons/{coupon.id}/revoke", reason="发错了").status_code == 302
    r = verify(client, world.counter_key, codes.pretty(coupon.voucher.code))
    assert r.status_code == 409 and r.json["error"]["code"] == "revoked" and "发错了" in r.json["error"]["message"]
    other = make_campaign(world.merchant)
    commit()
    assert post(owner, f"/console/campaigns/{other.id}/coupons/{coupon.id}/revoke", reason="x").status_code == 404


def test_poster_qr_opens_the_campaign_page_and_carries_its_name(app, world, frozen):
    import qrcode
    from PIL import Image

    c = make_campaign(world.merchant, name="海报券")
    commit()
    owner = console_client(app, world.owner)
    svg = owner.get(f"/console/campaigns/{c.id}/poster.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and "海报券" in svg.text
    assert 'width="1024"' in svg.text
    png = owner.get(f"/console/campaigns/{c.id}/poster.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data))
    assert image.size == (1024, 1024)
    # The QR encodes the campaign page's absolute URL: one dark square per dark module of that URL's QR.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(f"http://shop.test/m/{world.merchant.slug}/coupons/{c.id}")
    qr.make(fit=True)
    assert svg.text.count("<rect") - 1 == sum(map(sum, qr.get_matrix()))


def test_the_editor_previews_the_consumers_card_as_typed(app, world, frozen):
    owner = console_client(app, world.owner)
    r = owner.get("/console/campaigns/preview", query_string={"type": "percent", "name": "周末八五折",
                                                                 "percent_off": "15", "cap_yuan": "10",
                                                                 "validity": "days", "days_after_claim": "3"})
    assert r.status_code == 200 and 'data-testid="preview-card"' in r.text
    assert "8.5折 最高减10元" in r.text and "周末八五折" in r.text and "领取后 3 天内有效" in r.text
    bad = owner.get("/console/campaigns/preview", query_string={"type": "cash_off", "value_yuan": "1.234"})
    assert 'data-testid="preview-error"' in bad.text and "金额格式有误" in bad.text
    assert db.session.execute(sa.select(sa.func.count()).select_from(Campaign)).scalar() == 0  # nothing saved
    page = owner.get("/console/campaigns/new")
    assert 'hx-get="/console/campaigns/preview"' in page.text


def test_an_expired_coupon_reads_expired_in_the_console_before_the_job_marks_it(app, world, frozen):
    from datetime import timedelta

    from app.core import clock

    c = make_campaign(world.merchant, days_after_claim=1)
    claim(c, make_member(world.merchant).id)
    commit()
    clock.freeze(frozen + timedelta(days=1))
    page = console_client(app, world.owner).get(f"/console/campaigns/{c.id}")
    assert 'data-status="expired"' in page.text and "已过期" in page.text and 'data-testid="revoke"' not in page.text
