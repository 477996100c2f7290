from app.core.errors import Conflict


class PresaleUnavailable(Conflict):
    zh = "该预售当前不接受定金（定金时间 {window}）。"
    en = "This pre-sale is not taking deposits now (deposit window {_window_en})."


class PresaleSoldOut(Conflict):
    zh = "预售名额已售完。"
    en = "This pre-sale is sold out."


class PresaleLimit(Conflict):
    zh = "每人限购 {limit} 件，你已预订 {taken} 件。"
    en = "At most {limit} per person; you have already reserved {taken}."


class BalanceNotOpen(Conflict):
    zh = "尾款支付时间为 {window}，现在不能支付尾款。"
    en = "The balance is paid {_window_en}; it cannot be paid now."
