"""What payments tell the domains above them (orders today; pre-sales and group-buys next). Sent inside the
transaction that moved the payment, so the listener's changes commit (or roll back) with it."""
from blinker import Namespace

_signals = Namespace()

# sender: the Payment, now PAID; kwargs: now
paid = _signals.signal("payment-paid")
# sender: the Payment, now FAILED (the payer may try again: a new payment); kwargs: now
failed = _signals.signal("payment-failed")
# sender: the Refund, now SUCCEEDED (the money is back with the payer); kwargs: now
refunded = _signals.signal("refund-succeeded")
