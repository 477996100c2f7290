"""Money is integer fen everywhere inside the app; yuan strings exist only at the edges."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def yuan(fen: int | None) -> str:
    """1234 -> '12.34'; for display."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_short(fen: int | None) -> str:
    """1200 -> '12', 1250 -> '12.5'; for prices on product cards."""
    text = yuan(fen)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_yuan(text: str) -> int:
    """'12.3' -> 1230. Refuses more than two decimals and non-numbers."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"more than two decimals: {text!r}")
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
