"""Splitting an amount of fen into integer parts: an order-level discount across its lines, a line's payable
across the units refunded in several steps. Plain integer arithmetic, no queries."""
from __future__ import annotations

from collections.abc import Sequence


def allocate(total_fen: int, weights: Sequence[int]) -> list[int]:
    """`total_fen` split in proportion to `weights` (each line's payable), by largest remainder: the parts
    sum to exactly `total_fen`, and no part is negative or larger than its weight. Ties in the remainder
    go to the earlier weight, so the same input always gives the same parts.

    A total larger than the weights' sum cannot be split that way and is refused (ValueError): the caller
    caps a discount at what it applies to first."""
    if total_fen < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts to allocate are never negative")
    base = sum(weights)
    if total_fen > base:
        raise ValueError(f"cannot allocate {total_fen} over {base}")
    if total_fen == 0:
        return [0] * len(weights)
    parts = [total_fen * w // base for w in weights]
    remainders = [total_fen * w % base for w in weights]
    left = total_fen - sum(parts)
    # Fewer fen are left than weights with a remainder (the remainders sum to left * base), so each of them
    # gets at most one, and only a weight whose exact share is above its floor: never more than the weight.
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[i] += 1
    return parts


def refund_share(payable_fen: int, quantity: int, *, refunded: int, taking: int) -> int:
    """What refunding `taking` more units of a line returns, when `refunded` units already were: unit q's
    share is payable * q // quantity - payable * (q - 1) // quantity, so refunding every unit, in any
    number of steps, returns exactly the line's payable, and the same units always return the same."""
    if quantity <= 0 or refunded < 0 or taking < 0 or refunded + taking > quantity:
        raise ValueError(f"cannot refund {taking} more of {quantity} after {refunded}")
    return payable_fen * (refunded + taking) // quantity - payable_fen * refunded // quantity
