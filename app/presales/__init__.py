"""Pre-sales (预售): a deposit now, the balance in a later window, pickup from a date. Sits above orders and
payments: orders tell it what happened through app.orders.signals and ask its rules through
app.orders.staged.register; nothing beneath imports it."""
