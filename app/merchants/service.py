"""Staff sign-in and API keys. Services flush; the request (or CLI command) commits."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.clock import now_utc
from app.core.errors import BadRequest, NotFound, Unauthorized
from app.extensions import db
from app.merchants.models import ApiKey, KeyKind, Merchant, Role, Staff, Store

KEY_PREFIX = {KeyKind.MERCHANT: "mk", KeyKind.COUNTER: "ck"}
# A dummy hash so that an unknown username costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password")


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def add_staff(merchant: Merchant, *, name: str, username: str, password: str, role: Role,
              store: Store | None = None) -> Staff:
    if role.needs_store and store is None:
        raise BadRequest(field="store_id", zh="店长和收银员必须绑定门店。", en="Store managers and cashiers need a store.")
    if store is not None and store.merchant_id != merchant.id:
        raise NotFound()
    staff = Staff(merchant_id=merchant.id, store_id=store.id if store else None, name=name,
                  username=username.strip().lower(), role=role,
                  password_hash=hash_password(password, current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")))
    db.session.add(staff)
    db.session.flush()
    return staff


def authenticate_staff(username: str, password: str) -> Staff:
    staff = db.session.execute(
        sa.select(Staff).where(Staff.username == username.strip().lower(), Staff.active.is_(True))
    ).scalar_one_or_none()
    if staff is None:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized(zh="用户名或密码错误。", en="Wrong username or password.")
    if not check_password_hash(staff.password_hash, password):
        raise Unauthorized(zh="用户名或密码错误。", en="Wrong username or password.")
    return staff


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(merchant: Merchant, *, kind: KeyKind, name: str, store: Store | None = None,
                   derive_from: bytes | None = None) -> tuple[ApiKey, str]:
    """Returns the row and the key in clear text: the only time it exists outside the caller's hands.

    `derive_from` (demo data only) makes the key a function of that secret material, so the demo loader
    can print the same keys again without storing them and without making new ones."""
    if kind is KeyKind.COUNTER and store is None:
        raise BadRequest(field="store_id", zh="收银台密钥必须绑定门店。", en="A counter key needs a store.")
    if store is not None and store.merchant_id != merchant.id:
        raise NotFound()
    if derive_from is None:
        prefix = f"{KEY_PREFIX[kind]}{secrets.token_hex(5)}"
        key = f"o2o_{prefix}_{secrets.token_urlsafe(32)}"
    else:
        material = hmac.new(derive_from, f"{merchant.id}:{kind.value}:{store.id if store else 0}".encode(),
                            hashlib.sha256).hexdigest()
        prefix = f"{KEY_PREFIX[kind]}{material[:10]}"
        key = f"o2o_{prefix}_{material[10:]}"
        existing = db.session.execute(sa.select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        if existing is not None:
            return existing, key
    row = ApiKey(merchant_id=merchant.id, store_id=store.id if store else None, kind=kind, name=name,
                 prefix=prefix, key_hash=_digest(key))
    db.session.add(row)
    db.session.flush()
    return row, key


def revoke_api_key(merchant: Merchant, key_id: int) -> ApiKey:
    row = db.session.execute(
        sa.select(ApiKey).where(ApiKey.id == key_id, ApiKey.merchant_id == merchant.id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = now_utc()
    db.session.flush()
    forget_key(row.prefix)
    return row


@dataclass(frozen=True)
class KeyPrincipal:
    key_id: int
    merchant_id: int
    store_id: int | None
    kind: KeyKind


# Built once: every API request may run it.
_KEY_BY_PREFIX = sa.select(ApiKey.id, ApiKey.merchant_id, ApiKey.store_id, ApiKey.kind, ApiKey.key_hash,
                           ApiKey.revoked_at, ApiKey.last_used_at).where(ApiKey.prefix == sa.bindparam("prefix"))
_KEY_USED = (sa.update(ApiKey.__table__)
             .where(ApiKey.__table__.c.id == sa.bindparam("key_id"),
                    sa.or_(ApiKey.__table__.c.last_used_at.is_(None),
                           ApiKey.__table__.c.last_used_at < sa.bindparam("stale_before", type_=ApiKey.last_used_at.type)))
             .values(last_used_at=sa.bindparam("now", type_=ApiKey.last_used_at.type)))
LAST_USED_EVERY = timedelta(minutes=1)  # how fresh "last used" is kept: at most one write per key per minute
_KEY_CACHE_MAX = 10_000


def _key_cache() -> dict:
    """This worker's checked keys: prefix -> (monotonic time read, row). One per app (tests run several)."""
    return current_app.extensions.setdefault("o2o_api_keys", {})


def authenticate_key(key: str) -> KeyPrincipal:
    """Looks the key up by its prefix and compares digests in constant time.

    A row read from the database is kept by this worker for API_KEY_CACHE_SECONDS (2 s by default), so a
    busy counter costs one key read per worker every two seconds instead of one per request: a key revoked
    in the console is refused at once by the worker that revoked it and by every other within that time.
    The same read keeps `last_used_at` current to the minute (one conditional UPDATE per key per minute).
    """
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "o2o":
        raise Unauthorized()
    prefix = parts[1]
    ttl = current_app.config.get("API_KEY_CACHE_SECONDS", 0)
    cache = _key_cache()
    hit = cache.get(prefix)
    clock = time.monotonic()
    fresh = hit is None or clock - hit[0] >= ttl
    row = db.session.execute(_KEY_BY_PREFIX, {"prefix": prefix}).one_or_none() if fresh else hit[1]
    if fresh and row is not None and ttl > 0:
        if len(cache) >= _KEY_CACHE_MAX:
            cache.clear()
        cache[prefix] = (clock, row)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _digest(key)):
        raise Unauthorized()
    if fresh:  # read from the database now: keep "last used" to the minute
        now = now_utc()
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
            db.session.execute(_KEY_USED, {"key_id": row.id, "now": now, "stale_before": now - LAST_USED_EVERY})
    return KeyPrincipal(row.id, row.merchant_id, row.store_id, row.kind)


def forget_key(prefix: str) -> None:
    """Drop a key from this worker's cache (after revoking it)."""
    _key_cache().pop(prefix, None)
