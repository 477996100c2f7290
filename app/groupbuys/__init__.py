"""Group-buys (拼团): campaigns, teams and their seats. Sits above orders and payments: it places orders
through app.orders, and orders tell it what happened to them through app.orders.signals."""
