"""Signals other domains listen to, sent inside the redeeming transaction (so an order's status changes
in the same commit as its voucher)."""
from blinker import Namespace

_signals = Namespace()

# sender: the Voucher; kwargs: redemption_id, store_id, uses, now
redeemed = _signals.signal("voucher-redeemed")
# sender: the Voucher; kwargs: redemption_id, now
undone = _signals.signal("voucher-undone")
# sender: the old Voucher; kwargs: new (the Voucher replacing it)
reissued = _signals.signal("voucher-reissued")
