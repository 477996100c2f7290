"""Signed tokens carried by voucher QR codes.

A token is ``itsdangerous`` URL-safe and timed, under its own salt, signed with SECRET_KEY. Its payload
names the voucher and whether the token rotates:

* rotating (``r``): made by the consumer's phone page every QR_ROTATE_SECONDS; the counter refuses one
  older than QR_MAX_AGE_SECONDS (``qr_expired``), so a screenshot goes stale.
* static (``s``): printed vouchers; no age limit (the voucher's own validity still applies).

A forged or altered token fails the signature check before the database is touched (``forged``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.clock import now_utc
from app.vouchers.errors import Forged, QrExpired

QR_SALT = "o2o.voucher.qr.v1"
HOLDER_SALT = "o2o.voucher.holder.v1"


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


@dataclass(frozen=True)
class QrToken:
    voucher_id: int
    rotating: bool
    issued_at: datetime


def _signer(secret: str, salt: str):
    serializer = _serializer(secret, salt)
    signer = serializer.make_signer(salt)
    # itsdangerous' TimestampSigner reads time.time(); point it at our clock.
    signer.get_timestamp = lambda: int(now_utc().timestamp())
    return serializer, signer


def make_qr_token(secret: str, voucher_id: int, *, rotating: bool) -> str:
    serializer, signer = _signer(secret, QR_SALT)
    payload = serializer.dump_payload({"v": voucher_id, "k": "r" if rotating else "s"})
    return signer.sign(payload).decode()


def read_qr_token(secret: str, token: str, *, max_age: int) -> QrToken:
    serializer, signer = _signer(secret, QR_SALT)
    try:
        raw, ts = signer.unsign(token.encode(), return_timestamp=True)
        data = serializer.load_payload(raw)
        voucher_id, kind = int(data["v"]), data["k"]
    except (BadSignature, ValueError, KeyError, TypeError):
        raise Forged() from None
    issued_at = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    if kind == "r":
        age = (now_utc() - issued_at).total_seconds()
        if age > max_age:
            raise QrExpired(age_seconds=int(age), max_age_seconds=max_age)
        if age < -30:  # made in the future: a clock far off, or a forged timestamp with a valid key
            raise Forged()
    return QrToken(voucher_id=voucher_id, rotating=kind == "r", issued_at=issued_at)


def make_holder_token(secret: str, voucher_id: int) -> str:
    """A private link to the holder's page (shows the rotating QR and the short code)."""
    return _serializer(secret, HOLDER_SALT).dumps({"v": voucher_id})


def read_holder_token(secret: str, token: str) -> int:
    try:
        return int(_serializer(secret, HOLDER_SALT).loads(token)["v"])
    except (BadSignature, SignatureExpired, ValueError, KeyError, TypeError):
        raise Forged() from None
