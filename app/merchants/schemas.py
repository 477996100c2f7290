"""What the console's forms may send, parsed at the edge (app.core.schemas.parse). Form fields are text, so
these models coerce ("30" -> 30) on purpose: they are not the JSON API's strict inputs."""
from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.merchants.models import Role


class FormInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=False)


class StoreForm(FormInput):
    name: str = Field(min_length=1, max_length=120)
    city: str = Field(min_length=1, max_length=60)
    address: str = Field(min_length=1, max_length=255)
    phone: str = Field(min_length=1, max_length=32)
    opens_at: time
    closes_at: time
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    delivery_radius_m: int = Field(default=0, ge=0, le=50_000)

    @field_validator("opens_at", "closes_at", mode="before")
    @classmethod
    def _minutes(cls, value):
        if isinstance(value, str) and len(value) == 5:
            return value + ":00"
        return value


class StaffForm(FormInput):
    name: str = Field(min_length=1, max_length=60)
    username: str = Field(min_length=3, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=128)
    role: Role
    store_id: int | None = None

    @field_validator("store_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value in ("", None) else value


class PasswordForm(FormInput):
    password: str = Field(min_length=8, max_length=128)


class BindForm(FormInput):
    store_id: int


class KeyForm(FormInput):
    name: str = Field(min_length=1, max_length=80)
    kind: str = Field(pattern=r"^(merchant|counter)$")
    store_id: int | None = None

    @field_validator("store_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value in ("", None) else value


class SettingsForm(FormInput):
    undo_window_minutes: int = Field(ge=0, le=24 * 60)
    unpaid_cancel_minutes: int = Field(ge=1, le=24 * 60)
    fen_per_point: int = Field(ge=1, le=1_000_000)
    rotate_qr: bool = False
    pickup_slot_minutes: int

    @field_validator("pickup_slot_minutes")
    @classmethod
    def _divides_hour(cls, value: int) -> int:
        if value not in (15, 20, 30, 60):
            raise ValueError("15, 20, 30 or 60")
        return value
