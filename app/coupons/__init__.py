"""Coupons (优惠券): campaigns of five kinds, claimed race-safely, each claimed coupon a voucher.

A claimed coupon IS a voucher (app.vouchers: same code, rotating QR, counter, idempotent redeem, undo and
ledger); the `coupons` table links the voucher to its campaign and member and adds the campaign's rule.
Sits above vouchers and catalog, below orders: orders import it to price and consume a coupon."""
