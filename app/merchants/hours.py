"""A store's opening hours: one set of rules for the catalog (营业中), checkout (the pickup check and 尽快)
and the pickup slots. Plain functions with explicit arguments; no queries, no clock reads.

A store's `opens_at` and `closes_at` are wall-clock times in Asia/Shanghai (instants elsewhere are UTC).
- closes_at > opens_at: open from opens_at to closes_at on each Shanghai day.
- closes_at < opens_at: the opening runs past midnight; 22:00–02:00 opens at 22:00 on one day and closes
  at 02:00 on the next, so at 01:00 the store is in the opening that began the evening before.
- closes_at == opens_at: open around the clock (a shop saying 00:00–00:00 is a 24-hour shop; a store with
  no opening at all is made inactive instead).
An opening includes its start and excludes its end: a store closing at 21:30 is closed at 21:30, so
21:30 is neither a pickup slot nor an accepted pickup time, and an order must be ready before then.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from app.core.clock import SHANGHAI, shanghai_today, to_shanghai

READY_LEAD = timedelta(minutes=15)  # an order is ready this long after it is placed (尽快, the first slot)
SLOT_MINUTES = 30  # the default; each merchant sets its own (Merchant.pickup_slot_minutes: 15, 20, 30 or 60)
SLOT_DAYS = 2  # pickup slots today and tomorrow
DAY_LABELS = ("今天", "明天", "后天")


class HasHours(Protocol):  # a Store, or the catalog snapshot's StoreView
    opens_at: time
    closes_at: time


@dataclass(frozen=True)
class Opening:
    """One stretch of opening, [starts, ends), as aware datetimes in Asia/Shanghai."""

    starts: datetime
    ends: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.starts <= at < self.ends


def around_the_clock(store: HasHours) -> bool:
    return store.opens_at == store.closes_at


def opening_on(store: HasHours, day: date) -> Opening:
    """The opening that begins on Shanghai day `day` (it may end the next day)."""
    starts = datetime.combine(day, store.opens_at, tzinfo=SHANGHAI)
    ends = datetime.combine(day, store.closes_at, tzinfo=SHANGHAI)
    if ends <= starts:
        ends += timedelta(days=1)
    return Opening(starts, ends)


def opening_at(store: HasHours, at: datetime) -> Opening | None:
    """The opening that contains the instant `at`, or None when the store is closed then. For a store open
    around the clock: the day's 24 hours from opens_at."""
    day = to_shanghai(at).date()
    for d in (day - timedelta(days=1), day):
        opening = opening_on(store, d)
        if at in opening:
            return opening
    return None


def is_open(store: HasHours, at: datetime) -> bool:
    """Open at the instant `at` (aware)."""
    return around_the_clock(store) or opening_at(store, at) is not None


def current_or_next_opening(store: HasHours, at: datetime) -> Opening:
    """The opening that contains `at`, or else the first one after it."""
    found = opening_at(store, at)
    if found is not None:
        return found
    day = to_shanghai(at).date()
    opening = opening_on(store, day)
    return opening if opening.starts > at else opening_on(store, day + timedelta(days=1))


def next_opens_at(store: HasHours, now: datetime) -> datetime | None:
    """When the store next opens after `now` (a store open now: its next opening after this one); None for a
    store open around the clock, which never closes."""
    if around_the_clock(store):
        return None
    day = to_shanghai(now).date()
    for d in (day, day + timedelta(days=1)):
        opening = opening_on(store, d)
        if opening.starts > now:
            return opening.starts.astimezone(timezone.utc)
    return None  # not reached: an opening starts on every day


def asap_ready_at(store: HasHours, now: datetime, lead: timedelta = READY_LEAD) -> datetime | None:
    """When an order placed at `now` for 尽快 (or for delivery) would be ready; None when the store is closed
    now, or closes before the order could be ready."""
    ready = now + lead
    if around_the_clock(store):
        return ready
    opening = opening_at(store, now)
    if opening is None or not ready < opening.ends:
        return None
    return ready


def day_label(day: date, today: date) -> str:
    """今天 / 明天 / 后天 relative to `today`, else 11月26日."""
    offset = (day - today).days
    if 0 <= offset < len(DAY_LABELS):
        return DAY_LABELS[offset]
    return f"{day.month}月{day.day}日"


def pickup_slots(store: HasHours, now: datetime, lead: timedelta = READY_LEAD, slot_minutes: int = SLOT_MINUTES,
                 days: int = SLOT_DAYS) -> list[tuple[str, list[tuple[str, str]]]]:
    """Pickup times every `slot_minutes` (on the hour and the half hour) while the store is open, from
    `now + lead`, on the next `days` Shanghai calendar days (today and tomorrow):
    [(day label key, [(ISO value with +08:00, "HH:MM"), ...]), ...], days in order, empty days left out.

    Slots are grouped by the calendar day they fall on, as a clock and the order page show them: at 23:00 a
    22:00–02:00 store offers 今天 23:30 and 明天 00:00–01:30; at 01:00 it offers 今天 01:30 (the night that
    began yesterday) and 今天 22:00 onwards."""
    earliest = now + lead
    today = shanghai_today(now)
    last_day = today + timedelta(days=days - 1)
    step = timedelta(minutes=slot_minutes)
    by_day: dict[date, list[tuple[str, str]]] = {}
    # Openings that began yesterday (still running after midnight) through the last day.
    for offset in range(-1, days):
        opening = opening_on(store, today + timedelta(days=offset))  # around the clock: 24 hours from opens_at
        t = opening.starts.replace(second=0, microsecond=0)
        t += timedelta(minutes=(-t.minute) % slot_minutes)  # 07:45 -> 08:00
        if t < opening.starts:
            t += step
        while t < opening.ends:
            if t >= earliest and today <= t.date() <= last_day:
                by_day.setdefault(t.date(), []).append((t.isoformat(), f"{t:%H:%M}"))
            t += step
    return [(day_label(day, today), slots) for day, slots in sorted(by_day.items())]


@dataclass(frozen=True)
class PickupChoices:
    """What checkout offers at a moment: 尽快 (`asap`: when it would be ready; None when the store is closed
    or closes before then), the pickup slots (see pickup_slots), whether the store is open, and when 尽快 is
    not possible, when the store next opens as (day label key, "HH:MM"), e.g. ("明天", "07:30")."""

    asap: datetime | None
    slots: list[tuple[str, list[tuple[str, str]]]]
    open_now: bool
    opens_next: tuple[str, str] | None

    @property
    def any(self) -> bool:
        """Something can be ordered now (尽快 or a slot)."""
        return self.asap is not None or bool(self.slots)


def pickup_choices(store: HasHours, now: datetime, slot_minutes: int = SLOT_MINUTES) -> PickupChoices:
    asap = asap_ready_at(store, now)
    opens = next_opens_at(store, now) if asap is None else None
    opens_next = None
    if opens is not None:
        local = to_shanghai(opens)
        opens_next = (day_label(local.date(), shanghai_today(now)), f"{local:%H:%M}")
    return PickupChoices(asap, pickup_slots(store, now, slot_minutes=slot_minutes), is_open(store, now), opens_next)
