"""The redeem's writes as statements built once per process (building them per request cost more CPU than
the database spent running them).

* `TAKE_USES`: the conditional UPDATE that takes the uses (parameters vid, n, now, next_use).
* `claim_statement()`: `INSERT INTO redemptions … ON CONFLICT (store_id, idempotency_key) DO NOTHING`.
* `one_trip_statement()` (PostgreSQL): the claim, the take and the ledger row in one round trip, as
  data-modifying CTEs. The take runs only when the claim inserted a row, the ledger row only when the take
  won; the answer is (claimed redemption id, uses left, status), no row when the key was already claimed,
  and NULLs for the take when another counter got there first. The concurrency is the same as three
  statements: a second claim of the same key waits for ours to commit, and the UPDATE re-checks its
  WHERE on the row it waited for.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.vouchers.models import EventKind, Redemption, Voucher, VoucherEvent, VoucherStatus

_V = Voucher.__table__
_R = Redemption.__table__
_E = VoucherEvent.__table__

# The columns a redeem writes into its redemption row (also the claim's parameters, by these names).
CLAIM_COLUMNS = ("voucher_id", "merchant_id", "store_id", "staff_id", "api_key_id", "device_id", "uses",
                 "idempotency_key", "redeemed_at", "prev_next_use_at", "uses_left_after", "status_after")


def _take_uses(redeem_from: list[str], *extra_where: sa.ColumnElement[bool]) -> sa.Update:
    n = sa.bindparam("n", type_=sa.Integer)
    now = sa.bindparam("now", type_=_V.c.valid_from.type)
    return (
        sa.update(_V)
        .where(
            _V.c.id == sa.bindparam("vid", type_=sa.Integer),
            _V.c.status.in_(redeem_from),
            _V.c.uses_left >= n,
            _V.c.valid_from <= now,
            sa.or_(_V.c.valid_until.is_(None), _V.c.valid_until > now),
            sa.or_(_V.c.next_use_at.is_(None), _V.c.next_use_at <= now),
            *extra_where,
        )
        .values(
            uses_left=_V.c.uses_left - n,
            status=sa.case((_V.c.uses_left - n == 0, VoucherStatus.REDEEMED.value),
                           else_=VoucherStatus.PARTLY_USED.value),
            next_use_at=sa.bindparam("next_use", type_=_V.c.next_use_at.type),
            updated_at=now,
        )
        .returning(_V.c.uses_left, _V.c.status)
    )


class Statements:
    def __init__(self, redeem_from: list[str]):
        self.redeem_from = redeem_from
        self.take_uses = _take_uses(redeem_from)
        self._claims: dict[str, sa.Insert] = {}
        self._one_trip: sa.Select | None = None

    def claim(self, dialect: str) -> sa.Insert:
        """INSERT INTO redemptions ... ON CONFLICT (store_id, idempotency_key) DO NOTHING RETURNING id."""
        if dialect not in self._claims:
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            self._claims[dialect] = (insert(_R).on_conflict_do_nothing(index_elements=["store_id", "idempotency_key"])
                                     .returning(_R.c.id))
        return self._claims[dialect]

    def one_trip(self) -> sa.Select:
        """PostgreSQL: claim + take + ledger row in one statement. Parameters: the CLAIM_COLUMNS prefixed r_,
        vid, n, now, next_use, status_before."""
        if self._one_trip is None:
            self._one_trip = _one_trip(self.redeem_from)
        return self._one_trip


def _one_trip(redeem_from: list[str]) -> sa.Select:
    # Named r_<column>: an UPDATE would take a parameter named like one of its table's columns into its SET.
    params = {c: sa.bindparam(f"r_{c}", type_=_R.c[c].type) for c in CLAIM_COLUMNS}
    claim = (postgresql.insert(_R).values(params)
             .on_conflict_do_nothing(index_elements=["store_id", "idempotency_key"])
             .returning(_R.c.id).cte("claim"))
    take = _take_uses(redeem_from, sa.exists(sa.select(claim.c.id))).cte("take")
    ledger = (sa.insert(_E).from_select(
        ["voucher_id", "merchant_id", "kind", "status_before", "status_after", "uses_delta", "redemption_id",
         "store_id", "staff_id", "api_key_id", "device_id", "reason", "created_at"],
        sa.select(params["voucher_id"], params["merchant_id"], sa.literal(EventKind.REDEEMED, _E.c.kind.type),
                  sa.bindparam("status_before", type_=_E.c.status_before.type), take.c.status,
                  -params["uses"], claim.c.id, params["store_id"], params["staff_id"], params["api_key_id"],
                  params["device_id"], sa.literal("", _E.c.reason.type), params["redeemed_at"])
        .select_from(take.join(claim, sa.true())),
    ).returning(_E.c.id).cte("ledger"))
    return (sa.select(claim.c.id, take.c.uses_left, take.c.status)
            .select_from(claim.outerjoin(take, sa.true()))
            .add_cte(ledger))
