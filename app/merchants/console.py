"""What the merchant console changes: stores, staff, keys, settings. Each function checks the actor's scope
(app.merchants.scope), makes the change and records it in the audit log in the same transaction. Services
flush; the request commits."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import current_app

from app.core.errors import BadRequest, Conflict, Forbidden
from app.extensions import db
from app.merchants import audit
from app.merchants.models import ApiKey, KeyKind, Merchant, Role, Staff, Store
from app.merchants.permissions import roles_manageable_by
from app.merchants.schemas import KeyForm, SettingsForm, StaffForm, StoreForm
from app.merchants.scope import Scope
from app.merchants.service import add_staff, create_api_key, hash_password, revoke_api_key

STORE_FIELDS = ("name", "city", "address", "phone", "opens_at", "closes_at", "latitude", "longitude",
                "delivery_radius_m", "active")
STAFF_FIELDS = ("name", "username", "role", "store_id", "active")
SETTINGS_FIELDS = ("undo_window_minutes", "unpaid_cancel_minutes", "fen_per_point", "rotate_qr",
                   "pickup_slot_minutes")


# ------------------------------------------------------------------------------------------------ stores

def create_store(scope: Scope, form: StoreForm) -> Store:
    store = Store(merchant_id=scope.merchant_id, **form.model_dump())
    db.session.add(store)
    db.session.flush()
    audit.record(scope, "store.create", "store", store.id, after=audit.summary(store, STORE_FIELDS))
    return store


def update_store(scope: Scope, store_id: int, form: StoreForm) -> Store:
    store = scope.get(Store, store_id)
    audit.change(scope, store, form.model_dump(), fields=STORE_FIELDS, action="store.update", object_type="store")
    return store


def set_store_active(scope: Scope, store_id: int, active: bool) -> Store:
    """Pause (no new orders, hidden from the shop) or resume a store."""
    store = scope.get(Store, store_id)
    audit.change(scope, store, {"active": active}, fields=["active"],
                 action="store.resume" if active else "store.pause", object_type="store")
    return store


# ------------------------------------------------------------------------------------------------- staff

def _check_manageable(scope: Scope, role: Role, store_id: int | None) -> Store | None:
    if role not in roles_manageable_by(scope.role):
        raise Forbidden(zh="不能管理该角色的员工。", en="You cannot manage staff of this role.")
    if not role.needs_store:
        return None
    if store_id is None:
        raise BadRequest(field="store_id", zh="店长和收银员必须绑定门店。", en="Store managers and cashiers need a store.")
    return scope.get(Store, store_id)  # another merchant's store, or for a manager another store: NotFound


def create_staff(scope: Scope, form: StaffForm) -> Staff:
    store = _check_manageable(scope, form.role, form.store_id)
    taken = db.session.execute(sa.select(Staff.id).where(Staff.username == form.username.lower())).first()
    if taken:
        raise Conflict(zh="用户名已被使用。", en="This username is taken.", field="username")
    merchant = db.session.get(Merchant, scope.merchant_id)
    staff = add_staff(merchant, name=form.name, username=form.username, password=form.password, role=form.role,
                      store=store)
    audit.record(scope, "staff.create", "staff", staff.id, after=audit.summary(staff, STAFF_FIELDS))
    return staff


def _managed(scope: Scope, staff_id: int) -> Staff:
    staff = scope.get(Staff, staff_id)
    if staff.role not in roles_manageable_by(scope.role):
        raise Forbidden(zh="不能管理该角色的员工。", en="You cannot manage staff of this role.")
    if staff.id == scope.staff_id:
        raise Forbidden(zh="不能在这里修改自己的账号。", en="You cannot change your own account here.")
    return staff


def reset_password(scope: Scope, staff_id: int, password: str | None = None) -> tuple[Staff, str]:
    """Sets the given password, or a new random one (returned, to be shown once). The staff member's
    sessions end at their next request (app.web.auth compares the hash)."""
    staff = _managed(scope, staff_id)
    password = password or secrets.token_urlsafe(9)
    staff.password_hash = hash_password(password, current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    db.session.flush()
    audit.record(scope, "staff.reset_password", "staff", staff.id)
    return staff, password


def bind_staff(scope: Scope, staff_id: int, store_id: int) -> Staff:
    staff = _managed(scope, staff_id)
    if not staff.role.needs_store:
        raise BadRequest(field="store_id", zh="该角色不绑定门店。", en="This role is not bound to a store.")
    store = _check_manageable(scope, staff.role, store_id)
    audit.change(scope, staff, {"store_id": store.id}, fields=STAFF_FIELDS, action="staff.bind", object_type="staff")
    return staff


def set_staff_active(scope: Scope, staff_id: int, active: bool) -> Staff:
    """Disable (their sessions end at the next request) or enable a staff account."""
    staff = _managed(scope, staff_id)
    audit.change(scope, staff, {"active": active}, fields=["active"],
                 action="staff.enable" if active else "staff.disable", object_type="staff")
    return staff


# -------------------------------------------------------------------------------------------------- keys

def create_key(scope: Scope, form: KeyForm) -> tuple[ApiKey, str]:
    kind = KeyKind(form.kind)
    store = scope.get(Store, form.store_id) if form.store_id is not None else None
    if kind is KeyKind.MERCHANT:
        store = None
    merchant = db.session.get(Merchant, scope.merchant_id)
    row, key = create_api_key(merchant, kind=kind, name=form.name, store=store)
    audit.record(scope, "key.create", "api_key", row.id,
                 after={"name": row.name, "kind": kind.value, "prefix": row.prefix, "store_id": row.store_id})
    return row, key


def revoke_key(scope: Scope, key_id: int) -> ApiKey:
    row = scope.get(ApiKey, key_id)
    if row.revoked_at is None:
        merchant = db.session.get(Merchant, scope.merchant_id)
        revoke_api_key(merchant, row.id)
        audit.record(scope, "key.revoke", "api_key", row.id, before={"revoked": False}, after={"revoked": True})
    return row


# ---------------------------------------------------------------------------------------------- settings

def update_settings(scope: Scope, form: SettingsForm) -> Merchant:
    merchant = db.session.get(Merchant, scope.merchant_id)
    audit.change(scope, merchant, form.model_dump(), fields=SETTINGS_FIELDS, action="settings.update",
                 object_type="merchant")
    return merchant


# ------------------------------------------------------------------------------------ a new merchant (CLI)

def create_merchant(*, name: str, slug: str, owner_username: str, owner_name: str, password: str) -> tuple[Merchant, Staff]:
    slug = slug.strip().lower()
    if db.session.execute(sa.select(Merchant.id).where(Merchant.slug == slug)).first():
        raise Conflict(zh=f"商户标识 {slug} 已被使用。", en=f"The slug {slug} is taken.")
    if db.session.execute(sa.select(Staff.id).where(Staff.username == owner_username.strip().lower())).first():
        raise Conflict(zh="用户名已被使用。", en="This username is taken.")
    merchant = Merchant(name=name.strip(), slug=slug)
    db.session.add(merchant)
    db.session.flush()
    owner = add_staff(merchant, name=owner_name, username=owner_username, password=password, role=Role.OWNER)
    return merchant, owner
