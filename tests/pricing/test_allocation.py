"""Splitting fen: an order-level discount across lines (largest remainder), a line's payable across refunds.
Property-style: many random cases from a fixed seed, so a failure is reproducible."""
from __future__ import annotations

import random

import pytest

from app.pricing import allocate, refund_share

CASES = 3000


def test_parts_sum_exactly_never_negative_never_above_their_weight():
    rng = random.Random(8)
    for _ in range(CASES):
        weights = [rng.choice((0, 1, 3, rng.randint(0, 10_000), rng.randint(0, 1_000_000)))
                   for _ in range(rng.randint(1, 8))]
        total = rng.randint(0, sum(weights))
        parts = allocate(total, weights)
        assert sum(parts) == total, (total, weights, parts)
        assert all(0 <= p <= w for p, w in zip(parts, weights)), (total, weights, parts)
        # Proportional: each part is within one fen of its exact share.
        base = sum(weights) or 1
        assert all(abs(p * base - total * w) < base for p, w in zip(parts, weights)), (total, weights, parts)


def test_the_examples_that_peers_got_wrong():
    assert allocate(1000, [1000, 1000, 1000]) == [334, 333, 333]  # mall#356: 10/10/10 with 10 off, not 9.99
    assert allocate(100, [500, 0, 500]) == [50, 0, 50]  # a line it does not apply to gets nothing
    assert allocate(100, [100]) == [100]  # the whole amount, not more
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(1, [1, 1]) == [1, 0]  # a tie goes to the earlier line, every time
    assert allocate(7, [2, 2, 3]) == [2, 2, 3]


def test_more_than_the_lines_cost_or_a_negative_amount_is_refused():
    with pytest.raises(ValueError):
        allocate(301, [100, 200])
    with pytest.raises(ValueError):
        allocate(-1, [100])
    with pytest.raises(ValueError):
        allocate(1, [0, 0])


def test_refunding_every_unit_in_any_steps_returns_exactly_the_payable():
    rng = random.Random(9)
    for _ in range(CASES):
        quantity = rng.randint(1, 99)
        payable = rng.randint(0, 500_000)
        refunded, returned, steps = 0, 0, []
        while refunded < quantity:
            k = rng.randint(1, quantity - refunded)
            share = refund_share(payable, quantity, refunded=refunded, taking=k)
            assert 0 <= share <= payable
            steps.append(share)
            refunded, returned = refunded + k, returned + share
        assert returned == payable, (payable, quantity, steps)


def test_a_line_without_order_discounts_refunds_its_unit_price():
    assert refund_share(7500, 3, refunded=0, taking=1) == 2500
    assert refund_share(7500, 3, refunded=1, taking=2) == 5000
    # 100 over 3 units: 33, 33, then the last unit takes the fen left.
    assert [refund_share(100, 3, refunded=i, taking=1) for i in range(3)] == [33, 33, 34]
    assert refund_share(100, 3, refunded=0, taking=2) + refund_share(100, 3, refunded=2, taking=1) == 100
    with pytest.raises(ValueError):
        refund_share(100, 3, refunded=2, taking=2)
