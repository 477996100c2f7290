"""What orders tell the domains above them (group-buys, pre-sales): sent inside the transaction that changed the
order, so the listener's changes commit (or roll back) with it."""
from blinker import Namespace

_signals = Namespace()

# sender: the Order, just paid and now GROUPING (a group-buy seat waiting for its team); kwargs: now
held = _signals.signal("order-held")
# sender: the Order, now CANCELLED (never paid, or a pay-at-store order called off); kwargs: now
cancelled = _signals.signal("order-cancelled")
# sender: the Order, now REFUNDED in whole by a refund of all its lines (a store's or the shopper's); kwargs: now
refunded = _signals.signal("order-refunded")
# sender: the Order, its deposit just paid and now DEPOSIT_PAID (the balance is due later); kwargs: now
deposit_paid = _signals.signal("order-deposit-paid")
# sender: the Order, its balance just paid and now READY with its pickup voucher; kwargs: now
balance_paid = _signals.signal("order-balance-paid")
