"""Signals other domains listen to, sent inside the transaction that changed members."""
from blinker import Namespace

_signals = Namespace()

# A member made for a phone number alone (a coupon sent to a number not yet known) is taken over by the
# member who signed in with WeChat and bound that number: whatever the placeholder held becomes theirs.
# sender: the placeholder's id; kwargs: into (the member's id). Receivers move their rows in this transaction.
absorbed = _signals.signal("member-absorbed")
