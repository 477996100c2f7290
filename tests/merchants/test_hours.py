"""Store opening hours (app.merchants.hours): normal days, a store open past midnight, a 24-hour store,
尽快 near closing, and the pickup slots across midnight. Plain functions: no database, no app."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest

from app.core.clock import SHANGHAI
from app.merchants import hours

DAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)  # a Monday, midnight in Shanghai


def at(hh: int, mm: int = 0, day: int = 0) -> datetime:
    """An instant in Shanghai on DAY (+ `day` days)."""
    return DAY + timedelta(days=day, hours=hh, minutes=mm)


def store(opens: str, closes: str) -> SimpleNamespace:
    return SimpleNamespace(opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes))


DAYTIME = store("08:00", "21:00")
NIGHT = store("22:00", "02:00")
ALWAYS = store("00:00", "00:00")


@pytest.mark.parametrize("hh, mm, expected", [
    (7, 59, False), (8, 0, True), (14, 0, True), (20, 59, True), (21, 0, False), (23, 0, False),
])
def test_normal_hours_include_opening_and_exclude_closing(hh, mm, expected):
    assert hours.is_open(DAYTIME, at(hh, mm)) is expected


@pytest.mark.parametrize("hh, mm, expected", [
    (21, 59, False), (22, 0, True), (23, 0, True), (0, 0, True), (1, 0, True), (1, 59, True), (2, 0, False),
    (3, 0, False), (12, 0, False),
])
def test_a_store_open_past_midnight(hh, mm, expected):
    assert hours.is_open(NIGHT, at(hh, mm)) is expected


def test_the_opening_at_one_in_the_night_began_the_evening_before():
    opening = hours.opening_at(NIGHT, at(1))
    assert (opening.starts, opening.ends) == (at(22, day=-1), at(2))
    assert hours.opening_at(NIGHT, at(3)) is None
    later = hours.current_or_next_opening(NIGHT, at(3))
    assert (later.starts, later.ends) == (at(22), at(2, day=1))
    assert hours.current_or_next_opening(NIGHT, at(23)).starts == at(22)
    assert hours.current_or_next_opening(DAYTIME, at(22)).starts == at(8, day=1)


def test_a_store_with_the_same_opening_and_closing_time_is_open_around_the_clock():
    assert all(hours.is_open(ALWAYS, at(h, m)) for h in range(24) for m in (0, 59))
    assert hours.asap_ready_at(ALWAYS, at(23, 50)) == at(23, 50) + hours.READY_LEAD
    assert hours.next_opens_at(ALWAYS, at(3)) is None
    slots = dict(hours.pickup_slots(ALWAYS, at(23, 0)))
    assert slots["今天"] == [(at(23, 30).isoformat(), "23:30")]
    assert len(slots["明天"]) == 48 and slots["明天"][0][1] == "00:00" and slots["明天"][-1][1] == "23:30"


def test_asap_is_ready_fifteen_minutes_later_while_that_is_before_closing():
    assert hours.READY_LEAD == timedelta(minutes=15)
    assert hours.asap_ready_at(DAYTIME, at(14)) == at(14, 15)
    assert hours.asap_ready_at(DAYTIME, at(20, 44)) == at(20, 59)
    assert hours.asap_ready_at(DAYTIME, at(20, 45)) is None  # ready exactly at closing: too late
    assert hours.asap_ready_at(DAYTIME, at(20, 50)) is None  # 10 minutes before closing
    assert hours.asap_ready_at(DAYTIME, at(7, 55)) is None  # closed now: pick a slot instead
    assert hours.asap_ready_at(DAYTIME, at(22)) is None


def test_asap_at_a_store_closing_at_half_past_nine_is_refused_from_twenty_six_past():
    demo = store("07:30", "21:30")
    assert hours.asap_ready_at(demo, at(21, 14)) == at(21, 29)
    for minute in (15, 26, 29, 30, 31):
        assert hours.asap_ready_at(demo, at(21, minute)) is None


def test_asap_past_midnight():
    assert hours.asap_ready_at(NIGHT, at(23)) == at(23, 15)
    assert hours.asap_ready_at(NIGHT, at(1)) == at(1, 15)
    assert hours.asap_ready_at(NIGHT, at(23, 50)) == at(0, 5, day=1)  # across midnight, same opening
    assert hours.asap_ready_at(NIGHT, at(1, 50)) is None
    assert hours.asap_ready_at(NIGHT, at(3)) is None


def test_next_opening():
    assert hours.next_opens_at(DAYTIME, at(6)) == at(8)
    assert hours.next_opens_at(DAYTIME, at(14)) == at(8, day=1)  # open now: the next opening after this one
    assert hours.next_opens_at(NIGHT, at(1)) == at(22)
    assert hours.next_opens_at(NIGHT, at(23)) == at(22, day=1)


def test_slots_are_half_hourly_from_fifteen_minutes_on_and_before_closing():
    slots = hours.pickup_slots(DAYTIME, at(14))
    assert [label for label, _ in slots] == ["今天", "明天"]
    today, tomorrow = slots[0][1], slots[1][1]
    assert today[0] == (at(14, 30).isoformat(), "14:30") and today[-1][1] == "20:30"  # 21:00 is closing
    assert today[0][0] == "2026-11-23T14:30:00+08:00"
    assert tomorrow[0][1] == "08:00" and tomorrow[-1][1] == "20:30" and len(tomorrow) == 26
    assert [label for label, _ in hours.pickup_slots(DAYTIME, at(20, 20))] == ["明天"]


def test_slots_start_on_the_next_half_hour_after_an_odd_opening_time():
    slots = dict(hours.pickup_slots(store("07:45", "09:10"), at(6)))
    assert [t for _, t in slots["今天"]] == ["08:00", "08:30", "09:00"]


def test_slots_across_midnight_are_labelled_by_the_day_they_fall_on():
    # At 23:00 the night runs on into tomorrow: 23:30 today, 00:00 to 01:30 tomorrow, then tomorrow night.
    slots = dict(hours.pickup_slots(NIGHT, at(23)))
    assert [t for _, t in slots["今天"]] == ["23:30"]
    assert [t for _, t in slots["明天"]] == ["00:00", "00:30", "01:00", "01:30", "22:00", "22:30", "23:00", "23:30"]
    assert slots["明天"][0][0] == "2026-11-24T00:00:00+08:00"

    # At 00:30 the night that began yesterday is today's: 01:00 and 01:30 today, then tonight from 22:00.
    slots = dict(hours.pickup_slots(NIGHT, at(0, 30)))
    assert [t for _, t in slots["今天"]] == ["01:00", "01:30", "22:00", "22:30", "23:00", "23:30"]
    assert slots["今天"][0][0] == "2026-11-23T01:00:00+08:00"
    assert [t for _, t in slots["明天"]][:5] == ["00:00", "00:30", "01:00", "01:30", "22:00"]

    # At 01:00: 01:30 is the last slot of this night (02:00 is closing).
    assert [t for _, t in dict(hours.pickup_slots(NIGHT, at(1)))["今天"]][:2] == ["01:30", "22:00"]
    # At 03:00, closed: tonight from 22:00.
    assert [t for _, t in dict(hours.pickup_slots(NIGHT, at(3)))["今天"]][0] == "22:00"


def test_checkout_choices_say_when_the_store_opens_next():
    closed = hours.pickup_choices(DAYTIME, at(22))
    assert closed.asap is None and not closed.open_now and closed.opens_next == ("明天", "08:00") and closed.any
    closing = hours.pickup_choices(DAYTIME, at(20, 50))
    assert closing.asap is None and closing.open_now and closing.opens_next == ("明天", "08:00")
    night = hours.pickup_choices(NIGHT, at(3))
    assert night.asap is None and night.opens_next == ("今天", "22:00")
    open_ = hours.pickup_choices(NIGHT, at(1))
    assert open_.asap == at(1, 15) and open_.open_now and open_.opens_next is None
    # A store too short-lived for any slot, closed now: nothing to order, and when it opens.
    tiny = hours.pickup_choices(store("08:10", "08:20"), at(9))  # no half hour inside
    assert not tiny.any and tiny.opens_next == ("明天", "08:10")
