from app.core.errors import DomainError


class CampaignUnavailable(DomainError):
    code, status = "groupbuy_unavailable", 409
    zh = "该拼团活动未在进行中。"
    en = "This group-buy is not running."


class CampaignSoldOut(DomainError):
    code, status = "groupbuy_sold_out", 409
    zh = "拼团名额已售完。"
    en = "This group-buy is sold out."


class TeamFull(DomainError):
    code, status = "team_full", 409
    zh = "这个团已满员，可以自己开一个团。"
    en = "This team is full; you can open a team of your own."


class TeamNotForming(DomainError):
    code, status = "team_not_forming", 409
    zh = "这个团已{label}，不能再加入或退出。"
    en = "This team is {status}; it can no longer be joined or left."


class AlreadyJoined(DomainError):
    code, status = "already_joined", 409
    zh = "你已在这个团里。"
    en = "You are already in this team."


class MemberLimit(DomainError):
    code, status = "groupbuy_member_limit", 409
    zh = "每人限参加 {limit} 次。"
    en = "Each member may take part {limit} times."


class NotInTeam(DomainError):
    code, status = "not_in_team", 409
    zh = "你不在这个团里，或还未支付。"
    en = "You are not a paid member of this team."


class WrongStore(DomainError):
    code, status = "groupbuy_wrong_store", 400
    zh = "请选择活动的取货门店。"
    en = "Choose one of the campaign's pickup stores."


class TeamTimeUp(DomainError):
    code, status = "team_time_up", 409
    zh = "这个团已到截止时间，未成团的订单将原路退款。"
    en = "This team's time is up; its orders are being refunded."
