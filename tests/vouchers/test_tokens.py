from datetime import timedelta

import pytest

from app.core import clock
from app.vouchers.errors import Forged, QrExpired
from app.vouchers.tokens import make_holder_token, make_qr_token, read_holder_token, read_qr_token

SECRET = "s3cret"


def test_rotating_token_round_trip(frozen):
    token = make_qr_token(SECRET, 42, rotating=True)
    parsed = read_qr_token(SECRET, token, max_age=120)
    assert parsed.voucher_id == 42 and parsed.rotating
    assert parsed.issued_at == frozen.replace(microsecond=0)


def test_rotating_token_goes_stale(frozen):
    token = make_qr_token(SECRET, 42, rotating=True)
    clock.advance(timedelta(seconds=119))
    read_qr_token(SECRET, token, max_age=120)
    clock.advance(timedelta(seconds=2))
    with pytest.raises(QrExpired):
        read_qr_token(SECRET, token, max_age=120)


def test_static_token_does_not_go_stale(frozen):
    token = make_qr_token(SECRET, 7, rotating=False)
    clock.advance(timedelta(days=365))
    assert read_qr_token(SECRET, token, max_age=120).voucher_id == 7


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),     # signature altered
    lambda t: "eyJ2Ijo5OSwiayI6InMifQ" + t[t.index("."):],  # payload swapped for voucher 99
    lambda t: t.replace(".", "", 1),                       # structure broken
])
def test_tampered_token_is_forged(frozen, mutate):
    token = make_qr_token(SECRET, 42, rotating=False)
    with pytest.raises(Forged):
        read_qr_token(SECRET, mutate(token), max_age=120)


def test_token_signed_with_another_key_is_forged(frozen):
    with pytest.raises(Forged):
        read_qr_token(SECRET, make_qr_token("other", 42, rotating=False), max_age=120)


def test_holder_token_is_not_a_qr_token(frozen):
    holder = make_holder_token(SECRET, 42)
    assert read_holder_token(SECRET, holder) == 42
    with pytest.raises(Forged):
        read_qr_token(SECRET, holder, max_age=120)
    with pytest.raises(Forged):
        read_holder_token(SECRET, make_qr_token(SECRET, 42, rotating=False))
