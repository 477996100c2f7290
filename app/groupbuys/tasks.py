"""Group-buys' background work: a team's deadline (a message scheduled when the team opens, and a sweep
every minute for any the messages missed; failing is a conditional update, so both together fail a team
once and refund each member once), and telling members the result by WeChat template message."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.core import logging as applog
from app.core import shared_values, tasks
from app.core.clock import now_utc
from app.extensions import db
from app.groupbuys import lifecycle
from app.groupbuys.models import GroupBuyCampaign, Seat, SeatStatus, Team, TeamStatus
from app.integrations.wechat import WeChatAPIError, send_template
from app.members.models import Member
from app.orders.models import Order


@tasks.task("groupbuys.fail_if_due", retries=3, retry_delay=30)
def fail_if_due(team_id: int) -> bool:
    with tasks.transaction():
        return lifecycle.fail_if_due(team_id, now=now_utc())


@tasks.periodic("groupbuys.fail_due", minute="*")
def fail_due() -> int:
    """The sweep: no huey lock (a lock left by a killed worker would stop it for good); two at once is safe."""
    done = 0
    with tasks.transaction():
        due = lifecycle.due_teams(now_utc())
    for team_id in due:
        try:
            with tasks.transaction():
                done += lifecycle.fail_if_due(team_id, now=now_utc())
        except Exception:
            applog.log.exception("failing a group-buy team failed", extra={"fields": {"team_id": team_id}})
    return done


def messages_for(team_id: int) -> list[dict]:
    """One template message per member with an openid: the result, the product, and a link to their own order."""
    team = db.session.get(Team, team_id)
    campaign = db.session.get(GroupBuyCampaign, team.campaign_id)
    complete = team.status is TeamStatus.COMPLETE
    seats = db.session.execute(sa.select(Seat, Member).join(Member, Member.id == Seat.member_id)
                               .where(Seat.team_id == team_id, Seat.status == SeatStatus.PAID)).all()
    base = current_app.config["APP_BASE_URL"].rstrip("/")
    out = []
    for seat, member in seats:
        if not member.openid:
            continue
        order = db.session.get(Order, seat.order_id)
        out.append({"openid": member.openid, "url": f"{base}/orders/{order.id}", "data": {
            "first": "拼团成功，请凭取货码到店取货" if complete else "拼团未成功，已为你原路退款",
            "keyword1": campaign.title, "keyword2": f"订单 {order.number}",
            "keyword3": "拼团成功" if complete else "拼团失败",
            "remark": "点击查看取货码" if complete else "退款将原路退回，点击查看进度"}})
    return out


@tasks.task("groupbuys.notify", retries=3, retry_delay=60)
def notify(team_id: int) -> int:
    """Tells every member the team's result (拼团成功 / 拼团失败) by template message, when the official account
    and a template are configured; the order page says it in any case. Returns how many were sent."""
    cfg = current_app.config
    if not (cfg.get("WECHAT_APPID") and cfg.get("WECHAT_SECRET") and cfg.get("WECHAT_TEMPLATE_GROUPBUY")):
        return 0
    with tasks.transaction():
        messages = messages_for(team_id)
    sent = 0
    for m in messages:
        try:
            send_template(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], openid=m["openid"],
                          template_id=cfg["WECHAT_TEMPLATE_GROUPBUY"], data=m["data"], url=m["url"],
                          api_base=cfg.get("WECHAT_API_BASE") or None,
                          storage=shared_values.storage())
            sent += 1
        except WeChatAPIError as exc:
            # A member who never followed the account (43004) cannot be told: the order page tells them.
            applog.event("group-buy template message not sent", level=30, team_id=team_id, error=str(exc))
    return sent
