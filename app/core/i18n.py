"""UI language: Simplified Chinese by default, English on request (?lang=en, remembered in a cookie).

Templates write Chinese and wrap it: `{{ _("门店") }}`. English lives in one dictionary keyed by the
Chinese text, so a missing translation falls back to Chinese rather than to nothing.
"""
from __future__ import annotations

from flask import Flask, g, request

LANGS = ("zh", "en")

EN: dict[str, str] = {
    "门店": "Stores",
    "商品": "Products",
    "推荐商品": "Featured",
    "全部商品": "All products",
    "会员价": "Member price",
    "营业时间": "Opening hours",
    "电话": "Phone",
    "地址": "Address",
    "首页": "Home",
    "我的": "Me",
    "收银台": "Counter",
    "商户后台": "Console",
    "登录": "Sign in",
    "退出": "Sign out",
    "用户名": "Username",
    "密码": "Password",
    "出错了": "Something went wrong",
    "返回首页": "Back to home",
    "扫码核销": "Scan to redeem",
    "输入券码": "Type the code",
    "查询": "Check",
    "确认核销": "Confirm redemption",
    "核销成功": "Redeemed",
    "撤销核销": "Undo redemption",
    "撤销原因": "Reason for undo",
    "今日核销": "Today's redemptions",
    "可核销": "Can be redeemed",
    "不可核销": "Cannot be redeemed",
    "交付": "Hand over",
    "剩余次数": "Uses left",
    "有效期至": "Valid until",
    "持有人": "Holder",
    "不记名": "Bearer",
    "继续": "Next",
    "打开摄像头": "Start camera",
    "关闭摄像头": "Stop camera",
    "校验位错误，请检查输入": "Check character is wrong: check the code",
    "合计": "Total",
    "笔": "redemptions",
    "次": "uses",
    "已撤销": "Undone",
    "时间": "Time",
    "券": "Voucher",
    "店员": "Staff",
    "向店员出示此码": "Show this code to the cashier",
    "二维码每分钟自动刷新，截图无效": "The QR refreshes every minute; screenshots stop working",
    "券码": "Code",
    "状态": "Status",
    "可使用": "Valid",
    "已使用": "Used",
    "部分使用": "Partly used",
    "已过期": "Expired",
    "已作废": "Void",
    "已撤回": "Revoked",
    "距离": "Distance",
    "暂无商品": "No products yet",
    "演示数据": "Demo data",
    "库存": "In stock",
}


def register(translations: dict[str, str]) -> None:
    """Each front door adds its own English strings (keyed by the Chinese text) from its own module."""
    EN.update(translations)


def pick_lang() -> str:
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGS:
        return cookie
    return "zh"


def current_lang() -> str:
    try:
        return g.lang
    except AttributeError:
        return "zh"


def gettext(text: str) -> str:
    if current_lang() == "en":
        return EN.get(text, text)
    return text


def colon() -> str:
    """'：' in Chinese text, ': ' in English."""
    return ": " if current_lang() == "en" else "："


def parens(text: str) -> str:
    """'（text）' in Chinese text, ' (text)' in English."""
    return f" ({text})" if current_lang() == "en" else f"（{text}）"


def init_app(app: Flask) -> None:
    @app.before_request
    def _set_lang():
        g.lang = pick_lang()

    @app.after_request
    def _remember_lang(response):
        asked = request.args.get("lang")
        if asked in LANGS:
            response.set_cookie("lang", asked, max_age=365 * 86400, samesite="Lax")
        return response

    app.jinja_env.globals.update(_=gettext, current_lang=current_lang, colon=colon, parens=parens)

# Counter, holder's voucher page and scanned-voucher page.
EN.update({
    "店员登录后核销顾客的券": "Staff sign in to redeem customers' vouchers",
    "微信扫一扫": "WeChat scan",
    "将顾客的二维码对准摄像头": "Point the camera at the customer's QR code",
    "正在查询…": "Checking…",
    "取消": "Cancel",
    "请交付": "Hand over",
    "误操作": "Tapped by mistake",
    "核销错券": "Wrong voucher",
    "顾客取消": "Customer cancelled",
    "确认撤销": "Confirm undo",
    "刷新": "Refresh",
    "会员": "Member",
    "长期有效": "No expiry",
    "无法打开摄像头，请输入券码或使用扫码枪。": "The camera could not start; type the code or use a barcode scanner.",
    "摄像头需要 HTTPS 访问。请输入券码。": "The camera needs HTTPS; type the code instead.",
    "券码不含 0、O、1、I、L，请核对": "Codes never contain 0, O, 1, I or L: check the code",
    "格式正确": "Looks right",
    "券码共 12 位": "A code has 12 characters",
    "请输入券码。": "Enter a code.",
    "网络异常，请检查网络后重试。": "Network problem; check the connection and try again.",
    "重试": "Retry",
    "应收 {amount}": "To collect: {amount}",
    "已付款，无需收款": "Paid; nothing to collect",
    "收款 {amount} 并核销": "Collect {amount} and redeem",
    "已收款 {amount}": "Collected {amount}",
    "请退还 {amount}": "Give back {amount}",
    "已撤销核销": "Redemption undone",
    "券已恢复可用。": "The voucher can be used again.",
    "请收回": "Take back",
    "请填写撤销原因。": "Give a reason for the undo.",
    "服务器开小差了，请稍后再试。": "Server error; please try again.",
    "接口": "API",
    "今天还没有核销": "No redemptions yet today",
    "电子券": "E-voucher",
    "进店逛逛": "Visit the shop",
    "凭券兑换": "Redeem for",
    "二维码定时自动刷新，截图无效": "The QR refreshes regularly; screenshots stop working",
    "扫码不便时，可报给店员输入": "If scanning fails, read it to the cashier",
    "价值": "Value",
    "适用门店": "Valid at",
    "全部门店": "all stores",
    "请向店员出示，由店员扫码核销": "Show it to the cashier, who scans it to redeem",
    "无法识别此券": "This voucher cannot be read",
    "核销二维码": "Redemption QR code",
    # The counter paused for wrong tries (too_many_tries), or could not ask: not a verdict on a voucher.
    "已暂停查询": "Lookups paused",
    "本机输错次数过多，已暂停查询，请于 {time} 后再试": "Too many wrong codes on this device: lookups are paused; try again after {time}",
    "本店输错次数过多，已暂停查询，请于 {time} 后再试": "Too many wrong codes at this store: lookups are paused; try again after {time}",
    "本网络输错次数过多，已暂停查询，请于 {time} 后再试": "Too many wrong codes from this network: lookups are paused; try again after {time}",
    "还需等待 {seconds} 秒": "{seconds} s to wait",
    "可以重新查询": "Lookups open again",
    "请重新输入或扫描券码。": "Type or scan the code again.",
    "未能查询": "Could not check",
})
