"""The shop's group-buy pages through HTTP: the product page's 拼团 button, opening a team (store chosen,
paid at the group price in the sandbox), the share page for anyone, joining after sign-in, leaving."""
from __future__ import annotations

import re

from app.extensions import db
from app.groupbuys.models import CampaignStatus, Team, TeamStatus
from app.orders.models import Order, OrderStatus
from tests.conftest import member_client
from tests.groupbuys.conftest import pay


def _order_id(location: str) -> int:
    return int(re.search(r"/orders/(\d+)/pay", location).group(1))


def test_a_team_from_the_product_page_to_success(app, world, latte, campaign, members):
    slug = world.merchant.slug
    page = app.test_client().get(f"/m/{slug}/p/{latte.id}?store={world.store.id}").get_data(as_text=True)
    assert 'data-testid="groupbuy-button"' in page and f"/m/{slug}/g/{campaign.id}" in page

    anon = app.test_client()
    page = anon.get(f"/m/{slug}/g/{campaign.id}").get_data(as_text=True)
    assert "¥20" in page and "¥28" in page and 'data-testid="signin-to-open"' in page and campaign.rules in page
    assert 'src="/static/img/products/latte.png?v=' in page  # the cover, as the catalog shows it

    leader = member_client(app, members[0])
    r = leader.post(f"/m/{slug}/g/{campaign.id}/open", data={"store_id": world.store_b.id})
    assert r.status_code == 303
    lead_order = db.session.get(Order, _order_id(r.headers["Location"]))
    assert lead_order.store_id == world.store_b.id and lead_order.total_fen == 2000
    pay(lead_order)
    team = db.session.query(Team).filter_by(campaign_id=campaign.id).one()
    assert team.status is TeamStatus.FORMING

    share = anon.get(f"/m/{slug}/t/{team.id}").get_data(as_text=True)  # anyone may look
    assert share.count('data-testid="seat"') == 1 and share.count('data-testid="empty-seat"') == 2
    assert 'data-testid="countdown"' in share and 'data-testid="invite"' in share
    assert f"http://shop.test/m/{slug}/t/{team.id}" in share and 'data-testid="signin-to-join"' in share
    r = anon.post(f"/m/{slug}/t/{team.id}/join")
    assert r.status_code == 302 and "/signin" in r.headers["Location"]  # joining needs sign-in

    friends = []
    for m in members[1:3]:
        c = member_client(app, m)
        r = c.post(f"/m/{slug}/t/{team.id}/join")
        assert r.status_code == 303
        friends.append((c, db.session.get(Order, _order_id(r.headers["Location"]))))
    r = member_client(app, members[3]).post(f"/m/{slug}/t/{team.id}/join", headers={"Accept": "application/json"})
    assert r.status_code == 409 and r.json["error"]["code"] == "team_full"
    for _, order in friends:
        pay(order)
    for c, order in [(leader, lead_order), *friends]:
        page = c.get(f"/orders/{order.id}").get_data(as_text=True)
        assert 'data-team-status="complete"' in page and 'data-testid="voucher-qr"' in page
        assert db.session.get(Order, order.id).status is OrderStatus.READY
    assert "拼团成功" in anon.get(f"/m/{slug}/t/{team.id}").get_data(as_text=True)


def test_a_member_leaves_from_the_share_page(app, world, campaign, members):
    slug = world.merchant.slug
    leader = member_client(app, members[0])
    r = leader.post(f"/m/{slug}/g/{campaign.id}/open", data={"store_id": world.store.id})
    pay(db.session.get(Order, _order_id(r.headers["Location"])))
    team = db.session.query(Team).filter_by(campaign_id=campaign.id).one()
    friend = member_client(app, members[1])
    order = db.session.get(Order, _order_id(friend.post(f"/m/{slug}/t/{team.id}/join").headers["Location"]))
    pay(order)
    page = friend.get(f"/m/{slug}/t/{team.id}").get_data(as_text=True)
    assert 'data-testid="leave"' in page and 'data-testid="join"' not in page
    r = friend.post(f"/m/{slug}/t/{team.id}/leave")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.REFUNDED
    page = friend.get(f"/m/{slug}/t/{team.id}").get_data(as_text=True)
    assert page.count('data-testid="seat"') == 1 and 'data-testid="join"' in page  # the seat is free again


def test_a_store_outside_the_campaign_is_refused(app, world, latte, members):
    from tests.groupbuys.conftest import make_campaign
    from app.core.database import commit

    c = make_campaign(world.merchant, latte.skus[0], [world.store])
    commit()
    r = member_client(app, members[0]).post(f"/m/{world.merchant.slug}/g/{c.id}/open",
                                            data={"store_id": world.store_b.id}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json["error"]["code"] == "groupbuy_wrong_store"
    assert db.session.query(Team).count() == 0


def test_a_refusal_is_said_on_the_share_page(app, world, campaign, members):
    slug = world.merchant.slug
    r = member_client(app, members[0]).post(f"/m/{slug}/g/{campaign.id}/open", data={"store_id": world.store.id})
    pay(db.session.get(Order, _order_id(r.headers["Location"])))
    team = db.session.query(Team).filter_by(campaign_id=campaign.id).one()
    for m in members[1:3]:
        assert member_client(app, m).post(f"/m/{slug}/t/{team.id}/join").status_code == 303
    late = member_client(app, members[3])
    r = late.post(f"/m/{slug}/t/{team.id}/join")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/m/{slug}/t/{team.id}")
    page = late.get(r.headers["Location"]).get_data(as_text=True)
    assert "这个团已满员" in page and 'data-testid="join"' not in page
    assert db.session.query(Order).filter_by(member_id=members[3].id).count() == 0


def test_the_product_page_keeps_its_offers_in_the_snapshot_and_sees_an_edit_at_once(app, world, latte, campaign):
    """The running group-buys come from the catalog snapshot (no query of their own on a warm page); ending a
    campaign gives the merchant a new catalog rev, so the very next page drops its 拼团 button."""
    url = f"/m/{world.merchant.slug}/p/{latte.id}?store={world.store.id}"
    client = app.test_client()
    assert 'data-testid="groupbuy-button"' in client.get(url).get_data(as_text=True)
    campaign.status = CampaignStatus.ENDED
    db.session.commit()
    assert 'data-testid="groupbuy-button"' not in client.get(url).get_data(as_text=True)
    campaign.status = CampaignStatus.ACTIVE
    db.session.commit()
    assert 'data-testid="groupbuy-button"' in client.get(url).get_data(as_text=True)
