"""The console's group-buys: the campaign editor (in yuan and Shanghai time; it says only real paying members
complete a team), teams with members and refund states, the success rate, refunds not yet through with a
manual retry, the demo-only end of a team's time, and group-buy orders marked in the order list."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.groupbuys import service as groupbuys
from app.groupbuys.models import GroupBuyCampaign, GroupBuyCampaignStore, CampaignStatus, Team, TeamStatus
from app.merchants.models import AuditEvent
from app.payments import service as payments
from app.payments.models import PayMethod, Refund, RefundStatus
from tests.groupbuys.conftest import pay
from tests.support.factories import make_store
from tests.web.console_support import console_client, post


def _team(campaign, people, store, *, paid: int):
    team, lead = groupbuys.open_team(campaign, people[0], store.id, pay_method=PayMethod.SANDBOX)
    commit()
    pay(lead)
    orders = [lead]
    for m in people[1:paid]:
        o = groupbuys.join(db.session.get(Team, team.id), m, pay_method=PayMethod.SANDBOX)
        commit()
        pay(o)
        orders.append(o)
    return db.session.get(Team, team.id), orders


def test_the_editor_creates_a_campaign_in_yuan_and_shanghai_time(app, world, latte):
    owner = console_client(app, world.owner)
    page = owner.get("/console/groupbuys/new").get_data(as_text=True)
    assert 'data-testid="real-members-note"' in page and "只有真实付款的成员才能成团" in page and "没有机器人" in page
    form = {"title": "拿铁双人团", "sku_id": latte.skus[0].id, "group_price": "19.90", "leader_price": "",
            "team_size": "2", "time_limit_hours": "24", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-08T22:00",
            "stock_left": "50", "per_member_limit": "2", "rules": "两人成团", "status": "active"}
    r = owner.post("/console/groupbuys/new", data={"csrf_token": "test-csrf-token", **form,
                                                   "store_ids": [world.store.id, world.store_b.id]})
    assert r.status_code == 303
    c = db.session.query(GroupBuyCampaign).one()
    assert (c.group_price_fen, c.leader_price_fen, c.team_size, c.pickup_store_ids) == \
        (1990, None, 2, sorted([world.store.id, world.store_b.id]))
    assert c.starts_at.hour == 0 and c.ends_at.hour == 14  # Shanghai 08:00 and 22:00, stored UTC
    assert db.session.query(AuditEvent).filter_by(action="groupbuy.create", object_id=c.id).count() == 1

    r = post(owner, f"/console/groupbuys/{c.id}/edit", **{**form, "group_price": "28.00", "store_ids": world.store.id})
    assert r.status_code == 400 and "拼团价须低于原价" in r.get_data(as_text=True)
    r = post(owner, f"/console/groupbuys/{c.id}/edit", **{**form, "team_size": "11", "store_ids": world.store.id})
    assert r.status_code == 400
    r = post(owner, f"/console/groupbuys/{c.id}/edit", **{**form, "store_ids": world.other_store.id})
    assert r.status_code == 404  # another merchant's store
    db.session.expire_all()
    assert db.session.get(GroupBuyCampaign, c.id).group_price_fen == 1990


def test_the_editor_keeps_the_pickup_stores_as_links_to_the_merchants_open_stores(app, world, latte):
    """Editing the stores adds and removes link rows (audited as a list); a closed store of the merchant, one
    of another merchant, and an id of no store are refused with not_found and change nothing."""
    closed = make_store(world.merchant, "已关店")
    closed.active = False
    commit()
    owner = console_client(app, world.owner)
    editor = owner.get("/console/groupbuys/new").get_data(as_text=True)
    assert f'value="{world.store_b.id}"' in editor and f'value="{closed.id}"' not in editor  # open stores only
    form = {"title": "拿铁双人团", "sku_id": latte.skus[0].id, "group_price": "19.90", "team_size": "2",
            "time_limit_hours": "24", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-08T22:00",
            "stock_left": "50", "status": "active"}
    assert owner.post("/console/groupbuys/new", data={"csrf_token": "test-csrf-token", **form,
                                                      "store_ids": [world.store.id]}).status_code == 303
    c = db.session.query(GroupBuyCampaign).one()
    links = lambda: db.session.execute(sa.select(GroupBuyCampaignStore.store_id).where(  # noqa: E731
        GroupBuyCampaignStore.campaign_id == c.id).order_by(GroupBuyCampaignStore.store_id)).scalars().all()
    assert links() == [world.store.id]
    page = owner.get(f"/console/groupbuys/{c.id}/edit").get_data(as_text=True)
    assert f'value="{world.store.id}" checked' in page and f'value="{world.store_b.id}" >' in page

    r = owner.post(f"/console/groupbuys/{c.id}/edit", data={"csrf_token": "test-csrf-token", **form,
                                                            "store_ids": [world.store_b.id]})
    assert r.status_code == 303
    db.session.expire_all()
    assert links() == [world.store_b.id]
    event = db.session.query(AuditEvent).filter_by(action="groupbuy.update", object_id=c.id).one()
    assert (event.before, event.after) == ({"store_ids": [world.store.id]}, {"store_ids": [world.store_b.id]})
    assert owner.post(f"/console/groupbuys/{c.id}/edit", data={"csrf_token": "test-csrf-token", **form,
                                                               "store_ids": [world.store_b.id]}).status_code == 303
    assert db.session.query(AuditEvent).filter_by(action="groupbuy.update").count() == 1  # nothing changed

    for refused in (closed.id, world.other_store.id, 999999):
        r = owner.post(f"/console/groupbuys/{c.id}/edit", data={"csrf_token": "test-csrf-token", **form,
                                                                "store_ids": [world.store.id, refused]})
        assert r.status_code == 404, refused
        db.session.expire_all()
        assert links() == [world.store_b.id]
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():  # the database refuses no store too
        db.session.add(GroupBuyCampaignStore(campaign_id=c.id, store_id=999999))
        db.session.flush()


def test_a_store_manager_lists_the_campaigns_picked_up_at_their_store(app, world, latte):
    from tests.groupbuys.conftest import make_campaign
    here = make_campaign(world.merchant, latte.skus[0], [world.store, world.store_b])
    elsewhere = make_campaign(world.merchant, latte.skus[0], [world.store_b])
    commit()
    page = console_client(app, world.manager).get("/console/groupbuys").get_data(as_text=True)
    assert f'/console/groupbuys/{here.id}"' in page and f'/console/groupbuys/{elsewhere.id}"' not in page
    owner_page = console_client(app, world.owner).get("/console/groupbuys").get_data(as_text=True)
    assert f'/console/groupbuys/{elsewhere.id}"' in owner_page


def test_teams_members_refund_states_success_rate_and_the_marked_orders(frozen, app, world, campaign, members):
    done, done_orders = _team(campaign, members[0:3], world.store, paid=3)
    failing, failing_orders = _team(campaign, members[3:6], world.store, paid=2)
    assert done.status is TeamStatus.COMPLETE
    clock.advance(timedelta(hours=25))
    from app.groupbuys import tasks as groupbuy_tasks
    assert groupbuy_tasks.fail_due() == 1

    owner = console_client(app, world.owner)
    page = owner.get("/console/groupbuys").get_data(as_text=True)
    assert "50%（1/2）" in page
    page = owner.get(f"/console/groupbuys/{campaign.id}").get_data(as_text=True)
    assert page.count('data-testid="team-row"') == 2 and page.count('data-testid="member-row"') == 5
    assert page.count('data-testid="refund-state"') == 2 and "已退款 ¥20.00" in page
    page = owner.get(f"/console/groupbuys/{campaign.id}?status=failed").get_data(as_text=True)
    assert page.count('data-testid="team-row"') == 1 and 'data-team-status="failed"' in page
    page = owner.get("/console/orders").get_data(as_text=True)
    assert page.count('data-testid="groupbuy-mark"') == 5

    manager = console_client(app, world.manager)  # store a: its teams
    assert manager.get(f"/console/groupbuys/{campaign.id}").get_data(as_text=True).count('data-testid="team-row"') == 2


def test_stuck_and_refused_refunds_are_listed_until_a_retry_gets_them_through(frozen, app, world, campaign, members):
    team, orders = _team(campaign, members[0:2], world.store, paid=2)
    groupbuys.leave(db.session.get(Team, team.id), members[0])
    groupbuys.leave(db.session.get(Team, team.id), members[1])
    commit()
    first, second = db.session.query(Refund).order_by(Refund.id).all()
    # The provider refused one for good; the other's message was lost (still pending).
    db.session.execute(sa.update(Refund).where(Refund.id == first.id).values(status=RefundStatus.FAILED,
                                                                               last_error="NOT_ENOUGH"))
    db.session.execute(sa.update(Refund).where(Refund.id == second.id).values(status=RefundStatus.PENDING))
    commit()
    owner = console_client(app, world.owner)
    page = owner.get("/console/groupbuys/refunds").get_data(as_text=True)
    assert page.count('data-testid="refund-row"') == 2 and "NOT_ENOUGH" in page

    assert post(owner, f"/console/groupbuys/refunds/{second.id}/retry").status_code == 303
    db.session.expire_all()
    assert db.session.get(Refund, second.id).status is RefundStatus.SUCCEEDED  # sent again, same number
    assert post(owner, f"/console/groupbuys/refunds/{first.id}/retry").status_code == 303
    db.session.expire_all()
    again = db.session.query(Refund).filter(Refund.order_id == first.order_id).order_by(Refund.id).all()
    assert [r.status for r in again] == [RefundStatus.FAILED, RefundStatus.SUCCEEDED]
    assert again[1].out_refund_no != again[0].out_refund_no and again[1].amount_fen == first.amount_fen
    assert payments.refundable_fen(again[1].payment) == 0  # the payment is back whole, once
    assert 'data-testid="no-open-refunds"' in owner.get("/console/groupbuys/refunds").get_data(as_text=True)
    assert post(owner, f"/console/groupbuys/refunds/{first.id}/retry").status_code == 400  # nothing left


def test_the_demo_ends_a_teams_time_and_it_fails_with_its_refunds(app, world, campaign, members):
    team, orders = _team(campaign, members[0:2], world.store, paid=2)
    owner = console_client(app, world.owner)
    assert 'data-testid="end-time"' in owner.get(f"/console/groupbuys/{campaign.id}").get_data(as_text=True)
    assert post(owner, f"/console/groupbuys/teams/{team.id}/end-time").status_code == 303
    db.session.expire_all()
    assert db.session.get(Team, team.id).status is TeamStatus.FAILED
    assert db.session.query(Refund).filter(Refund.order_id.in_([o.id for o in orders])).count() == 2
    app.config["APP_ENV"] = "production"
    try:
        assert post(owner, f"/console/groupbuys/teams/{team.id}/end-time").status_code == 404
    finally:
        app.config["APP_ENV"] = "development"
